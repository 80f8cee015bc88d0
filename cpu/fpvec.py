"""Advanced SIMD floating-point forms (vector and scalar-SIMD), lane by lane on the
softfloat of cpu/fpu.py.  Reached from cpu/fpexec.py's fpdp with the fields the decoder
(cpu/isa/fp.py, whose doc string has the layout) stored: the operation code, the element
format and count, register numbers and the immediate; the decoder has rejected the
unallocated and half-precision encodings.  FPSR flags of all lanes are ORed.

No function here allocates: all compile without numba's reference counting
(_nrt=False), which would otherwise increment and decrement the register array's count
around every call that passes it (atomic operations, most of an instruction's cost).
FMLA, the common vector form, calls the arithmetic from its lane loop without op3's
dispatch (inlining op3 itself into the loops was no faster and cost compile time).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import VREG
from pyaarch64.cpu.fpu import (
    FMT_H, FMT_S, FMT_D, RM_RN, RM_RP, RM_RM, RM_RZ, RM_RA, RM_ODD, nbits, rmode_of,
    fp_add, fp_mul_x, fp_muladd, fp_div, fp_sqrt, fp_minmax, fp_to_fixed, fixed_to_fp,
    fp_round_int, fp_convert, fp_convert_mode, fp_cmp_cond, fp_recip_step, fp_recip_est,
    fp_rsqrt_est, fp_recpx)

U0 = np.uint64(0)
U1 = np.uint64(1)
M32 = np.uint64(0xFFFFFFFF)


# (no division by the run-time element size: an integer division costs more than a
# lane's arithmetic)

@njit(cache=True, inline='always')
def lane(lo, hi, esize, i):
    """Element i of esize (16/32/64) bits of the 128-bit value hi:lo."""
    bit = esize * i
    w = lo if bit < 64 else hi
    if esize == 64:
        return w
    return (w >> np.uint64(bit & 63)) & ((U1 << np.uint64(esize)) - U1)


@njit(cache=True, inline='always')
def put(lo, hi, esize, i, v):
    """hi:lo with element i replaced by v."""
    bit = esize * i
    if esize == 64:
        if bit == 0:
            return v, hi
        return lo, v
    sh = np.uint64(bit & 63)
    m = ((U1 << np.uint64(esize)) - U1) << sh
    if bit < 64:
        return (lo & ~m) | ((v << sh) & m), hi
    return lo, (hi & ~m) | ((v << sh) & m)


@njit(cache=True, inline='always')
def vload(regs, n):
    return regs[VREG + 2 * n], regs[VREG + 2 * n + 1]


@njit(cache=True, inline='always')
def vstore(regs, d, lo, hi):
    regs[VREG + 2 * d] = lo
    regs[VREG + 2 * d + 1] = hi


@njit(cache=True, inline='always')
def ones(esize):
    return ~U0 if esize == 64 else (U1 << np.uint64(esize)) - U1


@njit(cache=True, _nrt=False)
def op3(code, x, y, acc, fmt, esize, fpcr):
    """One lane of a three-same FP operation; code = U<<4 | a<<3 | opcode<2:0>.  Flags and
    constants reach the softfloat as variables (no literal specialisations)."""
    sbit = U1 << np.uint64(nbits(fmt) - 1)
    op = code & 7
    a = (code >> 3) & 1
    if op == 0 or op == 6:                      # FMAXNM(P), FMINNM(P), FMAX(P), FMIN(P)
        return fp_minmax(x, y, fmt, fpcr, a == 0, op == 0)
    if code == 0x01 or code == 0x09:            # FMLA, FMLS
        return fp_muladd(acc, x ^ (sbit if a else U0), y, fmt, fpcr)
    if op == 2 and code != 0x1A or code == 0x0A:            # FADD(P), FSUB
        return fp_add(x, y, fmt, fpcr, code == 0x0A)
    if code == 0x1A:                            # FABD
        r, fl = fp_add(x, y, fmt, fpcr, code == 0x1A)
        return r & ~sbit, fl
    if code == 0x03 or code == 0x13:            # FMULX, FMUL
        return fp_mul_x(x, y, fmt, fpcr, code == 0x03)
    if code == 0x17:                            # FDIV
        return fp_div(x, y, fmt, fpcr)
    if code == 0x07 or code == 0x0F:            # FRECPS, FRSQRTS
        return fp_recip_step(x, y, fmt, fpcr, code == 0x0F)
    # compares: FCMEQ 0x04, FCMGE 0x14, FCMGT 0x1C, FACGE 0x15, FACGT 0x1D
    if code == 0x15 or code == 0x1D:
        x = x & ~sbit
        y = y & ~sbit
    if code == 0x04:
        c = np.int64(0)
    elif code == 0x14 or code == 0x15:
        c = np.int64(1)
    else:
        c = np.int64(2)
    b, fl = fp_cmp_cond(x, y, fmt, fpcr, c)
    return (ones(esize) if b else U0), fl


@njit(cache=True, _nrt=False)
def three_same(regs, fpcr, code, fmt, n, rd, rn, rm):
    """n lanes of fmt; code = U<<4 | a<<3 | opcode<2:0>."""
    esize = nbits(fmt)
    nlo, nhi = vload(regs, rn)
    mlo, mhi = vload(regs, rm)
    dlo, dhi = vload(regs, rd)
    pairwise = code == 0x10 or code == 0x18 or code == 0x12 or code == 0x16 or code == 0x1E
    rlo = U0
    rhi = U0
    fl = 0
    for i in range(n):
        if pairwise:
            j = 2 * i
            x = lane(nlo, nhi, esize, j) if j < n else lane(mlo, mhi, esize, j - n)
            y = lane(nlo, nhi, esize, j + 1) if j + 1 < n else lane(mlo, mhi, esize, j + 1 - n)
        else:
            x = lane(nlo, nhi, esize, i)
            y = lane(mlo, mhi, esize, i)
        acc = lane(dlo, dhi, esize, i)
        if code == 0x01:                   # FMLA, the common case, without op3's dispatch
            r, f = fp_muladd(acc, x, y, fmt, fpcr)
        else:
            r, f = op3(code, x, y, acc, fmt, esize, fpcr)
        fl |= f
        rlo, rhi = put(rlo, rhi, esize, i, r)
    vstore(regs, rd, rlo, rhi)
    return fl


@njit(cache=True, _nrt=False)
def by_element(regs, fpcr, code, fmt, n, idx, rd, rn, rm):
    """FMLA, FMLS, FMUL, FMULX (by element): code = U<<4 | opcode, Vm's element idx."""
    esize = nbits(fmt)
    u = code >> 4
    opc = code & 15
    nlo, nhi = vload(regs, rn)
    mlo, mhi = vload(regs, rm)
    dlo, dhi = vload(regs, rd)
    y = lane(mlo, mhi, esize, idx)
    sbit = U1 << np.uint64(esize - 1)
    rlo = U0
    rhi = U0
    fl = 0
    for i in range(n):
        x = lane(nlo, nhi, esize, i)
        if opc == 1 or opc == 5:
            r, f = fp_muladd(lane(dlo, dhi, esize, i), x ^ (sbit if opc == 5 else U0), y, fmt, fpcr)
        else:
            r, f = fp_mul_x(x, y, fmt, fpcr, u == 1)
        fl |= f
        rlo, rhi = put(rlo, rhi, esize, i, r)
    vstore(regs, rd, rlo, rhi)
    return fl


