#!/usr/bin/env python3
"""Try an executor change without touching cpu/: build textual variants of
pyaarch64/cpu/executor.py into benchmarks/build/, compile them (numba cache there),
and time them against an unmodified copy, interleaved, on one workload.

    python benchmarks/experiment.py mix                 # all variants
    python benchmarks/experiment.py mix --variants flat --rounds 5

Variants (each a list of regex substitutions; if a pattern no longer matches the
executor, the variant is reported as stale and skipped):
  copy  the executor as it is (the control: same compile flags, same cache location)
  flat  decode cache and soft TLB indexed as 1-D arrays in the hot path
        (dc1[slot*2048 + idx*2 + k], tl1[e*2 + k]) instead of dcache[slot, idx, k] and
        tlb[e, k]: numba computes multi-dimensional offsets with strides it loads
        from the array struct (imul with a stack operand on every fetch and access).
  fuse  flat, plus CMP/SUBS (immediate) followed by B.cond run as one dispatch.
  split flat, plus the memory stage's slow path moved into its own jitted function.
"""
import argparse
import importlib.util
import inspect
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench  # noqa: E402

VARIANTS = {
    "copy": ([], False),
    "flat": ([
        (r"(def run\(.*budget, state)\):", r"\1, dc1, tl1):"),
        (r"^(\s*)cu = U0\n", r"\1cu = U0\n\1cbase = U0\n"),
        (r"^(\s*)cu = np\.uint64\(cslot\)\n", r"\1cu = np.uint64(cslot)\n\1cbase = cu << np.uint64(11)\n"),
        (r"dcache\[cu, idx, 0\]", "dc1[cbase + (idx << U1)]"),
        (r"dcache\[cu, idx, 1\]", "dc1[cbase + (idx << U1) + U1]"),
        (r"tlb\[e, 0\] == vp", "tl1[e * 2] == vp"),
        (r"h = maddr \+ tlb\[e, 1\]", "h = maddr + tl1[e * 2 + 1]"),
    ], True),
}
# fuse: flat, plus CMP/SUBS-immediate + B.cond executed as one dispatch (the pair is
# ~28% of the mix; each dispatch costs an indirect jump that often mispredicts)
VARIANTS["fuse"] = (VARIANTS["flat"][0] + [
    (r"(\n\s*r, nzcv = addc\(a, w1, 0, w\)\n(\s*)regs\[rd\] = r\n)(\s*elif op == OP_ADDSR:)",
     r"""\1\2if idx < np.uint64(1023) and steps + U1 < budget:
\2    nx = dc1[cbase + ((idx + U1) << U1)]
\2    if (nx & OPMASK) == np.uint64(OP_BCOND):
\2        if cond_holds(np.int64(nx >> SH_AUX), nzcv):
\2            npc = pc + U4 + dc1[cbase + ((idx + U1) << U1) + U1]
\2        else:
\2            npc = pc + U4 + U4
\2        steps += U1
\3"""),
], True)
# split: flat, plus the memory stage's slow path moved out of the loop (fewer live values)
VARIANTS["split"] = (VARIANTS["flat"][0] + [(None, lambda src: split_slow_memory(src))], True)


def split_slow_memory(src):
    """Move the memory stage's slow path (the access_slow loop) out of the run loop
    into its own jitted function, so the loop body is smaller."""
    m = re.search(r"^(\s*)if not done:\n(.*?)^(\s*)if fail:\n", src, flags=re.M | re.S)
    if not m:
        raise LookupError("split: the slow memory path's shape changed")
    ind = m.group(1)
    body = m.group(2)
    lines = body.splitlines()
    deep = len(ind) + 4
    fn_body = "\n".join("    " + l[deep:] if l.strip() else "" for l in lines)
    params = ("ctl, pc, nzcv, w0, mk, aux, mcnt, maddr, nb, msize, regs, rd, bus, "
              "dcache, sysr")
    helper = (f"@njit(cache=True)\ndef slow_mem({params}):\n    exitc = 0\n{fn_body}\n"
              f"    return fail, code, v1, exitc, is_w\n\n\n")
    call = (f"{ind}if not done:\n{ind}    fail, code, v1, exitc, is_w = slow_mem({params})\n"
            f"{ind}    ra = (w0 >> SH_RA) & M6\n")
    src = src[:m.start()] + call + src[m.start(3):]
    i = src.index("@njit(cache=True)\ndef run(")
    return src[:i] + helper + src[i:]


def variant_source(name):
    from pyaarch64.cpu import executor
    src = inspect.getsource(executor)
    subs, _ = VARIANTS[name]
    for pat, rep in subs:
        if callable(rep):
            src = rep(src)
            continue
        src, n = re.subn(pat, rep, src, flags=re.M)
        if n == 0:
            raise LookupError(f"variant {name}: pattern {pat!r} no longer matches cpu/executor.py")
    return src


def load_variant(name):
    src = variant_source(name)
    os.makedirs(bench.BUILD, exist_ok=True)
    path = os.path.join(bench.BUILD, f"exp_{name}.py")
    if not os.path.exists(path) or open(path).read() != src:
        with open(path, "w") as f:
            f.write(src)
    spec = importlib.util.spec_from_file_location(f"exp_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod      # numba's cache pickles refer to the module by name
    spec.loader.exec_module(mod)
    return mod.run


def machine(elf, fn, extra):
    from pyaarch64.emu.api import Machine
    m = Machine()
    cpu = m._m.cpu
    args = (cpu.dcache.reshape(-1), cpu.tlb.reshape(-1)) if extra else ()

    def run_variant(budget):
        return fn(cpu.regs, cpu.ctl, cpu.sysr, cpu.sysmap, cpu.bus(), budget,
                  cpu.state, *args)
    cpu.run = run_variant
    m.load_elf(elf)
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", nargs="?", default="mix")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    elf = bench.build(args.workload)
    empty = bench.build("empty")
    fns = {}
    for name in args.variants.split(","):
        try:
            t0 = time.perf_counter()
            fn = load_variant(name)
            machine(empty, fn, VARIANTS[name][1]).run()
            fns[name] = fn
            print(f"{name}: ready in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        except LookupError as e:
            print(f"skipped: {e}", file=sys.stderr)
    times = {n: [] for n in fns}
    ref = None
    for _ in range(args.rounds):
        for name, fn in fns.items():
            m = machine(elf, fn, VARIANTS[name][1])
            t0 = time.process_time()      # CPU time: less distorted by other load
            stop = m.run()
            dt = time.process_time() - t0
            out = bytes(m.serial_output)
            if stop.kind != "poweroff" or (ref is not None and out != ref):
                raise SystemExit(f"{name}: wrong result {stop} {out!r}")
            ref = out
            times[name].append((dt, m.icount))
    print(f"{args.workload}, load {os.getloadavg()[0]:.2f}; CPU seconds, best and median of {args.rounds}:")
    base = None
    for name, ts in times.items():
        best = min(t for t, _ in ts)
        med = statistics.median(t for t, _ in ts)
        n = ts[0][1]
        base = base or best
        print(f"  {name:6s} best {best:.3f} s = {n / best / 1e6:6.1f} MIPS   median {med:.3f} s"
              f"   ({base / best:.2f}x the first)")


if __name__ == "__main__":
    main()
