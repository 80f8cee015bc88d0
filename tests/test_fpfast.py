"""The fast paths of the FP arithmetic (cpu/fpfast.py) against the integer softfloat
(cpu/fpu.py's fp_*_soft), directly, bit for bit and flag for flag:

(a) property-based (hypothesis): operand bit patterns biased to the edges (exponents at
    the bottom and top of the range and at the fast paths' own thresholds, fractions
    with few bits, halfway patterns) and operands made to cancel, to divide or take a
    root exactly, to land on a rounding tie; every FPCR mode (RMode, FZ, DN, AHP).  For
    each accelerated function: the public function equals its _soft twin, and the fast
    path, where it answers, equals it too;
(b) a bulk sweep of 2**17 numpy-generated cases per function and format in a jitted loop;
(c) the fast path answers for the common case (else (a) and (b) would test nothing);
(d) the generated code: no fast-math flags, no allocation.
"""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from numba import njit

from pyaarch64.cpu import fpu, fpfast
from pyaarch64.cpu.fpu import FMT_S, FMT_D

FMTS = {FMT_S: (8, 23), FMT_D: (11, 52)}
EXAMPLES = 1500
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# --- strategies ------------------------------------------------------------------------

def geometry(fmt):
    E, F = FMTS[fmt]
    emax = (1 << E) - 1
    return E, F, emax, emax >> 1


