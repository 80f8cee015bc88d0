"""Host floating-point fast paths of cpu/fpu.py's arithmetic.

Each function returns (ok, bits, flags).  ok False means "not provably exact on the host":
the caller (cpu/fpu.py) then runs its integer implementation of the Arm ARM pseudocode.
When ok, bits and flags are exactly what that implementation returns for the same
arguments; tests/test_fpfast.py compares the two directly.

Preconditions, checked by every function before it answers ok:

(P1) The format is S or D and the rounding mode is round to nearest, ties to even
     (FPCR.RMode = RN, or the conversion's own mode): the host rounds that way (SSE/AVX
     scalar arithmetic under the default MXCSR; numba compiles without fastmath, so LLVM
     neither contracts nor reassociates the expressions below).
(P2) Every operand is a normal number: no NaN (NaN propagation, FPCR.DN and the
     signalling-NaN IOC are the integer path's), no infinity, no zero, no denormal
     (FPCR.FZ would flush it and raise IDC).
(P3) The result r is "safe": 2**emin < |r| < infinity (emin the smallest normal
     exponent).  Then the operation neither overflows (in RN an overflowing result is
     infinite) nor underflows, and FPCR.FZ leaves the output alone: both need the exact
     result T to be tiny (|T| < 2**emin) before rounding, and rounding to nearest is
     monotonic with 2**emin representable, so a tiny T rounds to |r| <= 2**emin.  For a
     T in the normal range the host's IEEE result is the correctly rounded T, which is
     what FPRound gives in RN.
Under (P1)-(P3) no flag other than IXC can arise (IOC and DZC need NaN, infinite or zero
operands, IDC a denormal one, OFC and UFC are excluded by P3), so each function only has
to decide whether T is exact (T == r).  The tools:

 - Fast2Sum (Dekker 1971): for |a| >= |b|, s = RN(a + b), t = RN(b - RN(s - a)): both
   subtractions are exact in radix 2 and a + b == s + t.  So the sum is exact iff t == 0.
 - Lowest set bits (LSB): write a nonzero dyadic value as odd * 2**k, lsbit = k.
   (a) lsbit(a * b) = lsbit(a) + lsbit(b) (a product of odd integers is odd);
   (b) if lsbit(a) != lsbit(b), lsbit(a + b) = min of the two (below the smaller one
       nothing can cancel; at it exactly one addend has a one);
   (c) for T with |T| >= 2**emin, finite r = RN(T): T == r iff lsbit(r) == lsbit(T).
       If T == r this is trivial.  Otherwise T needs more than p significant bits:
       msb(T) - lsbit(T) >= p (msb the exponent of T's leading bit); RN is monotonic and
       2**msb(T) is representable, so |r| >= 2**msb(T) and the last place of r is at
       least 2**(msb(T) - p + 1) > 2**lsbit(T), hence lsbit(r) > lsbit(T).
 - Residuals with one fused multiply-add: for quotients and square roots the residual
   a - q*b (a - r*r) is computed exactly rounded by fma; it is a multiple of a power of
   two that the function checks to be at least the smallest subnormal, so a nonzero
   residual cannot round to zero.

The host arithmetic itself is in cpu/hostfp.py's kernels, which take and return bit
patterns: this module is integer code (and checked float-free like the rest of the
core).  Under NUMBA_DISABLE_JIT=1 (hostfp.HOST_FP False) every function declines.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.fpformat import (U0, U1, FMT_H, FMT_D, F_IXC, RM_RN, RM_RZ, fbits, ebits,
                                     nbits, rmode_of)
from pyaarch64.cpu.hostfp import (HOST_FP, ctz64, add_host, mul_host, fma_host, div_host,
                                  sqrt_host, narrow_host, int_host)

NO = (False, U0, np.int64(0))


@njit(cache=True, inline='always')
def host_ok(fmt, mode):
    """(P1): S or D, rounding to nearest even, host floats available."""
    return HOST_FP and fmt != FMT_H and mode == RM_RN


@njit(cache=True, inline='always')
def bexp_of(x, fmt):
    """The biased exponent field (int64)."""
    return np.int64((x >> np.uint64(fbits(fmt))) & ((U1 << np.uint64(ebits(fmt))) - U1))


@njit(cache=True, inline='always')
def sign_bit(fmt):
    return U1 << np.uint64(nbits(fmt) - 1)


@njit(cache=True, inline='always')
def normal(x, fmt):
    """(P2): x is a normal number (biased exponent neither 0 nor all ones)."""
    e = bexp_of(x, fmt)
    return e != 0 and e != (1 << ebits(fmt)) - 1


@njit(cache=True, inline='always')
def safe(r, fmt):
    """(P3): 2**emin < |r| < infinity (r a bit pattern of the format, no NaN)."""
    m = r & (sign_bit(fmt) - U1)
    f = np.uint64(fbits(fmt))
    return m > (U1 << f) and m < (((U1 << np.uint64(ebits(fmt))) - U1) << f)


@njit(cache=True, inline='always')
def lsb(x, fmt):
    """lsbit of a normal x plus bias + F (F the fraction bits): the biased exponent plus
    the trailing zeros of the significand with its implicit one."""
    f = np.uint64(fbits(fmt))
    sig = (x & ((U1 << f) - U1)) | (U1 << f)
    return bexp_of(x, fmt) + ctz64(sig)


@njit(cache=True, inline='always')
def bias_f(fmt):
    """bias + F: lsb() of 1.0, the offset between lsb() and lsbit."""
    return (1 << (ebits(fmt) - 1)) - 1 + fbits(fmt)


@njit(cache=True, inline='always')
def ixc(exact):
    return np.int64(0) if exact else np.int64(F_IXC)


# --- arithmetic ----------------------------------------------------------------------

@njit(cache=True, forceinline=True)
def fast_add(x1, x2, fmt, fpcr, neg2):
    """FPAdd / FPSub (neg2) of two normals: the host sum, exactness by Fast2Sum."""
    if not (host_ok(fmt, rmode_of(fpcr)) and normal(x1, fmt) and normal(x2, fmt)):
        return NO
    sb = sign_bit(fmt)
    if neg2:
        x2 = x2 ^ sb                  # FPSub negates the second operand (not a NaN here)
    if (x1 & (sb - U1)) < (x2 & (sb - U1)):    # Fast2Sum wants |a| >= |b|: the magnitude
        x1, x2 = x2, x1                          # bits of finite numbers order as the values
    r, exact = add_host(x1, x2, fmt)
    if not safe(r, fmt):
        return NO
    return True, r, ixc(exact)


@njit(cache=True, forceinline=True)
def fast_mul(x1, x2, fmt, fpcr):
    """FPMul (and FPMulX: it differs only for infinity times zero) of two normals: the host
    product, exact iff lsbit(r) == lsbit(x1) + lsbit(x2) (LSB a, c)."""
    if not (host_ok(fmt, rmode_of(fpcr)) and normal(x1, fmt) and normal(x2, fmt)):
        return NO
    r = mul_host(x1, x2, fmt)
    if not safe(r, fmt):
        return NO
    # in lsb() units: lsbit(r) + bias + F == (lsbit(x1) + bias + F) + (lsbit(x2) + bias + F) - (bias + F)
    return True, r, ixc(lsb(r, fmt) + bias_f(fmt) == lsb(x1, fmt) + lsb(x2, fmt))


@njit(cache=True, forceinline=True)
def fast_muladd(xa, x1, x2, fmt, fpcr):
    """FPMulAdd xa + x1 * x2 of three normals: the host fma (one rounding, as FPMulAdd).
    Exact iff lsbit(r) == lsbit(T) (LSB c), where lsbit(T) = min(lsbit(x1 x2), lsbit(xa))
    when those differ (LSB a, b); when they are equal lsbit(T) is unknown: declined."""
    if not (host_ok(fmt, rmode_of(fpcr)) and normal(xa, fmt) and normal(x1, fmt)
            and normal(x2, fmt)):
        return NO
    lp = lsb(x1, fmt) + lsb(x2, fmt) - bias_f(fmt)       # lsbit(x1 * x2), lsb() units
    la = lsb(xa, fmt)
    if lp == la:
        return NO
    r = fma_host(xa, x1, x2, fmt)
    if not safe(r, fmt):
        return NO
    return True, r, ixc(lsb(r, fmt) == min(lp, la))


@njit(cache=True, forceinline=True)
def fast_div(x1, x2, fmt, fpcr):
    """FPDiv of two normals: the host quotient q, exact iff the residual x1 - q * x2 is 0.

    With biased exponents: x1 is a multiple of 2**(b1 - bias - F) (b1 >= 1) and q * x2 of
    2**(bq + b2 - 2 bias - 2F), so a nonzero residual is at least the smallest subnormal
    2**(1 - bias - F), and its fma result is nonzero, when bq + b2 >= bias + F + 1;
    otherwise declined.  (The residual itself is tiny next to x1: no overflow.)"""
    if not (host_ok(fmt, rmode_of(fpcr)) and normal(x1, fmt) and normal(x2, fmt)):
        return NO
    r, exact = div_host(x1, x2, fmt)
    if not safe(r, fmt) or bexp_of(r, fmt) + bexp_of(x2, fmt) < bias_f(fmt) + 1:
        return NO
    return True, r, ixc(exact)


@njit(cache=True, forceinline=True)
def fast_sqrt(x, fmt, fpcr):
    """FPSqrt of a positive normal: the host square root r, exact iff x - r * r is 0.

    x - r * r is a multiple of 2**min(bx - bias - F, 2 (br - bias - F)): at least the
    smallest subnormal when 2 br >= bias + F + 1 (else declined), as for division.  The
    root of a normal number is normal and far from overflow."""
    if not (host_ok(fmt, rmode_of(fpcr)) and normal(x, fmt)) or (x & sign_bit(fmt)) != U0:
        return NO
    r, exact = sqrt_host(x, fmt)
    if not safe(r, fmt) or 2 * bexp_of(r, fmt) < bias_f(fmt) + 1:
        return NO
    return True, r, ixc(exact)


# --- conversions ---------------------------------------------------------------------

@njit(cache=True, forceinline=True)
def fast_convert(x, sfmt, dfmt, mode):
    """FPConvert of a normal between S and D.  S to D is exact for every mode and FPCR
    (a normal single is a normal double): re-biased bits, no flags.  D to S in RN: the
    host conversion, safe (P3) and then exact iff the low 29 fraction bits are zero (in
    the single normal range a double is a single iff those bits are clear)."""
    if not HOST_FP or sfmt == FMT_H or dfmt == FMT_H or not normal(x, sfmt):
        return NO
    if sfmt == dfmt:
        return NO
    if dfmt == FMT_D:
        sign = (x >> np.uint64(31)) & U1
        e = np.uint64(bexp_of(x, sfmt) + (1023 - 127))
        frac = x & np.uint64(0x7FFFFF)
        return True, (sign << np.uint64(63)) | (e << np.uint64(52)) | (frac << np.uint64(29)), np.int64(0)
    if mode != RM_RN:
        return NO
    r = narrow_host(x)
    if not safe(r, dfmt):
        return NO
    return True, r, ixc((x & np.uint64(0x1FFFFFFF)) == U0)


@njit(cache=True, forceinline=True)
def fast_fixed_to_fp(mag, neg, fbits_, fmt, fpcr):
    """FixedToFP of a nonzero magnitude below 2**63 (sign `neg`) scaled by 2**-fbits_
    (0 <= fbits_ <= 64), rounded to nearest.  The host's int64 conversion rounds mag to
    nearest even; |mag * 2**-fbits_| lies in [2**-64, 2**63), inside the normal range of S
    and D, where scaling by a power of two is exact and commutes with rounding.  Exact iff
    mag's odd part fits the significand (F + 1 bits)."""
    if not host_ok(fmt, rmode_of(fpcr)) or mag == U0 or (mag >> np.uint64(63)) != U0:
        return NO
    f = fbits(fmt)
    odd = mag >> np.uint64(ctz64(mag))
    exact = (odd >> np.uint64(f + 1)) == U0
    bias = (1 << (ebits(fmt) - 1)) - 1
    scale = np.uint64(bias - fbits_) << np.uint64(f)          # 2**-fbits_
    return True, int_host(mag, neg, scale, fmt), ixc(exact)


