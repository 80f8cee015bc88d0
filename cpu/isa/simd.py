"""Decoders of the Advanced SIMD integer/bitwise classes (table simd.dec).

Every allocated integer encoding becomes one slow op, SIMD, executed by
cpu/simd_int.py.  Register numbers are raw V register numbers (rd, rn, rm: no
slots), and aux describes the form:

    aux = kind | S << 3 | Q << 4 | U << 5 | size << 6 | opcode << 8 | x << 13

kind is one of K_* below, S = 1 for the scalar classes, x = immh:immb for the
shift-by-immediate classes and the element index for the by-element classes.

Only integer forms are decoded here: the FP-typed opcodes of the same classes
(marked "fp" below) return UNDEF from this group (they are the "fp" group's,
which is placed earlier in GROUPS and so matches them first).
"""
from numba import njit

from pyaarch64.cpu.opids import OP_SIMD, pack_SIMD
from pyaarch64.cpu.isa.common import mk, undef

# kinds (aux bits 0..2)
K_3SAME, K_3DIFF, K_2MISC, K_ACROSS, K_PAIR, K_SHIFT, K_ELEM = 0, 1, 2, 3, 4, 5, 6


@njit(cache=True)
def _op(kind, S, Q, U, size, opcode, x, rd, rn, rm):
    return mk(OP_SIMD, rd, rn, rm, 0, pack_SIMD(kind, S, Q, U, size, opcode, x), 0)


# --- three same ------------------------------------------------------------------------
# opcode 0x00..0x17 are integer/bitwise; 0x18..0x1f are FP (FMAXNM, FMLA, FADD, FMULX,
# FCMEQ, FMAX, FRECPS, ... and their U=1 forms): "fp"

@njit(cache=True)
def _3same_ok(Q, U, size, opcode):
    if opcode >= 0x18:
        return False                       # fp
    if opcode == 3:
        return True                        # AND/BIC/ORR/ORN/EOR/BSL/BIT/BIF: size is the op
    if opcode == 0x13 and U == 1:
        return size == 0                   # PMUL: bytes only
    if opcode == 0x16:
        return size == 1 or size == 2      # SQDMULH/SQRDMULH
    if opcode == 0x17 and U == 1:
        return False                       # (U=1 0x17 unallocated)
    # 64-bit lanes: only in 128-bit vectors, and only for these ops
    if size == 3:
        allowed = (opcode == 1 or opcode == 5 or opcode == 6 or opcode == 7
                   or (opcode >= 8 and opcode <= 11) or opcode == 0x10 or opcode == 0x11
                   or opcode == 0x17)
        return allowed and Q == 1
    return True


@njit(cache=True)
def d_SIMD_3SAME(Q, U, size, rm, opcode, rn, rd):
    if not _3same_ok(Q, U, size, opcode):
        return undef()
    return _op(K_3SAME, 0, Q, U, size, opcode, 0, rd, rn, rm)


@njit(cache=True)
def d_SIMD_S3SAME(U, size, rm, opcode, rn, rd):
    if opcode == 1 or opcode == 5 or opcode == 9 or opcode == 11:
        ok = True                          # SQADD/UQADD, SQSUB/UQSUB, [U]QSHL, [U]QRSHL
    elif opcode == 6 or opcode == 7 or opcode == 8 or opcode == 10 or opcode == 0x10 or opcode == 0x11:
        ok = size == 3                     # CMGT/CMHI/CMGE/CMHS, SSHL/USHL, [U]RSHL, ADD/SUB, CMTST/CMEQ
    elif opcode == 0x16:
        ok = size == 1 or size == 2        # SQDMULH/SQRDMULH
    else:
        ok = False                         # unallocated, or fp (0x18..0x1f)
    if not ok:
        return undef()
    return _op(K_3SAME, 1, 0, U, size, opcode, 0, rd, rn, rm)


# --- three different -------------------------------------------------------------------

@njit(cache=True)
def d_SIMD_PMULL64(Q, rm, rn, rd):
    return _op(K_3DIFF, 0, Q, 0, 3, 14, 0, rd, rn, rm)


@njit(cache=True)
def d_SIMD_3DIFF(Q, U, size, rm, opcode, rn, rd):
    if opcode == 15:
        return undef()
    if opcode == 9 or opcode == 11 or opcode == 13:        # SQDMLAL/SQDMLSL/SQDMULL
        if U == 1 or size == 0 or size == 3:
            return undef()
    elif opcode == 14:                                     # PMULL (64-bit: SIMD_PMULL64)
        if U == 1 or size != 0:
            return undef()
    elif size == 3:
        return undef()
    return _op(K_3DIFF, 0, Q, U, size, opcode, 0, rd, rn, rm)


