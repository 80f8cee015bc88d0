"""Rare operations, reached from the executor's single "slow op" arm: `slow_op`, the
entry of the system group (cpu/groups.py), runs each op by the module of its concern:

    cpu/exceptions.py     exception entry and return, SVC/HVC/SMC/BRK/HLT, ERET
    cpu/sysreg_access.py  MRS/MSR: system registers, PSTATE, timer and PMU registers
    cpu/sysinsn.py        SYS: cache and TLB maintenance, AT
    cpu/atomics.py        exclusives and atomics
    cpu/memaccess.py      LDTR/STTR and the data accesses of the rare ops

(cpu/fpaccess.py, the FP access trap and the FP loads and stores, is the floating
point group's.)  They work on the state arrays directly (array arguments are fine
here: these paths are rare) and keep PC/NZCV in the control array.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import SH_AUX, SH_RA, SH_RD, SH_RM, SH_RN, C_PC, C_DBG, DBG_ON, DBG_BP, DBG_WP
from pyaarch64.cpu.opids import (OP_ATOMIC, OP_ERET, OP_EXC, OP_EXCL, OP_LDT, OP_MRS, OP_MSR,
                                 OP_MSRI, OP_STT, OP_SYS, unpack_EXC, unpack_EXCL, unpack_MRS,
                                 unpack_MSR, unpack_MSRI, unpack_SYS)
from pyaarch64.cpu.sysregs import (S_SCTLR_EL1, S_TCR_EL1, S_TTBR0_EL1, S_TTBR1_EL1, S_MDSCR_EL1,
                                   S_OSLAR_EL1, S_DBGBVR0, S_DBGWVR0, S_DBG_LAST, R_VAL)
from pyaarch64.cpu.memory import tlb_flush, flush_decode
from pyaarch64.cpu.debug import flags, mirror_bas
from pyaarch64.cpu.isa.ldst import XK_CAS
from pyaarch64.cpu.exceptions import undefined, eret, exc_insn
from pyaarch64.cpu.sysreg_access import sysreg, msr_imm
from pyaarch64.cpu.sysinsn import sys_insn
from pyaarch64.cpu.atomics import excl, cas, atomic
from pyaarch64.cpu.memaccess import unpriv_ldst


@njit(cache=True, _nrt=False)
def debug_written(ctl, sysr, bus, slot):
    """After an MSR to a debug register (machine types with the debug architecture,
    cpu/debug.py): DBGBCR's BAS mirror bits, the derived flags, and the decode cache
    (armed breakpoints decode to OP_HOOK) or the soft TLB (watched pages stay out of it)
    dropped when what is armed may have changed."""
    old = ctl[C_DBG]
    if slot >= S_DBGBVR0 and slot < S_DBGWVR0 and ((slot - S_DBGBVR0) & 1) == 1:
        sysr[slot, R_VAL] = mirror_bas(sysr[slot, R_VAL])
    new = flags(ctl, sysr)
    ctl[C_DBG] = new
    if slot >= S_DBGBVR0 and slot < S_DBGWVR0 and ((old | new) & np.uint64(DBG_BP)) != 0:
        flush_decode(bus.pslot, bus.slotpage)
    if slot >= S_DBGWVR0 and ((old | new) & np.uint64(DBG_WP)) != 0:
        tlb_flush(bus.tlb)


@njit(cache=True, _nrt=False)
def slow_op(regs, ctl, sysr, sysmap, bus, op, w0, w1):
    """Entry of the system group (cpu/groups.py OPS[G_SYSTEM]).  PC/NZCV are in ctl; returns 0 or an exit code."""
    pc = ctl[C_PC]
    rd = np.int64((w0 >> SH_RD) & np.uint64(63))
    rn = np.int64((w0 >> SH_RN) & np.uint64(63))
    rm = np.int64((w0 >> SH_RM) & np.uint64(63))
    ra = np.int64((w0 >> SH_RA) & np.uint64(63))
    aux = np.int64(w0 >> SH_AUX)
    if op == OP_MRS:
        return np.int64(sysreg(regs, ctl, sysr, sysmap, pc, unpack_MRS(aux), rd, True))
    if op == OP_MSR:
        key = unpack_MSR(aux)
        r = sysreg(regs, ctl, sysr, sysmap, pc, key, rn, False)
        slot = sysmap[key]
        if (slot == S_SCTLR_EL1 or slot == S_TCR_EL1 or slot == S_TTBR0_EL1
                or slot == S_TTBR1_EL1):
            tlb_flush(bus.tlb)        # the soft TLB caches translations and permissions
        elif (ctl[C_DBG] & np.uint64(DBG_ON)) != 0 and (
                slot == S_MDSCR_EL1 or (slot >= S_OSLAR_EL1 and slot <= S_DBG_LAST)):
            debug_written(ctl, sysr, bus, slot)
        return np.int64(r)
    if op == OP_LDT or op == OP_STT:
        return np.int64(unpriv_ldst(regs, ctl, sysr, bus, pc, rd, rn, aux, w1,
                           op == OP_STT))
    if op == OP_MSRI:
        return np.int64(msr_imm(regs, ctl, sysr, pc, unpack_MSRI(aux), np.int64(w1)))
    if op == OP_EXC:
        return np.int64(exc_insn(regs, ctl, sysr, pc, unpack_EXC(aux), np.int64(w1)))
    if op == OP_ERET:
        return np.int64(eret(regs, ctl, sysr, pc))
    if op == OP_SYS:
        return np.int64(sys_insn(regs, ctl, sysr, bus, pc, unpack_SYS(aux), rn))
    if op == OP_EXCL:
        if unpack_EXCL(aux)[0] >= XK_CAS:              # kind
            return np.int64(cas(regs, ctl, sysr, bus, pc, rn, aux))
        return np.int64(excl(regs, ctl, sysr, bus, pc, rd, rn, rm, ra, aux))
    if op == OP_ATOMIC:
        return np.int64(atomic(regs, ctl, sysr, bus, pc, rd, rn, rm, aux))
    return np.int64(undefined(regs, ctl, sysr, pc))
