"""Decoders for data processing -- register (dp_reg.dec)."""
from numba import njit

from pyaarch64.cpu.opids import (OP_ADC, OP_ADDI, OP_ADDR, OP_ADDSR, OP_ADDX, OP_CCMP, OP_CRC32,
                                 OP_CSEL, OP_DIV, OP_DP1, OP_LOGSR, OP_MADD, OP_MADDL, OP_MULH,
                                 OP_SHIFTV, pack_ADC, pack_ADDI, pack_ADDSR, pack_ADDX, pack_CCMP,
                                 pack_CRC32, pack_CSEL, pack_DIV, pack_DP1, pack_LOGSR, pack_MADD,
                                 pack_MADDL, pack_MULH, pack_SHIFTV)
from pyaarch64.cpu.isa.common import mk, undef, rr, wr, sp


@njit(cache=True)
def d_LOGIC_SR(sf, opc, shift, N, rm, imm6, rn, rd):
    if sf == 0 and imm6 >= 32:
        return undef()
    w = 1 - sf
    if opc == 1 and N == 0 and rn == 31 and imm6 == 0:      # MOV (register)
        return mk(OP_ADDI, wr(rd), rr(rm), 0, 0, pack_ADDI(w), 0)
    return mk(OP_LOGSR, wr(rd), rr(rn), rr(rm), 0, pack_LOGSR(w, opc, N, shift, imm6), 0)


@njit(cache=True)
def d_ADDSUB_SR(sf, op, S, shift, rm, imm6, rn, rd):
    if shift == 3 or (sf == 0 and imm6 >= 32):
        return undef()
    if sf == 1 and op == 0 and S == 0 and imm6 == 0:
        return mk(OP_ADDR, wr(rd), rr(rn), rr(rm), 0, 0, 0)
    return mk(OP_ADDSR, wr(rd), rr(rn), rr(rm), 0, pack_ADDSR(1 - sf, op, S, shift, imm6), 0)


@njit(cache=True)
def d_ADDSUB_ER(sf, op, S, opt, rm, option, imm3, rn, rd):
    if opt != 0 or imm3 > 4:
        return undef()
    d = wr(rd) if S else sp(rd)
    return mk(OP_ADDX, d, sp(rn), rr(rm), 0, pack_ADDX(1 - sf, op, S, option, imm3), 0)


@njit(cache=True)
def d_ADC(sf, op, S, rm, rn, rd):
    return mk(OP_ADC, wr(rd), rr(rn), rr(rm), 0, pack_ADC(1 - sf, op, S), 0)


@njit(cache=True)
def d_CCMP(sf, op, S, rm, cond, imm, o2, rn, o3, nzcv):
    if S == 0 or o2 or o3:
        return undef()
    aux = pack_CCMP(1 - sf, cond, nzcv, 1 - op, imm)
    if imm:
        return mk(OP_CCMP, 0, rr(rn), 0, 0, aux, rm)
    return mk(OP_CCMP, 0, rr(rn), rr(rm), 0, aux, 0)


@njit(cache=True)
def d_CSEL(sf, op, S, rm, cond, op2, rn, rd):
    if S or op2 > 1:
        return undef()
    kind = (op << 1) | op2
    return mk(OP_CSEL, wr(rd), rr(rn), rr(rm), 0, pack_CSEL(1 - sf, cond, kind), 0)


@njit(cache=True)
def d_CRC32(sf, S, rm, C, sz, rn, rd):
    if S or (sf == 1) != (sz == 3):
        return undef()
    return mk(OP_CRC32, wr(rd), rr(rn), rr(rm), 0, pack_CRC32(sz, C), 0)


@njit(cache=True)
def d_DP2(sf, S, rm, opcode, rn, rd):
    if S:
        return undef()
    w = 1 - sf
    if opcode == 2 or opcode == 3:
        return mk(OP_DIV, wr(rd), rr(rn), rr(rm), 0, pack_DIV(w, opcode & 1), 0)
    if 8 <= opcode <= 11:
        return mk(OP_SHIFTV, wr(rd), rr(rn), rr(rm), 0, pack_SHIFTV(w, opcode & 3), 0)
    return undef()


@njit(cache=True)
def d_DP1(sf, S, opcode2, opcode, rn, rd):
    if S or opcode2 != 0 or opcode > 5:
        return undef()
    kind = opcode
    if sf == 0:
        if opcode == 3:
            return undef()
        if opcode == 2:
            kind = 3                     # REV Wd: reverse all 4 bytes
    return mk(OP_DP1, wr(rd), rr(rn), 0, 0, pack_DP1(1 - sf, kind), 0)


@njit(cache=True)
def d_DP3(sf, op54, op31, rm, o0, ra, rn, rd):
    if op54 != 0:
        return undef()
    if op31 == 0:
        return mk(OP_MADD, wr(rd), rr(rn), rr(rm), rr(ra), pack_MADD(1 - sf, o0), 0)
    if sf == 0:
        return undef()
    if op31 == 1 or op31 == 5:           # SMADDL/SMSUBL, UMADDL/UMSUBL
        return mk(OP_MADDL, wr(rd), rr(rn), rr(rm), rr(ra), pack_MADDL(o0, 1 if op31 == 1 else 0), 0)
    if (op31 == 2 or op31 == 6) and o0 == 0:
        return mk(OP_MULH, wr(rd), rr(rn), rr(rm), 0, pack_MULH(1 if op31 == 2 else 0), 0)
    return undef()
