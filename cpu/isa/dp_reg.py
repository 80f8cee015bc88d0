"""Decoders for data processing -- register (dp_reg.dec)."""
from numba import njit

from pyaarch64.cpu.ops import (OP_ADDI, OP_ADDSR, OP_ADDX, OP_ADDR, OP_LOGSR, OP_ADC, OP_CCMP,
                               OP_CSEL, OP_SHIFTV, OP_MADD, OP_MADDL, OP_MULH, OP_DIV, OP_DP1,
                               OP_CRC32)
from pyaarch64.cpu.isa.common import mk, undef, rr, wr, sp


@njit(cache=True)
def d_LOGIC_SR(sf, opc, shift, N, rm, imm6, rn, rd):
    if sf == 0 and imm6 >= 32:
        return undef()
    w = 1 - sf
    if opc == 1 and N == 0 and rn == 31 and imm6 == 0:      # MOV (register)
        return mk(OP_ADDI, wr(rd), rr(rm), 0, 0, w, 0)
    aux = w | (opc << 1) | (N << 3) | (shift << 4) | (imm6 << 6)
    return mk(OP_LOGSR, wr(rd), rr(rn), rr(rm), 0, aux, 0)


@njit(cache=True)
def d_ADDSUB_SR(sf, op, S, shift, rm, imm6, rn, rd):
    if shift == 3 or (sf == 0 and imm6 >= 32):
        return undef()
    if sf == 1 and op == 0 and S == 0 and imm6 == 0:
        return mk(OP_ADDR, wr(rd), rr(rn), rr(rm), 0, 0, 0)
    aux = (1 - sf) | (op << 1) | (S << 2) | (shift << 3) | (imm6 << 5)
    return mk(OP_ADDSR, wr(rd), rr(rn), rr(rm), 0, aux, 0)


@njit(cache=True)
def d_ADDSUB_ER(sf, op, S, opt, rm, option, imm3, rn, rd):
    if opt != 0 or imm3 > 4:
        return undef()
    d = wr(rd) if S else sp(rd)
    aux = (1 - sf) | (op << 1) | (S << 2) | (option << 3) | (imm3 << 6)
    return mk(OP_ADDX, d, sp(rn), rr(rm), 0, aux, 0)


@njit(cache=True)
def d_ADC(sf, op, S, rm, rn, rd):
    return mk(OP_ADC, wr(rd), rr(rn), rr(rm), 0, (1 - sf) | (op << 1) | (S << 2), 0)


@njit(cache=True)
def d_CCMP(sf, op, S, rm, cond, imm, o2, rn, o3, nzcv):
    if S == 0 or o2 or o3:
        return undef()
    aux = (1 - sf) | (cond << 1) | (nzcv << 5) | ((1 - op) << 9) | (imm << 10)
    if imm:
        return mk(OP_CCMP, 0, rr(rn), 0, 0, aux, rm)
    return mk(OP_CCMP, 0, rr(rn), rr(rm), 0, aux, 0)


@njit(cache=True)
def d_CSEL(sf, op, S, rm, cond, op2, rn, rd):
    if S or op2 > 1:
        return undef()
    kind = (op << 1) | op2
    return mk(OP_CSEL, wr(rd), rr(rn), rr(rm), 0, (1 - sf) | (cond << 1) | (kind << 5), 0)


@njit(cache=True)
def d_CRC32(sf, S, rm, C, sz, rn, rd):
    if S or (sf == 1) != (sz == 3):
        return undef()
    return mk(OP_CRC32, wr(rd), rr(rn), rr(rm), 0, sz | (C << 2), 0)


@njit(cache=True)
def d_DP2(sf, S, rm, opcode, rn, rd):
    if S:
        return undef()
    w = 1 - sf
    if opcode == 2 or opcode == 3:
        return mk(OP_DIV, wr(rd), rr(rn), rr(rm), 0, w | ((opcode & 1) << 1), 0)
    if 8 <= opcode <= 11:
        return mk(OP_SHIFTV, wr(rd), rr(rn), rr(rm), 0, w | ((opcode & 3) << 1), 0)
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
    return mk(OP_DP1, wr(rd), rr(rn), 0, 0, (1 - sf) | (kind << 1), 0)


@njit(cache=True)
def d_DP3(sf, op54, op31, rm, o0, ra, rn, rd):
    if op54 != 0:
        return undef()
    if op31 == 0:
        return mk(OP_MADD, wr(rd), rr(rn), rr(rm), rr(ra), (1 - sf) | (o0 << 1), 0)
    if sf == 0:
        return undef()
    if op31 == 1 or op31 == 5:           # SMADDL/SMSUBL, UMADDL/UMSUBL
        return mk(OP_MADDL, wr(rd), rr(rn), rr(rm), rr(ra), o0 | ((1 if op31 == 1 else 0) << 1), 0)
    if (op31 == 2 or op31 == 6) and o0 == 0:
        return mk(OP_MULH, wr(rd), rr(rn), rr(rm), 0, 1 if op31 == 2 else 0, 0)
    return undef()
