"""Decoders for loads and stores of general-purpose registers (ldst.dec)."""
from numba import njit

from pyaarch64.cpu.ops import (FK_IMM, FK_LIT, FK_PAIR, FK_REG, MODE_OFF, MODE_POST, MODE_PRE,
                               SX_32, SX_64, SX_NONE)
from pyaarch64.cpu.opids import (OP_ATOMIC, OP_EXCL, OP_FPMEM, OP_LD, OP_LDLIT, OP_LDP, OP_LDRR,
                                 OP_LDT, OP_PRFM, OP_ST, OP_STP, OP_STRR, OP_STT, pack_ATOMIC,
                                 pack_EXCL, pack_FPMEM, pack_LD, pack_LDLIT, pack_LDP, pack_LDRR)
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
    # aux (ops.tab EXCL): kind, size, acquire/release
    if kind == XK_LDX or kind == XK_LDAR or kind == XK_LDXP:
        return mk(OP_EXCL, wr(rt), sp(rn), wr(rs), wr(rt2), pack_EXCL(kind, size, o0, 0, 0), 0)
    return mk(OP_EXCL, rr(rt), sp(rn), wr(rs), rr(rt2), pack_EXCL(kind, size, o0, 0, 0), 0)


@njit(cache=True)
def d_CAS(size, L, rs, o0, rn, rt):
    # aux (ops.tab EXCL): kind, size, Rs, Rt -- raw register numbers (31 = XZR):
    # Rs is both read and written, so atomics.cas resolves the slots itself
    return mk(OP_EXCL, 0, sp(rn), 0, 0, pack_EXCL(XK_CAS, size, 0, rs, rt), 0)


@njit(cache=True)
def d_CASP(sz, L, rs, o0, rn, rt):
    if (rs & 1) or (rt & 1):
        return undef()                     # odd Rs or Rt: UNDEFINED
    return mk(OP_EXCL, 0, sp(rn), 0, 0, pack_EXCL(XK_CASP, 2 + sz, 0, rs, rt), 0)


@njit(cache=True)
def d_LDR_LIT(opc, imm19, rt):
    off = sext(imm19, 19) * 4
    if opc == 0:
        return mk(OP_LDLIT, wr(rt), 0, 0, 0, pack_LDLIT(2, SX_NONE), off)
    if opc == 1:
        return mk(OP_LDLIT, wr(rt), 0, 0, 0, pack_LDLIT(3, SX_NONE), off)
    if opc == 2:
        return mk(OP_LDLIT, wr(rt), 0, 0, 0, pack_LDLIT(2, SX_64), off)
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
    aux = pack_LDP(size, sign, mode)             # (STP: the same layout)
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
    aux = pack_LD(size, s, mode)                 # (ST, LDT, STT: the same layout)
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
    aux = pack_LD(size, s, MODE_OFF)             # (ST: the same layout)
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
    aux = pack_LDRR(size, s, option, shift)      # (STRR: the same layout)
    if opc == 0:
        return mk(OP_STRR, rr(rt), sp(rn), rr(rm), 0, aux, 0)
    return mk(OP_LDRR, wr(rt), sp(rn), rr(rm), 0, aux, 0)


@njit(cache=True)
def d_ATOMIC(size, A, R, rs, o3, opc, rn, rt):
    if o3 == 1 and opc != 0:
        return undef()                     # LDAPR etc. (FEAT_LRCPC)
    op = 8 if o3 else opc
    return mk(OP_ATOMIC, wr(rt), sp(rn), rr(rs), 0, pack_ATOMIC(op, size, A, R), 0)


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
    return mk(OP_FPMEM, rt, 0, 0, 0, pack_FPMEM(2 + opc, 1, MODE_OFF, FK_LIT, 0, 0), sext(imm19, 19) * 4)


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
    return mk(OP_FPMEM, rt, sp(rn), 0, rt2, pack_FPMEM(lg, L, mode, FK_PAIR, 0, 0),
              sext(imm7, 7) << lg)


@njit(cache=True)
def d_LDST_IMM9_V(size, opc, imm9, idx, rn, rt):
    lg = _vsize(size, opc)
    if lg < 0 or idx == 2:                 # no unprivileged forms for SIMD&FP
        return undef()
    mode = MODE_POST if idx == 1 else (MODE_PRE if idx == 3 else MODE_OFF)
    return mk(OP_FPMEM, rt, sp(rn), 0, 0, pack_FPMEM(lg, opc & 1, mode, FK_IMM, 0, 0),
              sext(imm9, 9))


@njit(cache=True)
def d_LDST_UIMM_V(size, opc, imm12, rn, rt):
    lg = _vsize(size, opc)
    if lg < 0:
        return undef()
    return mk(OP_FPMEM, rt, sp(rn), 0, 0, pack_FPMEM(lg, opc & 1, MODE_OFF, FK_IMM, 0, 0), imm12 << lg)


@njit(cache=True)
def d_LDST_REGOFF_V(size, opc, rm, option, S, rn, rt):
    lg = _vsize(size, opc)
    if lg < 0 or (option & 2) == 0:
        return undef()
    shift = lg if S else 0
    return mk(OP_FPMEM, rt, sp(rn), rr(rm), 0,
              pack_FPMEM(lg, opc & 1, MODE_OFF, FK_REG, option, shift), 0)
