"""Data accesses of the rare ops (the system group, FP loads and stores, SIMD
structure loads and stores; they go through memory.access_slow, the MMU and the
soft TLB, which also forgets decoded words a store overwrites):
`abort_status` for the exception a failed access takes, `zext` for a store's value;
and LDTR/STTR, which are nothing more than such an access.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import C_PC, C_EL, SX_NONE, SX_32, EXIT_CB_ERROR
from pyaarch64.cpu.opids import unpack_LD
from pyaarch64.cpu.memory import access_slow, acc_fsc, ACC_OK, ACC_CBERR
from pyaarch64.cpu.exceptions import data_abort

U0 = np.uint64(0)
U1 = np.uint64(1)
M32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, _nrt=False)
def abort_status(regs, ctl, sysr, pc, st, fva, is_write):
    if st == ACC_CBERR:
        return EXIT_CB_ERROR
    return data_abort(regs, ctl, sysr, pc, fva, is_write, acc_fsc(st))


@njit(cache=True, _nrt=False)
def zext(v, size):
    if size >= 3:
        return v
    return v & ((U1 << np.uint64(8 << size)) - U1)


@njit(cache=True, _nrt=False)
def unpriv_ldst(regs, ctl, sysr, bus, pc, rt, rn, aux, imm, is_write):
    """LDTR/STTR (and b/h/sb/sh/sw): at EL1 the access has EL0's permissions (no PAN
    on Armv8.0); at EL0 it is an ordinary access."""
    size, sign, _ = unpack_LD(aux)            # (LDT/STT: LD's layout)
    addr = regs[rn] + imm
    unpriv = ctl[C_EL] != U0
    if is_write:
        st, v, fva = access_slow(ctl, sysr, bus, addr, 1 << size, True,
                            zext(regs[rt], size), unpriv)
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, True)
    else:
        st, v, fva = access_slow(ctl, sysr, bus, addr, 1 << size, False, U0, unpriv)
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, False)
        if sign != SX_NONE and size < 3:
            bits = np.uint64(64 - (8 << size))
            v = np.uint64(np.int64(v << bits) >> np.int64(bits))
            if sign == SX_32:
                v &= M32
        regs[rt] = v
    ctl[C_PC] = pc + np.uint64(4)
    return 0
