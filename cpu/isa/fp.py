"""Decoders for data processing -- scalar floating-point (fp.dec).

Every form becomes one slow op, FPDP: aux is the encoding class (cpu/fpexec.py K_*),
imm the instruction word, re-read by the semantic function.  Unallocated encodings and
the half-precision arithmetic (FEAT_FP16, which no CPU model has) are UNDEF.
"""
from numba import njit

from pyaarch64.cpu.ops import OP_FPDP
from pyaarch64.cpu.isa.common import mk, undef

K_DP1, K_DP2, K_DP3, K_CMP, K_CCMP, K_CSEL, K_IMM, K_INT, K_FIXED = 0, 1, 2, 3, 4, 5, 6, 7, 8


@njit(cache=True)
def _fp(kind, insn):
    return mk(OP_FPDP, 0, 0, 0, 0, kind, insn)


@njit(cache=True)
def d_FP_DP3(M, S, ftype, o1, rm, o0, ra, rn, rd):
    if M or S or ftype > 1:
        return undef()
    return _fp(K_DP3, 0x1F000000 | (ftype << 22) | (o1 << 21) | (rm << 16) | (o0 << 15)
               | (ra << 10) | (rn << 5) | rd)


@njit(cache=True)
def d_FP_FIXED(sf, S, ftype, rmode, opcode, scale, rn, rd):
    if S or ftype > 1 or (sf == 0 and scale < 32):
        return undef()
    ro = (rmode << 3) | opcode
    if ro != 2 and ro != 3 and ro != 24 and ro != 25:      # SCVTF UCVTF FCVTZS FCVTZU
        return undef()
    return _fp(K_FIXED, (sf << 31) | 0x1E000000 | (ftype << 22) | (rmode << 19) | (opcode << 16)
               | (scale << 10) | (rn << 5) | rd)


@njit(cache=True)
def d_FP_INT(sf, S, ftype, rmode, opcode, rn, rd):
    if S:
        return undef()
    if opcode >= 6:                                          # FMOV (general)
        ok = ((sf == 0 and ftype == 0 and rmode == 0) or (sf == 1 and ftype == 1 and rmode == 0)
              or (sf == 1 and ftype == 2 and rmode == 1))
    elif opcode >= 2:                                        # SCVTF UCVTF FCVTAS FCVTAU
        ok = ftype <= 1 and rmode == 0
    else:                                                    # FCVT{N,P,M,Z}{S,U}
        ok = ftype <= 1
    if not ok:
        return undef()
    return _fp(K_INT, (sf << 31) | 0x1E200000 | (ftype << 22) | (rmode << 19) | (opcode << 16)
               | (rn << 5) | rd)


@njit(cache=True)
def d_FP_DP1(M, S, ftype, opcode, rn, rd):
    if M or S or ftype == 2:
        return undef()
    if ftype == 3:                                           # H: only FCVT to S or D
        ok = opcode == 4 or opcode == 5
    elif opcode < 4:                                         # FMOV FABS FNEG FSQRT
        ok = True
    elif opcode < 8:                                         # FCVT to another size
        ok = opcode != 6 and (opcode & 3) != ftype
    else:                                                    # FRINT N P M Z A - X I
        ok = opcode < 16 and opcode != 13
    if not ok:
        return undef()
    return _fp(K_DP1, 0x1E204000 | (ftype << 22) | (opcode << 15) | (rn << 5) | rd)


@njit(cache=True)
def d_FP_CMP(M, S, ftype, rm, op, rn, opc2):
    if M or S or ftype > 1 or op != 0 or (opc2 & 7) != 0:
        return undef()
    return _fp(K_CMP, 0x1E202000 | (ftype << 22) | (rm << 16) | (rn << 5) | opc2)


@njit(cache=True)
def d_FP_IMM(M, S, ftype, imm8, imm5, rd):
    if M or S or ftype > 1 or imm5 != 0:
        return undef()
    return _fp(K_IMM, 0x1E201000 | (ftype << 22) | (imm8 << 13) | rd)


@njit(cache=True)
def d_FP_CCMP(M, S, ftype, rm, cond, rn, op, nzcv):
    if M or S or ftype > 1:
        return undef()
    return _fp(K_CCMP, 0x1E200400 | (ftype << 22) | (rm << 16) | (cond << 12) | (rn << 5)
               | (op << 4) | nzcv)


@njit(cache=True)
def d_FP_DP2(M, S, ftype, rm, opcode, rn, rd):
    if M or S or ftype > 1 or opcode > 8:
        return undef()
    return _fp(K_DP2, 0x1E200800 | (ftype << 22) | (rm << 16) | (opcode << 12) | (rn << 5) | rd)


@njit(cache=True)
def d_FP_CSEL(M, S, ftype, rm, cond, rn, rd):
    if M or S or ftype > 1:
        return undef()
    return _fp(K_CSEL, 0x1E200C00 | (ftype << 22) | (rm << 16) | (cond << 12) | (rn << 5) | rd)
