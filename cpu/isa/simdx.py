"""Decoders for the non-arithmetic Advanced SIMD classes and the crypto extension
(simdx.dec): structure loads/stores, copy (DUP/INS/UMOV/SMOV), modified immediate,
permutes, EXT, TBL/TBX, AES, SHA1, SHA256.

All of them decode to the one slow op SIMDX: aux = a kind (SX_*), imm = the
pre-digested fields of that kind (layouts below), rd/rn/rm = raw V register numbers
or general-purpose register slots.  The semantics live in cpu/vmem.py (loads and
stores), cpu/simd_perm.py (everything else but crypto) and cpu/crypto.py.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.opids import OP_SIMDX, pack_SIMDX
from pyaarch64.cpu.isa.common import mk, undef, rr, wr, sp

# kinds (aux)
SX_MULT, SX_SINGLE = 0, 1
SX_DUP_ELEM, SX_DUP_GEN, SX_SMOV, SX_UMOV, SX_INS_GEN, SX_INS_ELEM, SX_SDUP = 2, 3, 4, 5, 6, 7, 8
SX_MODIMM, SX_PERM, SX_EXT, SX_TBL = 9, 10, 11, 12
SX_AES, SX_SHA1_3, SX_SHA256_3, SX_SHA1_2, SX_SHA256SU0 = 13, 14, 15, 16, 17

# modified immediate: what is done with the expanded immediate (aux >> 6)
MI_SET, MI_ORR, MI_AND = 0, 1, 2

# --- loads and stores ------------------------------------------------------------------
# SX_MULT imm:   L | Q<<1 | size<<2 | rpt<<4 | selem<<7 | wb<<10 | immpost<<11
# SX_SINGLE imm: L | Q<<1 | scale<<2 | selem<<4 | wb<<7 | immpost<<8 | replicate<<9 | index<<10
# rd = Vt (raw), rn = base slot (31 = SP), rm = Xm slot (register post-index)


@njit(cache=True)
def _mult(Q, L, opcode, size, rn, rt, wb, rm):
    if opcode == 0:
        rpt, selem = 1, 4
    elif opcode == 2:
        rpt, selem = 4, 1
    elif opcode == 4:
        rpt, selem = 1, 3
    elif opcode == 6:
        rpt, selem = 3, 1
    elif opcode == 7:
        rpt, selem = 1, 1
    elif opcode == 8:
        rpt, selem = 1, 2
    elif opcode == 10:
        rpt, selem = 2, 1
    else:
        return undef()
    if size == 3 and Q == 0 and selem != 1:
        return undef()
    immpost = 1 if (wb and rm == 31) else 0
    imm = L | (Q << 1) | (size << 2) | (rpt << 4) | (selem << 7) | (wb << 10) | (immpost << 11)
    return mk(OP_SIMDX, rt, sp(rn), rr(rm) if wb else 0, 0, pack_SIMDX(SX_MULT, 0, 0), imm)


@njit(cache=True)
def d_LDST_MULT(Q, L, opcode, size, rn, rt):
    return _mult(Q, L, opcode, size, rn, rt, 0, 0)


@njit(cache=True)
def d_LDST_MULT_PI(Q, L, rm, opcode, size, rn, rt):
    return _mult(Q, L, opcode, size, rn, rt, 1, rm)


@njit(cache=True)
def _single(Q, L, R, opcode, S, size, rn, rt, wb, rm):
    scale = opcode >> 1
    selem = ((opcode & 1) << 1 | R) + 1
    replicate = 0
    index = 0
    if scale == 3:
        if L == 0 or S == 1:
            return undef()
        scale = size
        replicate = 1
    elif scale == 0:
        index = (Q << 3) | (S << 2) | size
    elif scale == 1:
        if size & 1:
            return undef()
        index = (Q << 2) | (S << 1) | (size >> 1)
    else:
        if size & 2:
            return undef()
        if size == 0:
            index = (Q << 1) | S
        else:
            if S:
                return undef()
            index = Q
            scale = 3
    immpost = 1 if (wb and rm == 31) else 0
    imm = (L | (Q << 1) | (scale << 2) | (selem << 4) | (wb << 7) | (immpost << 8)
           | (replicate << 9) | (index << 10))
    return mk(OP_SIMDX, rt, sp(rn), rr(rm) if wb else 0, 0, pack_SIMDX(SX_SINGLE, 0, 0), imm)


@njit(cache=True)
def d_LDST_SINGLE(Q, L, R, opcode, S, size, rn, rt):
    return _single(Q, L, R, opcode, S, size, rn, rt, 0, 0)


@njit(cache=True)
def d_LDST_SINGLE_PI(Q, L, R, rm, opcode, S, size, rn, rt):
    return _single(Q, L, R, opcode, S, size, rn, rt, 1, rm)


# --- copy -------------------------------------------------------------------------------
# imm: size | index<<2 | index2<<6 | Q<<10

@njit(cache=True)
def _lowbit(imm5):
    """Element size (log2 bytes) from imm5, or -1 (imm5 = x0000: reserved)."""
    for k in range(4):
        if (imm5 >> k) & 1:
            return k
    return -1


@njit(cache=True)
def d_SIMD_COPY(Q, op, imm5, imm4, rn, rd):
    size = _lowbit(imm5)
    if size < 0:
        return undef()
    index = imm5 >> (size + 1)
    if op == 1:
        if Q == 0:
            return undef()
        # INS (element): Vd[imm5 index] = Vn[imm4 >> size]
        return mk(OP_SIMDX, rd, rn, 0, 0, pack_SIMDX(SX_INS_ELEM, 0, 0),
                  size | (index << 2) | ((imm4 >> size) << 6) | (Q << 10))
    if imm4 == 0:                                     # DUP (element)
        if size == 3 and Q == 0:
            return undef()
        return mk(OP_SIMDX, rd, rn, 0, 0, pack_SIMDX(SX_DUP_ELEM, 0, 0), size | (index << 2) | (Q << 10))
    if imm4 == 1:                                     # DUP (general)
        if size == 3 and Q == 0:
            return undef()
        return mk(OP_SIMDX, rd, rr(rn), 0, 0, pack_SIMDX(SX_DUP_GEN, 0, 0), size | (Q << 10))
    if imm4 == 3:                                     # INS (general)
        if Q == 0:
            return undef()
        return mk(OP_SIMDX, rd, rr(rn), 0, 0, pack_SIMDX(SX_INS_GEN, 0, 0), size | (index << 2) | (Q << 10))
    if imm4 == 5:                                     # SMOV
        if size == 3 or (Q == 0 and size == 2):
            return undef()
        return mk(OP_SIMDX, wr(rd), rn, 0, 0, pack_SIMDX(SX_SMOV, 0, 0), size | (index << 2) | (Q << 10))
    if imm4 == 7:                                     # UMOV
        if (Q == 0 and size == 3) or (Q == 1 and size != 3):
            return undef()
        return mk(OP_SIMDX, wr(rd), rn, 0, 0, pack_SIMDX(SX_UMOV, 0, 0), size | (index << 2) | (Q << 10))
    return undef()


@njit(cache=True)
def d_SCALAR_DUP(imm5, rn, rd):
    size = _lowbit(imm5)
    if size < 0:
        return undef()
    return mk(OP_SIMDX, rd, rn, 0, 0, pack_SIMDX(SX_SDUP, 0, 0), size | ((imm5 >> (size + 1)) << 2))


# --- modified immediate --------------------------------------------------------------------

@njit(cache=True)
def _rep(v, bits):
    """Replicate the low `bits` of v over 64 bits (int64 arithmetic, bit pattern kept)."""
    out = np.uint64(0)
    for k in range(0, 64, bits):
        out |= np.uint64(v) << np.uint64(k)
    return out


@njit(cache=True)
def expand_imm(op, cmode, imm8):
    """AdvSIMDExpandImm (Arm ARM); the FMOV forms are handled by the caller's UNDEF
    rules (op=1, cmode=1111, Q=0)."""
    c = cmode >> 1
    if c == 0:
        return _rep(imm8, 32)
    if c == 1:
        return _rep(imm8 << 8, 32)
    if c == 2:
        return _rep(imm8 << 16, 32)
    if c == 3:
        return _rep(imm8 << 24, 32)
    if c == 4:
        return _rep(imm8, 16)
    if c == 5:
        return _rep(imm8 << 8, 16)
    if c == 6:
        if cmode & 1:
            return _rep((imm8 << 16) | 0xFFFF, 32)
        return _rep((imm8 << 8) | 0xFF, 32)
    if (cmode & 1) == 0:
        if op == 0:
            return _rep(imm8, 8)
        out = np.uint64(0)
        for k in range(8):
            if (imm8 >> k) & 1:
                out |= np.uint64(0xFF) << np.uint64(8 * k)
        return out
    a = (imm8 >> 7) & 1
    b = (imm8 >> 6) & 1
    cdefgh = imm8 & 0x3F
    if op == 0:
        # single: a : NOT(b) : b x5 : cdefgh : 0 x19
        v = (a << 31) | ((b ^ 1) << 30) | ((0x1F if b else 0) << 25) | (cdefgh << 19)
        return _rep(v, 32)
    # double: a : NOT(b) : b x8 : cdefgh : 0 x48
    hi = (a << 15) | ((b ^ 1) << 14) | ((0xFF if b else 0) << 6) | cdefgh
    return np.uint64(hi) << np.uint64(48)


@njit(cache=True)
def d_SIMD_MODIMM(Q, op, abc, cmode, o2, defgh, rd):
    imm8 = (abc << 5) | defgh
    if o2 == 1:
        return undef()                  # FMOV (vector, immediate) half precision: FEAT_FP16
    if op == 1 and cmode == 15 and Q == 0:
        return undef()
    imm = expand_imm(op, cmode, imm8)
    how = MI_SET
    if cmode < 12 and (cmode & 1) == 1:
        # ORR / BIC (cmode 0xx1 and 10x1)
        if op == 0:
            how = MI_ORR
        else:
            how = MI_AND
            imm = ~imm
    elif op == 1 and cmode < 14:
        imm = ~imm                      # MVNI (cmode 0xx0, 10x0, 110x)
    return mk(OP_SIMDX, rd, 0, 0, 0, pack_SIMDX(SX_MODIMM, Q, how), imm)


# --- permutes ------------------------------------------------------------------------------

@njit(cache=True)
def d_SIMD_PERM(Q, size, rm, opcode, rn, rd):
    if (opcode & 3) == 0 or (size == 3 and Q == 0):
        return undef()
    return mk(OP_SIMDX, rd, rn, rm, 0, pack_SIMDX(SX_PERM, 0, 0), size | (opcode << 2) | (Q << 5))


@njit(cache=True)
def d_SIMD_EXT(Q, op2, rm, imm4, rn, rd):
    if op2 != 0 or (Q == 0 and imm4 >= 8):
        return undef()
    return mk(OP_SIMDX, rd, rn, rm, 0, pack_SIMDX(SX_EXT, 0, 0), imm4 | (Q << 4))


@njit(cache=True)
def d_SIMD_TBL(Q, op2, rm, nregs, op, rn, rd):
    if op2 != 0:
        return undef()
    return mk(OP_SIMDX, rd, rn, rm, 0, pack_SIMDX(SX_TBL, 0, 0), nregs | (op << 2) | (Q << 3))


# --- crypto -----------------------------------------------------------------------------------

@njit(cache=True)
def d_CRYPTO_AES(opc, rn, rd):
    return mk(OP_SIMDX, rd, rn, 0, 0, pack_SIMDX(SX_AES, 0, 0), opc)


@njit(cache=True)
def d_CRYPTO_SHA1_3(rm, opc, rn, rd):
    return mk(OP_SIMDX, rd, rn, rm, 0, pack_SIMDX(SX_SHA1_3, 0, 0), opc)


@njit(cache=True)
def d_CRYPTO_SHA256_3(rm, opc, rn, rd):
    if opc == 3:
        return undef()
    return mk(OP_SIMDX, rd, rn, rm, 0, pack_SIMDX(SX_SHA256_3, 0, 0), opc)


@njit(cache=True)
def d_CRYPTO_SHA1_2(opc, rn, rd):
    return mk(OP_SIMDX, rd, rn, 0, 0, pack_SIMDX(SX_SHA1_2, 0, 0), opc)


@njit(cache=True)
def d_CRYPTO_SHA256_2(rn, rd):
    return mk(OP_SIMDX, rd, rn, 0, 0, pack_SIMDX(SX_SHA256SU0, 0, 0), 0)
