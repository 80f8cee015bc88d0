"""The self-hosted debug architecture at EL0/EL1 (Arm ARM D2): breakpoints,
watchpoints and software step, with the enables that gate them.

Only in the machine types that have it (ctl[C_DBG] & DBG_ON; older types store the
registers and nothing acts on them).  It costs nothing where nothing is armed:

- an armed breakpoint's address decodes to OP_HOOK (the executor's predecode asks
  `bp_armed_at` while ctl[C_DBG] & DBG_BP), and at an OP_HOOK the executor asks
  `bp_fires` before anything else;
- an armed watchpoint's pages stay out of the soft TLB (memory.access1 asks
  `wp_check` while DBG_WP), so every access to them takes the slow path, where a hit
  becomes a data abort with the debug fault status (exceptions.data_abort: EC
  0x34/0x35, WnR, FAR = the first watched byte the access touches, as QEMU 7.2);
- software step (MDSCR_EL1.SS with PSTATE.SS = ctl[C_SS]) runs the stepped
  instruction alone (the executor, while DBG_SS) and takes the step exception after
  it, or at once when the step is pending (PSTATE.SS = 0).

`flags` derives DBG_BP/DBG_WP/DBG_SS from the registers; an MSR to a debug register
re-derives them (system.slow_op: the decode cache or the data TLB is dropped when
armed breakpoints or watchpoints may have changed).

What is modelled: address-match breakpoints (BT 0b0000, and 0b0001 linked to a
context-aware breakpoint's CONTEXTIDR_EL1 match, BT 0b0011; every other type is
never hit), BAS as QEMU 7.2 (0b1100 = the address + 2, never an A64 instruction),
PMC/PAC per EL, SSC (Non-secure: 0b10 never hits), HMC (no EL2: ignored);
watchpoints with LSC, BAS (contiguous bytes from the lowest set bit; WVR[2] set: BAS[7:4]
ignored) or MASK (3..31; 1 and 2 reserved: never hit; MASK wins over BAS), linked
ones (WT) through the same context match.  Debug exceptions are generated from EL0
always and from EL1 with MDSCR_EL1.KDE and PSTATE.D clear, never while the OS lock
(OSLSR_EL1.OSLK) or the OS double lock (OSDLR_EL1.DLK) is set (the architecture;
QEMU 7.2 honours the double lock but takes these exceptions with OSLK set, as if it
tested OSLSR bit 0, OSLM[0]: tests/guest/debug.c shows it);
breakpoints and watchpoints also need MDSCR_EL1.MDE.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import C_DBG, C_DAIF, C_EL, C_SS, DBG_ON, DBG_BP, DBG_WP, DBG_SS
from pyaarch64.cpu.sysregs import (R_VAL, S_MDSCR_EL1, S_OSLSR_EL1, S_OSDLR_EL1,
                                   S_CONTEXTIDR_EL1, S_ID_AA64DFR0_EL1, S_DBGBVR0, S_DBGWVR0,
                                   DBG_NBP, DBG_NWP)

U0 = np.uint64(0)
U1 = np.uint64(1)
U3 = np.uint64(3)
M32 = np.uint64(0xFFFFFFFF)
PAGE = np.uint64(0x1000)
NOT_PAGE = ~np.uint64(0xFFF)
MDSCR_SS = np.uint64(1)
MDSCR_KDE = np.uint64(1 << 13)
MDSCR_MDE = np.uint64(1 << 15)
OSLSR_OSLK = np.uint64(2)
OSDLR_DLK = np.uint64(1)
DAIF_D = np.uint64(8)
FSC_DEBUG = 0x22         # the debug fault status (ESR ISS[5:0] of every debug exception)


@njit(cache=True, _nrt=False)
def counts(sysr):
    """(breakpoints, watchpoints, context-aware breakpoints) from ID_AA64DFR0_EL1,
    at most the table's register pairs."""
    d = sysr[S_ID_AA64DFR0_EL1, R_VAL]
    nb = np.int64((d >> np.uint64(12)) & np.uint64(15)) + 1
    nw = np.int64((d >> np.uint64(20)) & np.uint64(15)) + 1
    nc = np.int64((d >> np.uint64(28)) & np.uint64(15)) + 1
    return min(nb, DBG_NBP), min(nw, DBG_NWP), nc


