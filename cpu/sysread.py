"""The common cases of two system instructions, for the hot loop (cpu/hotloop.py runs
them without leaving) and for the system group, which tries them first:

- MRS of the registers whose read has no side effect and cannot trap: the one
  definition of those reads (`sysreg_access.sysreg` does every other MRS and MSR);
- DC ZVA of a block whose page is in the soft TLB's write entries (Linux clears pages
  with it; `sysinsn.sys_insn` does the rest: translation, MMIO, faults).

`mrs_plain` declines (returns ok=False, nothing done) whatever needs more than a
table lookup: a register missing on this CPU or not readable at this EL, an EL0 read
the table lets EL1 trap, registers with a handler (ISR, CCSIDR, the PMU, the timer),
FPCR/FPSR (the FP access check), the counters (virtual time), SP_EL0 while it is the
live stack pointer.  A small leaf module: the hot loop depends on nothing else of
the system group.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import C_EL, C_SPSEL, C_DAIF, C_DCZVA_LOG2
from pyaarch64.cpu.sysregs import (R_VAL, R_META, S_SP_EL0, S_NZCV, S_DAIF, S_CURRENTEL, S_SPSEL,
                                   S_CNTVCT, S_CNTPCT, S_FPCR, S_FPSR, S_SCTLR_EL1, T_NONE,
                                   M_TRAP_SHIFT, M_HANDLER_SHIFT)
from pyaarch64.cpu.memory import TLB_ENTRIES, T_WRITE
from pyaarch64.cpu.ram import st64

U0 = np.uint64(0)
U1 = np.uint64(1)
U8 = np.uint64(8)
U12 = np.uint64(12)
TLB_IDX = np.uint64(TLB_ENTRIES - 1)
WRITE_BASE = np.uint64(T_WRITE * TLB_ENTRIES)
SCTLR_DZE = np.uint64(1 << 14)     # EL0 may use DC ZVA


@njit(cache=True, _nrt=False, forceinline=True)
def mrs_plain(ctl, sysr, slot, nzcv):
    """(ok, value) of MRS of system-register slot `slot` (sysmap's; < 0: none) at the
    current EL; nzcv: PSTATE.NZCV (the caller's copy)."""
    if slot < 0:
        return False, U0
    meta = np.int64(sysr[slot, R_META])
    el = np.int64(ctl[C_EL])
    if el < ((meta >> 4) & 3):
        return False, U0                                  # UNDEFINED at this EL
    if el == 0 and ((meta >> M_TRAP_SHIFT) & 0xFF) != T_NONE:
        return False, U0                                  # EL1 may trap it
    if ((meta >> M_HANDLER_SHIFT) & 0xFF) != 0:
        return False, U0
    if slot == S_FPCR or slot == S_FPSR or slot == S_CNTVCT or slot == S_CNTPCT:
        return False, U0
    if slot == S_NZCV:
        return True, np.uint64(nzcv) << np.uint64(28)
    if slot == S_DAIF:
        return True, ctl[C_DAIF] << np.uint64(6)
    if slot == S_CURRENTEL:
        return True, ctl[C_EL] << np.uint64(2)
    if slot == S_SPSEL:
        return True, ctl[C_SPSEL]
    if slot == S_SP_EL0 and ctl[C_SPSEL] == U0:
        return False, U0                                  # SP_EL0 is the live SP: UNDEFINED
    return True, sysr[slot, R_VAL]


@njit(cache=True, _nrt=False, forceinline=True)
def dczva_hit(tlbarr, toff, ctl, sysr, mem, va):
    """DC ZVA of the block holding va if its page has a soft-TLB write entry (the soft
    TLB at tlbarr[toff:]): the block zeroed, True; else False, nothing done."""
    if ctl[C_EL] == U0 and (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_DZE) == U0:
        return False                                      # trapped at EL0
    bs = U1 << ctl[C_DCZVA_LOG2]
    base = va & ~(bs - U1)
    vp = base >> U12
    e = toff + (((vp & TLB_IDX) + WRITE_BASE) << U1)      # (a page with decoded code never matches)
    if tlbarr[e] != vp:
        return False
    h = base + tlbarr[e + U1]
    off = U0
    while off < bs:
        st64(mem, h + off, U0)
        off += U8
    return True
