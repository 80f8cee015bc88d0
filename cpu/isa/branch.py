"""Decoders for branches, exception generation and system instructions (branch.dec)."""
from numba import njit

from pyaarch64.cpu.ops import EXC_BRK, EXC_HLT, EXC_HVC, EXC_SMC, EXC_SVC
from pyaarch64.cpu.opids import (OP_B, OP_BARRIER, OP_BCOND, OP_BL, OP_BR, OP_CBZ, OP_CLREX,
                                 OP_ERET, OP_EXC, OP_MRS, OP_MSR, OP_MSRI, OP_NOP, OP_RET, OP_SEV,
                                 OP_SYS, OP_TBZ, OP_WFE, OP_WFI, pack_BARRIER, pack_BCOND, pack_BR,
                                 pack_CBZ, pack_EXC, pack_MRS, pack_MSR, pack_MSRI, pack_SYS,
                                 pack_TBZ)
from pyaarch64.cpu.isa.common import mk, undef, rr, wr, sext

# PSTATE fields for MSR (immediate); the key is op1 << 3 | op2
PSF_SPSEL = (0 << 3) | 5
PSF_DAIFSET = (3 << 3) | 6
PSF_DAIFCLR = (3 << 3) | 7


@njit(cache=True)
def d_B_COND(imm19, cond):
    return mk(OP_BCOND, 0, 0, 0, 0, pack_BCOND(cond), sext(imm19, 19) * 4)


@njit(cache=True)
def d_EXCP(opc, imm16, op2, LL):
    if op2 != 0:
        return undef()
    if opc == 0:
        if LL == 1:
            return mk(OP_EXC, 0, 0, 0, 0, pack_EXC(EXC_SVC), imm16)
        if LL == 2:
            return mk(OP_EXC, 0, 0, 0, 0, pack_EXC(EXC_HVC), imm16)
        if LL == 3:
            return mk(OP_EXC, 0, 0, 0, 0, pack_EXC(EXC_SMC), imm16)
    elif opc == 1 and LL == 0:
        return mk(OP_EXC, 0, 0, 0, 0, pack_EXC(EXC_BRK), imm16)
    elif opc == 2 and LL == 0:
        return mk(OP_EXC, 0, 0, 0, 0, pack_EXC(EXC_HLT), imm16)
    return undef()          # DCPSx (only in Debug state) and unallocated


@njit(cache=True)
def d_SYSTEM(L, op0, op1, crn, crm, op2, rt):
    k = (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2
    if op0 == 0:
        if L == 1 or rt != 31:
            return undef()
        if crn == 2 and op1 == 3:                      # hints
            h = (crm << 3) | op2
            if h == 2:
                return mk(OP_WFE, 0, 0, 0, 0, 0, 0)
            if h == 1:                                 # YIELD: WFE's exit, no event (aux 1)
                return mk(OP_WFE, 0, 0, 0, 0, 1, 0)
            if h == 3:
                return mk(OP_WFI, 0, 0, 0, 0, 0, 0)
            if h == 4 or h == 5:                       # SEV, SEVL
                return mk(OP_SEV, 0, 0, 0, 0, 0, 0)
            # NOP and the rest of the hint space (PAC, BTI, ESB, CSDB, ...)
            # execute as NOP on an Armv8.0 model.
            return mk(OP_NOP, 0, 0, 0, 0, 0, 0)
        if crn == 3 and op1 == 3:                      # barriers
            if op2 == 2:
                return mk(OP_CLREX, 0, 0, 0, 0, 0, 0)
            if op2 == 4 or op2 == 5 or op2 == 6:       # DSB, DMB, ISB
                return mk(OP_BARRIER, 0, 0, 0, 0, pack_BARRIER(op2), 0)
            return undef()
        if crn == 4:                                   # MSR (immediate)
            f = (op1 << 3) | op2
            if f == PSF_SPSEL or f == PSF_DAIFSET or f == PSF_DAIFCLR:
                return mk(OP_MSRI, 0, 0, 0, 0, pack_MSRI(f), crm)
            return undef()
        return undef()
    if op0 == 1:                                       # SYS / SYSL
        if L == 1:
            return undef()
        return mk(OP_SYS, 0, rr(rt), 0, 0, pack_SYS(k), 0)
    if L == 1:
        return mk(OP_MRS, wr(rt), 0, 0, 0, pack_MRS(k), 0)
    return mk(OP_MSR, 0, rr(rt), 0, 0, pack_MSR(k), 0)


@njit(cache=True)
def d_BR_REG(opc, op2, op3, rn, op4):
    if op2 != 31 or op3 != 0 or op4 != 0:
        return undef()                                 # pointer-auth forms: not on v8.0
    if opc == 0:
        return mk(OP_BR, 0, rr(rn), 0, 0, pack_BR(0), 0)
    if opc == 1:
        return mk(OP_BR, 0, rr(rn), 0, 0, pack_BR(1), 0)
    if opc == 2:
        return mk(OP_RET, 0, rr(rn), 0, 0, 0, 0)
    if opc == 4 and rn == 31:
        return mk(OP_ERET, 0, 0, 0, 0, 0, 0)
    return undef()                                     # DRPS (Debug state only)


@njit(cache=True)
def d_B_IMM(op, imm26):
    return mk(OP_BL if op else OP_B, 0, 0, 0, 0, 0, sext(imm26, 26) * 4)


@njit(cache=True)
def d_CB(sf, op, imm19, rt):
    return mk(OP_CBZ, 0, rr(rt), 0, 0, pack_CBZ(1 - sf, op), sext(imm19, 19) * 4)


@njit(cache=True)
def d_TB(b5, op, b40, imm14, rt):
    return mk(OP_TBZ, 0, rr(rt), 0, 0, pack_TBZ((b5 << 5) | b40, op), sext(imm14, 14) * 4)