@njit(cache=True, _nrt=False)
def op2(code, x, fmt, esize, fpcr):
    """One lane of a two-register-misc FP operation; code = U<<6 | a<<5 | opcode."""
    sbit = U1 << np.uint64(esize - 1)
    op = code & 31
    if op >= 0x0C and op <= 0x0E:               # FCM{GT,EQ,LT,GE,LE} #0
        swap = code == 0x2E or code == 0x6D      # FCMLT, FCMLE: 0 > x, 0 >= x
        if code == 0x2D:
            c = np.int64(0)                      # FCMEQ
        elif code == 0x6C or code == 0x6D:
            c = np.int64(1)                      # FCMGE, FCMLE
        else:
            c = np.int64(2)                      # FCMGT, FCMLT
        b, fl = fp_cmp_cond(U0 if swap else x, x if swap else U0, fmt, fpcr, c)
        return (ones(esize) if b else U0), fl
    if code == 0x2F:
        return x & ~sbit, np.int64(0)                        # FABS
    if code == 0x6F:
        return x ^ sbit, np.int64(0)                         # FNEG
    if code == 0x7F:
        return fp_sqrt(x, fmt, fpcr)
    if code == 0x3F:
        return fp_recpx(x, fmt, fpcr)
    if code == 0x3D:
        return fp_recip_est(x, fmt, fpcr)
    if code == 0x7D:
        return fp_rsqrt_est(x, fmt, fpcr)
    if op == 0x1D:                                           # SCVTF, UCVTF
        return fixed_to_fp(x, esize, code == 0x5D, np.int64(0), fmt, fpcr)
    if op == 0x18 or op == 0x19:                             # FRINT*
        if code == 0x18:
            mode = np.int64(RM_RN)
        elif code == 0x19:
            mode = RM_RM
        elif code == 0x38:
            mode = RM_RP
        elif code == 0x39:
            mode = RM_RZ
        elif code == 0x58:
            mode = RM_RA
        else:                                                # FRINTX, FRINTI
            mode = rmode_of(fpcr)
        return fp_round_int(x, fmt, fpcr, mode, code == 0x59)
    # FCVT{N,M,A,P,Z}{S,U}
    a = (code >> 5) & 1
    if op == 0x1C:
        mode = np.int64(RM_RA)
    elif op == 0x1A:
        mode = np.int64(RM_RP if a else RM_RN)
    else:
        mode = np.int64(RM_RZ if a else RM_RM)
    return fp_to_fixed(x, fmt, fpcr, np.int64(0), (code >> 6) == 1, esize, mode)


