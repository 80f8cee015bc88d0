"""Guest memory for the executor: soft TLB, decode-cache slots, and the slow access
path (MMIO through the board's callback, unaligned and page-crossing accesses,
stores that hit decoded code).

The soft TLB has 256 direct-mapped entries for each of read (0), write (1) and
exec (2); entry e = (tag = VA >> 12, addend) at tlb[2e], tlb[2e+1], with host
offset = VA + addend.  The decode cache is flat too: slot s, word i at
dcache[(s << 11) | (i << 1)] (op word) and +1 (immediate).  Flat 1-D arrays keep
numba from multiplying by strides reloaded from the stack on the hot path.
Only RAM pages enter it; MMIO always misses.  A RAM page that holds decoded
code enters the write TLB only with CODE_TAG, so a store to it that may overwrite
a decoded word comes here and forgets the decoded words it overwrote
(self-modifying code needs no guest cooperation; data next to code stays cheap).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import (C_RAM_BASE, C_RAM_SIZE, C_MMIO_ERR, C_CB_ERR, C_SLOT_RR, C_EL,
                               C_TLB_EL, C_MMIO_FN, C_HOOK_FLAGS, HF_MEM, HF_PROT, C_XRAM_N, C_XRAM,
                               C_DBG, DBG_WP)
from pyaarch64.cpu.debug import wp_check, FSC_DEBUG
from pyaarch64.cpu.mmio import call_c
from pyaarch64.cpu.hooks import (mem_hooked, call_host, HK_READ, HK_WRITE, HK_PROT, PROT_NO_R,
                                 PROT_NO_W, PROT_HOST, PROT_ROM)
from pyaarch64.cpu.sysregs import (R_VAL, S_SCTLR_EL1, S_TCR_EL1, S_TTBR0_EL1, S_TTBR1_EL1,
                                   S_ID_AA64MMFR0_EL1)

TLB_ENTRIES = 256
T_READ, T_WRITE, T_EXEC = 0, 1, 2
INVALID = np.uint64(0xFFFFFFFFFFFFFFFF)
# A write-TLB entry for a page that also holds decoded code carries this bit in its
# tag, so a plain tag compare misses.  The hot loop (cpu/hotloop.py) then stores
# directly when no decoded instruction word is overwritten (data next to code, as in
# small bare-metal programs); everything else takes the slow path, which drops the
# decoded words a store overwrites.
CODE_TAG = np.uint64(1 << 63)
U0 = np.uint64(0)
U1 = np.uint64(1)
U8 = np.uint64(8)
U12 = np.uint64(12)
PAGE_MASK = np.uint64(0xFFF)
M8 = np.uint64(0xFF)

# access status
ACC_OK, ACC_ABORT, ACC_CBERR = 0, 1, 2
# ACC_FAULT + fsc: a translation, access flag, permission or address size fault
ACC_FAULT = 0x100


SLOT_WORDS = 2048        # 1024 instructions x (w0, w1) per decode-cache slot


# After the three soft TLBs, in the same array (so that every flush drops it too):
# a direct-mapped cache of stage-1 walk results per 4 KiB VA page, (tag = VA >> 12,
# PA page | EL0/EL1 r/w/x permissions | leaf level << 6).  It makes a soft-TLB miss
# with the MMU on (a store to a page with code, a TLB conflict, an EL change) cost
# about what it costs with the MMU off.
WALK_ENTRIES = 1024
WALK_BASE = 3 * TLB_ENTRIES * 2


TLB_WORDS = 3 * TLB_ENTRIES * 2 + WALK_ENTRIES * 2

# The CPU's registers, soft TLB and decode cache are views into one uint64 array,
# so the hot loop (cpu/hotloop.py) works from a single base pointer: fewer live
# values in its loop, fewer of them spilled to the stack.
STATE_TLB = 128                                          # after the register file
STATE_DCACHE = (STATE_TLB + TLB_WORDS + SLOT_WORDS - 1) // SLOT_WORDS * SLOT_WORDS


COV_MAX = 1 << 20        # bytes: the largest coverage bitmap (after the decode cache)


def new_state(nregs, nslots):
    """(state, regs, tlb, dcache, cov): one array and its views; cov is the coverage
    bitmap's room (uint8, COV_MAX bytes, untouched unless coverage is on) and its
    byte offset in the array."""
    assert nregs <= STATE_TLB
    end = STATE_DCACHE + nslots * SLOT_WORDS
    st = np.zeros(end + COV_MAX // 8, dtype=np.uint64)
    regs = st[:nregs]
    tlb = st[STATE_TLB:STATE_TLB + TLB_WORDS]
    tlb[0::2] = INVALID
    return st, regs, tlb, st[STATE_DCACHE:end], (st[end:].view(np.uint8), end * 8)


@njit(cache=True, _nrt=False)
def tlb_flush(tlb):
    for i in range(0, tlb.shape[0], 2):
        tlb[i] = INVALID


@njit(cache=True, _nrt=False)
def tlb_flush_data(tlb):
    """Forget the read and write entries only (a test path: ops.PATH_TLBFLUSH)."""
    for i in range(T_READ * TLB_ENTRIES, (T_WRITE + 1) * TLB_ENTRIES):
        tlb[2 * i] = INVALID


# fault status codes (ESR_EL1.DFSC/IFSC, PAR_EL1.FST); the level is added to the first four
FSC_ADDR_SIZE = 0x00
FSC_TRANS = 0x04
FSC_AF = 0x08
FSC_PERM = 0x0C
FSC_EXT = 0x10           # synchronous external abort (no device behind a PA)
FSC_WALK_EXT = 0x14      # synchronous external abort on a translation table walk
FSC_ALIGN = 0x21

# access kinds
A_READ, A_WRITE, A_EXEC = 0, 1, 2

# walk result `info`: permission bits (EL0 r/w/x, EL1 r/w/x), then attributes
P_R0, P_W0, P_X0, P_R1, P_W1, P_X1 = 1, 2, 4, 8, 16, 32
I_ATTR_SH = 8            # AttrIndx (3 bits)
I_SH_SH = 12             # SH (2 bits)
I_LEVEL_SH = 16          # level of the leaf descriptor

SCTLR_M = np.uint64(1)
SCTLR_WXN = np.uint64(1 << 19)
U3 = np.uint64(3)
U55 = np.uint64(55)
M48 = np.uint64(0xFFFFFFFFFFFF)
PA_BITS = np.array([32, 36, 40, 42, 44, 48, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52], dtype=np.int64)


@njit(cache=True, _nrt=False)
def pa_max(sysr):
    """PA size in bits the CPU implements (ID_AA64MMFR0_EL1.PARange), at most 48 (no FEAT_LPA)."""
    b = PA_BITS[np.int64(sysr[S_ID_AA64MMFR0_EL1, R_VAL] & np.uint64(15))]
    return b if b < 48 else np.int64(48)


@njit(cache=True, _nrt=False)
def tbi_applies(sysr, va):
    """TCR_EL1.TBI0/TBI1 for the half of the address space bit 55 selects."""
    return ((sysr[S_TCR_EL1, R_VAL] >> (np.uint64(37) + ((va >> U55) & U1))) & U1) != U0


@njit(cache=True, _nrt=False)
def branch_target(sysr, va):
    """A branch/exception-return target with its tag removed when TBI applies
    (AArch64.BranchAddr): bits 63:56 become copies of bit 55."""
    if tbi_applies(sysr, va):
        return np.uint64(np.int64(va << U8) >> np.int64(8))
    return va


@njit(cache=True, _nrt=False)
def identity(ctl, sysr, va):
    """Stage 1 off: PA = VA.  Bits between the PA size and the top (bit 55 with TBI,
    else 63) must be zero, else an address size fault at level 0.  (fsc or -1, PA)"""
    top = np.int64(55) if tbi_applies(sysr, va) else np.int64(63)
    pm = pa_max(sysr)
    if ((va << np.uint64(63 - top)) >> np.uint64(63 - top + pm)) != U0:
        return np.int64(FSC_ADDR_SIZE), va
    return np.int64(-1), va & M48


@njit(cache=True, _nrt=False)
def walk(ctl, sysr, mem, va):
    """Stage-1 translation table walk of the EL1&0 regime (VMSAv8-64, Armv8.0).
    Returns (fsc, pa, info): fsc = -1 on success, else the fault status code with
    its level; info packs permissions (P_*), AttrIndx, SH and the leaf level."""
    tcr = sysr[S_TCR_EL1, R_VAL]
    mmfr0 = sysr[S_ID_AA64MMFR0_EL1, R_VAL]
    sel = (va >> U55) & U1
    if sel == U0:
        tsz = np.int64(tcr & np.uint64(63))
        epd = (tcr >> np.uint64(7)) & U1
        tg = np.int64((tcr >> np.uint64(14)) & U3)
        gran = 12 if tg == 0 else (16 if tg == 1 else (14 if tg == 2 else 0))
        ttbr = sysr[S_TTBR0_EL1, R_VAL]
    else:
        tsz = np.int64((tcr >> np.uint64(16)) & np.uint64(63))
        epd = (tcr >> np.uint64(23)) & U1
        tg = np.int64((tcr >> np.uint64(30)) & U3)
        gran = 14 if tg == 1 else (12 if tg == 2 else (16 if tg == 3 else 0))
        ttbr = sysr[S_TTBR1_EL1, R_VAL]
    # a reserved or unimplemented granule behaves as an implemented one (4K here)
    if gran == 14 and ((mmfr0 >> np.uint64(20)) & np.uint64(15)) == U0:
        gran = 0
    if gran == 16 and ((mmfr0 >> np.uint64(24)) & np.uint64(15)) == np.uint64(15):
        gran = 0
    if gran == 0:
        gran = 12
    top = np.int64(55) if ((tcr >> (np.uint64(37) + sel)) & U1) != U0 else np.int64(63)
    # VA range: bits top..inputsize all equal to bit 55 (TTBR0: zeros, TTBR1: ones);
    # TxSZ outside 16..39 (no FEAT_LVA/FEAT_TTST) and EPDx: translation fault, level 0
    inputsize = 64 - tsz
    hi = (va << np.uint64(63 - top)) >> np.uint64(63 - top + inputsize)
    want = U0 if sel == U0 else (U1 << np.uint64(top + 1 - inputsize)) - U1
    if tsz < 16 or tsz > 39 or epd != U0 or hi != want:
        return np.int64(FSC_TRANS), U0, np.int64(0)
    pm = pa_max(sysr)
    ips = PA_BITS[np.int64((tcr >> np.uint64(32)) & np.uint64(7))]
    if ips > pm:
        ips = pm
    stride = gran - 3
    level = 4 - (inputsize - 4) // stride
    # table base: TTBR BADDR, aligned to the size of the start-level table
    shift = gran + stride * (3 - level)
    tbytes = np.int64(8) << (inputsize - shift)
    base = ttbr & M48 & ~np.uint64(tbytes - 1)
    if (base >> np.uint64(ips)) != U0:
        return np.int64(FSC_ADDR_SIZE), U0, np.int64(0)     # level 0, whatever the start level
    m64 = mem.view(np.uint64)
    ap_tbl = U0        # APTable: bit 0 no EL0 access, bit 1 no write
    uxn_tbl = U0
    pxn_tbl = U0
    desc = U0
    while True:
        shift = gran + stride * (3 - level)
        nbits = inputsize - shift if inputsize - shift < stride else stride
        idx = (va >> np.uint64(shift)) & ((U1 << np.uint64(nbits)) - U1)
        off = ram_offset(ctl, base + (idx << U3))
        if off < 0:
            return np.int64(FSC_WALK_EXT + level), U0, np.int64(0)
        desc = m64[off >> 3]
        typ = np.int64(desc & U3)
        if (typ & 1) == 0:
            return np.int64(FSC_TRANS + level), U0, np.int64(0)
        if level == 3:
            if typ != 3:
                return np.int64(FSC_TRANS + level), U0, np.int64(0)
            break
        if typ == 1:
            # blocks: 4K granule at levels 1 and 2, 16K and 64K at level 2 only
            if level == 2 or (level == 1 and gran == 12):
                break
            return np.int64(FSC_TRANS + level), U0, np.int64(0)
        nxt = desc & M48 & ~((U1 << np.uint64(gran)) - U1)
        if (nxt >> np.uint64(ips)) != U0:
            return np.int64(FSC_ADDR_SIZE + level), U0, np.int64(0)
        ap_tbl |= (desc >> np.uint64(61)) & U3
        uxn_tbl |= (desc >> np.uint64(60)) & U1
        pxn_tbl |= (desc >> np.uint64(59)) & U1
        base = nxt
        level += 1
    shift = gran + stride * (3 - level)
    lowmask = (U1 << np.uint64(shift)) - U1
    oa = desc & M48 & ~lowmask
    if (oa >> np.uint64(ips)) != U0:
        return np.int64(FSC_ADDR_SIZE + level), U0, np.int64(0)
    if ((desc >> np.uint64(10)) & U1) == U0:
        return np.int64(FSC_AF + level), U0, np.int64(0)
    ap = (desc >> np.uint64(6)) & U3
    el0 = (ap & U1) != U0 and (ap_tbl & U1) == U0
    ro = (ap & np.uint64(2)) != U0 or (ap_tbl & np.uint64(2)) != U0
    uxn = (((desc >> np.uint64(54)) & U1) | uxn_tbl) != U0
    pxn = (((desc >> np.uint64(53)) & U1) | pxn_tbl) != U0
    wxn = (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_WXN) != U0
    p = P_R1
    if not ro:
        p |= P_W1
    if el0:
        p |= P_R0
        if not ro:
            p |= P_W0
    # EL0 may execute what it cannot read (UXN decides); EL1 never executes what
    # EL0 may write; WXN: writable means execute-never
    if not uxn and not (wxn and (p & P_W0) != 0):
        p |= P_X0
    if not pxn and (p & P_W0) == 0 and not (wxn and (p & P_W1) != 0):
        p |= P_X1
    info = (p | (np.int64((desc >> np.uint64(2)) & np.uint64(7)) << I_ATTR_SH)
            | (np.int64((desc >> np.uint64(8)) & U3) << I_SH_SH) | (level << I_LEVEL_SH))
    return np.int64(-1), oa | (va & lowmask), info


@njit(cache=True, _nrt=False)
def translate(ctl, sysr, mem, va, acc, el):
    """VA -> (fsc, PA, info) for an access of kind `acc` (A_*) with the
    permissions of exception level `el`; fsc = -1 when it may go ahead."""
    if (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_M) == U0:
        fsc, pa = identity(ctl, sysr, va)
        return fsc, pa, np.int64(P_R0 | P_W0 | P_X0 | P_R1 | P_W1 | P_X1)
    fsc, pa, info = walk(ctl, sysr, mem, va)
    if fsc >= 0:
        return fsc, pa, info
    bit = acc + (3 if el != 0 else 0)
    if ((info >> bit) & 1) == 0:
        return np.int64(FSC_PERM) + ((info >> I_LEVEL_SH) & 3), pa, info
    return fsc, pa, info


@njit(cache=True, _nrt=False)
def translate_cached(ctl, sysr, mem, tlb, va, acc, el):
    """translate() for the soft-TLB fill paths: (fsc or -1, PA), with the walk
    results cached per 4 KiB page after the soft TLBs (see WALK_BASE)."""
    if (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_M) == U0:
        return identity(ctl, sysr, va)
    vp = va >> U12
    i = WALK_BASE + np.int64(vp & np.uint64(WALK_ENTRIES - 1)) * 2
    if tlb[i] == vp:
        v = tlb[i + 1]
    else:
        fsc, pa, info = walk(ctl, sysr, mem, va)
        if fsc >= 0:
            return fsc, U0
        v = (pa & ~PAGE_MASK) | np.uint64(info & 63) | (np.uint64((info >> I_LEVEL_SH) & 3) << np.uint64(6))
        tlb[i] = vp
        tlb[i + 1] = v
    bit = acc + (3 if el != 0 else 0)
    if ((v >> np.uint64(bit)) & U1) == U0:
        return np.int64(FSC_PERM) + np.int64((v >> np.uint64(6)) & U3), U0
    return np.int64(-1), (v & ~PAGE_MASK) | (va & PAGE_MASK)


@njit(cache=True, _nrt=False)
def ram_offset(ctl, pa):
    """Host offset of a PA in RAM, or -1 if the PA is not RAM: the board's RAM, then
    the regions mapped besides it (ctl C_XRAM: base, size, offset in the array)."""
    base = ctl[C_RAM_BASE]
    if pa >= base and pa - base < ctl[C_RAM_SIZE]:
        return np.int64(pa - base)
    for k in range(np.int64(ctl[C_XRAM_N])):
        i = C_XRAM + 3 * k
        b = ctl[i]
        if pa >= b and pa - b < ctl[i + 1]:
            return np.int64(ctl[i + 2] + (pa - b))
    return np.int64(-1)


@njit(cache=True, _nrt=False)
def tlb_fill_write(tlb, va, off):
    """Enter va's page in the soft TLB's write entries: RAM offset `off` (any byte of
    the page), translated for a write at the current EL, no decoded code in it."""
    vpage = va >> U12
    e = T_WRITE * TLB_ENTRIES + np.int64(vpage & np.uint64(TLB_ENTRIES - 1))
    tlb[2 * e] = vpage
    tlb[2 * e + 1] = np.uint64(off & ~0xFFF) - (vpage << U12)


@njit(cache=True, _nrt=False)
def tag_write_tlb(tlb, host_page):
    """Mark the write-TLB entries that map host page `host_page` (it now holds code)
    with CODE_TAG."""
    for i in range(TLB_ENTRIES):
        e = T_WRITE * TLB_ENTRIES + i
        t = tlb[2 * e]
        if t != INVALID:
            if (((t << U12) + tlb[2 * e + 1]) >> U12) == np.uint64(host_page):
                tlb[2 * e] = t | CODE_TAG


@njit(cache=True, _nrt=False)
def alloc_slot(ctl, bus, host_page):
    """Give RAM page `host_page` a decode-cache slot (round robin) and return it."""
    dcache, pslot, slotpage = bus.dcache, bus.pslot, bus.slotpage
    n = dcache.shape[0] // SLOT_WORDS
    s = np.int64(ctl[C_SLOT_RR] % np.uint64(n))
    ctl[C_SLOT_RR] = np.uint64(s + 1)
    old = slotpage[s]
    if old >= 0:
        pslot[old] = -1
    dcache[s * SLOT_WORDS:(s + 1) * SLOT_WORDS] = 0
    slotpage[s] = host_page
    pslot[host_page] = s
    tag_write_tlb(bus.tlb, host_page)
    return s


@njit(cache=True, _nrt=False)
def forget_words(dcache, s, off, size):
    """Forget the decoded words of slot s that a store of `size` bytes at RAM offset
    `off` (inside one page) overwrote: they are decoded again when next fetched."""
    k0 = np.int64((off & 0xFFF) >> 2)
    k1 = np.int64(((off & 0xFFF) + size - 1) >> 2)
    for k in range(k0, k1 + 1):
        dcache[(s << 11) | (k << 1)] = U0


@njit(cache=True, _nrt=False)
def drop_code_page(pslot, slotpage, host_page):
    s = pslot[host_page]
    if s >= 0:
        pslot[host_page] = -1
        slotpage[s] = -1
        return True
    return False


@njit(cache=True, _nrt=False)
def flush_decode(pslot, slotpage):
    for s in range(slotpage.shape[0]):
        p = slotpage[s]
        if p >= 0:
            pslot[p] = -1
            slotpage[s] = -1


@njit(cache=True, _nrt=False)
def _ram_read(mem, off, size):
    v = U0
    for i in range(size):
        v |= np.uint64(mem[off + i]) << np.uint64(8 * i)
    return v


@njit(cache=True, _nrt=False)
def _ram_write(mem, off, size, value):
    for i in range(size):
        mem[off + i] = np.uint8((value >> np.uint64(8 * i)) & M8)


@njit(cache=True, _nrt=False)
def acc_fsc(st):
    """Fault status code of a failed access status (ACC_ABORT: external abort)."""
    return st - ACC_FAULT if st >= ACC_FAULT else FSC_EXT


@njit(cache=True, _nrt=False)
def access_slow(ctl, sysr, bus, va, size, is_write, value, unpriv=False):
    """Any data access the fast path could not do.  Returns (status, value, fault_va).
    unpriv: LDTR/STTR at EL1 (EL0 permissions, never entered in the soft TLB)."""
    if (va & np.uint64(size - 1)) == U0 and (va & PAGE_MASK) + np.uint64(size) <= np.uint64(4096):
        return access1(ctl, sysr, bus, va, size, is_write, value, unpriv)
    # unaligned or page-crossing: byte by byte (each byte may be RAM or MMIO)
    out = U0
    for i in range(size):
        b = (value >> np.uint64(8 * i)) & M8
        st, v, fva = access1(ctl, sysr, bus, va + np.uint64(i), 1, is_write, b,
                             unpriv)
        if st != ACC_OK:
            return st, U0, fva
        out |= v << np.uint64(8 * i)
    return ACC_OK, out, U0


@njit(cache=True, _nrt=False)
def access1(ctl, sysr, bus, va, size, is_write, value, unpriv):
    """One aligned access inside a page."""
    el = 0 if unpriv else np.int64(ctl[C_EL])
    fsc, pa = translate_cached(ctl, sysr, bus.mem, bus.tlb, va, A_WRITE if is_write else A_READ, el)
    if fsc >= 0:
        return ACC_FAULT + fsc, U0, va
    fill = not unpriv
    hit = False
    if (ctl[C_DBG] & np.uint64(DBG_WP)) != U0:
        # guest watchpoints (cpu/debug.py): their pages never enter the soft TLB; a hit
        # is taken before the access (the debug fault status: exceptions.data_abort)
        whit, wfar, wpage = wp_check(ctl, sysr, va, size, is_write, unpriv)
        fill = fill and not wpage
        if whit:
            return ACC_FAULT + FSC_DEBUG, U0, wfar
    if (ctl[C_HOOK_FLAGS] & HF_MEM) != U0:
        # memory hooks (cpu/hooks.py): a hooked page never enters the soft TLB, so
        # every access to it comes here; the host sees a write before it lands
        hit, hpage = mem_hooked(bus.hooks, va, size, is_write)
        fill = fill and not hpage
        if hit and is_write:
            call_host(ctl, va, size, HK_WRITE, value)
            if ctl[C_CB_ERR] != U0:
                return ACC_CBERR, U0, va
    st, v, fva = access1_pa(ctl, bus, va, pa, size, is_write, value, fill)
    if hit and not is_write and st == ACC_OK:
        call_host(ctl, va, size, HK_READ, v)
        if ctl[C_CB_ERR] != U0:
            return ACC_CBERR, U0, va
    return st, v, fva


@njit(cache=True, _nrt=False)
def access1_pa(ctl, bus, va, pa, size, is_write, value, fill):
    """access1 after the translation: RAM (entering the page in the soft TLB when
    `fill`) or MMIO."""
    off = ram_offset(ctl, pa)
    if (off >= 0 and is_write and (ctl[C_HOOK_FLAGS] & HF_PROT) != U0
            and (bus.prot[off >> 12] & PROT_ROM) != 0):
        off = np.int64(-1)      # a ROM device's page: the write goes to the device (MMIO)
    if off >= 0:
        page = off >> 12
        vpage = va >> U12
        idx = np.int64(vpage & np.uint64(TLB_ENTRIES - 1))
        addend = np.uint64(off & ~0xFFF) - (vpage << U12)
        if (ctl[C_HOOK_FLAGS] & HF_PROT) != U0 and (bus.prot[page] & PROT_HOST) != 0:
            # a page the harness protects (Machine.mem_protect): never in the soft TLB;
            # a forbidden access asks the host, which retries or stops the run
            fill = False
            if (bus.prot[page] & (PROT_NO_W if is_write else PROT_NO_R)) != 0:
                call_host(ctl, va, size, HK_PROT, U1 if is_write else U0)
                if ctl[C_CB_ERR] != U0:
                    return ACC_CBERR, U0, va
                return ACC_ABORT, U0, va
        if is_write:
            bus.dirty[page] = 1             # (written in this snapshot epoch: Cpu.new_epoch)
            s = np.int64(bus.pslot[page])
            if s >= 0:
                # decoded code in this page: write, forget the decoded words the store
                # overwrote, and enter the page in the write TLB with CODE_TAG (the
                # hot loop's checked path stores there when no decoded word is hit)
                if fill:
                    e = T_WRITE * TLB_ENTRIES + idx
                    bus.tlb[2 * e] = vpage | CODE_TAG
                    bus.tlb[2 * e + 1] = addend
                _ram_write(bus.mem, off, size, value)
                forget_words(bus.dcache, s, off, size)
                return ACC_OK, U0, U0
            if fill:
                e = T_WRITE * TLB_ENTRIES + idx
                bus.tlb[2 * e] = vpage
                bus.tlb[2 * e + 1] = addend
            _ram_write(bus.mem, off, size, value)
            return ACC_OK, U0, U0
        if fill:
            e = T_READ * TLB_ENTRIES + idx
            bus.tlb[2 * e] = vpage
            bus.tlb[2 * e + 1] = addend
        return ACC_OK, _ram_read(bus.mem, off, size), U0
    # MMIO: the board's callback (a ctypes function: addr, size, is_write, value) -> value
    if ctl[C_MMIO_FN] == U0:
        return ACC_ABORT, U0, va
    v = call_c(ctl[C_MMIO_FN], pa, size, 1 if is_write else 0, value)
    if ctl[C_CB_ERR] != U0:
        return ACC_CBERR, U0, va
    if ctl[C_MMIO_ERR] != U0:
        ctl[C_MMIO_ERR] = U0
        return ACC_ABORT, U0, va
    return ACC_OK, np.uint64(v), U0


@njit(cache=True, _nrt=False)
def fetch_page(ctl, sysr, mem, tlb, va):
    """Host offset of the start of the RAM page holding instruction address va, or
    -1 - fsc when the fetch faults (fsc FSC_EXT: not RAM)."""
    vpage = va >> U12
    idx = np.int64(vpage & np.uint64(TLB_ENTRIES - 1))
    e = T_EXEC * TLB_ENTRIES + idx
    if tlb[2 * e] == vpage:
        return np.int64((vpage << U12) + tlb[2 * e + 1])
    fsc, pa = translate_cached(ctl, sysr, mem, tlb, va, A_EXEC, np.int64(ctl[C_EL]))
    if fsc >= 0:
        return -1 - fsc
    off = ram_offset(ctl, pa)
    if off < 0:
        return np.int64(-1 - FSC_EXT)
    tlb[2 * e] = vpage
    tlb[2 * e + 1] = np.uint64(off & ~0xFFF) - (vpage << U12)
    return off & ~0xFFF


@njit(cache=True, _nrt=False)
def tlb_check_el(ctl, sysr, tlb):
    """The soft TLB holds what the EL it was filled at may do: flush it when the EL
    changed with the MMU on (with it off, permissions do not depend on the EL)."""
    if (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_M) != U0:
        tlb_flush(tlb)
    ctl[C_TLB_EL] = ctl[C_EL]
