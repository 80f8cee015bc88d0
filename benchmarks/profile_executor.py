#!/usr/bin/env python3
"""Where pyaarch64's executor spends a workload: how often the hot loop stops and
why (the ops the general path runs, page entries, predecodes, memory slow paths),
code-page switches, exits to Python.

    python benchmarks/profile_executor.py mix            # counters for the mix workload
    python benchmarks/profile_executor.py mix --perf     # plus a perf(1) sample of the timed run
    python benchmarks/profile_executor.py linux          # the Linux boot of boot.py --shell

The counters come from an instrumented *copy* of pyaarch64/cpu/executor.py written
to benchmarks/build/prof_executor.py (counter increments inserted at fixed anchor
lines; the real executor is not touched) plus the executor's own counters
(ctl C_HOT_CALLS, C_LEAVES, C_MEMSLOW).  If the executor changes so that an anchor is
gone, this script says which one.  The copy compiles once (numba cache in
benchmarks/build/).

--perf runs the *real* executor under `perf record` (enabled only around
Machine.run through perf's control FIFO) and reports how the samples split
between the jitted code, Python and the rest, plus the hottest offsets in the
jitted code.
"""
import argparse
import collections
import importlib.util
import inspect
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench  # noqa: E402  (benchmarks/run.py: build(), workloads)

NPROF = 256 + 65536      # then one counter per system-register key (MRS/MSR) or SYS key
P_FETCHPAGE, P_PREDECODE, P_ALLOC, P_AT_FETCH = range(200, 204)
P_KEY = 256

# (anchor regex, text to insert, where): 'before'/'after' the anchor line at its indent,
# 'into' = after the line, one level deeper.
PATCHES = [
    (r"^def run\(.*budget, state\):", None, "sig"),
    # the ops the general path runs itself (the hot loop stopped at them)
    (r"^        if op == OP_WFI:", "prof[op] += 1\n"
     "if op == OPIDS.OP_MRS or op == OPIDS.OP_MSR or op == OPIDS.OP_SYS:\n"
     "    prof[256 + np.int64((w0 >> np.uint64(34)) & np.uint64(0xFFFF))] += 1",
     "before"),
    # the hot loop stopped at a page entry (or interrupt, stop request, ...) and ran
    # the instruction after the general fetch
    (r"^\s*continue\s+# the hot loop stopped at the fetch", f"prof[{P_AT_FETCH}] += 1", "before"),
    (r"^\s*hp = fetch_page\(", f"prof[{P_FETCHPAGE}] += 1", "before"),
    (r"^\s*w0, w1 = predecode\(", f"prof[{P_PREDECODE}] += 1", "before"),
    (r"^\s*cslot = alloc_slot\(", f"prof[{P_ALLOC}] += 1", "before"),
]


def instrumented_source():
    from pyaarch64.cpu import executor
    src = inspect.getsource(executor).splitlines()
    out = list(src)
    for pat, text, where in PATCHES:
        rx = re.compile(pat)
        hits = [i for i, line in enumerate(out) if rx.search(line)]
        if not hits:
            sys.exit(f"profile_executor.py: anchor {pat!r} not found in cpu/executor.py; update PATCHES")
        for i in reversed(hits):
            line = out[i]
            if where == "sig":
                out[i] = line.replace("budget, state):", "budget, state, prof):")
                continue
            ind = line[:len(line) - len(line.lstrip())]
            if where == "into":
                ind += "    "
            new = [ind + t for t in text.splitlines()]
            if where == "before":
                out[i:i] = new
            elif where == "replace":
                out[i] = new[0]
            else:
                out[i + 1:i + 1] = new
    # numba caches this copy by its own file: name what it was generated from (the
    # executor and every module it imports, cpu/jitcache.py), so that a change to any
    # of them (the decoder, the hot loop, ...) rewrites the file and recompiles it
    from pyaarch64.cpu import jitcache
    out.append("from pyaarch64.cpu import opids as OPIDS  # noqa: E402 (the counters' op names)")
    out.insert(0, f"# generated from pyaarch64.cpu.executor, dependencies {jitcache.dep_hash('pyaarch64.cpu.executor')}")
    return "\n".join(out) + "\n"


