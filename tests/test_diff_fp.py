"""Scalar floating point against unicorn, bit for bit: results, FPSR cumulative flags
and NZCV, for every rounding mode with FZ, DN and AHP on and off.

(a) hand-picked lines for every mnemonic and form, each run with random operands
    biased to the edges (signed zeros, infinities, quiet and signalling NaNs with
    payloads, denormals, the smallest and largest normals, halfway cases, values near
    the integer-conversion limits);
The Advanced SIMD floating-point forms (vector, scalar, pairwise, across lanes, by
element, fixed-point shifts) share the softfloat and are tested the same way.

(b) random valid encodings of the fp.dec patterns (`--diff-samples N` for a large
    sample, with `--diff-seed`).
"""
import random

import pytest

import ucdiff
from ucdiff import M64, rand_value

TRIALS = 16            # operand sets per hand-picked line
DEFAULT_SAMPLES = 1500

# (E, F) of the formats
FMTS = {"h": (5, 10), "s": (8, 23), "d": (11, 52)}


def fp_value(rng, fmt):
    """A bit pattern of format fmt ('h', 's', 'd'), biased to the edge cases."""
    E, F = FMTS[fmt]
    emax = (1 << E) - 1
    bias = emax >> 1
    sign = rng.getrandbits(1) << (E + F)
    k = rng.random()
    if k < 0.06:
        return sign                                           # +-0
    if k < 0.11:
        return sign | emax << F                               # +-inf
    if k < 0.17:                                              # quiet NaN, payload
        return sign | emax << F | 1 << (F - 1) | rng.getrandbits(F - 1) * rng.getrandbits(1)
    if k < 0.23:                                              # signalling NaN
        return sign | emax << F | max(1, rng.getrandbits(F - 1) >> rng.randrange(F - 1))
    if k < 0.33:                                              # denormal
        return sign | rng.choice([1, (1 << F) - 1, rng.getrandbits(F) or 1, 1 << (F - 1)])
    if k < 0.38:                                              # smallest/largest normal
        return sign | rng.choice([1 << F, (emax - 1) << F | ((1 << F) - 1),
                                  1 << F | rng.getrandbits(F), (emax - 1) << F])
    if k < 0.55:                                              # small integers and halves
        v = rng.randrange(0, 64)
        half = rng.random() < 0.5
        if v == 0 and not half:
            return sign
        # value = v + half/2, exact in every format
        num = 2 * v + (1 if half else 0)
        e = num.bit_length() - 1
        frac = (num << F >> e) & ((1 << F) - 1)
        x = sign | (e - 1 + bias) << F | frac
        return x + rng.choice([0, 0, 1, -1]) if frac else x
    if k < 0.65:                                              # near 2**31, 2**32, 2**63, 2**64
        e = rng.choice([31, 32, 63, 64, 15, 16, 62, 30, 0, -1, 52, 53, 23, 24])
        if e + bias >= emax:
            e = emax - 1 - bias
        return sign | (e + bias) << F | rng.choice([0, 1, (1 << F) - 1, rng.getrandbits(F)])
    if k < 0.72:                                              # exponent near the bottom
        return sign | rng.randrange(1, 1 + min(60, emax - 1)) << F | rng.getrandbits(F)
    if k < 0.77:                                              # exponent near the top
        return sign | (emax - 1 - rng.randrange(0, 4)) << F | rng.getrandbits(F)
    if k < 0.85:                                              # around 1.0, few fraction bits
        return sign | (bias + rng.randrange(-3, 4)) << F | (rng.getrandbits(6) << (F - 6))
    return rng.getrandbits(1 + E + F)


def fp_vregs(rng, fmt, base):
    """V0..V31: FP values of fmt in the low bits (random high bits), base elsewhere."""
    out = []
    n = {"h": 16, "s": 32, "d": 64}[fmt]
    for i in range(32):
        hi = base[i] >> n << n
        out.append(hi | fp_value(rng, fmt))
    return out


