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


# --- Advanced SIMD floating point ------------------------------------------------------
K_V3, K_S3, K_V2, K_S2, K_ACROSS, K_SPAIR, K_VELEM, K_SELEM, K_VSHIFT, K_SSHIFT = (
    9, 10, 11, 12, 13, 14, 15, 16, 17, 18)


@njit(cache=True)
def _three(scalar, Q, U, a, sz, rm, op, rn, rd):
    code = (U << 4) | (a << 3) | op
    if scalar:
        ok = (code == 0x03 or code == 0x04 or code == 0x07 or code == 0x0F or code == 0x14
              or code == 0x15 or code == 0x1A or code == 0x1C or code == 0x1D)
    else:
        ok = code != 0x05 and code != 0x0B and code != 0x0C and code != 0x0D and code != 0x11 \
            and code != 0x19 and code != 0x1B and code != 0x1F and not (sz == 1 and Q == 0)
    if not ok:
        return undef()
    base = 0x5E200400 if scalar else 0x0E200400 | (Q << 30)
    return _fp(K_S3 if scalar else K_V3, base | (U << 29) | (a << 23) | (sz << 22) | (rm << 16)
               | ((0x18 | op) << 11) | (rn << 5) | rd)


@njit(cache=True)
def d_SIMD_FP3(Q, U, a, sz, rm, op, rn, rd):
    return _three(False, Q, U, a, sz, rm, op, rn, rd)


@njit(cache=True)
def d_SIMD_FP3S(U, a, sz, rm, op, rn, rd):
    return _three(True, 1, U, a, sz, rm, op, rn, rd)


@njit(cache=True)
def _misc(scalar, Q, U, a, sz, opcode, rn, rd):
    code = (U << 6) | (a << 5) | opcode
    if scalar:
        ok = (code == 0x1A or code == 0x1B or code == 0x1C or code == 0x1D or code == 0x2C
              or code == 0x2D or code == 0x2E or code == 0x3A or code == 0x3B or code == 0x3D
              or code == 0x3F or (code == 0x56 and sz == 1) or code == 0x5A or code == 0x5B
              or code == 0x5C or code == 0x5D or code == 0x6C or code == 0x6D or code == 0x7A
              or code == 0x7B or code == 0x7D)
    elif opcode == 0x16 or opcode == 0x17:      # FCVTN, FCVTL, FCVTXN (sz is the size pair)
        ok = code == 0x16 or code == 0x17 or (code == 0x56 and sz == 1)
    else:
        ok = (code == 0x18 or code == 0x19 or code == 0x1A or code == 0x1B or code == 0x1C
              or code == 0x1D or code == 0x2C or code == 0x2D or code == 0x2E or code == 0x2F
              or code == 0x38 or code == 0x39 or code == 0x3A or code == 0x3B or code == 0x3D
              or code == 0x58 or code == 0x59 or code == 0x5A or code == 0x5B or code == 0x5C
              or code == 0x5D or code == 0x6C or code == 0x6D or code == 0x6F or code == 0x79
              or code == 0x7A or code == 0x7B or code == 0x7D or code == 0x7F) \
            and not (sz == 1 and Q == 0)
    if not ok:
        return undef()
    base = 0x5E200800 if scalar else 0x0E200800 | (Q << 30)
    return _fp(K_S2 if scalar else K_V2, base | (U << 29) | (a << 23) | (sz << 22) | (opcode << 12)
               | (rn << 5) | rd)


