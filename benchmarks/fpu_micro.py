#!/usr/bin/env python3
"""Per-call cost of cpu/fpu.py's arithmetic, in ns, from a jitted loop.

    PYTHONPATH=... python benchmarks/fpu_micro.py            # FPCR = 0 (round to nearest)
    PYTHONPATH=... python benchmarks/fpu_micro.py --rmode 1  # round towards +inf
    PYTHONPATH=... python benchmarks/fpu_micro.py --insns    # whole instructions (fpexec.fpdp)

Operands are random normal numbers (|x| in [2**-8, 2**8), random signs) of the format,
as a guest's arithmetic sees them; each function runs over 2**16 operand sets, the
best of 7 repeats is reported.  The loop XORs the results into a checksum so nothing
is optimised away; the loop's own cost (about 1 ns) is included.

--insns times the floating-point group's entry, cpu/fpexec.py's fp_group, as the
executor calls it (FP access check, decode fields, read registers, every lane, write
back, FPSR; not the executor's own dispatch) for the FP instructions of the fpk
benchmark's loops, with destinations moved off the sources so that values stay put
from one iteration to the next.
"""
import argparse
import time

import numpy as np
from numba import njit

from pyaarch64.cpu.fpu import (FMT_S, FMT_D, fp_add, fp_mul, fp_muladd, fp_div, fp_sqrt,
                               fp_convert, fixed_to_fp, fp_to_fixed, fp_compare, RM_RZ)
from pyaarch64.cpu.fpexec import fp_group

N = 1 << 16


NAMES = ["fp_add", "fp_mul", "fp_muladd", "fp_div", "fp_sqrt", "fp_convert", "fixed_to_fp",
         "fp_to_fixed", "fp_compare"]


@njit(cache=False)
def loop(kind, a, b, c, fmt, fpcr):
    """NAMES[kind] over the operand arrays; fp_convert converts to the other size,
    fixed_to_fp takes a[i] >> (i % 32) as a signed 64-bit integer, fp_sqrt |a[i]|."""
    s = np.uint64(0)
    other = np.int64(FMT_S if fmt == FMT_D else FMT_D)
    sign = np.uint64(1) << np.uint64(63 if fmt == FMT_D else 31)
    for i in range(a.size):
        if kind == 0:
            r, f = fp_add(a[i], b[i], fmt, fpcr, False)
        elif kind == 1:
            r, f = fp_mul(a[i], b[i], fmt, fpcr)
        elif kind == 2:
            r, f = fp_muladd(c[i], a[i], b[i], fmt, fpcr)
        elif kind == 3:
            r, f = fp_div(a[i], b[i], fmt, fpcr)
        elif kind == 4:
            r, f = fp_sqrt(a[i] & ~sign, fmt, fpcr)
        elif kind == 5:
            r, f = fp_convert(a[i], fmt, other, fpcr)
        elif kind == 6:
            r, f = fixed_to_fp(a[i] >> np.uint64(i & 31), 64, False, np.int64(0), fmt, fpcr)
        elif kind == 7:
            r, f = fp_to_fixed(a[i], fmt, fpcr, np.int64(0), False, 64, np.int64(RM_RZ))
        else:
            c3, f = fp_compare(a[i], b[i], fmt, fpcr, False)
            r = np.uint64(c3)
        s ^= r + np.uint64(f)
    return s


# fpk's FP instructions (benchmarks/guest/fpk.c, -O2), destinations renamed
INSNS = [("fmla v1.4s, v0.4s, v2.4s", 0x4E22CC01), ("faddp v26.4s, v0.4s, v0.4s", 0x6E20D41A),
         ("fmadd d20, d1, d4, d19", 0x1F444C34), ("fadd d21, d1, d0", 0x1E602835),
         ("fmul d27, d1, d6", 0x1E66083B), ("fdiv d6, d1, d5", 0x1E651826),
         ("fsqrt d22, d3", 0x1E61C076), ("fcvtzs d23, d2", 0x5EE1B857),
         ("scvtf d25, d24", 0x5E61DB19)]


