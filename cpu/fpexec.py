"""Semantics of the scalar floating-point instructions (op FPDP, decoded by cpu/isa/fp.py);
the Advanced SIMD floating-point forms share the op and are in cpu/fpvec.py.

The decoder has checked the encoding and stored the fields each form needs in w0/w1
(the layout is in cpu/isa/fp.py's doc string): the encoding class (K_*), the element
format, the operation within the class, register numbers (general-purpose operands
already as slots) and the immediate.  Arithmetic is cpu/fpu.py's; this module reads and
writes the registers, FPCR/FPSR and NZCV.  FPSR cumulative flags are ORed in as the
operation returns them.

No function here allocates: all compile without numba's reference counting
(_nrt=False).  With it numba increments and decrements each array argument's count
at the entry and exits of every function that calls another (its pruning pass gives
up at a call that could raise): atomic operations that cost about 110 ns of the FP
group's 170 ns for a scalar FADD.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import SH_AUX, SH_RA, SH_RD, SH_RM, SH_RN, C_NZCV, C_PC, VREG
from pyaarch64.cpu.ops import (K_DP1, K_DP2, K_DP3, K_CMP, K_CCMP, K_CSEL, K_IMM, K_INT,  # FPDP kinds
                               K_V3, K_S3, K_V2, K_S2, K_ACROSS, K_SPAIR, K_VELEM, K_SELEM)
from pyaarch64.cpu.opids import OP_FPMEM, unpack_FPDP
from pyaarch64.cpu.fpaccess import fp_mem, fp_trapped, fp_trap
from pyaarch64.cpu.sysregs import R_VAL, S_FPCR, S_FPSR
from pyaarch64.cpu.alu import cond_holds
from pyaarch64.cpu.fpu import (
    FMT_H, FMT_S, FMT_D, RM_RZ, RM_RA, nbits, rmode_of,
    fp_add, fp_mul, fp_muladd, fp_div, fp_sqrt, fp_compare, fp_minmax, fp_to_fixed,
    fixed_to_fp, fp_round_int, fp_convert)
from pyaarch64.cpu.fpvec import three_same, two_misc, across, by_element, shift_fixed

U0 = np.uint64(0)
U1 = np.uint64(1)



@njit(cache=True, _nrt=False)
def fmt_of(ftype):
    """ftype field: 00 single, 01 double, 11 half."""
    if ftype == 0:
        return FMT_S
    if ftype == 1:
        return FMT_D
    return FMT_H


@njit(cache=True, _nrt=False)
def mask_of(fmt):
    return (U1 << np.uint64(nbits(fmt))) - U1 if fmt != FMT_D else ~U0


@njit(cache=True, _nrt=False)
def vget(regs, n, fmt):
    return regs[VREG + 2 * n] & mask_of(fmt)


@njit(cache=True, _nrt=False)
def vset(regs, d, v):
    """Write a scalar (already zero-extended) to Vd; the rest of the register is zeroed."""
    regs[VREG + 2 * d] = v
    regs[VREG + 2 * d + 1] = U0


@njit(cache=True, _nrt=False)
def exec_dp1(regs, fpcr, opcode, fmt, rd, rn):
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


@njit(cache=True, _nrt=False)
def exec_dp2(regs, fpcr, opcode, fmt, rd, rn, rm):
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


@njit(cache=True, _nrt=False)
def exec_dp3(regs, fpcr, op, fmt, rd, rn, rm, ra):
    o1 = op >> 1
    o0 = op & 1
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


@njit(cache=True, _nrt=False)
def exec_int(regs, fpcr, op, sf, ftype, fmt, rd, rn):
    """FMOV (general), SCVTF/UCVTF, FCVT*: the general-purpose operand is a slot."""
    rmode = op >> 3
    opcode = op & 7
    width = 64 if sf else 32
    wmask = ~U0 if sf else np.uint64(0xFFFFFFFF)
    if opcode == 6 or opcode == 7:                     # FMOV
        if ftype == 2:                                   # top half of a 128-bit register
            if opcode == 6:
                regs[rd] = regs[VREG + 2 * rn + 1]
            else:
                regs[VREG + 2 * rd + 1] = regs[rn]
        elif opcode == 6:
            regs[rd] = vget(regs, rn, fmt) & wmask
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
    regs[rd] = r
    return fl


@njit(cache=True, _nrt=False)
def exec_fixed(regs, fpcr, opcode, sf, fbits, fmt, rd, rn):
    width = 64 if sf else 32
    wmask = ~U0 if sf else np.uint64(0xFFFFFFFF)
    if opcode == 2 or opcode == 3:                     # SCVTF, UCVTF
        r, fl = fixed_to_fp(regs[rn] & wmask, width, opcode == 3, fbits, fmt, fpcr)
        vset(regs, rd, r)
        return fl
    r, fl = fp_to_fixed(vget(regs, rn, fmt), fmt, fpcr, fbits, (opcode & 1) == 1, width,
                         np.int64(RM_RZ))
    regs[rd] = r
    return fl


@njit(cache=True, _nrt=False)
def fpdp(regs, ctl, sysr, pc, w0, w1):
    """Execute one FPDP instruction from its decoded words (the FP group below and the
    vector loop, cpu/hotvec.py); FP access checked by the caller."""
    fpcr = sysr[S_FPCR, R_VAL]
    m6 = np.uint64(63)
    rd = np.int64((w0 >> SH_RD) & m6)
    rn = np.int64((w0 >> SH_RN) & m6)
    rm = np.int64((w0 >> SH_RM) & m6)
    ra = np.int64((w0 >> SH_RA) & m6)
    aux = np.int64(w0 >> SH_AUX)
    kind, ftype, n, op, x = unpack_FPDP(aux)
    imm = np.int64(w1)
    fmt = fmt_of(ftype)
    fl = 0
    if kind >= K_V3:
        if kind == K_V3 or kind == K_S3:
            fl = three_same(regs, fpcr, op, fmt, n, rd, rn, rm)
        elif kind == K_V2 or kind == K_S2:
            fl = two_misc(regs, fpcr, op, fmt, n, x, kind == K_S2, rd, rn)
        elif kind == K_ACROSS or kind == K_SPAIR:
            fl = across(regs, fpcr, op, fmt, kind == K_SPAIR, rd, rn)
        elif kind == K_VELEM or kind == K_SELEM:
            fl = by_element(regs, fpcr, op, fmt, n, imm, rd, rn, rm)
        else:
            fl = shift_fixed(regs, fpcr, op, fmt, n, imm, rd, rn)
    elif kind == K_DP1:
        fl = exec_dp1(regs, fpcr, op, fmt, rd, rn)
    elif kind == K_DP2:
        fl = exec_dp2(regs, fpcr, op, fmt, rd, rn, rm)
    elif kind == K_DP3:
        fl = exec_dp3(regs, fpcr, op, fmt, rd, rn, rm, ra)
    elif kind == K_CMP or kind == K_CCMP:
        # op: with #0.0 | E << 1 (FCMPE/FCCMPE signal on quiet NaNs); CCMP: imm = cond | nzcv << 4
        if kind == K_CCMP and not cond_holds(imm & 15, np.int64(ctl[C_NZCV])):
            ctl[C_NZCV] = np.uint64(imm >> 4)
        else:
            a = vget(regs, rn, fmt)
            b = U0 if op & 1 else vget(regs, rm, fmt)
            nzcv, fl = fp_compare(a, b, fmt, fpcr, (op >> 1) == 1)
            ctl[C_NZCV] = np.uint64(nzcv)
    elif kind == K_CSEL:
        if cond_holds(imm, np.int64(ctl[C_NZCV])):
            vset(regs, rd, vget(regs, rn, fmt))
        else:
            vset(regs, rd, vget(regs, rm, fmt))
    elif kind == K_IMM:
        vset(regs, rd, w1)
    elif kind == K_INT:
        fl = exec_int(regs, fpcr, op, x, ftype, fmt, rd, rn)
    else:
        fl = exec_fixed(regs, fpcr, op, x, imm, fmt, rd, rn)
    if fl != 0:
        sysr[S_FPSR, R_VAL] = sysr[S_FPSR, R_VAL] | np.uint64(fl)
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True, _nrt=False)
def fp_group(regs, ctl, sysr, sysmap, bus, op, w0, w1):
    """Entry of the floating-point group (cpu/groups.py): FPDP, FPMEM."""
    pc = ctl[C_PC]
    if op == OP_FPMEM:
        return np.int64(fp_mem(regs, ctl, sysr, bus, pc, w0, w1))
    if fp_trapped(ctl, sysr):
        return np.int64(fp_trap(regs, ctl, sysr, pc))
    return np.int64(fpdp(regs, ctl, sysr, pc, w0, w1))


# the name the vector loop (cpu/hotvec.py) runs FPDP by: fpdp takes the decoded words
fpdp_words = fpdp