def load_instrumented():
    os.makedirs(bench.BUILD, exist_ok=True)
    path = os.path.join(bench.BUILD, "prof_executor.py")
    src = instrumented_source()
    if not os.path.exists(path) or open(path).read() != src:
        with open(path, "w") as f:
            f.write(src)
    spec = importlib.util.spec_from_file_location("prof_executor", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod      # numba's cache pickles refer to the module by name
    spec.loader.exec_module(mod)
    return mod.run


def counters(elf, linux=False):
    """Run `elf` (or, linux=True, the Linux boot of benchmarks/boot.py --shell) with
    the instrumented executor and print where the hot loop stops."""
    import numpy as np
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu import opids as OI
    from pyaarch64.emu.api import Machine
    prun = load_instrumented()
    prof = np.zeros(NPROF, dtype=np.uint64)
    exits = collections.Counter()
    mmio = [0]

    def patch(vm):
        """Run the VirtMachine vm's CPU with the instrumented executor; count MMIO."""
        cpu = vm.cpu

        def run_prof(budget):
            cpu._fill_groups()
            while True:
                ic = cpu.icount
                ex = prun(cpu.regs, cpu.ctl, cpu.sysr, cpu.sysmap, cpu.bus(),
                          budget, cpu.state, prof)
                exits[O.EXIT_NAMES.get(ex, ex)] += 1
                if ex != O.EXIT_GROUP:          # (Cpu.run's own handling, as it does it)
                    return ex
                cpu._load_group(int(cpu.ctl[O.C_EXIT_A]))
                budget -= cpu.icount - ic
                if budget <= 0:
                    return O.EXIT_BUDGET
        cpu.run = run_prof
        orig = vm._mmio

        def count_mmio(*a):
            mmio[0] += 1
            return orig(*a)
        vm._mmio = count_mmio
        cpu.attach_mmio(count_mmio)

    t0 = time.perf_counter()
    w = Machine()
    patch(w._m)
    w.load_elf(bench.build("empty"))
    w.run()
    print(f"(instrumented executor ready in {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    prof[:] = 0
    exits.clear()
    mmio[0] = 0
    if linux:
        import boot
        from pyaarch64.machine.virt import VirtMachine
        kernel, initrd = boot.guest_paths()
        out = bytearray()

        def serial(data):
            out.extend(data)
            if b"/ # " in out:
                vm.cpu.ctl[O.C_STOP] = 1

        vm = VirtMachine("virt-7.2", cpu="cortex-a57", ram_size=512 << 20, serial=serial)
        vm.load_kernel(kernel, initrd=initrd, append="console=ttyAMA0 pyinit=shell")

        class _M:                     # the Machine attributes used below
            _m = vm
            icount = property(lambda self: vm.cpu.icount)
            serial_output = out
            cpu = vm.cpu
        m = _M()
        patch(vm)
        t0 = time.perf_counter()
        stop = vm.run(max_insns=3_000_000_000)
        name = "Linux boot to the shell"
        out_text = ""
    else:
        m = Machine()
        patch(m._m)
        m.load_elf(elf)
        t0 = time.perf_counter()
        stop = m.run()
        name = os.path.basename(elf)
        out_text = bytes(m.serial_output).decode('latin-1').strip()
    dt = time.perf_counter() - t0
    n = m.icount
    print(f"{name}: {n} instructions, stop={stop.kind}, "
          f"instrumented run {dt:.2f} s ({n / dt / 1e6:.0f} MIPS with counters)")
    if out_text:
        print(f"output: {out_text}")
    ctl = m._m.cpu.ctl
    leaves = int(ctl[O.C_LEAVES])
    print(f"\nThe hot loop: {int(ctl[O.C_HOT_CALLS])} calls, stopped {leaves} times before its budget"
          f" = once per {n / max(1, leaves):.0f} instructions")
    print("Why it stopped (the general path took over):")
    names = dict(enumerate(OI.OP_NAMES))
    causes = [(int(prof[i]), f"op {nm}") for i, nm in names.items() if prof[i]]
    causes.append((int(prof[P_AT_FETCH]), "page entry / interrupt / stop (fetch checks)"))
    causes.append((int(prof[P_PREDECODE]), "first execution of a word (predecode)"))
    causes.sort(reverse=True)
    for c, what in causes:
        if c:
            print(f"  {what:46s} {c:12d} {100 * c / max(1, leaves):6.2f}% of stops")
    print(f"  (of the load/store ops: memory slow path {int(ctl[O.C_MEMSLOW])} times; "
          f"MMIO callbacks: {mmio[0]})")
    keys = [(int(prof[P_KEY + k]), k) for k in np.nonzero(prof[P_KEY:])[0]]
    if keys:
        from pyaarch64.cpu import sysregs as SR
        byenc = {SR.key(*r.enc): r.name for r in SR.ROWS}
        print("  MRS/MSR/SYS by register or operation (op0:op1:CRn:CRm:op2 key):")
        for c, k in sorted(keys, reverse=True)[:14]:
            op0, op1, crn, crm, op2 = k >> 14, (k >> 11) & 7, (k >> 7) & 15, (k >> 3) & 15, k & 7
            enc = f"S{op0}_{op1}_C{crn}_C{crm}_{op2}"
            print(f"    {byenc.get(k, 'SYS ' + enc if op0 == 1 else enc):30s} {c:12d}")
    print("\nFetch / decode:")
    print(f"  code-page switches (fetch_page calls) {int(prof[P_FETCHPAGE]):10d}"
          f"  = one per {n / max(1, int(prof[P_FETCHPAGE])):.0f} instructions")
    print(f"  predecodes                            {int(prof[P_PREDECODE]):10d}")
    print(f"  decode-slot allocations               {int(prof[P_ALLOC]):10d}")
    print(f"  exits to Python (run() calls)         {sum(exits.values()):10d}  {dict(exits)}")
    return prof


def perf_profile(elf, top=25, variant=None):
    """perf record around Machine.run() only; summary by DSO and hot JIT offsets."""
    d = tempfile.mkdtemp(prefix="pyaarch64-perf-")
    ctl, ack, data, code = (os.path.join(d, x) for x in ("ctl", "ack", "perf.data", "code.bin"))
    os.mkfifo(ctl)
    os.mkfifo(ack)
    child = f"""
import os, sys, time
sys.path.insert(0, {HERE!r})
import run as bench
from pyaarch64.emu.api import Machine
from pyaarch64.cpu import executor
variant = {variant!r}
if variant:
    import experiment
    fn = experiment.load_variant(variant)
    extra = experiment.VARIANTS[variant][1]
    experiment.machine(bench.build("empty"), fn, extra).run()
    m = experiment.machine({elf!r}, fn, extra)
else:
    fn = executor.run
    w = Machine(); w.load_elf(bench.build("empty")); w.run()
    m = Machine(); m.load_elf({elf!r})
sig = fn.signatures[0]
cres = fn.overloads[sig]
addr = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
print("RUNADDR", hex(addr), flush=True)
# addresses of the jitted helpers as linked into run's library (to name call targets)
import importlib, pkgutil, pyaarch64.cpu as _cpu
from numba.core.registry import CPUDispatcher
names = {{}}
for mi in pkgutil.walk_packages(_cpu.__path__, "pyaarch64.cpu."):
    try:
        mod = importlib.import_module(mi.name)
    except Exception:
        continue
    for k, v in vars(mod).items():
        if isinstance(v, CPUDispatcher):
            for ol in v.overloads.values():
                try:
                    a = cres.library.get_pointer_to_function(ol.fndesc.llvm_func_name)
                except Exception:
                    a = 0
                if a:
                    names[a] = mi.name.split(".")[-1] + "." + k
from numba.core.runtime import nrt as _nrt
for fn_name in ("NRT_incref", "NRT_decref"):
    try:
        names[_nrt.rtsys.library.get_pointer_to_function(fn_name)] = fn_name
    except Exception:
        pass
for a, n in names.items():
    print("FUNC", hex(a), n, flush=True)
import ctypes
for line in open("/proc/self/maps"):
    lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
    if lo <= addr < hi:
        open({code!r}, "wb").write(ctypes.string_at(addr, min(hi - addr, 1 << 20)))
c = open({ctl!r}, "w"); a = open({ack!r}, "r")
c.write("enable\\n"); c.flush(); a.readline()
t = time.perf_counter(); m.run(); dt = time.perf_counter() - t
c.write("disable\\n"); c.flush(); a.readline()
print("TIMED", m.icount, dt, flush=True)
"""
    cmd = ["perf", "record", "-q", "-F", "4000", "-D", "-1", "--control",
           f"fifo:{ctl},{ack}", "-o", data, sys.executable, "-c", child]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr[-2000:])
        return
    base = int(re.search(r"RUNADDR (0x[0-9a-f]+)", r.stdout).group(1), 16)
    icount, dt = re.search(r"TIMED (\d+) (\S+)", r.stdout).groups()
    print(f"\nperf: timed run {float(dt):.2f} s, {int(icount) / float(dt) / 1e6:.0f} MIPS "
          f"(executor.run entry at {base:#x}); data in {d}")
    blob = open(code, "rb").read() if os.path.exists(code) else b""
    s = subprocess.run(["perf", "script", "-i", data, "-F", "ip,dso"], capture_output=True,
                       text=True).stdout
    by_dso = collections.Counter()
    offs = collections.Counter()
    total = 0
    funcs = {int(a, 16): n for a, n in re.findall(r"FUNC (0x[0-9a-f]+) (\S+)", r.stdout)}
    fstarts = sorted(funcs.items())
    after = [a for a in funcs if a > base]
    run_len = min([a - base for a in after] + [1 << 16])
    by_func = collections.Counter()
    for line in s.splitlines():
        parts = line.split()
        if not parts:
            continue
        ip = int(parts[0], 16)
        dso = parts[1].strip("()") if len(parts) > 1 else "?"
        total += 1
        fn = [n for a, n in fstarts if a <= ip]
        if fn and ip - max(a for a, _ in fstarts if a <= ip) < (1 << 16):
            by_func[fn[-1]] += 1
        if 0 <= ip - base < run_len:
            offs[ip - base] += 1
            dso = "jitted code from executor.run's entry on (helpers inlined)"
        elif "perf-" in dso or "unknown" in dso or "anon" in dso:
            dso = "other jitted code"
        by_dso[os.path.basename(dso)] += 1
    print(f"  {total} samples")
    for dso, c in by_dso.most_common(8):
        print(f"  {100 * c / total:6.2f}%  {dso}")
    print("  samples by jitted function (nearest preceding entry point, helpers linked in):")
    for n, c in by_func.most_common(10):
        print(f"  {100 * c / total:6.2f}%  {n}")
    if not offs or not blob:
        return
    try:
        import capstone
    except ImportError:
        return
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    insns = list(md.disasm(blob[:max(offs) + 64], 0))
    # out-of-line calls left in the loop: `movabs reg, helper` ... `call reg`
    calls = collections.Counter()
    last = {}
    for ins in insns:
        if ins.mnemonic == "movabs":
            reg, _, val = ins.op_str.partition(", ")
            try:
                last[reg] = int(val, 16)
            except ValueError:
                pass
        elif ins.mnemonic == "call":
            t = last.get(ins.op_str)
            calls[funcs.get(t, "unnamed")] += 1
    print("  out-of-line call sites in the jitted loop (static count): " +
          ", ".join(f"{n} x{c}" for n, c in calls.most_common()))
    n = sum(offs.values())
    print(f"  hottest instructions in the jitted run loop (% of all samples; the cost is"
          f" usually the instruction *before* a hot one on a stall):")
    hot = {o for o, c in offs.most_common(top)}
    shown = set()
    for i, ins in enumerate(insns):
        if ins.address in hot:
            for j in range(max(0, i - 3), min(len(insns), i + 2)):
                if j in shown:
                    continue
                shown.add(j)
                x = insns[j]
                c = offs.get(x.address, 0)
                mark = f"{100 * c / total:5.2f}%" if c else "      "
                print(f"    {mark} +{x.address:#06x}  {x.mnemonic} {x.op_str}")
            print("    ...")
    return base, offs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", nargs="?", default="mix")
    ap.add_argument("--perf", action="store_true", help="also sample the real executor with perf")
    ap.add_argument("--no-counters", action="store_true")
    ap.add_argument("--variant", help="with --perf: sample an experiment.py variant instead")
    ap.add_argument("--mmu", action="store_true", help="the MMU-on variant of the workload")
    ap.add_argument("--mmuoff", action="store_true",
                    help="the MMU-on variant's layout twin (same code and data, MMU off)")
    args = ap.parse_args(argv)
    if args.workload == "linux":
        counters(None, linux=True)
        return
    elf = bench.build(args.workload, mmu="off" if args.mmuoff else args.mmu)
    if not args.no_counters:
        counters(elf)
    if args.perf:
        perf_profile(elf, variant=args.variant)


if __name__ == "__main__":
    main()