@njit(cache=True, _nrt=False)
def enabled_from(ctl, sysr, el):
    """Debug exceptions may be generated from exception level `el` (taken to EL1)."""
    if (ctl[C_DBG] & np.uint64(DBG_ON)) == U0:
        return False
    if (sysr[S_OSLSR_EL1, R_VAL] & OSLSR_OSLK) != U0 or (sysr[S_OSDLR_EL1, R_VAL] & OSDLR_DLK) != U0:
        return False
    if el == U0:
        return True
    return (sysr[S_MDSCR_EL1, R_VAL] & MDSCR_KDE) != U0 and (ctl[C_DAIF] & DAIF_D) == U0


@njit(cache=True, _nrt=False)
def ss_active(ctl, sysr):
    """Software step is active (MDSCR_EL1.SS, debug exceptions enabled here)."""
    return (sysr[S_MDSCR_EL1, R_VAL] & MDSCR_SS) != U0 and enabled_from(ctl, sysr, ctl[C_EL])


@njit(cache=True, _nrt=False)
def bp_address(sysr, n):
    """(armed, address) of breakpoint n: enabled, an address match (BT 0b000x) with a
    non-zero BAS."""
    bcr = sysr[S_DBGBVR0 + 2 * n + 1, R_VAL]
    bt = (bcr >> np.uint64(20)) & np.uint64(15)
    bas = (bcr >> np.uint64(5)) & np.uint64(15)
    if (bcr & U1) == U0 or bt > U1 or bas == U0:
        return False, U0
    a = sysr[S_DBGBVR0 + 2 * n, R_VAL] & ~U3
    if bas == np.uint64(0xC):
        a += np.uint64(2)
    return True, a


@njit(cache=True, _nrt=False)
def bp_armed_at(sysr, pc):
    """Some armed breakpoint has address pc (its instruction decodes to OP_HOOK)."""
    nb, _, _ = counts(sysr)
    for n in range(nb):
        armed, a = bp_address(sysr, n)
        if armed and a == pc:
            return True
    return False


@njit(cache=True, _nrt=False)
def el_matches(cr, el):
    """A BCR/WCR's PMC/PAC and SSC let an access at `el` (Non-secure EL0/EL1) match."""
    if ((cr >> np.uint64(14)) & U3) == np.uint64(2):     # SSC 0b10: Secure only
        return False
    pac = (cr >> U1) & U3
    return ((pac >> np.uint64(0 if el != U0 else 1)) & U1) != U0


@njit(cache=True, _nrt=False)
def linked_matches(sysr, lbn):
    """The context-aware breakpoint `lbn` a linked breakpoint/watchpoint names holds a
    CONTEXTIDR_EL1 match (BT 0b0011) that matches now; a link to anything else never
    matches."""
    nb, _, nc = counts(sysr)
    if lbn >= nb or lbn < nb - nc:
        return False
    bcr = sysr[S_DBGBVR0 + 2 * lbn + 1, R_VAL]
    if (bcr & U1) == U0 or ((bcr >> np.uint64(20)) & np.uint64(15)) != U3:
        return False
    return (sysr[S_CONTEXTIDR_EL1, R_VAL] & M32) == (sysr[S_DBGBVR0 + 2 * lbn, R_VAL] & M32)


@njit(cache=True, _nrt=False)
def bp_fires(ctl, sysr, pc):
    """A breakpoint exception is due before the instruction at pc."""
    if (sysr[S_MDSCR_EL1, R_VAL] & MDSCR_MDE) == U0 or (pc & U3) != U0:
        return False
    el = ctl[C_EL]
    if not enabled_from(ctl, sysr, el):
        return False
    if ctl[C_SS] == U0 and ss_active(ctl, sysr):
        return False                     # the pending software step comes first
    nb, _, _ = counts(sysr)
    for n in range(nb):
        armed, a = bp_address(sysr, n)
        if not armed or a != pc:
            continue
        bcr = sysr[S_DBGBVR0 + 2 * n + 1, R_VAL]
        if not el_matches(bcr, el):
            continue
        if ((bcr >> np.uint64(20)) & U1) != U0 and not linked_matches(
                sysr, np.int64((bcr >> np.uint64(16)) & np.uint64(15))):
            continue
        return True
    return False


