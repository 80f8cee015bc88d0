"""The operands of the memory ops, defined once for every path that runs them: the
hot loop (cpu/hotloop.py), the general path's memory slow path (cpu/executor.py)
and the floating-point group's loads/stores (cpu/fpaccess.py).  A leaf module: it
imports only constants and ALU helpers, so the executor does not depend on the
groups through it.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import (SH_RN, SH_RM, SH_AUX,
                               C_EL, FK_LIT, FK_PAIR, FK_REG, MODE_OFF, MODE_POST, MODE_PRE, SX_32,
                               SX_NONE)
from pyaarch64.cpu.opids import (OP_LDLIT, OP_LDP, OP_LDRR, OP_STP, OP_STRR, unpack_FPMEM,
                                 unpack_LD, unpack_LDLIT, unpack_LDRR)
from pyaarch64.cpu.sysregs import S_CPACR_EL1, R_VAL
from pyaarch64.cpu.alu import extend

U0 = np.uint64(0)
U1 = np.uint64(1)
U3 = np.uint64(3)
M6 = np.uint64(63)
M32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, _nrt=False, forceinline=True)
def sx_load(v, size, sign):
    if sign == SX_NONE or size == 3:
        return v
    bits = np.uint64(64 - (8 << size))
    s = np.uint64(np.int64(v << bits) >> np.int64(bits))
    if sign == SX_32:
        s &= M32
    return s


@njit(cache=True, _nrt=False, forceinline=True)
def mem_operands(st, w0, w1, pc, op):
    """(address of the first access, log2 size, sign kind, addressing mode, accesses)
    of a load/store op: LD/ST (imm offset, pre/post-index), LDRR/STRR (register
    offset), LDP/STP, LDLIT.  The one definition of their operands."""
    aux = np.int64(w0 >> SH_AUX)
    rn = (w0 >> SH_RN) & M6
    mode = MODE_OFF
    count = 1
    if op == OP_LDRR or op == OP_STRR:
        size, sign, option, amount = unpack_LDRR(aux)
        addr = st[rn] + extend(st[(w0 >> SH_RM) & M6], option, amount)
    elif op == OP_LDLIT:
        size, sign = unpack_LDLIT(aux)
        addr = pc + w1
    else:
        size, sign, mode = unpack_LD(aux)      # (ST, LDP, STP: the same layout)
        addr = st[rn] if mode == MODE_POST else st[rn] + w1
        if op == OP_LDP or op == OP_STP:
            count = 2
    return addr, size, sign, mode, count


@njit(cache=True, _nrt=False, forceinline=True)
def writeback(st, rn, mode, addr, w1):
    """Base register update of the pre/post-indexed forms (addr: the first access)."""
    if mode == MODE_PRE:
        st[rn] = addr
    elif mode == MODE_POST:
        st[rn] = addr + w1


@njit(cache=True, _nrt=False, forceinline=True)
def fp_enabled(ctl, sysr):
    """FP/SIMD access allowed at the current EL by CPACR_EL1.FPEN (otherwise it traps)."""
    fpen = (sysr[S_CPACR_EL1, R_VAL] >> np.uint64(20)) & U3
    return fpen == U3 or (fpen == U1 and ctl[C_EL] != U0)


@njit(cache=True, _nrt=False, forceinline=True)
def fp_mem_operands(st, w0, w1, pc):
    """(address of the first access, log2 size, is load, addressing mode, accesses) of
    an FPMEM op (loads/stores of B/H/S/D/Q registers, ops.tab FPMEM); mode is MODE_OFF
    unless the base register is written back."""
    aux = np.int64(w0 >> SH_AUX)
    rn = (w0 >> SH_RN) & M6
    lg, load, mode, kind, option, amount = unpack_FPMEM(aux)
    if kind == FK_LIT:
        addr = pc + w1
        mode = MODE_OFF
    elif kind == FK_REG:
        addr = st[rn] + extend(st[(w0 >> SH_RM) & M6], option, amount)
        mode = MODE_OFF
    elif mode == MODE_POST:
        addr = st[rn]
    else:
        addr = st[rn] + w1
    return addr, lg, load, mode, 2 if kind == FK_PAIR else 1
