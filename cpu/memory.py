"""Guest memory for the executor: soft TLB, decode-cache slots, and the slow access
path (MMIO through the board's callback, unaligned and page-crossing accesses,
stores that hit decoded code).

The soft TLB has 256 direct-mapped entries for each of read (0), write (1) and
exec (2); entry e = (tag = VA >> 12, addend) at tlb[2e], tlb[2e+1], with host
offset = VA + addend.  The decode cache is flat too: slot s, word i at
dcache[(s << 11) | (i << 1)] (op word) and +1 (immediate).  Flat 1-D arrays keep
numba from multiplying by strides reloaded from the stack on the hot path.
Only RAM pages enter it; MMIO always misses.  A RAM page that holds decoded
code never enters the write TLB, so a store to it comes here and drops the
page's decode slot (self-modifying code needs no guest cooperation).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import (C_RAM_BASE, C_RAM_SIZE, C_MMIO_ERR, C_CB_ERR, C_SLOT_RR)

TLB_ENTRIES = 256
T_READ, T_WRITE, T_EXEC = 0, 1, 2
INVALID = np.uint64(0xFFFFFFFFFFFFFFFF)
U0 = np.uint64(0)
U1 = np.uint64(1)
U8 = np.uint64(8)
U12 = np.uint64(12)
PAGE_MASK = np.uint64(0xFFF)
M8 = np.uint64(0xFF)

# access status.  ACC_CODE: a store hit a page with decoded code; the third
# result is the host offset written, so the caller can drop just those decode
# entries.  ACC_DROPPED: a byte-path store dropped whole decoded pages.
ACC_OK, ACC_ABORT, ACC_CBERR, ACC_CODE, ACC_DROPPED = 0, 1, 2, 3, 4


SLOT_WORDS = 2048        # 1024 instructions x (w0, w1) per decode-cache slot


def new_tlb():
    t = np.zeros(3 * TLB_ENTRIES * 2, dtype=np.uint64)
    t[0::2] = INVALID
    return t


def new_dcache(nslots):
    return np.zeros(nslots * SLOT_WORDS, dtype=np.uint64)


@njit(cache=True)
def tlb_flush(tlb):
    for i in range(0, tlb.shape[0], 2):
        tlb[i] = INVALID


@njit(cache=True)
def translate(ctl, va, acc):
    """VA -> (ok, PA).  Stage 1 is off on this core yet: PA = VA (48-bit PA space)."""
    if va >> np.uint64(48):
        return False, va
    return True, va


@njit(cache=True)
def ram_offset(ctl, pa):
    """Host offset of a PA in RAM, or -1 if the PA is not RAM."""
    base = ctl[C_RAM_BASE]
    if pa >= base and pa - base < ctl[C_RAM_SIZE]:
        return np.int64(pa - base)
    return np.int64(-1)


@njit(cache=True)
def purge_write_tlb(tlb, host_page):
    """Drop write-TLB entries that map host page `host_page` (it now holds code)."""
    for i in range(TLB_ENTRIES):
        e = T_WRITE * TLB_ENTRIES + i
        t = tlb[2 * e]
        if t != INVALID:
            if (((t << U12) + tlb[2 * e + 1]) >> U12) == np.uint64(host_page):
                tlb[2 * e] = INVALID


@njit(cache=True)
def alloc_slot(ctl, dcache, pslot, slotpage, tlb, host_page):
    """Give RAM page `host_page` a decode-cache slot (round robin) and return it."""
    n = dcache.shape[0] // SLOT_WORDS
    s = np.int64(ctl[C_SLOT_RR] % np.uint64(n))
    ctl[C_SLOT_RR] = np.uint64(s + 1)
    old = slotpage[s]
    if old >= 0:
        pslot[old] = -1
    dcache[s * SLOT_WORDS:(s + 1) * SLOT_WORDS] = 0
    slotpage[s] = host_page
    pslot[host_page] = s
    purge_write_tlb(tlb, host_page)
    return s


@njit(cache=True)
def drop_code_page(pslot, slotpage, host_page):
    s = pslot[host_page]
    if s >= 0:
        pslot[host_page] = -1
        slotpage[s] = -1
        return True
    return False


@njit(cache=True)
def flush_decode(pslot, slotpage):
    for s in range(slotpage.shape[0]):
        p = slotpage[s]
        if p >= 0:
            pslot[p] = -1
            slotpage[s] = -1


@njit(cache=True)
def _ram_read(mem, off, size):
    v = U0
    for i in range(size):
        v |= np.uint64(mem[off + i]) << np.uint64(8 * i)
    return v


@njit(cache=True)
def _ram_write(mem, off, size, value):
    for i in range(size):
        mem[off + i] = np.uint8((value >> np.uint64(8 * i)) & M8)


@njit(cache=True)
def access_slow(ctl, mem, tlb, pslot, slotpage, cb, va, size, is_write, value):
    """Any data access the fast path could not do.  Returns (status, value, fault_va)."""
    if (va & np.uint64(size - 1)) == U0 and (va & PAGE_MASK) + np.uint64(size) <= np.uint64(4096):
        return access1(ctl, mem, tlb, pslot, slotpage, cb, va, size, is_write, value)
    # unaligned or page-crossing: byte by byte (each byte may be RAM or MMIO)
    out = U0
    code = False
    for i in range(size):
        b = (value >> np.uint64(8 * i)) & M8
        st, v, fva = access1(ctl, mem, tlb, pslot, slotpage, cb, va + np.uint64(i), 1, is_write, b)
        if st == ACC_ABORT or st == ACC_CBERR:
            return st, U0, fva
        if st == ACC_CODE:
            drop_code_page(pslot, slotpage, np.int64(fva >> U12))
            code = True
        out |= v << np.uint64(8 * i)
    return (ACC_DROPPED if code else ACC_OK), out, U0


@njit(cache=True)
def access1(ctl, mem, tlb, pslot, slotpage, cb, va, size, is_write, value):
    """One aligned access inside a page."""
    ok, pa = translate(ctl, va, 1 if is_write else 0)
    if not ok:
        return ACC_ABORT, U0, va
    off = ram_offset(ctl, pa)
    if off >= 0:
        page = off >> 12
        vpage = va >> U12
        idx = np.int64(vpage & np.uint64(TLB_ENTRIES - 1))
        addend = np.uint64(off & ~0xFFF) - (vpage << U12)
        if is_write:
            if pslot[page] >= 0:
                # decoded code in this page: write, but keep the page out of the
                # write TLB so that every store to it keeps coming here
                _ram_write(mem, off, size, value)
                return ACC_CODE, U0, np.uint64(off)
            e = T_WRITE * TLB_ENTRIES + idx
            tlb[2 * e] = vpage
            tlb[2 * e + 1] = addend
            _ram_write(mem, off, size, value)
            return ACC_OK, U0, U0
        e = T_READ * TLB_ENTRIES + idx
        tlb[2 * e] = vpage
        tlb[2 * e + 1] = addend
        return ACC_OK, _ram_read(mem, off, size), U0
    # MMIO: the board's callback (a ctypes function: addr, size, is_write, value) -> value
    v = cb(pa, size, 1 if is_write else 0, value)
    if ctl[C_CB_ERR] != U0:
        return ACC_CBERR, U0, va
    if ctl[C_MMIO_ERR] != U0:
        ctl[C_MMIO_ERR] = U0
        return ACC_ABORT, U0, va
    return ACC_OK, np.uint64(v), U0


@njit(cache=True)
def fetch_page(ctl, tlb, va):
    """Host offset of the start of the RAM page holding instruction address va, or -1."""
    vpage = va >> U12
    idx = np.int64(vpage & np.uint64(TLB_ENTRIES - 1))
    e = T_EXEC * TLB_ENTRIES + idx
    if tlb[2 * e] == vpage:
        return np.int64((vpage << U12) + tlb[2 * e + 1])
    ok, pa = translate(ctl, va, 2)
    if not ok:
        return np.int64(-1)
    off = ram_offset(ctl, pa)
    if off < 0:
        return np.int64(-1)
    tlb[2 * e] = vpage
    tlb[2 * e + 1] = np.uint64(off & ~0xFFF) - (vpage << U12)
    return off & ~0xFFF
