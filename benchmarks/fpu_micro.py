#!/usr/bin/env python3
"""Per-call cost of cpu/fpu.py's arithmetic, in ns, from a jitted loop.

    PYTHONPATH=... python benchmarks/fpu_micro.py            # FPCR = 0 (round to nearest)
    PYTHONPATH=... python benchmarks/fpu_micro.py --rmode 1  # round towards +inf

Operands are random normal numbers (|x| in [2**-8, 2**8), random signs) of the format,
as a guest's arithmetic sees them; each function runs over 2**16 operand sets, the
best of 7 repeats is reported.  The loop XORs the results into a checksum so nothing
is optimised away; the loop's own cost (about 1 ns) is included.
"""
import argparse
import time

import numpy as np
from numba import njit

from pyaarch64.cpu.fpu import (FMT_S, FMT_D, fp_add, fp_mul, fp_muladd, fp_div, fp_sqrt,
                               fp_convert, fixed_to_fp, fp_to_fixed, fp_compare, RM_RZ)

N = 1 << 16


@njit(cache=False)
def loop_add(a, b, c, fmt, fpcr):
    s = np.uint64(0)
    for i in range(a.size):
        r, f = fp_add(a[i], b[i], fmt, fpcr, False)
        s ^= r + np.uint64(f)
    return s


@njit(cache=False)
def loop_mul(a, b, c, fmt, fpcr):
    s = np.uint64(0)
    for i in range(a.size):
        r, f = fp_mul(a[i], b[i], fmt, fpcr)
        s ^= r + np.uint64(f)
    return s


@njit(cache=False)
def loop_muladd(a, b, c, fmt, fpcr):
    s = np.uint64(0)
    for i in range(a.size):
        r, f = fp_muladd(c[i], a[i], b[i], fmt, fpcr)
        s ^= r + np.uint64(f)
    return s


@njit(cache=False)
def loop_div(a, b, c, fmt, fpcr):
    s = np.uint64(0)
    for i in range(a.size):
        r, f = fp_div(a[i], b[i], fmt, fpcr)
        s ^= r + np.uint64(f)
    return s


@njit(cache=False)
def loop_sqrt(a, b, c, fmt, fpcr):
    s = np.uint64(0)
    for i in range(a.size):
        r, f = fp_sqrt(a[i] & ~(np.uint64(1) << np.uint64(63 if fmt == FMT_D else 31)), fmt, fpcr)
        s ^= r + np.uint64(f)
    return s


@njit(cache=False)
def loop_cvt(a, b, c, fmt, fpcr):
    """FCVT to the other size (S->D or D->S)."""
    s = np.uint64(0)
    other = np.int64(FMT_S if fmt == FMT_D else FMT_D)
    for i in range(a.size):
        r, f = fp_convert(a[i], fmt, other, fpcr)
        s ^= r + np.uint64(f)
    return s


@njit(cache=False)
def loop_scvtf(a, b, c, fmt, fpcr):
    s = np.uint64(0)
    for i in range(a.size):
        r, f = fixed_to_fp(a[i] >> np.uint64(i & 31), 64, False, np.int64(0), fmt, fpcr)
        s ^= r + np.uint64(f)
    return s


@njit(cache=False)
def loop_fcvtzs(a, b, c, fmt, fpcr):
    s = np.uint64(0)
    for i in range(a.size):
        r, f = fp_to_fixed(a[i], fmt, fpcr, np.int64(0), False, 64, np.int64(RM_RZ))
        s ^= r + np.uint64(f)
    return s


@njit(cache=False)
def loop_cmp(a, b, c, fmt, fpcr):
    s = np.uint64(0)
    for i in range(a.size):
        r, f = fp_compare(a[i], b[i], fmt, fpcr, False)
        s ^= np.uint64(r) + np.uint64(f)
    return s


LOOPS = [("fp_add", loop_add), ("fp_mul", loop_mul), ("fp_muladd", loop_muladd),
         ("fp_div", loop_div), ("fp_sqrt", loop_sqrt), ("fp_convert", loop_cvt),
         ("fixed_to_fp", loop_scvtf), ("fp_to_fixed", loop_fcvtzs), ("fp_compare", loop_cmp)]


def operands(rng, fmt):
    v = rng.uniform(1.0, 2.0, N) * np.exp2(rng.integers(-8, 8, N)) * rng.choice([-1.0, 1.0], N)
    if fmt == FMT_D:
        return v.astype(np.float64).view(np.uint64).copy()
    return v.astype(np.float32).view(np.uint32).astype(np.uint64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rmode", type=int, default=0, help="FPCR.RMode (0 RN, 1 RP, 2 RM, 3 RZ)")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    fpcr = np.uint64(args.rmode << 22)
    rng = np.random.default_rng(1)
    print(f"| function (FPCR=0x{int(fpcr):x}) | single ns/call | double ns/call |")
    print("|---|---:|---:|")
    for name, fn in LOOPS:
        row = []
        for fmt in (FMT_S, FMT_D):
            a, b, c = operands(rng, fmt), operands(rng, fmt), operands(rng, fmt)
            fn(a[:8], b[:8], c[:8], np.int64(fmt), fpcr)         # compile
            best = 1e9
            for _ in range(args.repeat):
                t = time.perf_counter()
                fn(a, b, c, np.int64(fmt), fpcr)
                best = min(best, time.perf_counter() - t)
            row.append(f"{best / N * 1e9:.1f}")
        print(f"| {name} | {row[0]} | {row[1]} |", flush=True)


if __name__ == "__main__":
    main()
