"""Semantics of the scalar floating-point instructions (op FPDP, decoded by cpu/isa/fp.py);
the Advanced SIMD floating-point forms share the op and are in cpu/fpvec.py.

The decoder has checked the encoding; w1 holds the raw instruction word and aux the
encoding class (K_*).  Arithmetic is cpu/fpu.py's; this module reads and writes the
registers, FPCR/FPSR and NZCV.  FPSR cumulative flags are ORed in as the operation
returns them.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import VREG, C_PC, C_NZCV, SINK, OP_FPMEM
from pyaarch64.cpu.fpaccess import fp_mem, fp_trapped, fp_trap
from pyaarch64.cpu.sysregs import R_VAL, S_FPCR, S_FPSR
from pyaarch64.cpu.alu import cond_holds
from pyaarch64.cpu.fpu import (
    FMT_H, FMT_S, FMT_D, RM_RN, RM_RP, RM_RM, RM_RZ, RM_RA, nbits, rmode_of,
    fp_add, fp_mul, fp_muladd, fp_div, fp_sqrt, fp_compare, fp_minmax, fp_to_fixed,
    fixed_to_fp, fp_round_int, fp_convert, vfp_expand_imm)
from pyaarch64.cpu.fpvec import three_same, two_misc, across, by_element, shift_fixed

U0 = np.uint64(0)
U1 = np.uint64(1)

# encoding classes (the decoder's aux): scalar FP, then Advanced SIMD FP (cpu/fpvec.py)
K_DP1, K_DP2, K_DP3, K_CMP, K_CCMP, K_CSEL, K_IMM, K_INT, K_FIXED = 0, 1, 2, 3, 4, 5, 6, 7, 8
K_V3, K_S3, K_V2, K_S2, K_ACROSS, K_SPAIR, K_VELEM, K_SELEM, K_VSHIFT, K_SSHIFT = (
    9, 10, 11, 12, 13, 14, 15, 16, 17, 18)


@njit(cache=True)
def fmt_of(ftype):
    """ftype field: 00 single, 01 double, 11 half."""
    if ftype == 0:
        return FMT_S
    if ftype == 1:
        return FMT_D
    return FMT_H


@njit(cache=True)
def mask_of(fmt):
    return (U1 << np.uint64(nbits(fmt))) - U1 if fmt != FMT_D else ~U0


@njit(cache=True)
def vget(regs, n, fmt):
    return regs[VREG + 2 * n] & mask_of(fmt)


@njit(cache=True)
def vset(regs, d, v):
    """Write a scalar (already zero-extended) to Vd; the rest of the register is zeroed."""
    regs[VREG + 2 * d] = v
    regs[VREG + 2 * d + 1] = U0


@njit(cache=True)
def gpr_dst(rd):
    return SINK if rd == 31 else rd


@njit(cache=True)
def exec_dp1(regs, fpcr, insn, fmt, rd, rn):
    opcode = (insn >> 15) & 63
    x = vget(regs, rn, fmt)
    fl = 0
    if opcode == 0:          # FMOV
        r = x
    elif opcode == 1:        # FABS
        r = x & ~(U1 << np.uint64(nbits(fmt) - 1))
    elif opcode == 2:        # FNEG
        r = x ^ (U1 << np.uint64(nbits(fmt) - 1))
    elif opcode == 3:
        r, fl = fp_sqrt(x, fmt, fpcr)
    elif opcode < 8:         # FCVT: opc<1:0> is the destination type
        r, fl = fp_convert(x, fmt, fmt_of(opcode & 3), fpcr)
    else:                    # FRINTN/P/M/Z/A/-/X/I
        k = opcode & 7
        if k < 4:
            mode = k
        elif k == 4:
            mode = RM_RA
        else:
            mode = rmode_of(fpcr)
        r, fl = fp_round_int(x, fmt, fpcr, mode, k == 6)
    vset(regs, rd, r)
    return fl


@njit(cache=True)
def exec_dp2(regs, fpcr, insn, fmt, rd, rn, rm):
    opcode = (insn >> 12) & 15
    a = vget(regs, rn, fmt)
    b = vget(regs, rm, fmt)
    if opcode == 0 or opcode == 8:
        r, fl = fp_mul(a, b, fmt, fpcr)
        if opcode == 8:                    # FNMUL: FPNeg of the product, NaNs too
            r = r ^ (U1 << np.uint64(nbits(fmt) - 1))
    elif opcode == 1:
        r, fl = fp_div(a, b, fmt, fpcr)
    elif opcode == 2 or opcode == 3:
        r, fl = fp_add(a, b, fmt, fpcr, opcode == 3)
    else:                                  # FMAX, FMIN, FMAXNM, FMINNM
        r, fl = fp_minmax(a, b, fmt, fpcr, (opcode & 1) == 0, opcode >= 6)
    vset(regs, rd, r)
    return fl


@njit(cache=True)
def exec_dp3(regs, fpcr, insn, fmt, rd, rn, rm, ra):
    o1 = (insn >> 21) & 1
    o0 = (insn >> 15) & 1
    sbit = U1 << np.uint64(nbits(fmt) - 1)
    a = vget(regs, ra, fmt)
    n = vget(regs, rn, fmt)
    m = vget(regs, rm, fmt)
    if o1:                 # FNMADD, FNMSUB: the addend negated
        a = a ^ sbit
    if o0 != o1:           # FMSUB, FNMADD: the first factor negated
        n = n ^ sbit
    r, fl = fp_muladd(a, n, m, fmt, fpcr)
    vset(regs, rd, r)
    return fl


@njit(cache=True)
def exec_int(regs, fpcr, insn, fmt, rd, rn):
    sf = (insn >> 31) & 1
    rmode = (insn >> 19) & 3
    opcode = (insn >> 16) & 7
    width = 64 if sf else 32
    wmask = ~U0 if sf else np.uint64(0xFFFFFFFF)
    if opcode == 6 or opcode == 7:                     # FMOV
        if ((insn >> 22) & 3) == 2:                      # top half of a 128-bit register
            if opcode == 6:
                regs[gpr_dst(rd)] = regs[VREG + 2 * rn + 1]
            else:
                regs[VREG + 2 * rd + 1] = regs[rn]
        elif opcode == 6:
            regs[gpr_dst(rd)] = vget(regs, rn, fmt) & wmask
        else:
            vset(regs, rd, regs[rn] & mask_of(fmt))
        return 0
    if opcode == 2 or opcode == 3:                     # SCVTF, UCVTF
        r, fl = fixed_to_fp(regs[rn] & wmask, width, opcode == 3, np.int64(0), fmt, fpcr)
        vset(regs, rd, r)
        return fl
    # FCVT{N,P,M,Z}{S,U} by rmode; FCVTA{S,U} is rmode 00 opcode 10x
    if opcode >= 4:
        mode = RM_RA
    else:
        mode = rmode            # 00 N, 01 P, 10 M, 11 Z: the FPCR.RMode encoding
    r, fl = fp_to_fixed(vget(regs, rn, fmt), fmt, fpcr, np.int64(0), (opcode & 1) == 1, width, mode)
    regs[gpr_dst(rd)] = r
    return fl


@njit(cache=True)
def exec_fixed(regs, fpcr, insn, fmt, rd, rn):
    sf = (insn >> 31) & 1
    opcode = (insn >> 16) & 7
    fbits = 64 - ((insn >> 10) & 63)
    width = 64 if sf else 32
    wmask = ~U0 if sf else np.uint64(0xFFFFFFFF)
    if opcode == 2 or opcode == 3:                     # SCVTF, UCVTF
        r, fl = fixed_to_fp(regs[rn] & wmask, width, opcode == 3, fbits, fmt, fpcr)
        vset(regs, rd, r)
        return fl
    r, fl = fp_to_fixed(vget(regs, rn, fmt), fmt, fpcr, fbits, (opcode & 1) == 1, width,
                         np.int64(RM_RZ))
    regs[gpr_dst(rd)] = r
    return fl


@njit(cache=True)
def fpdp(regs, ctl, sysr, pc, aux, insn):
    """Execute one scalar FP instruction (FP access already checked by the caller)."""
    insn = np.int64(insn)
    fpcr = sysr[S_FPCR, R_VAL]
    rd = insn & 31
    rn = (insn >> 5) & 31
    rm = (insn >> 16) & 31
    fmt = fmt_of((insn >> 22) & 3)
    kind = aux & 31
    fl = 0
    if kind >= K_V3:
        if kind == K_V3 or kind == K_S3:
            fl = three_same(regs, fpcr, insn, kind == K_S3)
        elif kind == K_V2 or kind == K_S2:
            fl = two_misc(regs, fpcr, insn, kind == K_S2)
        elif kind == K_ACROSS or kind == K_SPAIR:
            fl = across(regs, fpcr, insn, kind == K_SPAIR)
        elif kind == K_VELEM or kind == K_SELEM:
            fl = by_element(regs, fpcr, insn, kind == K_SELEM)
        else:
            fl = shift_fixed(regs, fpcr, insn, kind == K_SSHIFT)
    elif kind == K_DP1:
        fl = exec_dp1(regs, fpcr, insn, fmt, rd, rn)
    elif kind == K_DP2:
        fl = exec_dp2(regs, fpcr, insn, fmt, rd, rn, rm)
    elif kind == K_DP3:
        fl = exec_dp3(regs, fpcr, insn, fmt, rd, rn, rm, (insn >> 10) & 31)
    elif kind == K_CMP or kind == K_CCMP:
        if kind == K_CCMP and not cond_holds((insn >> 12) & 15, np.int64(ctl[C_NZCV])):
            ctl[C_NZCV] = np.uint64(insn & 15)
        else:
            a = vget(regs, rn, fmt)
            if kind == K_CMP and (insn >> 3) & 1:      # FCMP{E} #0.0
                b = U0
            else:
                b = vget(regs, rm, fmt)
            signal = (insn >> 4) & 1            # FCMPE / FCCMPE
            nzcv, fl = fp_compare(a, b, fmt, fpcr, signal == 1)
            ctl[C_NZCV] = np.uint64(nzcv)
    elif kind == K_CSEL:
        if cond_holds((insn >> 12) & 15, np.int64(ctl[C_NZCV])):
            vset(regs, rd, vget(regs, rn, fmt))
        else:
            vset(regs, rd, vget(regs, rm, fmt))
    elif kind == K_IMM:
        vset(regs, rd, vfp_expand_imm((insn >> 13) & 255, fmt))
    elif kind == K_INT:
        fl = exec_int(regs, fpcr, insn, fmt, rd, rn)
    else:
        fl = exec_fixed(regs, fpcr, insn, fmt, rd, rn)
    if fl != 0:
        sysr[S_FPSR, R_VAL] = sysr[S_FPSR, R_VAL] | np.uint64(fl)
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True)
def fp_group(regs, ctl, sysr, sysmap, mem, tlb, pslot, slotpage, cb, op, w0, w1):
    """Entry of the floating-point group (cpu/groups.py): FPDP, FPMEM."""
    pc = ctl[C_PC]
    if op == OP_FPMEM:
        return np.int64(fp_mem(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, w0, w1))
    if fp_trapped(ctl, sysr):
        return np.int64(fp_trap(regs, ctl, sysr, pc))
    return np.int64(fpdp_words(regs, ctl, sysr, pc, w0, w1))


@njit(cache=True)
def fpdp_words(regs, ctl, sysr, pc, w0, w1):
    """FPDP from its decoded words (the FP group above and the vector loop,
    cpu/hotvec.py); FP access checked by the caller."""
    return fpdp(regs, ctl, sysr, pc, np.int64(w0 >> np.uint64(34)), w1)