@njit(cache=True, forceinline=True)
def fast_to_fixed(x, fmt, fbits_, unsigned, width, mode):
    """FPToFixed of a normal x * 2**fbits_ rounded toward zero (FCVTZS, FCVTZU: every FPCR
    mode, the rounding is the instruction's) into `width` bits, in integers: the value
    is sig * 2**e (sig the significand with its implicit one); truncation keeps
    sig << e or sig >> -e, inexact iff bits were shifted out.  Declined where the result
    would saturate (IOC): a magnitude beyond the signed or unsigned range, a negative
    nonzero result for an unsigned conversion."""
    if not HOST_FP or fmt == FMT_H or mode != RM_RZ or not normal(x, fmt):
        return NO
    f = fbits(fmt)
    sig = (x & ((U1 << np.uint64(f)) - U1)) | (U1 << np.uint64(f))
    e = bexp_of(x, fmt) - bias_f(fmt) + fbits_
    exact = True
    if e >= 0:
        if f + e >= width:                 # at least 2**width: saturates
            return NO
        mag = sig << np.uint64(e)
    elif -e > f:                           # below 1: truncates to zero
        mag = U0
        exact = False
    else:
        mag = sig >> np.uint64(-e)
        exact = (sig & ((U1 << np.uint64(-e)) - U1)) == U0
    neg = (x >> np.uint64(nbits(fmt) - 1)) != U0
    if mag == U0:
        return True, U0, ixc(exact)
    lim = U1 << np.uint64(width - (0 if unsigned else 1))        # magnitudes below this fit
    if (neg and unsigned) or mag >= lim:
        return NO
    if neg:
        mag = (U0 - mag) & (~U0 >> np.uint64(64 - width))
    return True, mag, ixc(exact)
