"""MRS of the registers whose read has no side effect and cannot trap: the one
definition of those reads, for the hot loop (cpu/hotloop.py, which runs MRS without
leaving) and for `sysreg_access.sysreg` (every other MRS and all of MSR).

`mrs_plain` declines (returns ok=False, nothing done) whatever needs more than a
table lookup: a register missing on this CPU or not readable at this EL, an EL0 read
the table lets EL1 trap, registers with a handler (ISR, CCSIDR, the PMU, the timer),
FPCR/FPSR (the FP access check), the counters (virtual time), SP_EL0 while it is the
live stack pointer.  A small leaf module: the hot loop depends on nothing else of
the system group.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import C_EL, C_SPSEL, C_DAIF
from pyaarch64.cpu.sysregs import (R_VAL, R_META, S_SP_EL0, S_NZCV, S_DAIF, S_CURRENTEL, S_SPSEL,
                                   S_CNTVCT, S_CNTPCT, S_FPCR, S_FPSR, T_NONE, M_TRAP_SHIFT,
                                   M_HANDLER_SHIFT)

U0 = np.uint64(0)


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
