"""Floating-point and Advanced SIMD access (CPACR_EL1.FPEN) and its trap, and the
FP loads and stores (op FPMEM, run by the floating-point group, cpu/fpexec.py).  The
FP and SIMD groups and MRS/MSR of FPCR/FPSR (cpu/sysreg_access.py) check
`fp_trapped` before they touch FP state.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import C_PC, VREG
from pyaarch64.cpu.memory import ACC_OK, access_slow
from pyaarch64.cpu.operands import fp_enabled, fp_mem_operands, writeback
from pyaarch64.cpu.exceptions import take_exception, EC_FP_ACCESS, V_SYNC
from pyaarch64.cpu.memaccess import abort_status

U0 = np.uint64(0)
U1 = np.uint64(1)


@njit(cache=True, _nrt=False)
def fp_trapped(ctl, sysr):
    """FP/SIMD access disabled at the current EL by CPACR_EL1.FPEN."""
    return not fp_enabled(ctl, sysr)


@njit(cache=True, _nrt=False)
def fp_trap(regs, ctl, sysr, pc):
    # ISS as QEMU builds it (CV=1, COND=0xE)
    return take_exception(regs, ctl, sysr, EC_FP_ACCESS, 0x1E00000, U0, False, pc, V_SYNC)


@njit(cache=True, _nrt=False)
def fp_mem(regs, ctl, sysr, bus, pc, w0, w1):
    """LDR/STR/LDUR/STUR/LDP/STP/LDNP/STNP and literal loads of B/H/S/D/Q registers.
    A load writes the whole V register (zero-extended); nothing is committed
    before every access has succeeded."""
    if fp_trapped(ctl, sysr):
        return fp_trap(regs, ctl, sysr, pc)
    vt = np.int64((w0 >> np.uint64(10)) & np.uint64(31))
    rn = np.int64((w0 >> np.uint64(16)) & np.uint64(63))
    vt2 = np.int64((w0 >> np.uint64(28)) & np.uint64(31))
    addr, lg, load, mode, n = fp_mem_operands(regs, w0, w1, pc)
    nb = np.uint64(1) << np.uint64(lg)
    lo0 = U0
    hi0 = U0
    lo1 = U0
    hi1 = U0
    for k in range(n):
        a = addr + nb * np.uint64(k)
        v = vt if k == 0 else vt2
        if load:
            if lg == 4:
                st, lo, fva = access_slow(ctl, sysr, bus, a, 8, False, U0)
                if st != ACC_OK:
                    return abort_status(regs, ctl, sysr, pc, st, fva, False)
                st, hi, fva = access_slow(ctl, sysr, bus, a + np.uint64(8), 8, False, U0)
            else:
                hi = U0
                st, lo, fva = access_slow(ctl, sysr, bus, a, 1 << lg, False, U0)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, False)
            if k == 0:
                lo0 = lo
                hi0 = hi
            else:
                lo1 = lo
                hi1 = hi
        else:
            lo = regs[VREG + 2 * v]
            if lg == 4:
                st, x, fva = access_slow(ctl, sysr, bus, a, 8, True, lo)
                if st != ACC_OK:
                    return abort_status(regs, ctl, sysr, pc, st, fva, True)
                st, x, fva = access_slow(ctl, sysr, bus, a + np.uint64(8), 8, True,
                                    regs[VREG + 2 * v + 1])
            else:
                if lg < 3:
                    lo &= (U1 << np.uint64(8 << lg)) - U1
                st, x, fva = access_slow(ctl, sysr, bus, a, 1 << lg, True, lo)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
    if load:
        regs[VREG + 2 * vt] = lo0
        regs[VREG + 2 * vt + 1] = hi0
        if n == 2:
            regs[VREG + 2 * vt2] = lo1
            regs[VREG + 2 * vt2 + 1] = hi1
    writeback(regs, rn, mode, addr, w1)       # (mode is MODE_OFF for literal and register offset)
    ctl[C_PC] = pc + np.uint64(4)
    return 0