@njit(cache=True, _nrt=False)
def wp_range(sysr, n):
    """(armed, first byte, bytes, LSC) of watchpoint n."""
    wcr = sysr[S_DBGWVR0 + 2 * n + 1, R_VAL]
    wvr = sysr[S_DBGWVR0 + 2 * n, R_VAL]
    lsc = (wcr >> np.uint64(3)) & U3
    if (wcr & U1) == U0 or lsc == U0:
        return False, U0, U0, lsc
    mask = (wcr >> np.uint64(24)) & np.uint64(31)
    if mask == U1 or mask == np.uint64(2):
        return False, U0, U0, lsc              # reserved MASK values: never hit
    if mask != U0:
        ln = U1 << mask
        return True, wvr & ~(ln - U1), ln, lsc
    bas = (wcr >> np.uint64(5)) & np.uint64(0xFF)
    if (wvr & np.uint64(4)) != U0:
        bas &= np.uint64(0xF)                  # a word-aligned WVR: BAS[3:0] only
    if bas == U0:
        return False, U0, U0, lsc
    first = U0
    while ((bas >> first) & U1) == U0:
        first += U1
    ln = U0
    while ((bas >> (first + ln)) & U1) != U0:  # the first run of ones
        ln += U1
    return True, wvr + first, ln, lsc


@njit(cache=True, _nrt=False)
def wp_check(ctl, sysr, va, size, is_write, unpriv):
    """A data access of `size` bytes at va: (hit, FAR, page): a watchpoint exception is
    due before it (FAR: the first watched byte it touches, as QEMU 7.2 reports it);
    page: an armed watchpoint covers part of va's page (keep it out of the soft TLB)."""
    _, nw, _ = counts(sysr)
    end = va + np.uint64(size)
    p0 = va & NOT_PAGE
    page = False
    hit = False
    far = U0
    el = U0 if unpriv else ctl[C_EL]
    want = np.uint64(2) if is_write else U1
    en = -1
    for n in range(nw):
        armed, lo, ln, lsc = wp_range(sysr, n)
        if not armed:
            continue
        hi = lo + ln
        if lo < p0 + PAGE and p0 < hi:
            page = True
        if hit or (lsc & want) == U0 or not (lo < end and va < hi):
            continue
        if en < 0:
            en = 1 if ((sysr[S_MDSCR_EL1, R_VAL] & MDSCR_MDE) != U0
                       and enabled_from(ctl, sysr, ctl[C_EL])) else 0
        if en == 0:
            continue
        wcr = sysr[S_DBGWVR0 + 2 * n + 1, R_VAL]
        if not el_matches(wcr, el):
            continue
        if ((wcr >> np.uint64(20)) & U1) != U0 and not linked_matches(
                sysr, np.int64((wcr >> np.uint64(16)) & np.uint64(15))):
            continue
        hit = True
        far = va if va > lo else lo
    return hit, far, page


@njit(cache=True, _nrt=False)
def flags(ctl, sysr):
    """ctl[C_DBG] as the registers make it now (DBG_ON kept)."""
    f = ctl[C_DBG] & np.uint64(DBG_ON)
    if f == U0:
        return f
    nb, nw, _ = counts(sysr)
    for n in range(nb):
        if bp_address(sysr, n)[0]:
            f |= np.uint64(DBG_BP)
    for n in range(nw):
        if wp_range(sysr, n)[0]:
            f |= np.uint64(DBG_WP)
    if (sysr[S_MDSCR_EL1, R_VAL] & MDSCR_SS) != U0:
        f |= np.uint64(DBG_SS)
    return f


@njit(cache=True, _nrt=False)
def mirror_bas(v):
    """DBGBCR<n>_EL1 as written: BAS[1] reads as BAS[0], BAS[3] as BAS[2] (A64 has
    no 16-bit instructions; QEMU 7.2 does the same)."""
    v = (v & ~np.uint64(0x40)) | (((v >> np.uint64(5)) & U1) << np.uint64(6))
    return (v & ~np.uint64(0x100)) | (((v >> np.uint64(7)) & U1) << np.uint64(8))


@njit(cache=True, _nrt=False)
def is_ldex(w):
    """Instruction word w is a load-exclusive (LDXR/LDAXR/LDXP/LDAXP, any size): a
    software step after it reports ESR.EX = 1."""
    w = np.uint64(w)
    if (w & np.uint64(0x3FC00000)) != np.uint64(0x08400000):
        return False
    return ((w >> np.uint64(21)) & U1) == U0 or (w >> np.uint64(31)) != U0   # (not CASP)