def lane_vregs(rng, fmt):
    """V0..V31 filled lane by lane with FP values of fmt ('h', 's', 'd') or integers ('i32',
    'i64')."""
    out = []
    for _ in range(32):
        if fmt.startswith("i"):
            w = int(fmt[1:])
            lanes = [int_value(rng) & ((1 << w) - 1) for _ in range(128 // w)]
        else:
            w = {"h": 16, "s": 32, "d": 64}[fmt]
            lanes = [fp_value(rng, fmt) for _ in range(128 // w)]
        v = 0
        for i, x in enumerate(lanes):
            v |= x << (w * i)
        out.append(v)
    return out


def rand_fpcr(rng):
    """RMode, FZ, DN and AHP at random."""
    return (rng.randrange(4) << 22 | rng.getrandbits(1) << 24 | rng.getrandbits(1) << 25
            | rng.getrandbits(1) << 26)


def rand_fpsr(rng):
    return 0 if rng.random() < 0.7 else rng.choice([0x9F, 0x10, 0x80, 0x1, 0x8000000])


def int_value(rng):
    k = rng.random()
    if k < 0.3:
        return rand_value(rng)
    if k < 0.5:
        return rng.randrange(-300, 300) & M64
    if k < 0.7:                          # many significant bits: rounding
        return (rng.getrandbits(64) >> rng.randrange(0, 40))
    b = rng.choice([24, 25, 31, 32, 53, 54, 63, 64, 11, 12])
    return ((1 << b) + rng.randrange(-3, 4)) & M64


# --- hand-picked lines ----------------------------------------------------------------

def _sd(fmt_lines):
    out = []
    for t in ("s", "d"):
        out += [ln.format(r=t) for ln in fmt_lines]
    return out


DP1 = _sd(["fmov {r}0, {r}1", "fabs {r}0, {r}1", "fneg {r}3, {r}1", "fsqrt {r}0, {r}1",
           "frintn {r}0, {r}1", "frintp {r}0, {r}1", "frintm {r}0, {r}1", "frintz {r}0, {r}1",
           "frinta {r}0, {r}1", "frintx {r}0, {r}1", "frinti {r}0, {r}1"])
FCVT = ["fcvt d0, s1", "fcvt s0, d1", "fcvt h0, s1", "fcvt h0, d1", "fcvt s0, h1", "fcvt d0, h1"]
DP2 = _sd(["fmul {r}0, {r}1, {r}2", "fdiv {r}0, {r}1, {r}2", "fadd {r}0, {r}1, {r}2",
           "fsub {r}0, {r}1, {r}2", "fmax {r}0, {r}1, {r}2", "fmin {r}0, {r}1, {r}2",
           "fmaxnm {r}0, {r}1, {r}2", "fminnm {r}0, {r}1, {r}2", "fnmul {r}0, {r}1, {r}2",
           "fadd {r}1, {r}1, {r}1"])
DP3 = _sd(["fmadd {r}0, {r}1, {r}2, {r}3", "fmsub {r}0, {r}1, {r}2, {r}3",
           "fnmadd {r}0, {r}1, {r}2, {r}3", "fnmsub {r}0, {r}1, {r}2, {r}3"])
CMP = _sd(["fcmp {r}1, {r}2", "fcmpe {r}1, {r}2", "fcmp {r}1, #0.0", "fcmpe {r}1, #0.0",
           "fccmp {r}1, {r}2, #5, eq", "fccmpe {r}1, {r}2, #0, ne", "fccmp {r}1, {r}2, #15, ge",
           "fcsel {r}0, {r}1, {r}2, eq", "fcsel {r}0, {r}1, {r}2, lt",
           "fmov {r}0, #1.0", "fmov {r}0, #-0.1875", "fmov {r}0, #31.0", "fmov {r}0, #0.125"])
INT = []
for _g, _x in (("w", "s"), ("w", "d"), ("x", "s"), ("x", "d")):
    for _m in ("fcvtns", "fcvtnu", "fcvtps", "fcvtpu", "fcvtms", "fcvtmu", "fcvtzs", "fcvtzu",
               "fcvtas", "fcvtau"):
        INT.append(f"{_m} {_g}0, {_x}1")
    INT += [f"scvtf {_x}0, {_g}1", f"ucvtf {_x}0, {_g}1"]
INT += ["fmov w0, s1", "fmov s0, w1", "fmov x0, d1", "fmov d0, x1", "fmov x0, v1.d[1]",
        "fmov v1.d[1], x0", "fmov wzr, s1", "fmov s0, wzr", "scvtf d0, xzr", "fcvtzs xzr, d1"]
FIXED = []
for _g, _x, _bs in (("w", "s", (1, 5, 31, 32)), ("w", "d", (1, 16, 32)),
                    ("x", "s", (1, 33, 63, 64)), ("x", "d", (1, 12, 52, 64))):
    for _b in _bs:
        FIXED += [f"scvtf {_x}0, {_g}1, #{_b}", f"ucvtf {_x}0, {_g}1, #{_b}",
                  f"fcvtzs {_g}0, {_x}1, #{_b}", f"fcvtzu {_g}0, {_x}1, #{_b}"]

# Advanced SIMD floating point
V3 = []
for _t in ("4s", "2s", "2d"):
    for _m in ("fadd", "fsub", "fmul", "fdiv", "fmax", "fmin", "fmaxnm", "fminnm", "fmla", "fmls",
               "fabd", "fmulx", "frecps", "frsqrts", "faddp", "fmaxp", "fminp", "fmaxnmp",
               "fminnmp", "fcmeq", "fcmge", "fcmgt", "facge", "facgt"):
        V3.append(f"{_m} v0.{_t}, v1.{_t}, v2.{_t}")
for _r in ("s", "d"):
    for _m in ("fabd", "fmulx", "frecps", "frsqrts", "fcmeq", "fcmge", "fcmgt", "facge", "facgt"):
        V3.append(f"{_m} {_r}0, {_r}1, {_r}2")
V2 = []
for _t in ("4s", "2s", "2d"):
    for _m in ("fabs", "fneg", "fsqrt", "frintn", "frintp", "frintm", "frintz", "frinta", "frintx",
               "frinti", "fcvtns", "fcvtnu", "fcvtps", "fcvtpu", "fcvtms", "fcvtmu", "fcvtzs",
               "fcvtzu", "fcvtas", "fcvtau", "scvtf", "ucvtf", "frecpe", "frsqrte"):
        V2.append(f"{_m} v0.{_t}, v1.{_t}")
    for _m in ("fcmgt", "fcmge", "fcmeq", "fcmle", "fcmlt"):
        V2.append(f"{_m} v0.{_t}, v1.{_t}, #0.0")
for _r in ("s", "d"):
    for _m in ("fcvtns", "fcvtnu", "fcvtps", "fcvtpu", "fcvtms", "fcvtmu", "fcvtzs", "fcvtzu",
               "fcvtas", "fcvtau", "scvtf", "ucvtf", "frecpe", "frsqrte", "frecpx"):
        V2.append(f"{_m} {_r}0, {_r}1")
    for _m in ("fcmgt", "fcmge", "fcmeq", "fcmle", "fcmlt"):
        V2.append(f"{_m} {_r}0, {_r}1, #0.0")
V2 += ["fcvtn v0.4h, v1.4s", "fcvtn2 v0.8h, v1.4s", "fcvtn v0.2s, v1.2d", "fcvtn2 v0.4s, v1.2d",
       "fcvtl v0.4s, v1.4h", "fcvtl2 v0.4s, v1.8h", "fcvtl v0.2d, v1.2s", "fcvtl2 v0.2d, v1.4s",
       "fcvtxn v0.2s, v1.2d", "fcvtxn2 v0.4s, v1.2d", "fcvtxn s0, d1"]
VRED = ["fmaxnmv s0, v1.4s", "fminnmv s0, v1.4s", "fmaxv s0, v1.4s", "fminv s0, v1.4s",
        "faddp s0, v1.2s", "faddp d0, v1.2d", "fmaxp s0, v1.2s", "fmaxp d0, v1.2d", "fminp s0, v1.2s",
        "fminp d0, v1.2d", "fmaxnmp s0, v1.2s", "fmaxnmp d0, v1.2d", "fminnmp s0, v1.2s",
        "fminnmp d0, v1.2d"]
VELEM = []
for _m in ("fmla", "fmls", "fmul", "fmulx"):
    VELEM += [f"{_m} v0.4s, v1.4s, v2.s[3]", f"{_m} v0.2s, v1.2s, v17.s[1]",
              f"{_m} v0.2d, v1.2d, v2.d[1]", f"{_m} v0.2d, v1.2d, v31.d[0]",
              f"{_m} s0, s1, v2.s[2]", f"{_m} d0, d1, v2.d[1]"]
VRED += ["fmov v0.4s, #1.0", "fmov v0.2s, #-0.125", "fmov v0.2d, #31.0", "fmov v3.2d, #-1.9375"]
VSHIFT = []
for _m in ("scvtf", "ucvtf", "fcvtzs", "fcvtzu"):
    VSHIFT += [f"{_m} v0.4s, v1.4s, #1", f"{_m} v0.2s, v1.2s, #32", f"{_m} v0.2d, v1.2d, #17",
               f"{_m} v0.2d, v1.2d, #64", f"{_m} s0, s1, #8", f"{_m} d0, d1, #63"]

GROUPS = {"dp1": DP1, "fcvt": FCVT, "dp2": DP2, "dp3": DP3, "cmp": CMP, "int": INT,
          "fixed": FIXED, "simd3": V3, "simd2": V2, "simdred": VRED, "simdelem": VELEM,
          "simdshift": VSHIFT}


def _src_fmt(line):
    """Format of the FP source operands of a line."""
    ops = line.split(None, 1)[1].replace(" ", "").split(",")
    if "[" in line and line.startswith("fmov"):
        return "d"
    if line.startswith("fmov v"):
        return "vs"
    if ops[0].startswith("v") or (len(ops) > 1 and ops[1].startswith("v")):
        # vector: the lane type of the first source
        t = ops[1].split(".")[1]
        f = t[-1]
        if line.startswith(("scvtf", "ucvtf")):
            return "i" + {"s": "32", "d": "64"}[f]
        return "v" + f
    if line.startswith(("scvtf", "ucvtf")) and ops[1][0] in "sd" and (
            len(ops) == 2 or ops[1][0] == ops[0][0]):
        return "v" + ("i32" if ops[1][0] == "s" else "i64")
    src = ops[1] if len(ops) > 1 else ops[0]
    if line.startswith(("fcmp", "fccmp")):
        src = ops[0]
    if src[0] in "hsd":
        return src[0]
    return "d"


@pytest.fixture(scope="module")
def h():
    return ucdiff.Harness(seed=3)


def related(rng, fmt, v, line):
    """Operands that make cancellation, exact halfway cases and tiny results likely:
    V2 near -V1 (FADD/FSUB), V3 near -(V1 * V2) (the fused forms)."""
    E, F = FMTS[fmt]
    n = 1 + E + F
    m = (1 << n) - 1
    a = v[1] & m
    if line.startswith(("fmadd", "fmsub", "fnmadd", "fnmsub")):
        import struct
        c = "<d" if fmt == "d" else "<f"
        i = "<Q" if fmt == "d" else "<I"
        try:
            x = struct.unpack(c, struct.pack(i, a))[0] * struct.unpack(c, struct.pack(i, v[2] & m))[0]
            p = struct.unpack(i, struct.pack(c, x))[0]
        except (OverflowError, struct.error):
            return v
        if line.startswith(("fmsub", "fnmadd")):
            p ^= 1 << (n - 1)          # the product is negated there
        v[3] = v[3] >> n << n | ((p ^ (1 << (n - 1))) + rng.randrange(-2, 3)) & m
    else:
        v[2] = v[2] >> n << n | ((a ^ rng.getrandbits(1) << (n - 1)) + rng.randrange(-3, 4)) & m
    return v


def run_lines(h, lines, trials, seed):
    rng = random.Random(seed)
    words = ucdiff.assemble(lines)
    failures = []
    n = 0
    for line, w in zip(lines, words):
        fmt = _src_fmt(line)
        for _ in range(trials):
            regs = [int_value(rng) for _ in range(31)]
            if fmt.startswith("v"):
                v = lane_vregs(rng, fmt[1:])
            elif fmt.startswith("i"):
                v = lane_vregs(rng, fmt)
            else:
                v = fp_vregs(rng, fmt, h.vvals)
                if rng.random() < 0.3:
                    v = related(rng, fmt, v, line)
            fpcr = rand_fpcr(rng)
            fpsr = rand_fpsr(rng)
            nzcv = rng.randrange(16)
            d = h.check([w], regs, ucdiff.PTR, nzcv, v=v, fpcr=fpcr, fpsr=fpsr)
            n += 1
            if d:
                failures.append(f"{line} ({w:#010x}) v1={v[1] & M64:#x} v2={v[2] & M64:#x} "
                                f"v3={v[3] & M64:#x} x1={regs[1]:#x} fpcr={fpcr:#x} "
                                f"nzcv={nzcv:04b}: {'; '.join(d[:3])}")
                break
    return failures, n


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_handpicked(h, group):
    failures, _ = run_lines(h, GROUPS[group], TRIALS, f"fp-{group}")
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures[:40])


FP_PATTERNS = ("FP_DP3", "FP_FIXED", "FP_INT", "FP_DP1", "FP_CMP", "FP_IMM", "FP_CCMP",
               "FP_DP2", "FP_CSEL")
SIMD_PATTERNS = ("SIMD_FP3", "SIMD_FP3S", "SIMD_FP2CMP", "SIMD_FP2CVTN", "SIMD_FP2A0",
                 "SIMD_FP2A1", "SIMD_FP2A1E", "SIMD_FP2A1F", "SIMD_FP2SCMP", "SIMD_FP2SCVTN",
                 "SIMD_FP2SA0", "SIMD_FP2SA1", "SIMD_FP2SA1E", "SIMD_FP2SA1F", "SIMD_FPACROSS",
                 "SIMD_FPPAIRS", "SIMD_FPELEM", "SIMD_FPELEMX", "SIMD_FPELEMS", "SIMD_FPELEMSX",
                 "SIMD_FPCVTF", "SIMD_FPCVTFD", "SIMD_FPCVTFS", "SIMD_FPCVTFSD")


def random_fp_sample(h, n, seed, max_failures=20, patterns=FP_PATTERNS + SIMD_PATTERNS):
    from pyaarch64.cpu.isa import _decoder as dec
    from pyaarch64.cpu import opids as OI
    rng = random.Random(seed)
    failures = []
    seen = {}
    for _ in range(n):
        name, w, f = ucdiff.random_encoding(rng, dec, dec.predecode, h.feat, OI.OP_UNDEF,
                                            patterns=patterns)
        seen[name] = seen.get(name, 0) + 1
        regs = [int_value(rng) for _ in range(31)]
        if name.startswith("SIMD"):
            if "ih" in f:
                fmt = "d" if name.endswith("D") else "s"
            else:
                fmt = "d" if f.get("sz") else "s"
            if rng.random() < 0.2:
                fmt = "i" + {"s": "32", "d": "64"}[fmt]
            elif name.startswith(("SIMD_FP2CVTN", "SIMD_FP2SCVTN")) and rng.random() < 0.5:
                fmt = "h" if fmt == "s" else "s"
            v = lane_vregs(rng, fmt)
        else:
            ft = f.get("ftype", 1)
            fmt = {0: "s", 1: "d", 3: "h"}.get(ft, "d")
            v = fp_vregs(rng, fmt, h.vvals)
        fpcr = rand_fpcr(rng)
        fpsr = rand_fpsr(rng)
        nzcv = rng.randrange(16)
        d = h.check([w], regs, ucdiff.PTR, nzcv, v=v, fpcr=fpcr, fpsr=fpsr)
        if d and len(failures) < max_failures:
            failures.append(f"{name} {w:#010x} {f} fpcr={fpcr:#x} nzcv={nzcv:04b}: "
                            + "; ".join(d[:3]))
    return failures, seen


def test_random_encodings(h, request):
    n = request.config.getoption("--diff-samples") or DEFAULT_SAMPLES
    seed = request.config.getoption("--diff-seed")
    failures, seen = random_fp_sample(h, n, seed)
    assert set(seen) == set(FP_PATTERNS + SIMD_PATTERNS) or n < 300, seen
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures)


def test_fp_access_trap(h):
    """CPACR_EL1.FPEN = 0 traps FP data processing (both sides fault)."""
    w = ucdiff.assemble(["fadd d0, d1, d2"])[0]
    h.cpu.set_reg("CPACR_EL1", 0)
    try:
        ours, _ = h.step([w], [0] * 31, ucdiff.PTR, 0)
    finally:
        h.cpu.set_reg("CPACR_EL1", 3 << 20)
    assert ours.fault


def test_half_arithmetic_undef(h):
    """No CPU model has FEAT_FP16: half-precision arithmetic is UNDEF, as on unicorn."""
    from pyaarch64.cpu.isa import _decoder as dec
    from pyaarch64.cpu import opids as OI
    lines = ["fadd h0, h1, h2", "fmov h0, h1", "fcvtzs w0, h1", "scvtf h0, w1", "fmov h0, w1",
             "fcmp h1, h2", "fmadd h0, h1, h2, h3", "fmov h0, #1.0"]
    words = ucdiff.assemble([".arch armv8.2-a+fp16\n" + ln if i == 0 else ln
                             for i, ln in enumerate(lines)])
    for ln, w in zip(lines, words):
        assert int(dec.predecode(w, h.feat)[0]) & 0x3FF == OI.OP_UNDEF, ln
        ours, theirs = h.step([w], [0] * 31, ucdiff.PTR, 0)
        assert ours.fault and theirs.fault, ln


@pytest.mark.slow      # type inference of the softfloat, ~8 s
def test_no_float64_in_fp(h):
    """The softfloat and the FP semantics infer no float64 (the discipline test's warm-up
    runs no FP instruction, so they are typed here after a run compiled them); the host
    float kernels of cpu/hostfp.py take and return no float."""
    import importlib
    from numba.core.registry import CPUDispatcher
    import test_numba_discipline as ND
    words = ucdiff.assemble(["fmadd d0, d1, d2, d3", "fcvtzs x0, s1, #3", "fccmp d1, d2, #0, eq",
                             "fsqrt s0, s1", "fcvt h0, d1", "ucvtf s0, x1", "fdiv d0, d1, d2"])
    h.step(words, [0] * 31, ucdiff.PTR, 0)
    import numba
    if numba.config.DISABLE_JIT:
        pytest.skip("nothing is compiled without the JIT")
    from numba import typeof, types
    from pyaarch64.cpu import fpexec
    from pyaarch64.cpu.isa import fp as fpdec
    cpu = h.cpu
    fpexec.fpdp.compile((typeof(cpu.regs), typeof(cpu.ctl), typeof(cpu.sysr), types.uint64,
                         types.uint64, types.uint64))
    for name in dir(fpdec):
        if name.startswith("d_FP_"):
            d = getattr(fpdec, name)
            d.compile((types.int64,) * d.py_func.__code__.co_argcount)
    mine = ("pyaarch64.cpu.fpu", "pyaarch64.cpu.fpexec", "pyaarch64.cpu.fpvec",
            "pyaarch64.cpu.isa.fp", "pyaarch64.cpu.fpformat", "pyaarch64.cpu.fpfast",
            "pyaarch64.cpu.hostfp")
    bad = []
    checked = set()
    done = set()
    while True:                         # typing compiles the callees: to a fixpoint
        n0 = len(done)
        for modname in mine:
            mod = importlib.import_module(modname)
            for name in sorted(vars(mod)):
                d = getattr(mod, name)
                if not isinstance(d, CPUDispatcher) or d.py_func.__module__ != modname:
                    continue
                for sig in list(d.signatures):
                    if (modname, name, sig) in done:
                        continue
                    done.add((modname, name, sig))
                    fv = ND.unintended_floats(modname, d, sig)
                    if modname in mine:
                        checked.add(f"{modname}.{name}")
                        if fv:
                            bad.append(f"{modname}.{name}{sig}: {fv}")
        if len(done) == n0:
            break
    for must in ("pyaarch64.cpu.fpexec.fpdp", "pyaarch64.cpu.fpu.fp_muladd",
                 "pyaarch64.cpu.fpu.fp_round", "pyaarch64.cpu.isa.fp.d_FP_DP3",
                 "pyaarch64.cpu.fpvec.two_misc", "pyaarch64.cpu.fpu.fp_rsqrt_est",
                 "pyaarch64.cpu.fpfast.fast_muladd", "pyaarch64.cpu.hostfp.fma_host"):
        assert must in checked, sorted(checked)
    assert not bad, "\n".join(bad)
