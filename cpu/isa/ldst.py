"""Decoders for loads and stores of general-purpose registers (ldst.dec)."""
from numba import njit

from pyaarch64.cpu.ops import (OP_LD, OP_ST, OP_LDRR, OP_STRR, OP_LDLIT, OP_LDP, OP_STP, OP_PRFM,
                               OP_EXCL, OP_ATOMIC, OP_LDT, OP_STT, OP_FPMEM, MODE_OFF, MODE_PRE, MODE_POST,
                               FK_IMM, FK_REG, FK_LIT, FK_PAIR,
                               SX_NONE, SX_64, SX_32)
from pyaarch64.cpu.isa.common import mk, undef, rr, wr, sp, sext

# EXCL kinds (aux & 7)
XK_LDX, XK_STX, XK_LDXP, XK_STXP, XK_LDAR, XK_STLR, XK_CAS, XK_CASP = 0, 1, 2, 3, 4, 5, 6, 7


@njit(cache=True)
def d_LDST_EXCL(size, o2, L, o1, rs, o0, rt2, rn, rt):
    if o2 == 0 and o1 == 0:
        kind = XK_LDX if L else XK_STX
    elif o2 == 0 and o1 == 1:
        if size < 2:
            return undef()                 # CASP with Rt2 != 31 (CASP itself: d_CASP)
        kind = XK_LDXP if L else XK_STXP
    elif o2 == 1 and o1 == 0:
        if o0 == 0:
            return undef()                 # LDLAR/STLLR need FEAT_LOR
        kind = XK_LDAR if L else XK_STLR
    else:
        return undef()                     # CAS with Rt2 != 31 (CAS itself: d_CAS)
    # aux: kind | size << 3 | acquire/release << 5
    if kind == XK_LDX or kind == XK_LDAR or kind == XK_LDXP:
        return mk(OP_EXCL, wr(rt), sp(rn), wr(rs), wr(rt2), kind | (size << 3) | (o0 << 5), 0)
    return mk(OP_EXCL, rr(rt), sp(rn), wr(rs), rr(rt2), kind | (size << 3) | (o0 << 5), 0)


@njit(cache=True)
def d_CAS(size, L, rs, o0, rn, rt):
    # aux: kind | size << 3 | Rs << 8 | Rt << 13 -- raw register numbers (31 = XZR):
    # Rs is both read and written, so atomics.cas resolves the slots itself
    return mk(OP_EXCL, 0, sp(rn), 0, 0, XK_CAS | (size << 3) | (rs << 8) | (rt << 13), 0)


@njit(cache=True)
def d_CASP(sz, L, rs, o0, rn, rt):
    if (rs & 1) or (rt & 1):
        return undef()                     # odd Rs or Rt: UNDEFINED
    return mk(OP_EXCL, 0, sp(rn), 0, 0, XK_CASP | ((2 + sz) << 3) | (rs << 8) | (rt << 13), 0)


@njit(cache=True)
def d_LDR_LIT(opc, imm19, rt):
    off = sext(imm19, 19) * 4
    if opc == 0:
        return mk(OP_LDLIT, wr(rt), 0, 0, 0, 2, off)
    if opc == 1:
        return mk(OP_LDLIT, wr(rt), 0, 0, 0, 3, off)
    if opc == 2:
        return mk(OP_LDLIT, wr(rt), 0, 0, 0, 2 | (SX_64 << 2), off)
    return mk(OP_PRFM, 0, 0, 0, 0, 0, 0)


@njit(cache=True)
def d_LDST_PAIR(opc, typ, L, imm7, rt2, rn, rt):
    if opc == 3:
        return undef()
    if typ == 0:
        mode = MODE_OFF                    # LDNP/STNP: non-temporal hint only
        if opc == 1:
            return undef()
    elif typ == 1:
        mode = MODE_POST
    elif typ == 2:
        mode = MODE_OFF
    else:
        mode = MODE_PRE
    if opc == 1 and L == 0:
        return undef()                     # STGP (FEAT_MTE)
    size = 3 if opc == 2 else 2
    sign = SX_64 if opc == 1 else SX_NONE
    imm = sext(imm7, 7) << size
    aux = size | (sign << 2) | (mode << 4)
    if L:
        return mk(OP_LDP, wr(rt), sp(rn), 0, wr(rt2), aux, imm)
    return mk(OP_STP, rr(rt), sp(rn), 0, rr(rt2), aux, imm)


@njit(cache=True)
def _sign(size, opc):
    """Sign kind for a load (opc >= 2), -1 for UNDEF, -2 for PRFM."""
    if opc < 2:
        return SX_NONE
    if size == 3:
        return -2 if opc == 2 else -1
    if size == 2:
        return SX_64 if opc == 2 else -1
    return SX_64 if opc == 2 else SX_32