@njit(cache=True)
def d_SIMD_S3DIFF(U, size, rm, opcode, rn, rd):
    if U == 1 or size == 0 or size == 3 or not (opcode == 9 or opcode == 11 or opcode == 13):
        return undef()
    return _op(K_3DIFF, 1, 0, U, size, opcode, 0, rd, rn, rm)


# --- two-register miscellaneous ---------------------------------------------------------
# integer opcodes: 0..11, 0x12 (XTN/SQXTUN), 0x13 (SHLL), 0x14 (SQXTN/UQXTN), 0x1c size 2
# (URECPE/URSQRTE, which use the FP estimate tables); everything
# else (0x0c..0x0f FCMxx #0/FABS/FNEG, 0x16.. FCVT*, FRINT*, FRECPE, FSQRT...) is "fp"

@njit(cache=True)
def d_SIMD_2MISC(Q, U, size, opcode, rn, rd):
    if opcode == 0:
        ok = size < (2 if U else 3)               # REV32 / REV64
    elif opcode == 1:
        ok = U == 0 and size == 0                 # REV16
    elif opcode == 2 or opcode == 6 or opcode == 4 or opcode == 0x12 or opcode == 0x14:
        ok = size < 3                             # [SU]ADDLP, [SU]ADALP, CLS/CLZ, XTN.., [SU]QXTN
    elif opcode == 5:
        ok = size == 0 if U == 0 else size < 2    # CNT; NOT / RBIT
    elif opcode == 0x13:
        ok = U == 1 and size < 3                  # SHLL
    elif opcode == 3 or opcode == 7 or opcode == 8 or opcode == 9 or opcode == 11:
        ok = size < 3 or Q == 1                   # SUQADD.., SQABS.., CMGT/CMGE/CMEQ/CMLE #0, ABS/NEG
    elif opcode == 10:
        ok = U == 0 and (size < 3 or Q == 1)      # CMLT #0
    elif opcode == 0x1c:
        ok = size == 2                            # URECPE / URSQRTE (2S, 4S)
    else:
        ok = False                                # fp or unallocated
    if not ok:
        return undef()
    return _op(K_2MISC, 0, Q, U, size, opcode, 0, rd, rn, 0)


@njit(cache=True)
def d_SIMD_S2MISC(U, size, opcode, rn, rd):
    if opcode == 3 or opcode == 7:
        ok = True                                 # SUQADD/USQADD, SQABS/SQNEG
    elif opcode == 8 or opcode == 9 or opcode == 11:
        ok = size == 3                            # CMGT/CMGE/CMEQ/CMLE #0, ABS/NEG
    elif opcode == 10:
        ok = U == 0 and size == 3                 # CMLT #0
    elif opcode == 0x12:
        ok = U == 1 and size < 3                  # SQXTUN
    elif opcode == 0x14:
        ok = size < 3                             # SQXTN/UQXTN
    else:
        ok = False                                # fp or unallocated
    if not ok:
        return undef()
    return _op(K_2MISC, 1, 0, U, size, opcode, 0, rd, rn, 0)


# --- across lanes, scalar pairwise -------------------------------------------------------

@njit(cache=True)
def d_SIMD_ACROSS(Q, U, size, opcode, rn, rd):
    # SADDLV/UADDLV 0x03, SMAXV/UMAXV 0x0a, SMINV/UMINV 0x1a, ADDV 0x1b (U=0);
    # 0x0c/0x0f (FMAXNMV/FMAXV/FMINNMV/FMINV) are "fp"
    if not (opcode == 3 or opcode == 10 or opcode == 26 or (opcode == 27 and U == 0)):
        return undef()
    if size == 3 or (size == 2 and Q == 0):
        return undef()
    return _op(K_ACROSS, 0, Q, U, size, opcode, 0, rd, rn, 0)


@njit(cache=True)
def d_SIMD_SPAIR(U, size, opcode, rn, rd):
    # ADDP (scalar) only; FADDP/FMAXP/FMINP/FMAXNMP/FMINNMP (scalar) are "fp"
    if U != 0 or opcode != 27 or size != 3:
        return undef()
    return _op(K_PAIR, 1, 1, 0, 3, opcode, 0, rd, rn, 0)


