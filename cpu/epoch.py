"""Snapshot epochs: which RAM pages were written since the machine's RAM last matched
a snapshot, and putting them back (issue 14's fast restore).

A page enters the soft TLB's write side only through memory.access1 (or DC ZVA),
which mark it in the page map `dirty`; an epoch starts with the map clear and the
write TLB empty (Cpu.new_epoch), so every page written after that is marked, once
per epoch, and stores that hit the TLB pay nothing.  Host writes mark their pages
too (Cpu.mark_written).  `put_back` restores a snapshot's CPU arrays and its pages
in one jitted call (numpy does the same in ~10 calls of a few microseconds each).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.memory import INVALID
from pyaarch64.cpu.sysregs import R_VAL

U0 = np.uint64(0)
SCAN_BLOCK = 256     # dirty-map words OR-ed together before looking inside (2048 pages)


@njit(cache=True, _nrt=False)
def _copy_block(dirty64, w0, w1, m64, b64, pslot, slotpage):
    """Copy back the marked pages of dirty-map words w0..w1 (clearing the marks,
    forgetting the pages' decoded code); returns how many."""
    n = 0
    for w in range(w0, w1):
        v = dirty64[w]
        if v == U0:
            continue
        dirty64[w] = U0
        for k in range(8):
            if (v >> np.uint64(8 * k)) & np.uint64(0xFF) == U0:
                continue
            p = w * 8 + k
            o = p << 9                      # (in 64-bit words)
            for j in range(o, o + 512):
                m64[j] = b64[j]
            s = pslot[p]
            if s >= 0:
                slotpage[s] = -1
                pslot[p] = -1
            n += 1
    return n


@njit(cache=True, _nrt=False)
def put_back(regs, f_regs, sysr, f_sysr, ctl, idx, f_ctl, dirty64, mem, base, pslot, slotpage,
             tlb):
    """Copy the registers, the system registers' values and the ctl entries `idx`
    back from a snapshot's arrays; copy back every page the map marks from `base`
    (clearing the mark, forgetting the page's decoded code); empty the soft TLB.
    The map is scanned a block of words at a time: a word-by-word scan with stores
    in its body does not vectorise (2.5 us at 128 MiB against 0.2).
    Returns the number of pages copied."""
    for i in range(regs.shape[0]):
        regs[i] = f_regs[i]
    for i in range(sysr.shape[0]):
        sysr[i, R_VAL] = f_sysr[i]
    for k in range(idx.shape[0]):
        ctl[idx[k]] = f_ctl[k]
    n = 0
    m64 = mem.view(np.uint64)
    b64 = base.view(np.uint64)
    nw = dirty64.shape[0]
    for b in range((nw + SCAN_BLOCK - 1) // SCAN_BLOCK):
        b0 = b * SCAN_BLOCK
        acc = U0
        if b0 + SCAN_BLOCK <= nw:
            for w in range(SCAN_BLOCK):      # (a fixed count: vectorised)
                acc |= dirty64[b0 + w]
        else:
            for w in range(b0, nw):
                acc |= dirty64[w]
        if acc != U0:
            n += _copy_block(dirty64, b0, min(b0 + SCAN_BLOCK, nw), m64, b64, pslot, slotpage)
    for i in range(tlb.shape[0]):           # (tags and addends: one vectorised fill)
        tlb[i] = INVALID
    return n
