"""Decoders for data processing -- floating-point, scalar and Advanced SIMD (fp.dec).

Every form becomes one slow op, FPDP, executed by cpu/fpexec.py (scalar) and
cpu/fpvec.py (vector and scalar-SIMD).  The decoder checks the encoding and hands the
executor the fields it needs, so nothing is re-read from the instruction word:

    w0:  rd, rn, rm, ra = register numbers: V registers raw (0..31); a general-purpose
         operand (FMOV/SCVTF/UCVTF/FCVT* to or from Xn) a slot: rr() for a source,
         wr() for a destination (31 = XZR, writes to the sink)
         aux = kind | ftype << 5 | n << 7 | op << 10 | x << 18
    w1:  the kind's immediate (below), or 0

    kind   K_* below
    ftype  element format, the scalar FP encoding: 0 single, 1 double, 3 half (FCVT
           only), 2 the top half of V (FMOV Xd <-> Vn.D[1]); SIMD forms: sz (0 S, 1 D)
    n      number of elements: 1 for scalar forms, 2 or 4 for vectors
    x      Q (which half FCVTN2/FCVTL2/FCVTXN2 use) for K_V2; sf (a 64-bit general
           register) for K_INT and K_FIXED

    kind      op                                w1
    K_DP1     opcode<5:0> (FMOV FABS .. FRINTI)
    K_DP2     opcode<3:0> (FMUL FDIV .. FNMUL)
    K_DP3     o1 << 1 | o0
    K_CMP     with-zero | E << 1  (opc2<3>, opc2<4>)
    K_CCMP    E << 1 (op)                       cond | nzcv << 4
    K_CSEL                                      cond
    K_IMM                                       the value, VFPExpandImm(imm8)
    K_INT     opcode<2:0> | rmode << 3
    K_FIXED   opcode<2:0>                       fbits (64 - scale)
    K_V3/S3   U << 4 | a << 3 | opcode<2:0>
    K_V2/S2   U << 6 | a << 5 | opcode<4:0>
    K_ACROSS/SPAIR   a << 2 | opcode<1:0>
    K_VELEM/SELEM    U << 4 | opcode<3:0>      element index; rm is M:Rm
    K_VSHIFT/SSHIFT  U | to-FP << 1            fbits

Unallocated encodings and the half-precision arithmetic (FEAT_FP16, which no CPU model
has) are UNDEF.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.opids import OP_FPDP, pack_FPDP
from pyaarch64.cpu.ops import (K_DP1, K_DP2, K_DP3, K_CMP, K_CCMP, K_CSEL, K_IMM, K_INT, K_FIXED,
                               K_V3, K_S3, K_V2, K_S2, K_ACROSS, K_SPAIR, K_VELEM, K_SELEM, K_VSHIFT, K_SSHIFT)
from pyaarch64.cpu.isa.common import mk, undef, rr, wr
from pyaarch64.cpu.isa.simdx import expand_imm

M32 = np.uint64(0xFFFFFFFF)


@njit(cache=True)
def _fp(kind, ftype, n, op, x, rd, rn, rm, ra, imm):
    return mk(OP_FPDP, rd, rn, rm, ra, pack_FPDP(kind, ftype, n, op, x), imm)


@njit(cache=True)
def d_FP_DP3(M, S, ftype, o1, rm, o0, ra, rn, rd):
    if M or S or ftype > 1:
        return undef()
    return _fp(K_DP3, ftype, 1, (o1 << 1) | o0, 0, rd, rn, rm, ra, 0)


@njit(cache=True)
def d_FP_FIXED(sf, S, ftype, rmode, opcode, scale, rn, rd):
    if S or ftype > 1 or (sf == 0 and scale < 32):
        return undef()
    ro = (rmode << 3) | opcode
    if ro == 2 or ro == 3:                                   # SCVTF UCVTF: Xn to Vd
        return _fp(K_FIXED, ftype, 1, opcode, sf, rd, rr(rn), 0, 0, 64 - scale)
    if ro == 24 or ro == 25:                                 # FCVTZS FCVTZU: Vn to Xd
        return _fp(K_FIXED, ftype, 1, opcode, sf, wr(rd), rn, 0, 0, 64 - scale)
    return undef()


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
    if opcode == 2 or opcode == 3 or opcode == 7:            # Xn to Vd
        d, n = rd, rr(rn)
    else:                                                    # Vn to Xd
        d, n = wr(rd), rn
    return _fp(K_INT, ftype, 1, opcode | (rmode << 3), sf, d, n, 0, 0, 0)


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
    return _fp(K_DP1, ftype, 1, opcode, 0, rd, rn, 0, 0, 0)


@njit(cache=True)
def d_FP_CMP(M, S, ftype, rm, op, rn, opc2):
    if M or S or ftype > 1 or op != 0 or (opc2 & 7) != 0:
        return undef()
    return _fp(K_CMP, ftype, 1, opc2 >> 3, 0, 0, rn, rm, 0, 0)


@njit(cache=True)
def d_FP_IMM(M, S, ftype, imm8, imm5, rd):
    if M or S or ftype > 1 or imm5 != 0:
        return undef()
    # VFPExpandImm is AdvSIMDExpandImm's FMOV form (cmode 1111; op selects double)
    v = expand_imm(ftype, 15, imm8)
    if ftype == 0:
        v &= M32
    return _fp(K_IMM, ftype, 1, 0, 0, rd, 0, 0, 0, v)


@njit(cache=True)
def d_FP_CCMP(M, S, ftype, rm, cond, rn, op, nzcv):
    if M or S or ftype > 1:
        return undef()
    return _fp(K_CCMP, ftype, 1, op << 1, 0, 0, rn, rm, 0, cond | (nzcv << 4))


@njit(cache=True)
def d_FP_DP2(M, S, ftype, rm, opcode, rn, rd):
    if M or S or ftype > 1 or opcode > 8:
        return undef()
    return _fp(K_DP2, ftype, 1, opcode, 0, rd, rn, rm, 0, 0)


@njit(cache=True)
def d_FP_CSEL(M, S, ftype, rm, cond, rn, rd):
    if M or S or ftype > 1:
        return undef()
    return _fp(K_CSEL, ftype, 1, 0, 0, rd, rn, rm, 0, cond)


# --- Advanced SIMD floating point ------------------------------------------------------


@njit(cache=True)
def _lanes(scalar, Q, sz):
    """Elements of an sz (0 S, 1 D) form: 1 for scalar, 64 or 128 bits of them for vectors."""
    if scalar:
        return 1
    return (4 if Q else 2) >> sz


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
    return _fp(K_S3 if scalar else K_V3, sz, _lanes(scalar, Q, sz), code, 0, rd, rn, rm, 0, 0)


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
    return _fp(K_S2 if scalar else K_V2, sz, _lanes(scalar, Q, sz), code, 0 if scalar else Q,
               rd, rn, 0, 0, 0)


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
    return _fp(K_ACROSS, 0, 4, (a << 2) | op, 0, rd, rn, 0, 0, 0)


@njit(cache=True)
def d_SIMD_FPPAIRS(U, a, sz, op, rn, rd):
    if U == 0 or op == 2 or (op == 1 and a == 1):
        return undef()
    return _fp(K_SPAIR, sz, 1, (a << 2) | op, 0, rd, rn, 0, 0, 0)


@njit(cache=True)
def _elem(scalar, Q, U, sz, L, M, rm, opcode, H, rn, rd):
    if (sz == 1 and L == 1) or (not scalar and sz == 1 and Q == 0) or (U == 1 and opcode != 9):
        return undef()
    idx = H if sz else (H << 1) | L
    return _fp(K_SELEM if scalar else K_VELEM, sz, _lanes(scalar, Q, sz), (U << 4) | opcode, 0,
               rd, rn, (M << 4) | rm, 0, idx)


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
    sz = 1 if immh >= 8 else 0
    fbits = (128 if sz else 64) - ((immh << 3) | immb)       # 2 * esize - immh:immb
    return _fp(K_SSHIFT if scalar else K_VSHIFT, sz, _lanes(scalar, Q, sz),
               U | ((1 if op == 0 else 0) << 1), 0, rd, rn, 0, 0, fbits)


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
