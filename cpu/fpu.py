"""IEEE 754 arithmetic in integers, after the Arm ARM pseudocode (FPUnpack, FPRound,
FPAdd, FPMul, FPMulAdd, FPDiv, FPSqrt, FPToFixed, FixedToFP, FPConvert, FPRoundInt,
FPProcessNaNs, FPCompare, FPMax/FPMin[Num]).

Element-wise: every operation takes raw bit patterns (np.uint64, low N bits used), a
format code (FMT_H/FMT_S/FMT_D), the FPCR value and returns (result bits, flags), where
flags are FPSR cumulative bits (IOC, DZC, OFC, UFC, IXC, IDC) to OR into FPSR; vector
forms call the same functions per lane.

fp_add, fp_mul_x, fp_muladd, fp_div, fp_sqrt, fp_convert_mode, fixed_to_fp and
fp_to_fixed first try cpu/fpfast.py's fast path (host floating point, or for
fp_to_fixed plain truncation), which answers only where it can prove the result and
flags equal to the integer code's (normal operands and results, round to nearest or
toward zero); every other case runs the integer code below, which is also callable
alone as fp_*_soft (the tests compare the two).

Inside, a finite value is (sign, exp, mant): value = (-1)**sign * mant * 2**exp, mant an
int64 below 2**62 whose bit 0 may carry a sticky bit (it is always below the rounding
point).  Wider intermediates (products, the fused multiply-add) use 128-bit (hi, lo)
uint64 pairs.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu import fpformat
from pyaarch64.cpu.fpfast import (fast_add, fast_mul, fast_muladd, fast_div, fast_sqrt,
                                  fast_convert, fast_fixed_to_fp, fast_to_fixed)
from pyaarch64.cpu.fpformat import (
    U0, U1, M32, FMT_H, F_IOC, F_DZC, F_OFC, F_UFC, F_IXC, F_IDC, FPCR_AHP, FPCR_DN, FPCR_FZ,
    RM_RN, RM_RP, RM_RM, RM_RZ, RM_RA, RM_ODD, fbits, ebits, nbits, rmode_of, fpcr_bit)

# callers import the formats from here too
FMT_S, FMT_D, FPCR_RMODE = fpformat.FMT_S, fpformat.FMT_D, fpformat.FPCR_RMODE

# FPUnpack types
T_ZERO, T_DENORM, T_NORMAL, T_INF, T_QNAN, T_SNAN = 0, 1, 2, 3, 4, 5


@njit(cache=True, inline='always')
def pack(sign, bexp, frac, fmt):
    """Bit pattern from sign, biased exponent and fraction (all int64)."""
    return ((np.uint64(sign) << np.uint64(nbits(fmt) - 1)) | (np.uint64(bexp) << np.uint64(fbits(fmt)))
            | np.uint64(frac))


@njit(cache=True)
def fields(x, fmt):
    """(sign, biased exponent, fraction) of a bit pattern, as int64."""
    n = nbits(fmt)
    f = fbits(fmt)
    sign = np.int64((x >> np.uint64(n - 1)) & U1)
    rest = np.int64(x & ((U1 << np.uint64(n - 1)) - U1))
    return sign, rest >> f, rest & ((np.int64(1) << f) - 1)


@njit(cache=True, inline='always')
def fp_zero(sign, fmt):
    return pack(sign, 0, 0, fmt)


@njit(cache=True, inline='always')
def fp_inf(sign, fmt):
    return pack(sign, (1 << ebits(fmt)) - 1, 0, fmt)


@njit(cache=True, inline='always')
def fp_maxnormal(sign, fmt):
    f = fbits(fmt)
    return pack(sign, (1 << ebits(fmt)) - 2, (np.int64(1) << f) - 1, fmt)


@njit(cache=True, inline='always')
def default_nan(fmt):
    f = fbits(fmt)
    return pack(0, (1 << ebits(fmt)) - 1, np.int64(1) << (f - 1), fmt)


@njit(cache=True)
def unpack(x, fmt, fpcr):
    """FPUnpack: (type, sign, exp, mant, flags).  FPCR.FZ flushes S/D denormals (IDC);
    FPCR.AHP makes H exponent 31 an ordinary exponent."""
    sign, e, frac = fields(x, fmt)
    f = fbits(fmt)
    emax = (1 << ebits(fmt)) - 1
    bias = (1 << (ebits(fmt) - 1)) - 1
    if e == 0:
        if frac == 0:
            return T_ZERO, sign, np.int64(0), np.int64(0), 0
        if fmt != FMT_H and fpcr_bit(fpcr, FPCR_FZ):
            return T_ZERO, sign, np.int64(0), np.int64(0), F_IDC
        return T_DENORM, sign, np.int64(1 - bias - f), frac, 0
    if e == emax and not (fmt == FMT_H and fpcr_bit(fpcr, FPCR_AHP)):
        if frac == 0:
            return T_INF, sign, np.int64(0), np.int64(0), 0
        if (frac >> (f - 1)) & 1:
            return T_QNAN, sign, np.int64(0), frac, 0
        return T_SNAN, sign, np.int64(0), frac, 0
    return T_NORMAL, sign, np.int64(e - bias - f), frac | (np.int64(1) << f), 0


@njit(cache=True, inline='always')
def is_nan(t):
    return t == T_QNAN or t == T_SNAN


@njit(cache=True)
def process_nan(t, x, fmt, fpcr):
    """FPProcessNaN: quieten a signalling NaN (IOC); default NaN when FPCR.DN."""
    fl = 0
    if t == T_SNAN:
        fl = F_IOC
        x = x | (U1 << np.uint64(fbits(fmt) - 1))
    if fpcr_bit(fpcr, FPCR_DN):
        return default_nan(fmt), fl
    return x & ((U1 << np.uint64(nbits(fmt) - 1)) | ((U1 << np.uint64(nbits(fmt) - 1)) - U1)), fl


@njit(cache=True)
def process_nans(t1, t2, x1, x2, fmt, fpcr):
    """FPProcessNaNs: (done, result, flags); signalling before quiet, operand order."""
    if t1 == T_SNAN:
        r, fl = process_nan(t1, x1, fmt, fpcr)
        return True, r, fl
    if t2 == T_SNAN:
        r, fl = process_nan(t2, x2, fmt, fpcr)
        return True, r, fl
    if t1 == T_QNAN:
        r, fl = process_nan(t1, x1, fmt, fpcr)
        return True, r, fl
    if t2 == T_QNAN:
        r, fl = process_nan(t2, x2, fmt, fpcr)
        return True, r, fl
    return False, U0, 0


@njit(cache=True)
def process_nans3(t1, t2, t3, x1, x2, x3, fmt, fpcr):
    if t1 == T_SNAN:
        r, fl = process_nan(t1, x1, fmt, fpcr)
        return True, r, fl
    if t2 == T_SNAN:
        r, fl = process_nan(t2, x2, fmt, fpcr)
        return True, r, fl
    if t3 == T_SNAN:
        r, fl = process_nan(t3, x3, fmt, fpcr)
        return True, r, fl
    if t1 == T_QNAN:
        r, fl = process_nan(t1, x1, fmt, fpcr)
        return True, r, fl
    if t2 == T_QNAN:
        r, fl = process_nan(t2, x2, fmt, fpcr)
        return True, r, fl
    if t3 == T_QNAN:
        r, fl = process_nan(t3, x3, fmt, fpcr)
        return True, r, fl
    return False, U0, 0


@njit(cache=True)
def msb(m):
    """Index of the highest set bit of a positive int64 (-1 for 0)."""
    n = -1
    while m > 0:
        m >>= 1
        n += 1
    return n


@njit(cache=True)
def shr_sticky(m, n):
    """m >> n with every bit shifted out ORed into bit 0 (int64, m >= 0)."""
    if n <= 0:
        return m
    if n >= 63:
        return np.int64(1) if m != 0 else np.int64(0)
    r = m >> n
    if (m & ((np.int64(1) << n) - 1)) != 0:
        r |= 1
    return r


@njit(cache=True)
def round_decision(q, rem, sh, neg, mode):
    """Whether to round the magnitude q up, given the sh bits `rem` cut off below it."""
    if sh <= 0 or rem == 0:
        return False
    if sh >= 63:
        half = False          # rem < 2**62 <= half: below one half
        above = False
    else:
        h = np.int64(1) << (sh - 1)
        half = rem == h
        above = rem > h
    if mode == RM_RN:
        return above or (half and (q & 1) == 1)
    if mode == RM_RA:
        return above or half
    if mode == RM_RP:
        return not neg
    if mode == RM_RM:
        return neg
    return False


@njit(cache=True)
def fp_round(sign, exp, mant, fmt, fpcr, mode, flush):
    """FPRound of the nonzero value mant * 2**exp (mant < 2**62, sticky in bit 0);
    `flush`: FPCR.FZ applies to the output.  Returns (bits, flags)."""
    f = fbits(fmt)
    e_bits = ebits(fmt)
    bias = (1 << (e_bits - 1)) - 1
    m = msb(mant)
    if m < 61:
        mant = mant << (61 - m)
        exp -= 61 - m
    # value = 1.xxx * 2**e
    e = exp + 61
    min_exp = 1 - bias
    if flush and fmt != FMT_H and fpcr_bit(fpcr, FPCR_FZ) and e < min_exp:
        return fp_zero(sign, fmt), F_UFC
    fl = 0
    bexp = e - min_exp + 1
    sh = 61 - f
    if bexp <= 0:
        sh += min_exp - e
        bexp = 0
    if sh >= 63:
        q = np.int64(0)
        rem = mant
    else:
        q = mant >> sh
        rem = mant & ((np.int64(1) << sh) - 1)
    inexact = rem != 0
    if bexp == 0 and inexact:
        fl |= F_UFC
    up = round_decision(q, rem, sh, sign == 1, mode)
    if mode == RM_RN or mode == RM_RA:
        ovf_inf = True
    elif mode == RM_RP:
        ovf_inf = sign == 0
    elif mode == RM_RM:
        ovf_inf = sign == 1
    else:
        ovf_inf = False
    if up:
        q += 1
        if q == (np.int64(1) << f):      # denormal rounded up to the smallest normal
            bexp = 1
        if q == (np.int64(1) << (f + 1)):
            bexp += 1
            q >>= 1
    if mode == RM_ODD and inexact:
        q |= 1
    if fmt != FMT_H or not fpcr_bit(fpcr, FPCR_AHP):
        if bexp >= (1 << e_bits) - 1:
            fl |= F_OFC | F_IXC
            if ovf_inf:
                return fp_inf(sign, fmt), fl
            return fp_maxnormal(sign, fmt), fl
    else:
        if bexp >= (1 << e_bits):
            return pack(sign, (1 << e_bits) - 1, (np.int64(1) << f) - 1, fmt), fl | F_IOC
    if inexact:
        fl |= F_IXC
    return pack(sign, bexp, q & ((np.int64(1) << f) - 1), fmt), fl


# --- 128-bit helpers (uint64 pairs) -------------------------------------------------

@njit(cache=True)
def mul64(a, b):
    """Full product of two uint64: (hi, lo)."""
    a0 = a & M32
    a1 = a >> np.uint64(32)
    b0 = b & M32
    b1 = b >> np.uint64(32)
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> np.uint64(32)) + (p01 & M32) + (p10 & M32)
    lo = (p00 & M32) | (mid << np.uint64(32))
    hi = p11 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (mid >> np.uint64(32))
    return hi, lo


@njit(cache=True)
def msb128(hi, lo):
    if hi != U0:
        return 64 + msb64(hi)
    return msb64(lo)


@njit(cache=True)
def msb64(x):
    n = -1
    while x != U0:
        x = x >> U1
        n += 1
    return n


@njit(cache=True)
def shl128(hi, lo, n):
    if n <= 0:
        return hi, lo
    if n >= 128:
        return U0, U0
    if n >= 64:
        return lo << np.uint64(n - 64), U0
    return (hi << np.uint64(n)) | (lo >> np.uint64(64 - n)), lo << np.uint64(n)


@njit(cache=True)
def shr128_sticky(hi, lo, n):
    """(hi:lo) >> n, bits shifted out ORed into bit 0."""
    if n <= 0:
        return hi, lo
    if n >= 128:
        return U0, (U1 if (hi | lo) != U0 else U0)
    if n >= 64:
        s = n - 64
        r = hi >> np.uint64(s) if s < 64 else U0
        lost = lo != U0 or (s > 0 and (hi & ((U1 << np.uint64(s)) - U1)) != U0)
        return U0, r | (U1 if lost else U0)
    rlo = (lo >> np.uint64(n)) | (hi << np.uint64(64 - n))
    rhi = hi >> np.uint64(n)
    if (lo & ((U1 << np.uint64(n)) - U1)) != U0:
        rlo |= U1
    return rhi, rlo


@njit(cache=True)
def add128(ah, al, bh, bl):
    lo = al + bl
    c = U1 if lo < al else U0
    return ah + bh + c, lo


@njit(cache=True)
def sub128(ah, al, bh, bl):
    lo = al - bl
    b = U1 if al < bl else U0
    return ah - bh - b, lo


@njit(cache=True)
def lt128(ah, al, bh, bl):
    return ah < bh or (ah == bh and al < bl)


@njit(cache=True)
def to62(hi, lo, exp):
    """A nonzero 128-bit magnitude * 2**exp as (mant < 2**62 with sticky, exp)."""
    m = msb128(hi, lo)
    if m > 61:
        hi, lo = shr128_sticky(hi, lo, m - 61)
        exp += m - 61
    return np.int64(lo), exp


# --- arithmetic ---------------------------------------------------------------------

@njit(cache=True)
def fp_add(x1, x2, fmt, fpcr, neg2):
    """FPAdd (neg2: FPSub, the second operand's sign inverted except for NaNs)."""
    ok, r, fl = fast_add(x1, x2, fmt, fpcr, neg2)
    if ok:
        return r, fl
    return fp_add_soft(x1, x2, fmt, fpcr, neg2)


@njit(cache=True)
def fp_add_soft(x1, x2, fmt, fpcr, neg2):
    """fp_add in integers only (every case; tests compare the fast path with it)."""
    t1, s1, e1, m1, f1 = unpack(x1, fmt, fpcr)
    t2, s2, e2, m2, f2 = unpack(x2, fmt, fpcr)
    fl = f1 | f2
    done, r, fn = process_nans(t1, t2, x1, x2, fmt, fpcr)
    if done:
        return r, fl | fn
    if neg2:
        s2 ^= 1
    inf1 = t1 == T_INF
    inf2 = t2 == T_INF
    if inf1 and inf2 and s1 != s2:
        return default_nan(fmt), fl | F_IOC
    if (inf1 and s1 == 0) or (inf2 and s2 == 0):
        return fp_inf(0, fmt), fl
    if inf1 or inf2:
        return fp_inf(1, fmt), fl
    z1 = t1 == T_ZERO
    z2 = t2 == T_ZERO
    mode = rmode_of(fpcr)
    if z1 and z2 and s1 == s2:
        return fp_zero(s1, fmt), fl
    if z1 and z2:
        return fp_zero(1 if mode == RM_RM else 0, fmt), fl
    if z1:
        r, fr = fp_round(s2, e2, m2, fmt, fpcr, mode, True)
        return r, fl | fr
    if z2:
        r, fr = fp_round(s1, e1, m1, fmt, fpcr, mode, True)
        return r, fl | fr
    # align at bit 60 (headroom for the carry), smaller exponent shifted with sticky
    a = m1 << (60 - msb(m1))
    ea = e1 - (60 - msb(m1))
    b = m2 << (60 - msb(m2))
    eb = e2 - (60 - msb(m2))
    if ea < eb or (ea == eb and a < b):
        a, b = b, a
        ea, eb = eb, ea
        s1, s2 = s2, s1
    b = shr_sticky(b, ea - eb)
    if s1 == s2:
        m = a + b
    else:
        m = a - b
    if m == 0:
        return fp_zero(1 if mode == RM_RM else 0, fmt), fl
    r, fr = fp_round(s1, ea, m, fmt, fpcr, mode, True)
    return r, fl | fr


@njit(cache=True)
def fp_mul(x1, x2, fmt, fpcr):
    return fp_mul_x(x1, x2, fmt, fpcr, np.bool_(False))


@njit(cache=True)
def fp_mul_x(x1, x2, fmt, fpcr, mulx):
    """FPMul, or FPMulX when `mulx` (infinity times zero is 2.0, not invalid)."""
    ok, r, fl = fast_mul(x1, x2, fmt, fpcr)
    if ok:
        return r, fl
    return fp_mul_x_soft(x1, x2, fmt, fpcr, mulx)


@njit(cache=True)
def fp_mul_x_soft(x1, x2, fmt, fpcr, mulx):
    """fp_mul_x in integers only."""
    t1, s1, e1, m1, f1 = unpack(x1, fmt, fpcr)
    t2, s2, e2, m2, f2 = unpack(x2, fmt, fpcr)
    fl = f1 | f2
    done, r, fn = process_nans(t1, t2, x1, x2, fmt, fpcr)
    if done:
        return r, fl | fn
    s = s1 ^ s2
    inf1 = t1 == T_INF
    inf2 = t2 == T_INF
    z1 = t1 == T_ZERO
    z2 = t2 == T_ZERO
    if (inf1 and z2) or (z1 and inf2):
        if mulx:
            return fp_const(fmt, 1, 0) | (np.uint64(s) << np.uint64(nbits(fmt) - 1)), fl
        return default_nan(fmt), fl | F_IOC
    if inf1 or inf2:
        return fp_inf(s, fmt), fl
    if z1 or z2:
        return fp_zero(s, fmt), fl
    hi, lo = mul64(np.uint64(m1), np.uint64(m2))
    m, e = to62(hi, lo, e1 + e2)
    r, fr = fp_round(s, e, m, fmt, fpcr, rmode_of(fpcr), True)
    return r, fl | fr


@njit(cache=True)
def fp_muladd(xa, x1, x2, fmt, fpcr):
    """FPMulAdd: xa + x1 * x2 with a single rounding."""
    ok, r, fl = fast_muladd(xa, x1, x2, fmt, fpcr)
    if ok:
        return r, fl
    return muladd_core(xa, x1, x2, fmt, fpcr, np.int64(0))


@njit(cache=True)
def fp_muladd_soft(xa, x1, x2, fmt, fpcr):
    """fp_muladd in integers only."""
    return muladd_core(xa, x1, x2, fmt, fpcr, np.int64(0))


@njit(cache=True)
def muladd_core(xa, x1, x2, fmt, fpcr, scale):
    """(xa + x1 * x2) * 2**scale, one rounding (scale: FRSQRTS's halving)."""
    ta, sa, ea, ma, fa = unpack(xa, fmt, fpcr)
    t1, s1, e1, m1, f1 = unpack(x1, fmt, fpcr)
    t2, s2, e2, m2, f2 = unpack(x2, fmt, fpcr)
    fl = fa | f1 | f2
    inf1 = t1 == T_INF
    inf2 = t2 == T_INF
    z1 = t1 == T_ZERO
    z2 = t2 == T_ZERO
    done, r, fn = process_nans3(ta, t1, t2, xa, x1, x2, fmt, fpcr)
    if ta == T_QNAN and ((inf1 and z2) or (z1 and inf2)):
        return default_nan(fmt), fl | fn | F_IOC
    if done:
        return r, fl | fn
    infa = ta == T_INF
    za = ta == T_ZERO
    sp = s1 ^ s2
    infp = inf1 or inf2
    zp = z1 or z2
    if (inf1 and z2) or (z1 and inf2):
        return default_nan(fmt), fl | F_IOC
    if infa and infp and sa != sp:
        return default_nan(fmt), fl | F_IOC
    if (infa and sa == 0) or (infp and sp == 0):
        return fp_inf(0, fmt), fl
    if infa or infp:
        return fp_inf(1, fmt), fl
    mode = rmode_of(fpcr)
    if za and zp:
        if sa == sp:
            return fp_zero(sa, fmt), fl
        return fp_zero(1 if mode == RM_RM else 0, fmt), fl
    if zp:
        r, fr = fp_round(sa, ea + scale, ma, fmt, fpcr, mode, True)
        return r, fl | fr
    ph, pl = mul64(np.uint64(m1), np.uint64(m2))
    pe = e1 + e2
    if za:
        m, e = to62(ph, pl, pe)
        r, fr = fp_round(sp, e + scale, m, fmt, fpcr, mode, True)
        return r, fl | fr
    # both nonzero: align the leading bits at 125, shift the smaller with sticky
    k = 125 - msb128(ph, pl)
    ph, pl = shl128(ph, pl, k)
    pe -= k
    k = 125 - msb(ma)
    ah, al = shl128(U0, np.uint64(ma), k)
    ae = ea - k
    sgn_big = sa
    sgn_small = sp
    bh, bl, be = ah, al, ae
    ch, cl, ce = ph, pl, pe
    if pe > ae or (pe == ae and lt128(ah, al, ph, pl)):
        bh, bl, be = ph, pl, pe
        ch, cl, ce = ah, al, ae
        sgn_big = sp
        sgn_small = sa
    ch, cl = shr128_sticky(ch, cl, be - ce)
    if sgn_big == sgn_small:
        rh, rl = add128(bh, bl, ch, cl)
    else:
        rh, rl = sub128(bh, bl, ch, cl)
    if rh == U0 and rl == U0:
        return fp_zero(1 if mode == RM_RM else 0, fmt), fl
    m, e = to62(rh, rl, be)
    r, fr = fp_round(sgn_big, e + scale, m, fmt, fpcr, mode, True)
    return r, fl | fr


@njit(cache=True, inline='always')
def fp_const(fmt, bexp_off, top):
    """+2**bexp_off * (1 + top/2): 2.0, 3.0, 1.5 for the step functions."""
    f = fbits(fmt)
    bias = (1 << (ebits(fmt) - 1)) - 1
    return pack(0, bias + bexp_off, np.int64(top) << (f - 1), fmt)


@njit(cache=True)
def fp_recip_step(x1, x2, fmt, fpcr, rsqrt):
    """FPRecipStepFused (2 - x1*x2) or FPRSqrtStepFused ((3 - x1*x2) / 2)."""
    x1 = x1 ^ (U1 << np.uint64(nbits(fmt) - 1))
    t1, s1, e1, m1, f1 = unpack(x1, fmt, fpcr)
    t2, s2, e2, m2, f2 = unpack(x2, fmt, fpcr)
    if not is_nan(t1) and not is_nan(t2) and ((t1 == T_INF and t2 == T_ZERO)
                                              or (t1 == T_ZERO and t2 == T_INF)):
        return (fp_const(fmt, 0, 1) if rsqrt else fp_const(fmt, 1, 0)), f1 | f2
    scale = np.int64(-1) if rsqrt else np.int64(0)
    return muladd_core(fp_const(fmt, 1, 1 if rsqrt else 0), x1, x2, fmt, fpcr, scale)


@njit(cache=True)
def fp_div(x1, x2, fmt, fpcr):
    ok, r, fl = fast_div(x1, x2, fmt, fpcr)
    if ok:
        return r, fl
    return fp_div_soft(x1, x2, fmt, fpcr)


@njit(cache=True)
def fp_div_soft(x1, x2, fmt, fpcr):
    """FPDiv in integers only."""
    t1, s1, e1, m1, f1 = unpack(x1, fmt, fpcr)
    t2, s2, e2, m2, f2 = unpack(x2, fmt, fpcr)
    fl = f1 | f2
    done, r, fn = process_nans(t1, t2, x1, x2, fmt, fpcr)
    if done:
        return r, fl | fn
    s = s1 ^ s2
    inf1 = t1 == T_INF
    inf2 = t2 == T_INF
    z1 = t1 == T_ZERO
    z2 = t2 == T_ZERO
    if (inf1 and inf2) or (z1 and z2):
        return default_nan(fmt), fl | F_IOC
    if inf1 or z2:
        return fp_inf(s, fmt), fl | (0 if inf1 else F_DZC)
    if z1 or inf2:
        return fp_zero(s, fmt), fl
    # normalise both to 53 bits, restoring division for 62 quotient bits
    k1 = 52 - msb(m1)
    k2 = 52 - msb(m2)
    a = m1 << k1
    b = m2 << k2
    e = (e1 - k1) - (e2 - k2)
    q = np.int64(0)
    rem = a
    for _ in range(62):
        q <<= 1
        if rem >= b:
            rem -= b
            q |= 1
        rem <<= 1
    # q = floor(a / b * 2**61)
    e -= 61
    # the remainder is a sticky bit (bit 0 is far below the rounding point)
    if rem != 0:
        q |= 1
    r, fr = fp_round(s, e, q, fmt, fpcr, rmode_of(fpcr), True)
    return r, fl | fr


@njit(cache=True)
def fp_sqrt(x, fmt, fpcr):
    ok, r, fl = fast_sqrt(x, fmt, fpcr)
    if ok:
        return r, fl
    return fp_sqrt_soft(x, fmt, fpcr)


@njit(cache=True)
def fp_sqrt_soft(x, fmt, fpcr):
    """FPSqrt in integers only."""
    t, s, e, m, f0 = unpack(x, fmt, fpcr)
    if is_nan(t):
        r, fn = process_nan(t, x, fmt, fpcr)
        return r, f0 | fn
    if t == T_ZERO:
        return fp_zero(s, fmt), f0
    if t == T_INF and s == 0:
        return fp_inf(0, fmt), f0
    if s == 1:
        return default_nan(fmt), f0 | F_IOC
    if e & 1:
        m <<= 1
        e -= 1
    pairs = (msb(m) + 2) // 2        # 2-bit digits in m
    n = 60
    q = np.int64(0)
    rem = np.int64(0)
    for i in range(n):
        pos = 2 * (pairs - 1 - i)
        d = (m >> pos) & 3 if pos >= 0 else np.int64(0)
        rem = (rem << 2) | d
        trial = (q << 2) | 1
        q <<= 1
        if rem >= trial:
            rem -= trial
            q |= 1
    # sqrt(m * 4**(n - pairs)) = q (+ fraction); value = that * 2**(e/2 - (n - pairs))
    re = e // 2 - (n - pairs)
    mant = (q << 1) | (1 if rem != 0 else 0)
    r, fr = fp_round(np.int64(0), re - 1, mant, fmt, fpcr, rmode_of(fpcr), True)
    return r, f0 | fr


@njit(cache=True)
def cmp_vals(t1, s1, e1, m1, t2, s2, e2, m2):
    """-1, 0, 1 for two non-NaN unpacked values."""
    z1 = t1 == T_ZERO
    z2 = t2 == T_ZERO
    if z1 and z2:
        return 0
    # sign of each: zero counts as 0
    g1 = 0 if z1 else (-1 if s1 else 1)
    g2 = 0 if z2 else (-1 if s2 else 1)
    if g1 != g2:
        return -1 if g1 < g2 else 1
    # same nonzero sign: compare magnitudes
    c = cmp_mag(t1, e1, m1, t2, e2, m2)
    return -c if g1 < 0 else c


@njit(cache=True)
def cmp_mag(t1, e1, m1, t2, e2, m2):
    i1 = t1 == T_INF
    i2 = t2 == T_INF
    if i1 or i2:
        if i1 and i2:
            return 0
        return 1 if i1 else -1
    # normalise to the leading bit at 61
    k1 = 61 - msb(m1)
    k2 = 61 - msb(m2)
    a = m1 << k1
    b = m2 << k2
    x1 = e1 - k1
    x2 = e2 - k2
    if x1 != x2:
        return 1 if x1 > x2 else -1
    if a != b:
        return 1 if a > b else -1
    return 0


@njit(cache=True)
def fp_compare(x1, x2, fmt, fpcr, signal):
    """FPCompare: (NZCV, flags); unordered is 0b0011 (IOC for signalling NaNs, or any NaN
    when `signal`)."""
    t1, s1, e1, m1, f1 = unpack(x1, fmt, fpcr)
    t2, s2, e2, m2, f2 = unpack(x2, fmt, fpcr)
    fl = f1 | f2
    if is_nan(t1) or is_nan(t2):
        if signal or t1 == T_SNAN or t2 == T_SNAN:
            fl |= F_IOC
        return 3, fl
    c = cmp_vals(t1, s1, e1, m1, t2, s2, e2, m2)
    if c == 0:
        return 6, fl
    if c < 0:
        return 8, fl
    return 2, fl


@njit(cache=True)
def fp_cmp_cond(x1, x2, fmt, fpcr, cond):
    """FPCompareEQ (cond 0), FPCompareGE (1), FPCompareGT (2): (bool, flags).  NaNs compare
    false; IOC for signalling NaNs (EQ) or any NaN (GE, GT)."""
    t1, s1, e1, m1, f1 = unpack(x1, fmt, fpcr)
    t2, s2, e2, m2, f2 = unpack(x2, fmt, fpcr)
    fl = f1 | f2
    if is_nan(t1) or is_nan(t2):
        if cond != 0 or t1 == T_SNAN or t2 == T_SNAN:
            fl |= F_IOC
        return False, fl
    c = cmp_vals(t1, s1, e1, m1, t2, s2, e2, m2)
    if cond == 0:
        return c == 0, fl
    if cond == 1:
        return c >= 0, fl
    return c > 0, fl


@njit(cache=True)
def fp_minmax(x1, x2, fmt, fpcr, is_max, num):
    """FPMax/FPMin, and FPMaxNum/FPMinNum when `num` (a quiet NaN loses to a number)."""
    t1, s1, e1, m1, f1 = unpack(x1, fmt, fpcr)
    t2, s2, e2, m2, f2 = unpack(x2, fmt, fpcr)
    fl = f1 | f2
    if num:
        if t1 == T_QNAN and t2 != T_QNAN:
            x1 = fp_inf(1 if is_max else 0, fmt)
            t1, s1, e1, m1, _ = unpack(x1, fmt, fpcr)
        elif t2 == T_QNAN and t1 != T_QNAN:
            x2 = fp_inf(1 if is_max else 0, fmt)
            t2, s2, e2, m2, _ = unpack(x2, fmt, fpcr)
    done, r, fn = process_nans(t1, t2, x1, x2, fmt, fpcr)
    if done:
        return r, fl | fn
    c = cmp_vals(t1, s1, e1, m1, t2, s2, e2, m2)
    first = c > 0 if is_max else c < 0
    if first:
        t, s, e, m = t1, s1, e1, m1
    else:
        t, s, e, m = t2, s2, e2, m2
    if t == T_INF:
        return fp_inf(s, fmt), fl
    if t == T_ZERO:
        if is_max:
            s = s1 & s2 if (t1 == T_ZERO and t2 == T_ZERO) else s
        else:
            s = s1 | s2 if (t1 == T_ZERO and t2 == T_ZERO) else s
        return fp_zero(s, fmt), fl
    r, fr = fp_round(s, e, m, fmt, fpcr, rmode_of(fpcr), True)
    return r, fl | fr


# --- conversions --------------------------------------------------------------------

@njit(cache=True)
def round_to_int(s, e, m, mode):
    """Round mant * 2**e (e < 0) to an integer magnitude: (q, inexact)."""
    sh = -e
    if sh >= 63:
        q = np.int64(0)
        rem = m
    else:
        q = m >> sh
        rem = m & ((np.int64(1) << sh) - 1)
    if round_decision(q, rem, sh, s == 1, mode):
        q += 1
    return q, rem != 0


@njit(cache=True)
def fp_to_fixed(x, fmt, fpcr, fbits_, unsigned, width, mode):
    """FPToFixed: an integer of `width` (32/64) bits as uint64 (two's complement),
    rounding with `mode`, saturating with IOC."""
    ok, r, fl = fast_to_fixed(x, fmt, fbits_, unsigned, width, mode)
    if ok:
        return r, fl
    return fp_to_fixed_soft(x, fmt, fpcr, fbits_, unsigned, width, mode)


@njit(cache=True)
def fp_to_fixed_soft(x, fmt, fpcr, fbits_, unsigned, width, mode):
    """fp_to_fixed in integers only."""
    t, s, e, m, fl = unpack(x, fmt, fpcr)
    if is_nan(t):
        return U0, fl | F_IOC
    if width == 64:
        maxs = np.uint64(0x7FFFFFFFFFFFFFFF)
        minmag = np.uint64(0x8000000000000000)
        maxu = np.uint64(0xFFFFFFFFFFFFFFFF)
        mask = maxu
    else:
        maxs = np.uint64(0x7FFFFFFF)
        minmag = np.uint64(0x80000000)
        maxu = np.uint64(0xFFFFFFFF)
        mask = maxu
    if t == T_ZERO:
        return U0, fl
    big = False
    inexact = False
    mag = U0
    if t == T_INF:
        big = True
    else:
        e += fbits_
        if e >= 0:
            if msb(m) + e >= 64:
                big = True
            else:
                mag = np.uint64(m) << np.uint64(e)
        else:
            q, inexact = round_to_int(s, e, m, mode)
            mag = np.uint64(q)
    if s == 1:
        if mag == U0 and not big:
            return U0, fl | (F_IXC if inexact else 0)
        if unsigned or big or mag > minmag:
            return (U0 if unsigned else (~(minmag - U1)) & mask), fl | F_IOC
        return (U0 - mag) & mask, fl | (F_IXC if inexact else 0)
    lim = maxu if unsigned else maxs
    if big or mag > lim:
        return lim, fl | F_IOC
    return mag, fl | (F_IXC if inexact else 0)


@njit(cache=True)
def fixed_to_fp(v, width, unsigned, fbits_, fmt, fpcr):
    """FixedToFP: integer v (uint64 bits, `width` wide) / 2**fbits, rounded per FPCR."""
    mag, neg = fixed_magnitude(v, width, unsigned)
    ok, r, fl = fast_fixed_to_fp(mag, neg, fbits_, fmt, fpcr)
    if ok:
        return r, fl
    return fixed_to_fp_soft(v, width, unsigned, fbits_, fmt, fpcr)


@njit(cache=True, forceinline=True)
def fixed_magnitude(v, width, unsigned):
    """(magnitude as uint64, negative) of the `width`-bit integer v."""
    if width == 32:
        v = v & M32
        neg = (not unsigned) and (v >> np.uint64(31)) != U0
        if neg:
            v = (U0 - v) & M32
    else:
        neg = (not unsigned) and (v >> np.uint64(63)) != U0
        if neg:
            v = U0 - v
    return v, neg


@njit(cache=True)
def fixed_to_fp_soft(v, width, unsigned, fbits_, fmt, fpcr):
    """fixed_to_fp in integers only."""
    v, neg = fixed_magnitude(v, width, unsigned)
    if v == U0:
        return fp_zero(0, fmt), 0
    s = 1 if neg else 0
    # magnitude up to 2**64 - 1: keep 62 bits with sticky
    e = -np.int64(fbits_)
    if (v >> np.uint64(62)) != U0:
        lost = (v & np.uint64(3)) != U0
        v = v >> np.uint64(2)
        e += 2
        m = np.int64(v) | (1 if lost else 0)
    else:
        m = np.int64(v)
    return fp_round(s, e, m, fmt, fpcr, rmode_of(fpcr), True)


@njit(cache=True)
def fp_round_int(x, fmt, fpcr, mode, exact):
    """FPRoundInt (FRINT*): `exact` (FRINTX) signals inexact."""
    t, s, e, m, fl = unpack(x, fmt, fpcr)
    if is_nan(t):
        r, fn = process_nan(t, x, fmt, fpcr)
        return r, fl | fn
    if t == T_INF:
        return fp_inf(s, fmt), fl
    if t == T_ZERO:
        return fp_zero(s, fmt), fl
    if e >= 0:
        return x, fl
    q, inexact = round_to_int(s, e, m, mode)
    if exact and inexact:
        fl |= F_IXC
    if q == 0:
        return fp_zero(s, fmt), fl
    r, fr = fp_round(s, np.int64(0), q, fmt, fpcr, np.int64(RM_RZ), True)
    return r, fl | fr


@njit(cache=True)
def fp_convert(x, sfmt, dfmt, fpcr):
    """FPConvert between H, S and D (AHP for H; FZ does not apply to H)."""
    return fp_convert_mode(x, sfmt, dfmt, fpcr, rmode_of(fpcr))


@njit(cache=True)
def fp_convert_mode(x, sfmt, dfmt, fpcr, mode):
    """FPConvert rounding with `mode` (FCVTXN: round to odd)."""
    ok, r, fl = fast_convert(x, sfmt, dfmt, mode)
    if ok:
        return r, fl
    return fp_convert_soft(x, sfmt, dfmt, fpcr, mode)


@njit(cache=True)
def fp_convert_soft(x, sfmt, dfmt, fpcr, mode):
    """fp_convert_mode in integers only."""
    t, s, e, m, fl = unpack(x, sfmt, fpcr)
    ahp = dfmt == FMT_H and fpcr_bit(fpcr, FPCR_AHP)
    if is_nan(t):
        if ahp:
            return fp_zero(s, dfmt), fl | F_IOC
        if t == T_SNAN:
            fl |= F_IOC
        if fpcr_bit(fpcr, FPCR_DN):
            return default_nan(dfmt), fl
        # FPConvertNaN: sign, quiet bit, the top of the payload
        sf = fbits(sfmt)
        df = fbits(dfmt)
        pay = m & ((np.int64(1) << (sf - 1)) - 1)
        if sf > df:
            pay >>= sf - df
        else:
            pay <<= df - sf
        return pack(s, (1 << ebits(dfmt)) - 1, pay | (np.int64(1) << (df - 1)), dfmt), fl
    if t == T_INF:
        if ahp:
            return pack(s, (1 << ebits(dfmt)) - 1, (np.int64(1) << fbits(dfmt)) - 1, dfmt), fl | F_IOC
        return fp_inf(s, dfmt), fl
    if t == T_ZERO:
        return fp_zero(s, dfmt), fl
    r, fr = fp_round(s, e, m, dfmt, fpcr, mode, True)
    return r, fl | fr


@njit(cache=True)
def vfp_expand_imm(imm8, fmt):
    """VFPExpandImm."""
    e = ebits(fmt)
    f = fbits(fmt)
    sign = (imm8 >> 7) & 1
    b6 = (imm8 >> 6) & 1
    exp = ((1 - b6) << (e - 1)) | ((((1 << (e - 3)) - 1) if b6 else 0) << 2) | ((imm8 >> 4) & 3)
    frac = (imm8 & 15) << (f - 4)
    return pack(sign, exp, frac, fmt)


# --- estimates (FRECPE, FRSQRTE, FRECPX) ---------------------------------------------

def _recip_table():
    t = np.zeros(512, dtype=np.int64)
    for a in range(256, 512):
        b = (1 << 19) // (a * 2 + 1)
        t[a] = (b + 1) // 2
    return t


def _rsqrt_table():
    t = np.zeros(512, dtype=np.int64)
    for a0 in range(128, 512):
        if a0 < 256:
            a = a0 * 2 + 1
        else:
            a = ((a0 >> 1) << 1)
            a = (a + 1) * 2
        b = 512
        while a * (b + 1) * (b + 1) < (1 << 28):
            b += 1
        t[a0] = (b + 1) // 2
    return t


RECIP_EST = _recip_table()     # RecipEstimate, frozen into the jitted code
RSQRT_EST = _rsqrt_table()     # RecipSqrtEstimate


@njit(cache=True)
def fp_recip_est(x, fmt, fpcr):
    """FPRecipEstimate."""
    t, s, e, m, fl = unpack(x, fmt, fpcr)
    if is_nan(t):
        r, fn = process_nan(t, x, fmt, fpcr)
        return r, fl | fn
    if t == T_INF:
        return fp_zero(s, fmt), fl
    if t == T_ZERO:
        return fp_inf(s, fmt), fl | F_DZC
    f = fbits(fmt)
    _, bexp, frac = fields(x, fmt)
    frac52 = frac << (52 - f)
    if bexp == 0 and (frac52 >> 50) == 0:          # |value| < 2**-(2**(E-1))
        mode = rmode_of(fpcr)
        if mode == RM_RN:
            ovf = True
        elif mode == RM_RP:
            ovf = s == 0
        elif mode == RM_RM:
            ovf = s == 1
        else:
            ovf = False
        return (fp_inf(s, fmt) if ovf else fp_maxnormal(s, fmt)), fl | F_OFC | F_IXC
    bias = (1 << (ebits(fmt) - 1)) - 1
    if fmt != FMT_H and fpcr_bit(fpcr, FPCR_FZ) and bexp >= 2 * bias - 1:
        return fp_zero(s, fmt), fl | F_UFC
    if bexp == 0:
        if ((frac52 >> 51) & 1) == 0:
            bexp = -1
            frac52 = (frac52 << 2) & ((np.int64(1) << 52) - 1)
        else:
            frac52 = (frac52 << 1) & ((np.int64(1) << 52) - 1)
    scaled = 256 | (frac52 >> 44)
    rexp = 2 * bias - 1 - bexp
    est = RECIP_EST[scaled]
    rfrac = (est & 255) << 44
    if rexp == 0:
        rfrac = (np.int64(1) << 51) | (rfrac >> 1)
    elif rexp == -1:
        rfrac = (np.int64(1) << 50) | (rfrac >> 2)
        rexp = 0
    return pack(s, rexp, rfrac >> (52 - f), fmt), fl


@njit(cache=True)
def fp_rsqrt_est(x, fmt, fpcr):
    """FPRSqrtEstimate."""
    t, s, e, m, fl = unpack(x, fmt, fpcr)
    if is_nan(t):
        r, fn = process_nan(t, x, fmt, fpcr)
        return r, fl | fn
    if t == T_ZERO:
        return fp_inf(s, fmt), fl | F_DZC
    if s == 1:
        return default_nan(fmt), fl | F_IOC
    if t == T_INF:
        return fp_zero(0, fmt), fl
    f = fbits(fmt)
    _, bexp, frac = fields(x, fmt)
    frac52 = frac << (52 - f)
    M52 = (np.int64(1) << 52) - 1
    if bexp == 0:
        while ((frac52 >> 51) & 1) == 0:
            frac52 = (frac52 << 1) & M52
            bexp -= 1
        frac52 = (frac52 << 1) & M52
    if (bexp & 1) == 0:
        scaled = 256 | (frac52 >> 44)
    else:
        scaled = 128 | (frac52 >> 45)
    bias = (1 << (ebits(fmt) - 1)) - 1
    rexp = (3 * bias - 1 - bexp) // 2
    est = RSQRT_EST[scaled]
    return pack(0, rexp, ((est & 255) << 44) >> (52 - f), fmt), fl


@njit(cache=True)
def fp_recpx(x, fmt, fpcr):
    """FPRecpX: the exponent inverted, fraction zero."""
    t, s, e, m, fl = unpack(x, fmt, fpcr)
    if is_nan(t):
        r, fn = process_nan(t, x, fmt, fpcr)
        return r, fl | fn
    _, bexp, frac = fields(x, fmt)
    emax = (1 << ebits(fmt)) - 1
    if bexp == 0:
        return pack(s, emax - 1, 0, fmt), fl
    return pack(s, (~bexp) & emax, 0, fmt), fl