@njit(cache=True)
def d_LDST_IMM9(size, opc, imm9, idx, rn, rt):
    imm = sext(imm9, 9)
    mode = MODE_OFF
    unpriv = 0
    if idx == 1:
        mode = MODE_POST
    elif idx == 3:
        mode = MODE_PRE
    elif idx == 2:
        unpriv = 1
    s = _sign(size, opc)
    if s == -1:
        return undef()
    if s == -2:
        if idx == 0:
            return mk(OP_PRFM, 0, 0, 0, 0, 0, 0)       # PRFUM
        return undef()
    aux = size | (s << 2) | (mode << 4)
    if unpriv:
        # LDTR/STTR: their own ops (slow path), so the LD/ST fast path never sees
        # an access made with EL0 permissions
        if opc == 0:
            return mk(OP_STT, rr(rt), sp(rn), 0, 0, aux, imm)
        return mk(OP_LDT, wr(rt), sp(rn), 0, 0, aux, imm)
    if opc == 0:
        return mk(OP_ST, rr(rt), sp(rn), 0, 0, aux, imm)
    return mk(OP_LD, wr(rt), sp(rn), 0, 0, aux, imm)


@njit(cache=True)
def d_LDST_UIMM(size, opc, imm12, rn, rt):
    s = _sign(size, opc)
    if s == -1:
        return undef()
    if s == -2:
        return mk(OP_PRFM, 0, 0, 0, 0, 0, 0)
    aux = size | (s << 2)
    if opc == 0:
        return mk(OP_ST, rr(rt), sp(rn), 0, 0, aux, imm12 << size)
    return mk(OP_LD, wr(rt), sp(rn), 0, 0, aux, imm12 << size)


@njit(cache=True)
def d_LDST_REGOFF(size, opc, rm, option, S, rn, rt):
    if (option & 2) == 0:
        return undef()
    s = _sign(size, opc)
    if s == -1:
        return undef()
    if s == -2:
        return mk(OP_PRFM, 0, 0, 0, 0, 0, 0)
    shift = size if S else 0
    aux = size | (s << 2) | (option << 4) | (shift << 7)
    if opc == 0:
        return mk(OP_STRR, rr(rt), sp(rn), rr(rm), 0, aux, 0)
    return mk(OP_LDRR, wr(rt), sp(rn), rr(rm), 0, aux, 0)


@njit(cache=True)
def d_ATOMIC(size, A, R, rs, o3, opc, rn, rt):
    if o3 == 1 and opc != 0:
        return undef()                     # LDAPR etc. (FEAT_LRCPC)
    # aux: opc (0 add,1 clr,2 eor,3 set,4 smax,5 smin,6 umax,7 umin; 8 = swp) | size << 4
    op = 8 if o3 else opc
    return mk(OP_ATOMIC, wr(rt), sp(rn), rr(rs), 0, op | (size << 4) | (A << 6) | (R << 7), 0)


# --- SIMD&FP registers ------------------------------------------------------------
# FPMEM keeps the raw register numbers Vt/Vt2 (no slots: V registers have no XZR)

@njit(cache=True)
def _vsize(size, opc):
    """log2 of the access size in bytes for size:opc<1>, or -1 (UNDEFINED)."""
    if opc & 2:
        return 4 if size == 0 else -1
    return size


@njit(cache=True)
def d_LDR_LIT_V(opc, imm19, rt):
    if opc == 3:
        return undef()
    return mk(OP_FPMEM, rt, 0, 0, 0, (2 + opc) | (1 << 3) | (FK_LIT << 6), sext(imm19, 19) * 4)


@njit(cache=True)
def d_LDST_PAIR_V(opc, typ, L, imm7, rt2, rn, rt):
    if opc == 3:
        return undef()
    lg = 2 + opc
    if typ == 1:
        mode = MODE_POST
    elif typ == 3:
        mode = MODE_PRE
    else:
        mode = MODE_OFF                    # typ 0: LDNP/STNP, 2: signed offset
    return mk(OP_FPMEM, rt, sp(rn), 0, rt2, lg | (L << 3) | (mode << 4) | (FK_PAIR << 6),
              sext(imm7, 7) << lg)


@njit(cache=True)
def d_LDST_IMM9_V(size, opc, imm9, idx, rn, rt):
    lg = _vsize(size, opc)
    if lg < 0 or idx == 2:                 # no unprivileged forms for SIMD&FP
        return undef()
    mode = MODE_POST if idx == 1 else (MODE_PRE if idx == 3 else MODE_OFF)
    return mk(OP_FPMEM, rt, sp(rn), 0, 0, lg | ((opc & 1) << 3) | (mode << 4) | (FK_IMM << 6),
              sext(imm9, 9))


@njit(cache=True)
def d_LDST_UIMM_V(size, opc, imm12, rn, rt):
    lg = _vsize(size, opc)
    if lg < 0:
        return undef()
    return mk(OP_FPMEM, rt, sp(rn), 0, 0, lg | ((opc & 1) << 3) | (FK_IMM << 6), imm12 << lg)


@njit(cache=True)
def d_LDST_REGOFF_V(size, opc, rm, option, S, rn, rt):
    lg = _vsize(size, opc)
    if lg < 0 or (option & 2) == 0:
        return undef()
    shift = lg if S else 0
    return mk(OP_FPMEM, rt, sp(rn), rr(rm), 0,
              lg | ((opc & 1) << 3) | (FK_REG << 6) | (option << 8) | (shift << 11), 0)