# --- shift by immediate ----------------------------------------------------------------
# opcodes 0x1c (SCVTF/UCVTF #fbits) and 0x1f (FCVTZS/FCVTZU #fbits) are "fp"

@njit(cache=True)
def _esize_log2(immh):
    if immh & 8:
        return 3
    if immh & 4:
        return 2
    if immh & 2:
        return 1
    return 0


@njit(cache=True)
def d_SIMD_SHIFT(Q, U, immh, immb, opcode, rn, rd):
    if immh == 0:
        return undef()                        # modified immediate ("simdx")
    lg = _esize_log2(immh)
    if opcode == 0 or opcode == 2 or opcode == 4 or opcode == 6 or opcode == 10 or opcode == 14:
        ok = True                             # [SU]SHR [SU]SRA [SU]RSHR [SU]RSRA SHL/SLI [SU]QSHL
    elif opcode == 8 or opcode == 12:
        ok = U == 1                           # SRI, SQSHLU
    elif opcode >= 16 and opcode <= 20:
        ok = lg < 3                           # SHRN.. SQRSHRN.. (narrowing), SSHLL/USHLL
    else:
        ok = False                            # fp or unallocated
    if not ok or (lg == 3 and Q == 0):
        return undef()
    return _op(K_SHIFT, 0, Q, U, lg, opcode, (immh << 3) | immb, rd, rn, 0)


@njit(cache=True)
def d_SIMD_SSHIFT(U, immh, immb, opcode, rn, rd):
    if immh == 0:
        return undef()
    lg = _esize_log2(immh)
    if opcode == 0 or opcode == 2 or opcode == 4 or opcode == 6 or opcode == 10:
        ok = lg == 3                          # [SU]SHR [SU]SRA [SU]RSHR [SU]RSRA SHL/SLI
    elif opcode == 8:
        ok = U == 1 and lg == 3               # SRI
    elif opcode == 12:
        ok = U == 1                           # SQSHLU
    elif opcode == 14:
        ok = True                             # SQSHL/UQSHL
    elif opcode == 16 or opcode == 17:
        ok = U == 1 and lg < 3                # SQSHRUN, SQRSHRUN
    elif opcode == 18 or opcode == 19:
        ok = lg < 3                           # [SU]QSHRN, [SU]QRSHRN
    else:
        ok = False                            # fp or unallocated
    if not ok:
        return undef()
    return _op(K_SHIFT, 1, 0, U, lg, opcode, (immh << 3) | immb, rd, rn, 0)


# --- by element --------------------------------------------------------------------------
# integer opcodes: MLA 0 (U=1), SMLAL/UMLAL 2, SQDMLAL 3 (U=0), MLS 4 (U=1), SMLSL/UMLSL 6,
# SQDMLSL 7 (U=0), MUL 8 (U=0), SMULL/UMULL 10, SQDMULL 11 (U=0), SQDMULH 12 (U=0),
# SQRDMULH 13 (U=0).  FMLA 1, FMLS 5, FMUL/FMULX 9 (and FMLAL.. U=0 0/4) are "fp";
# SQRDMLAH/SQRDMLSH (U=1 13/15) and [SU]DOT (14) are not in the v8.0 models.

@njit(cache=True)
def _elem_ok(U, opcode, scalar):
    if scalar:
        return U == 0 and (opcode == 3 or opcode == 7 or opcode == 11 or opcode == 12 or opcode == 13)
    if opcode == 0 or opcode == 4:
        return U == 1
    if opcode == 2 or opcode == 6 or opcode == 10:
        return True
    if opcode == 3 or opcode == 7 or opcode == 8 or opcode == 11 or opcode == 12 or opcode == 13:
        return U == 0
    return False


@njit(cache=True)
def _elem(S, Q, U, size, L, M, rm, opcode, H, rn, rd):
    if size != 1 and size != 2:
        return undef()
    if not _elem_ok(U, opcode, S == 1):
        return undef()
    if size == 1:
        idx = (H << 2) | (L << 1) | M
        vm = rm
    else:
        idx = (H << 1) | L
        vm = rm | (M << 4)
    return _op(K_ELEM, S, Q, U, size, opcode, idx, rd, rn, vm)


@njit(cache=True)
def d_SIMD_ELEM(Q, U, size, L, M, rm, opcode, H, rn, rd):
    return _elem(0, Q, U, size, L, M, rm, opcode, H, rn, rd)


@njit(cache=True)
def d_SIMD_SELEM(U, size, L, M, rm, opcode, H, rn, rd):
    return _elem(1, 0, U, size, L, M, rm, opcode, H, rn, rd)