def exponents(fmt):
    E, F, emax, bias = geometry(fmt)
    edges = [0, 1, 2, 3, emax - 2, emax - 1, emax, bias - 1, bias, bias + 1,
             F, F + 1, F + 2, F + 3, (bias + F) // 2, (bias + F) // 2 + 1, bias - F]
    return st.one_of(st.integers(0, emax), st.sampled_from(edges),
                     st.integers(bias - 8, bias + 8))


def fractions(fmt):
    E, F, emax, bias = geometry(fmt)
    few = st.builds(lambda v, k: (v << k) & ((1 << F) - 1), st.integers(0, 4095),
                    st.integers(0, F))
    return st.one_of(st.integers(0, (1 << F) - 1), few,
                     st.sampled_from([0, 1, 2, (1 << F) - 1, 1 << (F - 1), (1 << F) - 2,
                                      ((1 << F) - 1) ^ 1]))


def bits(fmt):
    E, F, emax, bias = geometry(fmt)
    return st.builds(lambda s, e, f: s << (E + F) | e << F | f, st.integers(0, 1),
                     exponents(fmt), fractions(fmt))


FPCRS = st.one_of(st.just(0),                        # RN, nothing else: the fast paths' mode
                  st.builds(lambda rm, fz, dn, ahp: rm << 22 | fz << 24 | dn << 25 | ahp << 26,
                            st.integers(0, 3), st.integers(0, 1), st.integers(0, 1),
                            st.integers(0, 1)))
FMT = st.sampled_from([FMT_S, FMT_D])


def nbits(fmt):
    return 32 if fmt == FMT_S else 64


def as_host(x, fmt):
    return np.array([x], dtype=np.uint64).astype(np.uint32).view(np.float32)[0] \
        if fmt == FMT_S else np.array([x], dtype=np.uint64).view(np.float64)[0]


def from_host(v, fmt):
    with np.errstate(all="ignore"):
        if fmt == FMT_S:
            return int(np.array([v], dtype=np.float32).view(np.uint32)[0])
        return int(np.array([v], dtype=np.float64).view(np.uint64)[0])


def nudge(x, k, fmt):
    """x moved by k units in the last place (as bits), kept inside the format."""
    return (x + k) & ((1 << nbits(fmt)) - 1)


@st.composite
def add_case(draw):
    fmt = draw(FMT)
    a = draw(bits(fmt))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        b = draw(bits(fmt))
    elif kind == 1:                        # cancellation: b near -a
        b = nudge(a ^ 1 << (nbits(fmt) - 1), draw(st.integers(-3, 3)), fmt)
    elif kind == 2:                        # b a few binades below a: ties and sticky bits
        E, F, emax, bias = geometry(fmt)
        d = draw(st.integers(0, F + 3))
        b = a - (d << F) if (a >> F) & emax > d else a
        b = nudge(b ^ draw(st.integers(0, 1)) << (nbits(fmt) - 1), draw(st.integers(-2, 2)), fmt)
    else:
        b = a
    return fmt, a, b, draw(FPCRS), draw(st.booleans())


def min_normal(fmt):
    return np.float32(2.0 ** -126) if fmt == FMT_S else np.float64(2.0 ** -1022)


@st.composite
def mul_case(draw):
    fmt = draw(FMT)
    a, b = draw(bits(fmt)), draw(bits(fmt))
    if draw(st.booleans()):                # b such that a * b is near the smallest normal
        with np.errstate(all="ignore"):
            b = from_host(min_normal(fmt) / as_host(a, fmt), fmt)
        b = nudge(b ^ draw(st.integers(0, 1)) << (nbits(fmt) - 1), draw(st.integers(-2, 2)), fmt)
    return fmt, a, b, draw(FPCRS), draw(st.booleans())


@st.composite
def muladd_case(draw):
    fmt = draw(FMT)
    a, b = draw(bits(fmt)), draw(bits(fmt))
    kind = draw(st.integers(0, 2))
    if kind == 0:
        c = draw(bits(fmt))
    else:                                  # c near -(a * b): cancellation, exact results
        with np.errstate(all="ignore"):
            p = from_host(as_host(a, fmt) * as_host(b, fmt), fmt)
        c = nudge(p ^ 1 << (nbits(fmt) - 1), draw(st.integers(-2, 2)), fmt)
        if kind == 2:                      # or a few binades away from it
            E, F, emax, bias = geometry(fmt)
            d = draw(st.integers(-F - 2, F + 2))
            e = (c >> F) & emax
            if 0 < e + d < emax:
                c += d << F
    return fmt, c, a, b, draw(FPCRS)


@st.composite
def div_case(draw):
    fmt = draw(FMT)
    b = draw(bits(fmt))
    kind = draw(st.integers(0, 2))
    if kind == 0:
        a = draw(bits(fmt))
    elif kind == 1:                        # a / b near the smallest normal
        with np.errstate(all="ignore"):
            a = from_host(as_host(b, fmt) * min_normal(fmt), fmt)
        a = nudge(a, draw(st.integers(-2, 2)), fmt)
    else:                                  # a = b * q rounded: exact or nearly exact quotients
        q = draw(st.one_of(st.integers(1, 1 << 12).map(float), st.floats(0.5, 2.0, width=32)))
        with np.errstate(all="ignore"):
            a = from_host(as_host(b, fmt) * as_host(from_host(q, fmt), fmt), fmt)
        a = nudge(a, draw(st.integers(-1, 1)), fmt)
    return fmt, a, b, draw(FPCRS)


@st.composite
def sqrt_case(draw):
    fmt = draw(FMT)
    if draw(st.booleans()):
        x = draw(bits(fmt))
    else:                                  # squares of few-bit numbers: exact roots
        r = draw(bits(fmt))
        E, F, emax, bias = geometry(fmt)
        r &= ~((1 << (F // 2)) - 1)
        with np.errstate(all="ignore"):
            x = from_host(as_host(r, fmt) * as_host(r, fmt), fmt)
        x = nudge(x, draw(st.integers(-1, 1)), fmt)
    return fmt, x, draw(FPCRS)


@st.composite
def convert_case(draw):
    sfmt = draw(FMT)
    x = draw(bits(sfmt))
    if sfmt == FMT_D and draw(st.booleans()):
        # a double near the single range and its rounding points: exponent within the
        # single's, low 29 bits at a tie, just off it, or clear
        e = draw(st.integers(1023 - 130, 1023 + 130))
        low = draw(st.sampled_from([0, 1 << 28, (1 << 28) + 1, (1 << 28) - 1, (1 << 29) - 1, 1]))
        x = (x & (1 << 63)) | e << 52 | (x & ((1 << 52) - 1)) >> 29 << 29 | low
    mode = draw(st.one_of(st.just(0), st.integers(0, 5)))
    return sfmt, FMT_D if sfmt == FMT_S else FMT_S, x, draw(FPCRS), mode


@st.composite
def fixed_case(draw):
    width = draw(st.sampled_from([32, 64]))
    b = draw(st.sampled_from([0, 1, 2, 11, 12, 23, 24, 25, 31, 32, 52, 53, 54, 62, 63, 64]))
    v = draw(st.one_of(st.integers(0, (1 << 64) - 1),
                       st.builds(lambda k, d: ((1 << k) + d), st.integers(0, 63), st.integers(-3, 3)),
                       st.builds(lambda m, k: m << k, st.integers(1, 1 << 26), st.integers(0, 40))))
    v &= (1 << width) - 1
    fb = draw(st.integers(0, width)) if draw(st.booleans()) else 0
    return draw(FMT), v >> (b if b < width else 0), width, draw(st.booleans()), fb, draw(FPCRS)


@st.composite
def tofixed_case(draw):
    fmt = draw(FMT)
    x = draw(bits(fmt))
    width = draw(st.sampled_from([32, 64]))
    fb = draw(st.integers(0, width)) if draw(st.booleans()) else 0
    if draw(st.booleans()):                # near the integer limits of the width
        E, F, emax, bias = geometry(fmt)
        e = bias + draw(st.integers(-2, width + 1)) - fb
        if 0 < e < emax:
            x = (x & ~(emax << F)) | e << F
    mode = draw(st.one_of(st.just(3), st.integers(0, 4)))      # RZ: FCVTZS/FCVTZU
    return fmt, x, fb, draw(st.booleans()), width, mode, draw(FPCRS)


# --- (a) properties ----------------------------------------------------------------------

U = np.uint64


def same(fast, soft):
    return (int(fast[0]), int(fast[1])) == (int(soft[0]), int(soft[1]))


def check_fast(fast, soft):
    """The fast path's own answer, where it gives one, equals the integer path's."""
    ok, r, fl = fast
    if ok:
        assert (int(r), int(fl)) == (int(soft[0]), int(soft[1]))


@SETTINGS
@given(add_case())
def test_add(case):
    fmt, a, b, fpcr, neg = case
    soft = fpu.fp_add_soft(U(a), U(b), fmt, U(fpcr), neg)
    assert same(fpu.fp_add(U(a), U(b), fmt, U(fpcr), neg), soft)
    check_fast(fpfast.fast_add(U(a), U(b), fmt, U(fpcr), neg), soft)


@SETTINGS
@given(mul_case())
def test_mul(case):
    fmt, a, b, fpcr, mulx = case
    soft = fpu.fp_mul_x_soft(U(a), U(b), fmt, U(fpcr), mulx)
    assert same(fpu.fp_mul_x(U(a), U(b), fmt, U(fpcr), mulx), soft)
    check_fast(fpfast.fast_mul(U(a), U(b), fmt, U(fpcr)), soft)


@SETTINGS
@given(muladd_case())
def test_muladd(case):
    fmt, c, a, b, fpcr = case
    soft = fpu.fp_muladd_soft(U(c), U(a), U(b), fmt, U(fpcr))
    assert same(fpu.fp_muladd(U(c), U(a), U(b), fmt, U(fpcr)), soft)
    check_fast(fpfast.fast_muladd(U(c), U(a), U(b), fmt, U(fpcr)), soft)


@SETTINGS
@given(div_case())
def test_div(case):
    fmt, a, b, fpcr = case
    soft = fpu.fp_div_soft(U(a), U(b), fmt, U(fpcr))
    assert same(fpu.fp_div(U(a), U(b), fmt, U(fpcr)), soft)
    check_fast(fpfast.fast_div(U(a), U(b), fmt, U(fpcr)), soft)


@SETTINGS
@given(sqrt_case())
def test_sqrt(case):
    fmt, x, fpcr = case
    soft = fpu.fp_sqrt_soft(U(x), fmt, U(fpcr))
    assert same(fpu.fp_sqrt(U(x), fmt, U(fpcr)), soft)
    check_fast(fpfast.fast_sqrt(U(x), fmt, U(fpcr)), soft)


@SETTINGS
@given(convert_case())
def test_convert(case):
    sfmt, dfmt, x, fpcr, mode = case
    soft = fpu.fp_convert_soft(U(x), sfmt, dfmt, U(fpcr), mode)
    assert same(fpu.fp_convert_mode(U(x), sfmt, dfmt, U(fpcr), mode), soft)
    check_fast(fpfast.fast_convert(U(x), sfmt, dfmt, mode), soft)


@SETTINGS
@given(fixed_case())
def test_fixed_to_fp(case):
    fmt, v, width, unsigned, fb, fpcr = case
    soft = fpu.fixed_to_fp_soft(U(v), width, unsigned, fb, fmt, U(fpcr))
    assert same(fpu.fixed_to_fp(U(v), width, unsigned, fb, fmt, U(fpcr)), soft)
    mag, neg = fpu.fixed_magnitude(U(v), width, unsigned)
    check_fast(fpfast.fast_fixed_to_fp(U(mag), neg, fb, fmt, U(fpcr)), soft)


@SETTINGS
@given(tofixed_case())
def test_to_fixed(case):
    fmt, x, fb, unsigned, width, mode, fpcr = case
    soft = fpu.fp_to_fixed_soft(U(x), fmt, U(fpcr), fb, unsigned, width, mode)
    assert same(fpu.fp_to_fixed(U(x), fmt, U(fpcr), fb, unsigned, width, mode), soft)
    check_fast(fpfast.fast_to_fixed(U(x), fmt, fb, unsigned, width, mode), soft)


# --- (b) bulk ------------------------------------------------------------------------------

def edge_bits(rng, fmt, n):
    """n bit patterns of fmt: random exponents, a third of them at the edges, fractions
    with few bits half of the time."""
    E, F, emax, bias = geometry(fmt)
    e = rng.integers(0, emax + 1, n)
    edges = np.array([0, 1, 2, emax - 1, emax, bias, F + 2, (bias + F) // 2 + 1, bias - F])
    pick = rng.random(n) < 0.3
    e[pick] = rng.choice(edges, pick.sum())
    near = rng.random(n) < 0.4
    e[near] = bias + rng.integers(-6, 7, near.sum())
    f = rng.integers(0, 1 << F, n, dtype=np.uint64)
    few = rng.random(n) < 0.5
    f[few] = (f[few] >> np.uint64(F - 8)) << rng.integers(0, F - 7, few.sum()).astype(np.uint64)
    f &= np.uint64((1 << F) - 1)
    s = rng.integers(0, 2, n).astype(np.uint64)
    return (s << np.uint64(E + F)) | (e.astype(np.uint64) << np.uint64(F)) | f


@njit(cache=False)
def bulk(kind, a, b, c, fmt, fpcrs):
    """Index of the first case where the public function and its _soft twin differ, -1."""
    for i in range(a.size):
        fpcr = fpcrs[i]
        odd = (i & 1) == 1
        if kind == 0:
            r1, f1 = fpu.fp_add(a[i], b[i], fmt, fpcr, odd)
            r2, f2 = fpu.fp_add_soft(a[i], b[i], fmt, fpcr, odd)
        elif kind == 1:
            r1, f1 = fpu.fp_mul_x(a[i], b[i], fmt, fpcr, False)
            r2, f2 = fpu.fp_mul_x_soft(a[i], b[i], fmt, fpcr, False)
        elif kind == 2:
            r1, f1 = fpu.fp_muladd(c[i], a[i], b[i], fmt, fpcr)
            r2, f2 = fpu.fp_muladd_soft(c[i], a[i], b[i], fmt, fpcr)
        elif kind == 3:
            r1, f1 = fpu.fp_div(a[i], b[i], fmt, fpcr)
            r2, f2 = fpu.fp_div_soft(a[i], b[i], fmt, fpcr)
        elif kind == 4:
            r1, f1 = fpu.fp_sqrt(a[i], fmt, fpcr)
            r2, f2 = fpu.fp_sqrt_soft(a[i], fmt, fpcr)
        elif kind == 5:
            other = np.int64(FMT_S if fmt == FMT_D else FMT_D)
            r1, f1 = fpu.fp_convert_mode(a[i], fmt, other, fpcr, np.int64(0))
            r2, f2 = fpu.fp_convert_soft(a[i], fmt, other, fpcr, np.int64(0))
        elif kind == 6:
            v = a[i] >> (b[i] >> np.uint64(58))
            fb = np.int64(b[i] & np.uint64(63))
            r1, f1 = fpu.fixed_to_fp(v, 64, odd, fb, fmt, fpcr)
            r2, f2 = fpu.fixed_to_fp_soft(v, 64, odd, fb, fmt, fpcr)
        else:
            fb = np.int64(b[i] & np.uint64(31))
            w = 64 if (i & 2) == 0 else 32
            r1, f1 = fpu.fp_to_fixed(a[i], fmt, fpcr, fb, odd, w, np.int64(3))
            r2, f2 = fpu.fp_to_fixed_soft(a[i], fmt, fpcr, fb, odd, w, np.int64(3))
        if r1 != r2 or f1 != f2:
            return i
    return -1


BULK = ["add", "mul", "muladd", "div", "sqrt", "convert", "fixed", "tofixed"]


@pytest.mark.parametrize("fmt", [FMT_S, FMT_D])
@pytest.mark.parametrize("kind", range(len(BULK)), ids=BULK)
def test_bulk(kind, fmt):
    rng = np.random.default_rng(1000 * kind + fmt)
    n = 1 << 17
    a, b = edge_bits(rng, fmt, n), edge_bits(rng, fmt, n)
    c = edge_bits(rng, fmt, n)
    # a third of the fused cases cancel: c near -(a * b)
    if BULK[kind] == "muladd":
        with np.errstate(all="ignore"):
            if fmt == FMT_D:
                p = (a.view(np.float64) * b.view(np.float64)).view(np.uint64)
            else:
                p = (a.astype(np.uint32).view(np.float32) * b.astype(np.uint32).view(np.float32)
                     ).view(np.uint32).astype(np.uint64)
        k = rng.random(n) < 0.33
        sb = np.uint64(1 << (nbits(fmt) - 1))
        c[k] = (p[k] ^ sb) + rng.integers(-1, 2, k.sum()).astype(np.uint64)
        c &= np.uint64((1 << nbits(fmt)) - 1)
    if BULK[kind] == "sqrt":
        a &= np.uint64((1 << (nbits(fmt) - 1)) - 1)
    if BULK[kind] == "fixed":
        a = rng.integers(0, 1 << 63, n, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, n, dtype=np.uint64)
    fpcrs = np.where(rng.random(n) < 0.6, 0, rng.integers(0, 16, n) << 22).astype(np.uint64)
    i = bulk(kind, a, b, c, np.int64(fmt), fpcrs)
    assert i < 0, f"{BULK[kind]} fmt={fmt}: a={a[i]:#x} b={b[i]:#x} c={c[i]:#x} fpcr={fpcrs[i]:#x}"


# --- (c) the fast path answers -----------------------------------------------------------

def test_fast_paths_answer():
    """Typical operands (normal numbers around 1, RN) take the fast path, exact and
    inexact ones alike."""
    d = lambda x: U(np.float64(x).view(np.uint64))      # noqa: E731
    s = lambda x: U(np.float32(x).view(np.uint32))      # noqa: E731
    z = U(0)
    cases = [
        (fpfast.fast_add(d(1.5), d(2.25), FMT_D, z, False), 0),
        (fpfast.fast_add(d(1.0), d(1e-20), FMT_D, z, True), 16),
        (fpfast.fast_add(s(1.0), s(3.0), FMT_S, z, False), 0),
        (fpfast.fast_mul(d(1.5), d(3.0), FMT_D, z), 0),
        (fpfast.fast_mul(s(1.1), s(3.0), FMT_S, z), 16),
        (fpfast.fast_muladd(d(0.25), d(1.5), d(3.0), FMT_D, z), 0),
        (fpfast.fast_muladd(s(0.1), s(1.1), s(3.0), FMT_S, z), 16),
        (fpfast.fast_div(d(1.0), d(3.0), FMT_D, z), 16),
        (fpfast.fast_div(s(6.0), s(3.0), FMT_S, z), 0),
        (fpfast.fast_sqrt(d(2.0), FMT_D, z), 16),
        (fpfast.fast_sqrt(s(2.25), FMT_S, z), 0),
        (fpfast.fast_convert(d(0.1), FMT_D, FMT_S, 0), 16),
        (fpfast.fast_convert(s(0.1), FMT_S, FMT_D, 0), 0),
        (fpfast.fast_fixed_to_fp(U(3), True, 1, FMT_D, z), 0),
        (fpfast.fast_fixed_to_fp(U((1 << 60) + 1), False, 0, FMT_S, z), 16),
        (fpfast.fast_to_fixed(d(-2.5), FMT_D, 0, False, 64, 3), 16),
        (fpfast.fast_to_fixed(s(3.0), FMT_S, 2, True, 32, 3), 0),
    ]
    for i, ((ok, r, fl), want) in enumerate(cases):
        assert ok and fl == want, (i, ok, fl)
    # and declines outside its preconditions: another rounding mode, a denormal, the
    # product's and the addend's lowest set bits at the same place
    assert not fpfast.fast_add(d(1.5), d(2.25), FMT_D, U(1 << 22), False)[0]
    assert not fpfast.fast_mul(d(1.5), U(1), FMT_D, z)[0]
    assert not fpfast.fast_muladd(d(0.5), d(1.5), d(3.0), FMT_D, z)[0]


# --- (d) generated code -------------------------------------------------------------------

def test_generated_code():
    """No fast-math flag on any float instruction (LLVM may neither contract nor
    reassociate), the fused multiply-adds are the ones written, and nothing allocates.
    (Code loaded from numba's cache cannot be inspected: each function is compiled
    afresh here, its callees linked in as LLVM IR.)"""
    import numba
    from numba import types as T
    u, i, b = T.uint64, T.int64, T.boolean
    sigs = {fpu.fp_add: (u, u, i, u, b), fpu.fp_mul_x: (u, u, i, u, b),
            fpu.fp_muladd: (u, u, u, i, u), fpu.fp_div: (u, u, i, u), fpu.fp_sqrt: (u, i, u),
            fpu.fp_convert_mode: (u, i, i, u, i), fpu.fixed_to_fp: (u, i, b, i, i, u)}
    irs = {}
    for disp, sig in sigs.items():
        fresh = numba.njit(cache=False)(disp.py_func)
        fresh.compile(sig)
        ir = irs[disp] = fresh.inspect_llvm(sig)
        name = disp.py_func.__name__
        assert re.search(r"= (fadd|fmul|fdiv|fptrunc|sitofp) |@llvm\.(fma|sqrt)\.f", ir), name
        assert not re.search(r"\bf(add|sub|mul|div|neg|cmp \w+) (fast|nnan|ninf|nsz|arcp|contract"
                             r"|afn|reassoc)\b", ir), name
        assert "NRT_MemInfo_alloc" not in ir and "NRT_Allocate" not in ir, name
    assert "llvm.fma" not in irs[fpu.fp_add] and "llvm.fma" not in irs[fpu.fp_mul_x]
    assert "llvm.fma.f64" in irs[fpu.fp_muladd] and "llvm.fma.f32" in irs[fpu.fp_muladd]
