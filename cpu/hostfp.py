"""Host floating point for cpu/fpfast.py: bit casts, fused multiply-add and trailing
zeros as numba intrinsics (one instruction each, no allocation), and the few kernels
that compute with host floats.

Every kernel takes and returns bit patterns (uint64, the format's low bits) and
booleans, never a float: floats live only inside this module's kernels, which
tests/test_numba_discipline.py allows here and nowhere else (with the rule that no
kernel's arguments or result are float).  fmt is FMT_S or FMT_D.

Host float arithmetic is IEEE 754 binary32/binary64 rounding to nearest, ties to even
(SSE/AVX scalar arithmetic under the default MXCSR, which nothing in the process
changes); numba compiles without fastmath, so LLVM neither contracts a * b + c into an
fma nor reassociates (tests/test_fpfast.py checks the generated code for that).
fma32/fma64 are llvm.fma: the host's fused multiply-add instruction, or libm's
correctly rounded fma.

Under NUMBA_DISABLE_JIT=1 intrinsics do not run: HOST_FP is then False, the fast paths
of cpu/fpfast.py decline every operation and the integer path of cpu/fpu.py runs;
ctz64 gets a pure-Python version.
"""
import numpy as np
from llvmlite import ir as llir
from numba import njit, types, config
from numba.core.extending import intrinsic

from pyaarch64.cpu.fpformat import FMT_D

HOST_FP = not config.DISABLE_JIT

def _typer_bitcast(to_float, bits):
    """float<bits> from a uint64's low bits (to_float) or a uint64 from a float<bits>."""
    fty = llir.FloatType() if bits == 32 else llir.DoubleType()
    nty = types.float32 if bits == 32 else types.float64

    def typer(typingctx, v):
        def codegen(context, builder, signature, args):
            if to_float:
                x = args[0] if bits == 64 else builder.trunc(args[0], llir.IntType(32))
                return builder.bitcast(x, fty)
            x = builder.bitcast(args[0], llir.IntType(bits))
            return x if bits == 64 else builder.zext(x, llir.IntType(64))
        if to_float:
            return nty(types.uint64), codegen
        return types.uint64(nty), codegen
    return intrinsic(typer)


def _typer_fma(bits):
    nty = types.float32 if bits == 32 else types.float64

    def typer(typingctx, a, b, c):
        def codegen(context, builder, signature, args):
            return builder.fma(*args)
        return nty(nty, nty, nty), codegen
    return intrinsic(typer)


def _typer_ctz(typingctx, v):
    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], llir.Constant(llir.IntType(1), 0))
    return types.int64(types.uint64), codegen


if config.DISABLE_JIT:
    def _no_host(*args):
        raise RuntimeError("host float primitives are not available with NUMBA_DISABLE_JIT")
    f64 = f64_bits = f32 = f32_bits = fma64 = fma32 = _no_host

    def ctz64(v):
        v = int(v)
        return np.int64(64 if v == 0 else (v & -v).bit_length() - 1)
else:
    f64 = _typer_bitcast(True, 64)
    f32 = _typer_bitcast(True, 32)
    f64_bits = _typer_bitcast(False, 64)
    f32_bits = _typer_bitcast(False, 32)
    fma64 = _typer_fma(64)
    fma32 = _typer_fma(32)
    ctz64 = intrinsic(_typer_ctz)


# --- kernels (callers have checked HOST_FP, the format and the operands) ---------------

@njit(cache=True, forceinline=True)
def add_host(x1, x2, fmt):
    """(bits of RN(a + b), whether a + b is exact) for |a| >= |b| (a, b the values of x1,
    x2): Fast2Sum, t = b - (s - a) is the exact error (cpu/fpfast.py)."""
    if fmt == FMT_D:
        ha = f64(x1)
        hb = f64(x2)
        hs = ha + hb
        return f64_bits(hs), hb - (hs - ha) == 0.0
    ha32 = f32(x1)
    hb32 = f32(x2)
    hs32 = ha32 + hb32
    return f32_bits(hs32), hb32 - (hs32 - ha32) == np.float32(0.0)


@njit(cache=True, forceinline=True)
def mul_host(x1, x2, fmt):
    """Bits of RN(a * b)."""
    if fmt == FMT_D:
        return f64_bits(f64(x1) * f64(x2))
    return f32_bits(f32(x1) * f32(x2))


@njit(cache=True, forceinline=True)
def fma_host(xa, x1, x2, fmt):
    """Bits of RN(c + a * b), one rounding (c the value of xa)."""
    if fmt == FMT_D:
        return f64_bits(fma64(f64(x1), f64(x2), f64(xa)))
    return f32_bits(fma32(f32(x1), f32(x2), f32(xa)))


@njit(cache=True, forceinline=True)
def div_host(x1, x2, fmt):
    """(bits of q = RN(a / b), whether the residual RN(a - q * b) is zero)."""
    if fmt == FMT_D:
        ha = f64(x1)
        hb = f64(x2)
        hq = ha / hb
        return f64_bits(hq), fma64(-hq, hb, ha) == 0.0
    ha32 = f32(x1)
    hb32 = f32(x2)
    hq32 = ha32 / hb32
    return f32_bits(hq32), fma32(-hq32, hb32, ha32) == np.float32(0.0)


@njit(cache=True, forceinline=True)
def sqrt_host(x, fmt):
    """(bits of r = RN(sqrt(a)), whether the residual RN(a - r * r) is zero)."""
    if fmt == FMT_D:
        ha = f64(x)
        hr = np.sqrt(ha)
        return f64_bits(hr), fma64(-hr, hr, ha) == 0.0
    ha32 = f32(x)
    hr32 = np.sqrt(ha32)
    return f32_bits(hr32), fma32(-hr32, hr32, ha32) == np.float32(0.0)


@njit(cache=True, forceinline=True)
def narrow_host(x):
    """Bits of the double x rounded to single."""
    return f32_bits(np.float32(f64(x)))


@njit(cache=True, forceinline=True)
def int_host(mag, neg, scale, fmt):
    """Bits of RN(mag) (mag < 2**63, an int64 conversion), negated when `neg`, times the
    value whose bits are `scale` (a power of two)."""
    if fmt == FMT_D:
        hv = np.float64(np.int64(mag)) * f64(scale)
        return f64_bits(-hv if neg else hv)
    hv32 = np.float32(np.int64(mag)) * f32(scale)
    return f32_bits(-hv32 if neg else hv32)