@njit(cache=False)
def loop_insn(regs, ctl, sysr, sysmap, bus, op, w0, w1, n):
    for _ in range(n):
        fp_group(regs, ctl, sysr, sysmap, bus, op, w0, w1)
    return regs[0]


def insn_bench(repeat, fpcr):
    from pyaarch64.cpu.core import Cpu
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu.sysregs import R_VAL, S_FPCR
    from pyaarch64.cpu.isa._decoder import predecode
    cpu = Cpu("cortex-a57")
    cpu.attach_ram(np.zeros(1 << 16, dtype=np.uint8), 0x40000000)
    cpu.attach_mmio(lambda addr, size, is_write, value: 0)
    cpu.set_reg("CPACR_EL1", 3 << 20)             # FP enabled
    rng = np.random.default_rng(2)
    for i in range(32):
        if i in (0, 1, 2):             # single lanes for the vector forms
            lanes = (rng.uniform(0.5, 2.0, 4).astype(np.float32)).view(np.uint32).astype(np.uint64)
            cpu.vregs[i] = [lanes[0] | lanes[1] << np.uint64(32), lanes[2] | lanes[3] << np.uint64(32)]
        elif i == 24:
            cpu.vregs[i] = [123456789, 0]
        else:
            cpu.vregs[i] = [np.float64(rng.uniform(0.5, 2.0)).view(np.uint64), 0]
    cpu.sysr[S_FPCR, R_VAL] = fpcr
    feat = int(cpu.ctl[O.C_FEAT])
    n = 1 << 14
    print(f"| instruction (FPCR=0x{int(fpcr):x}) | ns/insn |")
    print("|---|---:|")
    for text, w in INSNS:
        w0, w1 = predecode(w, feat)
        args = (cpu.regs, cpu.ctl, cpu.sysr, cpu.sysmap, cpu.bus(), np.int64(int(w0) & 0x3FF), np.uint64(w0), np.uint64(w1))
        saved = cpu.regs.copy()
        loop_insn(*args, 1)
        best = 1e9
        for _ in range(repeat):
            cpu.regs[:] = saved
            t = time.perf_counter()
            loop_insn(*args, n)
            best = min(best, time.perf_counter() - t)
        cpu.regs[:] = saved
        print(f"| {text} | {best / n * 1e9:.1f} |", flush=True)


def operands(rng, fmt):
    v = rng.uniform(1.0, 2.0, N) * np.exp2(rng.integers(-8, 8, N)) * rng.choice([-1.0, 1.0], N)
    if fmt == FMT_D:
        return v.astype(np.float64).view(np.uint64).copy()
    return v.astype(np.float32).view(np.uint32).astype(np.uint64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rmode", type=int, default=0, help="FPCR.RMode (0 RN, 1 RP, 2 RM, 3 RZ)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--insns", action="store_true", help="time whole instructions instead")
    args = ap.parse_args()
    fpcr = np.uint64(args.rmode << 22)
    if args.insns:
        insn_bench(args.repeat, fpcr)
        return
    rng = np.random.default_rng(1)
    print(f"| function (FPCR=0x{int(fpcr):x}) | single ns/call | double ns/call |")
    print("|---|---:|---:|")
    for kind, name in enumerate(NAMES):
        row = []
        for fmt in (FMT_S, FMT_D):
            a, b, c = operands(rng, fmt), operands(rng, fmt), operands(rng, fmt)
            loop(kind, a[:8], b[:8], c[:8], np.int64(fmt), fpcr)         # compile
            best = 1e9
            for _ in range(args.repeat):
                t = time.perf_counter()
                loop(kind, a, b, c, np.int64(fmt), fpcr)
                best = min(best, time.perf_counter() - t)
            row.append(f"{best / N * 1e9:.1f}")
        print(f"| {name} | {row[0]} | {row[1]} |", flush=True)


if __name__ == "__main__":
    main()