@njit(cache=True, _nrt=False)
def two_misc(regs, fpcr, code, fmt, n, q, scalar, rd, rn):
    """n lanes of fmt; code = U<<6 | a<<5 | opcode; q: FCVTN2/FCVTL2 use Vd's/Vn's top half."""
    nlo, nhi = vload(regs, rn)
    sz = 1 if fmt == FMT_D else 0
    fl = 0
    op = code & 31
    if op == 0x16 or op == 0x17:
        # FCVTN/FCVTN2/FCVTXN (narrow into half of Vd), FCVTL/FCVTL2 (widen a half)
        big = np.int64(FMT_D if sz else FMT_S)
        small = np.int64(FMT_S if sz else FMT_H)
        be = 64 if sz else 32
        se = 32 if sz else 16
        per = 2 if sz else 4                    # small elements in 64 bits
        if op == 0x16:
            dlo, dhi = vload(regs, rd)
            part = U0
            npart = 1 if scalar else per
            for i in range(npart):
                x = lane(nlo, nhi, be, i)
                mode = np.int64(RM_ODD) if code == 0x56 else rmode_of(fpcr)
                r, f = fp_convert_mode(x, big, small, fpcr, mode)
                fl |= f
                part, _ = put(part, U0, se, i, r)
            if scalar:
                vstore(regs, rd, part, U0)
            elif q:
                vstore(regs, rd, dlo, part)
            else:
                vstore(regs, rd, part, U0)
            return fl
        src = nhi if q else nlo
        rlo = U0
        rhi = U0
        for i in range(per):
            x = lane(src, U0, se, i)
            r, f = fp_convert(x, small, big, fpcr)
            fl |= f
            rlo, rhi = put(rlo, rhi, be, i, r)
        vstore(regs, rd, rlo, rhi)
        return fl
    esize = nbits(fmt)
    rlo = U0
    rhi = U0
    for i in range(n):
        r, f = op2(code, lane(nlo, nhi, esize, i), fmt, esize, fpcr)
        fl |= f
        rlo, rhi = put(rlo, rhi, esize, i, r)
    vstore(regs, rd, rlo, rhi)
    return fl


@njit(cache=True, _nrt=False)
def reduce_op(code, x, y, fmt, fpcr):
    """FMAXNM(V/P), FMINNM, FMAX, FMIN, FADDP: code = a<<2 | opcode<1:0>."""
    op = code & 3
    if op == 1:
        return fp_add(x, y, fmt, fpcr, op == 0)
    return fp_minmax(x, y, fmt, fpcr, (code >> 2) == 0, op == 0)


@njit(cache=True, _nrt=False)
def across(regs, fpcr, code, fmt, pair, rd, rn):
    """FMAXNMV/FMINNMV/FMAXV/FMINV (4S), or scalar pairwise FMAXNMP/FMINNMP/FADDP/
    FMAXP/FMINP (`pair`: the two elements of Vn's low 64 or 128 bits); code = a<<2 |
    opcode<1:0>."""
    nlo, nhi = vload(regs, rn)
    if pair:
        esize = nbits(fmt)
        r, fl = reduce_op(code, lane(nlo, nhi, esize, 0), lane(nlo, nhi, esize, 1), fmt, fpcr)
        vstore(regs, rd, r, U0)
        return fl
    s = np.int64(FMT_S)
    a, f1 = reduce_op(code, lane(nlo, nhi, 32, 0), lane(nlo, nhi, 32, 1), s, fpcr)
    b, f2 = reduce_op(code, lane(nlo, nhi, 32, 2), lane(nlo, nhi, 32, 3), s, fpcr)
    r, f3 = reduce_op(code, a, b, s, fpcr)
    vstore(regs, rd, r, U0)
    return f1 | f2 | f3


@njit(cache=True, _nrt=False)
def shift_fixed(regs, fpcr, code, fmt, n, fbits, rd, rn):
    """SCVTF/UCVTF/FCVTZS/FCVTZU (vector and scalar, fixed-point, shift by immediate):
    code = U | to-FP << 1."""
    esize = nbits(fmt)
    u = code & 1
    nlo, nhi = vload(regs, rn)
    to_fp = (code >> 1) == 1
    rlo = U0
    rhi = U0
    fl = 0
    for i in range(n):
        x = lane(nlo, nhi, esize, i)
        if to_fp:
            r, f = fixed_to_fp(x, esize, u == 1, fbits, fmt, fpcr)
        else:
            r, f = fp_to_fixed(x, fmt, fpcr, fbits, u == 1, esize, np.int64(RM_RZ))
        fl |= f
        rlo, rhi = put(rlo, rhi, esize, i, r)
    vstore(regs, rd, rlo, rhi)
    return fl