@njit(cache=True)
def d_SIMD_FP2CMP(Q, U, sz, op, rn, rd):
    return _misc(False, Q, U, 1, sz, 0x0C | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2CVTN(Q, U, sz, op, rn, rd):
    return _misc(False, Q, U, 0, sz, 0x16 | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2A0(Q, U, sz, op, rn, rd):
    return _misc(False, Q, U, 0, sz, 0x18 | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2A1(Q, U, sz, op, rn, rd):
    return _misc(False, Q, U, 1, sz, 0x18 | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2A1E(Q, U, sz, rn, rd):
    return _misc(False, Q, U, 1, sz, 0x1D, rn, rd)


@njit(cache=True)
def d_SIMD_FP2A1F(Q, U, sz, op, rn, rd):
    return _misc(False, Q, U, 1, sz, 0x1E | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2SCMP(U, sz, op, rn, rd):
    return _misc(True, 1, U, 1, sz, 0x0C | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2SCVTN(U, sz, op, rn, rd):
    return _misc(True, 1, U, 0, sz, 0x16 | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2SA0(U, sz, op, rn, rd):
    return _misc(True, 1, U, 0, sz, 0x18 | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2SA1(U, sz, op, rn, rd):
    return _misc(True, 1, U, 1, sz, 0x18 | op, rn, rd)


@njit(cache=True)
def d_SIMD_FP2SA1E(U, sz, rn, rd):
    return _misc(True, 1, U, 1, sz, 0x1D, rn, rd)


@njit(cache=True)
def d_SIMD_FP2SA1F(U, sz, op, rn, rd):
    return _misc(True, 1, U, 1, sz, 0x1E | op, rn, rd)


@njit(cache=True)
def d_SIMD_FPACROSS(Q, U, a, sz, op, rn, rd):
    if U == 0 or Q == 0 or sz == 1 or op == 1 or op == 2:
        return undef()
    return _fp(K_ACROSS, 0x6E300800 | (a << 23) | ((0x0C | op) << 12) | (rn << 5) | rd)


@njit(cache=True)
def d_SIMD_FPPAIRS(U, a, sz, op, rn, rd):
    if U == 0 or op == 2 or (op == 1 and a == 1):
        return undef()
    return _fp(K_SPAIR, 0x7E300800 | (a << 23) | (sz << 22) | ((0x0C | op) << 12) | (rn << 5) | rd)


@njit(cache=True)
def _elem(scalar, Q, U, sz, L, M, rm, opcode, H, rn, rd):
    if (sz == 1 and L == 1) or (not scalar and sz == 1 and Q == 0) or (U == 1 and opcode != 9):
        return undef()
    base = 0x5F000000 if scalar else 0x0F000000 | (Q << 30)
    return _fp(K_SELEM if scalar else K_VELEM, base | (U << 29) | ((2 | sz) << 22) | (L << 21)
               | (M << 20) | (rm << 16) | (opcode << 12) | (H << 11) | (rn << 5) | rd)


@njit(cache=True)
def d_SIMD_FPELEM(Q, U, sz, L, M, rm, o, H, rn, rd):
    return _elem(False, Q, U, sz, L, M, rm, 1 | (o << 2), H, rn, rd)


@njit(cache=True)
def d_SIMD_FPELEMX(Q, U, sz, L, M, rm, H, rn, rd):
    return _elem(False, Q, U, sz, L, M, rm, 9, H, rn, rd)


@njit(cache=True)
def d_SIMD_FPELEMS(U, sz, L, M, rm, o, H, rn, rd):
    return _elem(True, 1, U, sz, L, M, rm, 1 | (o << 2), H, rn, rd)


@njit(cache=True)
def d_SIMD_FPELEMSX(U, sz, L, M, rm, H, rn, rd):
    return _elem(True, 1, U, sz, L, M, rm, 9, H, rn, rd)


@njit(cache=True)
def _cvtf(scalar, Q, U, immh, immb, op, rn, rd):
    if op == 1 or op == 2 or (not scalar and immh >= 8 and Q == 0):
        return undef()
    base = 0x5F000400 if scalar else 0x0F000400 | (Q << 30)
    return _fp(K_SSHIFT if scalar else K_VSHIFT, base | (U << 29) | (immh << 19) | (immb << 16)
               | ((0x1C | op) << 11) | (rn << 5) | rd)


@njit(cache=True)
def d_SIMD_FPCVTF(Q, U, ih, immb, op, rn, rd):
    return _cvtf(False, Q, U, 4 | ih, immb, op, rn, rd)


@njit(cache=True)
def d_SIMD_FPCVTFD(Q, U, ih, immb, op, rn, rd):
    return _cvtf(False, Q, U, 8 | ih, immb, op, rn, rd)


@njit(cache=True)
def d_SIMD_FPCVTFS(U, ih, immb, op, rn, rd):
    return _cvtf(True, 1, U, 4 | ih, immb, op, rn, rd)


@njit(cache=True)
def d_SIMD_FPCVTFSD(U, ih, immb, op, rn, rd):
    return _cvtf(True, 1, U, 8 | ih, immb, op, rn, rd)
