"""Decoders for data processing -- immediate (table dp_imm.dec)."""
import numpy as np
from numba import njit

from pyaarch64.cpu.opids import (OP_ADDI, OP_ADDSI, OP_ADR, OP_ADRP, OP_BFM, OP_EXTR, OP_LOGI,
                                 OP_MOVI, OP_MOVK, OP_SBF, OP_UBF, pack_ADDI, pack_ADDSI,
                                 pack_EXTR, pack_LOGI, pack_MOVI, pack_MOVK, pack_UBF)
from pyaarch64.cpu.isa.common import mk, undef, rr, wr, sp, sext

M32 = np.uint64(0xFFFFFFFF)


@njit(cache=True)
def d_ADR(immlo, immhi, rd):
    return mk(OP_ADR, wr(rd), 0, 0, 0, 0, sext((immhi << 2) | immlo, 21))


@njit(cache=True)
def d_ADRP(immlo, immhi, rd):
    return mk(OP_ADRP, wr(rd), 0, 0, 0, 0, sext((immhi << 2) | immlo, 21) << 12)


@njit(cache=True)
def d_ADDSUB_IMM(sf, op, S, sh, imm12, rn, rd):
    imm = imm12 << (12 * sh)
    w = 1 - sf
    if S == 0:
        if op:
            imm = -imm
        if w:
            imm &= 0xFFFFFFFF
        return mk(OP_ADDI, sp(rd), sp(rn), 0, 0, pack_ADDI(w), imm)
    return mk(OP_ADDSI, wr(rd), sp(rn), 0, 0, pack_ADDSI(w, op), imm)


@njit(cache=True)
def decode_bit_masks(n, imms, immr, datasize):
    """Arm ARM DecodeBitMasks(immediate=TRUE): returns (ok, wmask as uint64)."""
    combined = (n << 6) | ((~imms) & 0x3F)
    length = -1
    for i in range(6, -1, -1):
        if (combined >> i) & 1:
            length = i
            break
    if length < 1:
        return False, np.uint64(0)
    levels = (1 << length) - 1
    s = imms & levels
    r = immr & levels
    if s == levels:
        return False, np.uint64(0)
    esize = 1 << length
    if esize > datasize:
        return False, np.uint64(0)
    welem = (np.uint64(1) << np.uint64(s + 1)) - np.uint64(1)   # s+1 <= 63 here
    emask = np.uint64(0xFFFFFFFFFFFFFFFF) if esize == 64 else (np.uint64(1) << np.uint64(esize)) - np.uint64(1)
    if r:
        welem = ((welem >> np.uint64(r)) | (welem << np.uint64(esize - r))) & emask
    out = np.uint64(0)
    for k in range(0, datasize, esize):
        out |= welem << np.uint64(k)
    return True, out


@njit(cache=True)
def d_LOGIC_IMM(sf, opc, N, immr, imms, rn, rd):
    if sf == 0 and N == 1:
        return undef()
    ok, imm = decode_bit_masks(N, imms, immr, 64 if sf else 32)
    if not ok:
        return undef()
    w = 1 - sf
    if opc == 1 and rn == 31:          # MOV (bitmask immediate)
        return mk(OP_MOVI, sp(rd), 0, 0, 0, pack_MOVI(w), imm)
    d = wr(rd) if opc == 3 else sp(rd)
    return mk(OP_LOGI, d, rr(rn), 0, 0, pack_LOGI(w, opc), imm)


@njit(cache=True)
def d_MOVW(sf, opc, hw, imm16, rd):
    if opc == 1 or (sf == 0 and hw >= 2):
        return undef()
    sh = 16 * hw
    w = 1 - sf
    v = np.uint64(imm16) << np.uint64(sh)
    if opc == 0:                        # MOVN
        v = ~v
        if w:
            v &= M32
        return mk(OP_MOVI, wr(rd), 0, 0, 0, pack_MOVI(w), v)
    if opc == 2:                        # MOVZ
        return mk(OP_MOVI, wr(rd), 0, 0, 0, pack_MOVI(w), v)
    return mk(OP_MOVK, wr(rd), 0, 0, 0, pack_MOVK(w, sh), v)


@njit(cache=True)
def d_BITFIELD(sf, opc, N, immr, imms, rn, rd):
    if opc == 3 or N != sf:
        return undef()
    if sf == 0 and (immr >= 32 or imms >= 32):
        return undef()
    size = 64 if sf else 32
    if imms >= immr:                    # extract: field <imms:immr> to bit 0
        lsb, width, pos = immr, imms - immr + 1, 0
    else:                               # insert: field <imms:0> to bit size-immr
        lsb, width, pos = 0, imms + 1, size - immr
    op = OP_SBF if opc == 0 else (OP_BFM if opc == 1 else OP_UBF)
    return mk(op, wr(rd), rr(rn), 0, 0, pack_UBF(1 - sf, lsb, width, pos), 0)   # (SBF, BFM: the same layout)


@njit(cache=True)
def d_EXTR(sf, op21, N, o0, rm, imms, rn, rd):
    if op21 != 0 or o0 != 0 or N != sf or (sf == 0 and imms >= 32):
        return undef()
    return mk(OP_EXTR, wr(rd), rr(rn), rr(rm), 0, pack_EXTR(1 - sf, imms), 0)
