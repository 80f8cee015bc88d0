#!/usr/bin/env python3
"""pyaarch64 benchmarks: MIPS per guest workload beside unicorn and QEMU 7.2, all
measured in the same invocation, plus cold and warm start time of the CLI.

    python benchmarks/run.py                 # everything, 3 repeats, median reported
    python benchmarks/run.py --repeat 5 --only mix,qsort
    python benchmarks/run.py --no-qemu --no-unicorn --no-start

Per workload:
  * pyaarch64 runs in this process through the embedding API
    (pyaarch64.emu.api.Machine), after a warm-up run so that numba compilation (or
    loading its cache) is not timed.  Instructions retired come from `m.icount`.
  * unicorn runs the same ELF: RAM mapped at 0x40000000, PT_LOAD segments copied
    in, the PL011 data register caught through an MMIO mapping of its page, and the
    final `hvc #0` (PSCI SYSTEM_OFF) stopped through UC_HOOK_INTR.  unicorn has no
    cheap instruction counter, so its MIPS use pyaarch64's count (same program,
    same path: the checksum lines must match).
  * QEMU (`qemu-system-aarch64 -M virt -cpu cortex-a57 -nographic -kernel X.elf`)
    runs as a whole process; its time is the wall time minus the median wall time of
    a trivial guest (benchmarks/guest/empty.c), and its MIPS use pyaarch64's count.
Every runner's output must contain the same `CHECKSUM <name> 0x...` line.

Results: a Markdown table on stdout, JSON in benchmarks/results/ (gitignored).
Guests are built into benchmarks/build/ (gitignored) with aarch64-linux-gnu-gcc -O2.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GUEST = os.path.join(HERE, "guest")
BUILD = os.path.join(HERE, "build")
RESULTS = os.path.join(HERE, "results")
HELLO = os.path.join(ROOT, "tests", "guest", "hello.elf")

CC = "aarch64-linux-gnu-gcc"
CFLAGS = ["-O2", "-ffreestanding", "-nostdlib", "-nostartfiles", "-static",
          "-mgeneral-regs-only", "-fno-stack-protector", "-fno-pic", "-fno-builtin",
          # keep our word loops as loops (GCC would turn them into memset/memcpy calls)
          "-fno-tree-loop-distribute-patterns",
          "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments", "-Wl,-z,max-page-size=4096"]
RUNTIME = ["crt0.S", "bench.c"]

WORKLOADS = [
    ("intloop", "tight integer loop: multiply-add, shift, xor, add (no memory)"),
    ("mix", "CoreMark-like: linked list find/reverse, 32x32 int matmul, "
            "bit-loop CRC-32, token state machine"),
    ("memops", "memset + memcpy of 1 MiB with 64-bit C loops, 160 rounds"),
    ("qsort", "quicksort of 100k xorshift32 ints, 6 rounds, each verified"),
    ("simd", "Advanced SIMD string work: LD1/ST1 memcpy, CMEQ/SHRN strlen, UMAXP memchr, "
             "widening byte sums over 256 KiB"),
    ("fpk", "float kernel: 4-lane FMLA saxpy/dot (single), scalar double Horner/div/sqrt/cvt"),
    ("mix-neon", "mix compiled the normal way: gcc -O2 free to use FP/SIMD (its vectoriser)"),
    ("memops-neon", "memops compiled the normal way: the copy and fill loops vectorised"),
]
# "<name>-neon": guest/<name>.c built without -mgeneral-regs-only (crt0 enables FP/SIMD)
NEON = "-neon"
# workloads compiled with FP/SIMD (the others are general-register code only)
FP_WORKLOADS = {"simd", "fpk"}

# the speed and start-up targets (issue 12): (label, measure, workload, "<=" or ">=", value);
# measure: "mips" (pyaarch64, median), "vs_unicorn" (pyaarch64 MIPS / unicorn MIPS),
# "warm"/"cold" (seconds of the start-up runs)
TARGETS = (
    ("mix MIPS", "mips", "mix", ">=", 300.0),
    ("simd MIPS", "mips", "simd", ">=", 100.0),
    ("fpk MIPS", "mips", "fpk", ">=", 60.0),
    ("mix-neon / unicorn", "vs_unicorn", "mix-neon", ">=", 1.0),
    ("memops-neon / unicorn", "vs_unicorn", "memops-neon", ">=", 1.0),
    ("warm start s", "warm", None, "<=", 1.0),
    ("cold start s (2 cores)", "cold", None, "<=", 60.0),
)


def measured(res, measure, name):
    """The value a target compares, or None when this run did not measure it."""
    if measure in ("warm", "cold"):
        return res["start"][measure + "_s"] if "start" in res else None
    w = next((w for w in res["workloads"] if w["name"] == name), None)
    if w is None:
        return None
    if measure == "mips":
        return w["pyaarch64"]["mips"]
    return w["pyaarch64"]["mips"] / w["unicorn"]["mips"] if "unicorn" in w else None

RAM_BASE = 0x40000000
RAM_SIZE = 128 << 20
UART_BASE = 0x09000000
CHECK_RE = re.compile(rb"CHECKSUM (\S+) (0x[0-9a-f]{16})")


# ----------------------------------------------------------------------------- build
def build(name, mmu=False):
    """Build benchmarks/guest/<name>.c into benchmarks/build/<name>.elf (if stale);
    mmu=True: the MMU-on variant <name>-mmu.elf (crt0 builds an identity map with
    4 KiB pages and turns the MMU on before main, see guest/mmu.c); mmu="off": its
    layout twin <name>-mmuoff.elf (same code and data, MMU left off)."""
    extra = ["mmu.c"] if mmu else []
    neon = name.endswith(NEON)
    src = name[:-len(NEON)] if neon else name
    srcs = [os.path.join(GUEST, s) for s in RUNTIME + extra + [src + ".c"]]
    deps = srcs + [os.path.join(GUEST, "link.ld"), os.path.join(GUEST, "bench.h")]
    out = os.path.join(BUILD, name + ("-mmuoff" if mmu == "off" else "-mmu" if mmu else "") + ".elf")
    if os.path.exists(out) and all(os.path.getmtime(d) <= os.path.getmtime(out) for d in deps):
        return out
    os.makedirs(BUILD, exist_ok=True)
    defs = (["-DBENCH_MMU"] if mmu else []) + (["-DBENCH_MMU_OFF"] if mmu == "off" else [])
    defs += ["-DBENCH_FPSIMD"] if neon else []
    flags = CFLAGS
    if name in FP_WORKLOADS or neon:   # FP/SIMD code; sqrt as the instruction (no errno call)
        flags = [f for f in CFLAGS if f != "-mgeneral-regs-only"] + ["-fno-math-errno"]
    cmd = [CC, *flags, *defs, "-I", GUEST,
           "-Wl,-T," + os.path.join(GUEST, "link.ld"), "-o", out, *srcs]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"guest build failed: {' '.join(cmd)}\n{r.stderr}")
    return out


def checksum(output):
    m = CHECK_RE.search(bytes(output))
    return m.group(2).decode() if m else None


# --------------------------------------------------------------------------- pyaarch64
def run_pyaarch64(elf, max_insns=5_000_000_000):
    from pyaarch64.emu.api import Machine
    m = Machine(machine="virt", cpu="cortex-a57")
    m.load_elf(elf)
    c0 = time.process_time()
    t0 = time.perf_counter()
    stop = m.run(max_insns=max_insns)
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if stop.kind != "poweroff":
        raise RuntimeError(f"pyaarch64: {elf} stopped with {stop.kind}: {stop}")
    return {"insns": m.icount, "seconds": dt, "cpu_s": cpu, "checksum": checksum(m.serial_output),
            "output": bytes(m.serial_output).decode("latin-1")}


# ----------------------------------------------------------------------------- unicorn
def load_segments(elf):
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as f:
        e = ELFFile(f)
        segs = [(s["p_paddr"], s.data()) for s in e.iter_segments()
                if s["p_type"] == "PT_LOAD" and s["p_filesz"]]
        return e.header.e_entry, segs


def unicorn_icount(elf):
    """Instructions unicorn executes for `elf`, summed from UC_HOOK_BLOCK sizes (a Python
    callback per basic block: slow, only for --check-icount)."""
    import unicorn as U
    entry, segs = load_segments(elf)
    uc = U.Uc(U.UC_ARCH_ARM64, U.UC_MODE_ARM)
    uc.mem_map(RAM_BASE, RAM_SIZE)
    for addr, data in segs:
        uc.mem_write(addr, data)
    uc.mmio_map(UART_BASE, 0x1000, lambda *a: 0, None, lambda *a: None, None)
    n = [0]
    def on_block(uc, addr, size, ud):
        n[0] += size // 4
    uc.hook_add(U.UC_HOOK_BLOCK, on_block)
    uc.hook_add(U.UC_HOOK_INTR, lambda uc, intno, ud: uc.emu_stop())
    uc.emu_start(entry, 0xFFFFFFFFFFFFFFFF)
    return n[0]


def run_unicorn(elf, uart="mmio"):
    """uart='mmio': the PL011 page is an MMIO region (callbacks only for UART
    accesses).  uart='hook': the page is plain memory with a UC_HOOK_MEM_WRITE on the
    data register -- unicorn then instruments every store, which slows it 2-4x on
    memory-heavy guests, so it is not the default (see README)."""
    import unicorn as U
    from unicorn.arm64_const import UC_ARM64_REG_PC
    entry, segs = load_segments(elf)
    uc = U.Uc(U.UC_ARCH_ARM64, U.UC_MODE_ARM)
    uc.mem_map(RAM_BASE, RAM_SIZE)
    for addr, data in segs:
        uc.mem_write(addr, data)
    out = bytearray()
    if uart == "mmio":
        def uart_read(uc, off, size, ud):
            return 0                      # FR = 0: TX FIFO never full
        def uart_write(uc, off, size, value, ud):
            if off == 0:
                out.append(value & 0xFF)
        uc.mmio_map(UART_BASE, 0x1000, uart_read, None, uart_write, None)
    else:
        uc.mem_map(UART_BASE, 0x1000)
        def on_write(uc, access, addr, size, value, ud):
            if addr == UART_BASE:
                out.append(value & 0xFF)
        uc.hook_add(U.UC_HOOK_MEM_WRITE, on_write, begin=UART_BASE, end=UART_BASE + 3)
    stop = {}
    def on_intr(uc, intno, ud):
        # unicorn runs the guest at EL0, where HVC is UNDEFINED (intno 1); either
        # way the guest is at its final `hvc #0` with x0 = PSCI SYSTEM_OFF.
        stop["intno"] = intno
        stop["pc"] = uc.reg_read(UC_ARM64_REG_PC)
        uc.emu_stop()
    uc.hook_add(U.UC_HOOK_INTR, on_intr)
    c0 = time.process_time()
    t0 = time.perf_counter()
    uc.emu_start(entry, 0xFFFFFFFFFFFFFFFF)
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if not stop:
        raise RuntimeError(f"unicorn: {elf} stopped without reaching the HVC")
    return {"seconds": dt, "cpu_s": cpu, "checksum": checksum(out), "output": out.decode("latin-1")}


# -------------------------------------------------------------------------------- QEMU
QEMU = "qemu-system-aarch64"


def run_qemu_once(elf, timeout=300):
    cmd = [QEMU, "-M", "virt", "-cpu", "cortex-a57", "-nographic", "-kernel", elf]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"qemu: {elf} exited with {r.returncode}: {r.stderr[-500:]!r}")
    return dt, checksum(r.stdout), r.stdout.decode("latin-1")


def qemu_version():
    try:
        r = subprocess.run([QEMU, "--version"], capture_output=True, text=True)
        return r.stdout.splitlines()[0]
    except OSError:
        return None


# --------------------------------------------------------------------- start-up time
def cli_start(cache_dir):
    """Wall time of `pyaarch64 run -nographic tests/guest/hello.elf` as a process."""
    exe = shutil.which("pyaarch64")
    cmd = [exe, "run", "-nographic", HELLO] if exe else \
        [sys.executable, "-c", "from pyaarch64.emu.cli import entry; entry()",
         "run", "-nographic", HELLO]
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=1200)
    dt = time.perf_counter() - t0
    ok = r.returncode == 0 and b"Hello from pyaarch64!" in r.stdout
    if not ok:
        raise RuntimeError(f"pyaarch64 run failed ({r.returncode}): {r.stdout[-300:]!r} "
                           f"{r.stderr[-500:]!r}")
    return dt


# ------------------------------------------------------------------------------ report
def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info():
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}
    for mod in ("numba", "numpy", "unicorn"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            info[mod] = None
    info["qemu"] = qemu_version()
    try:
        info["gcc"] = subprocess.run([CC, "--version"], capture_output=True,
                                     text=True).stdout.splitlines()[0]
        info["commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True).stdout.strip()
        # other work in progress in the checkout is measured too: say so
        info["uncommitted"] = subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain", "--", "cpu", "machine", "emu"],
            capture_output=True, text=True).stdout.split("\n")[:-1]
    except OSError:
        pass
    return info


def fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def markdown(res):
    lines = ["| workload | insns (M) | pyaarch64 s | pyaarch64 MIPS | unicorn s | unicorn MIPS "
             "| QEMU s (net) | QEMU MIPS | pyaarch64 / unicorn | pyaarch64 MIPS (CPU time) "
             "| checksums |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for w in res["workloads"]:
        p, u, q = w["pyaarch64"], w.get("unicorn"), w.get("qemu")
        ratio = p["mips"] / u["mips"] if u else None
        lines.append(
            f"| {w['name']} | {w['insns'] / 1e6:.1f} | {fmt(p['seconds'])} | {fmt(p['mips'], 1)} "
            f"| {fmt(u and u['seconds'])} | {fmt(u and u['mips'], 1)} "
            f"| {fmt(q and q['seconds'], 3)} | {fmt(q and q['mips'], 0)} "
            f"| {fmt(ratio)} | {fmt(p.get('cpu_mips'), 1)} "
            f"| {'match' if w['checksums_match'] else 'MISMATCH'} |")
    s = res.get("start")
    out = "\n".join(lines)
    mm = [w for w in res["workloads"] if "mmu" in w]
    if mm:
        out += ("\n\n| workload | plain MIPS | layout twin, MMU off: MIPS | MMU on: MIPS "
                "| on / off | MMU-on insns (M) | checksum |\n|---|---:|---:|---:|---:|---:|---|\n")
        out += "\n".join(
            f"| {w['name']} | {w['mmu']['plain_best_cpu_mips']:.1f} | {w['mmu']['off_best_cpu_mips']:.1f} "
            f"| {w['mmu']['best_cpu_mips']:.1f} | {w['mmu']['ratio']:.2f} | {w['mmu']['insns'] / 1e6:.1f} "
            f"| {'match' if w['mmu']['checksum_match'] else 'MISMATCH'} |" for w in mm)
    if s:
        out += ("\n\n| start-up (`pyaarch64 run -nographic tests/guest/hello.elf`) | seconds |\n"
                "|---|---:|\n"
                f"| cold (empty NUMBA_CACHE_DIR) | {s['cold_s']:.2f} |\n"
                f"| warm (same cache dir, median of {len(s['warm_all_s'])}) | {s['warm_s']:.2f} |")
    if res.get("qemu_startup_s") is not None:
        out += f"\n\nQEMU start-up subtracted: {res['qemu_startup_s']:.3f} s (median, empty guest)."
    t = res["targets"]
    out += "\n\nTargets: " + "; ".join(
        f"{k} {v['target']} -> {fmt(v['measured'])} ({'met' if v['met'] else 'NOT met'})"
        for k, v in t.items() if v["measured"] is not None)
    out += f"\n\nLoad average before/after: {res['load_before']} / {res['load_after']}"
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per emulator (median)")
    ap.add_argument("--only", help="comma-separated workloads")
    ap.add_argument("--no-unicorn", action="store_true")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--no-start", action="store_true", help="skip the cold/warm start runs")
    ap.add_argument("--no-mmu", action="store_true",
                    help="skip the MMU-on variants (<workload>-mmu: identity map, 4 KiB pages)")
    ap.add_argument("--uc-uart", choices=("mmio", "hook"), default="mmio",
                    help="how unicorn sees the PL011 (default mmio, see run_unicorn)")
    ap.add_argument("--check-icount", action="store_true",
                    help="also count unicorn's instructions with a block hook (slow) and "
                         "compare with pyaarch64's icount")
    ap.add_argument("--json", help="JSON output path (default benchmarks/results/<time>.json)")
    args = ap.parse_args(argv)

    names = [n for n, _ in WORKLOADS]
    if args.only:
        names = [n for n in args.only.split(",") if n]
        bad = [n for n in names if n not in dict(WORKLOADS)]
        if bad:
            ap.error(f"unknown workload(s): {', '.join(bad)}")
    use_qemu = not args.no_qemu and shutil.which(QEMU) is not None
    use_uc = not args.no_unicorn
    if use_uc:
        try:
            import unicorn  # noqa: F401
        except ImportError:
            print("unicorn is not installed: skipping it", file=sys.stderr)
            use_uc = False

    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine_info(), "load_before": loadavg(), "repeat": args.repeat,
           "unicorn_uart": args.uc_uart, "workloads": []}
    elfs = {n: build(n) for n in names}
    mmu_elfs = {} if args.no_mmu else {n: (build(n, mmu="off"), build(n, mmu=True)) for n in names}
    empty = build("empty")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    # warm-up: numba compile (or cache load) and first-call costs, not timed below
    t0 = time.perf_counter()
    run_pyaarch64(empty)
    fp = [n for n in names if n in FP_WORKLOADS or n.endswith(NEON)]
    if fp:              # the FP/SIMD groups and the vector loop, loaded on first use
        run_pyaarch64(elfs[fp[0]])
    res["pyaarch64_warmup_s"] = round(time.perf_counter() - t0, 3)
    log(f"pyaarch64 warm-up (compile or cache load): {res['pyaarch64_warmup_s']:.2f} s")

    qstart = None
    if use_qemu:
        qs = [run_qemu_once(empty)[0] for _ in range(max(5, args.repeat))]
        qstart = statistics.median(qs)
        res["qemu_startup_s"] = qstart
        res["qemu_startup_all_s"] = qs

    for name in names:
        elf = elfs[name]
        w = {"name": name, "description": dict(WORKLOADS)[name]}
        # MMU off and on interleaved, so that load changes hit both alike
        runs, oruns, mruns = [], [], []
        for _ in range(args.repeat):
            runs.append(run_pyaarch64(elf))
            if name in mmu_elfs:
                oruns.append(run_pyaarch64(mmu_elfs[name][0]))
                mruns.append(run_pyaarch64(mmu_elfs[name][1]))
        insns = runs[0]["insns"]
        if any(r["insns"] != insns for r in runs):
            raise RuntimeError(f"{name}: instruction count differs between runs")
        ref = runs[0]["checksum"]
        ps = [r["seconds"] for r in runs]
        p = statistics.median(ps)
        w["insns"] = insns
        w["checksum"] = ref
        pc = statistics.median(r["cpu_s"] for r in runs)
        w["pyaarch64"] = {"seconds": p, "all_s": ps, "mips": insns / p / 1e6,
                          "cpu_s": pc, "cpu_mips": insns / pc / 1e6,
                          "best_cpu_s": min(r["cpu_s"] for r in runs)}
        if mruns:
            mi = mruns[0]["insns"]
            oi = oruns[0]["insns"]
            mb = min(r["cpu_s"] for r in mruns)
            ob = min(r["cpu_s"] for r in oruns)
            ok = all(r["checksum"] == ref for r in mruns + oruns)
            w["mmu"] = {"insns": mi, "all_s": [r["seconds"] for r in mruns],
                        "cpu_all_s": [r["cpu_s"] for r in mruns], "best_cpu_s": mb,
                        "best_cpu_mips": mi / mb / 1e6,
                        "off_insns": oi, "off_cpu_all_s": [r["cpu_s"] for r in oruns],
                        "off_best_cpu_mips": oi / ob / 1e6,
                        "plain_best_cpu_mips": insns / w["pyaarch64"]["best_cpu_s"] / 1e6,
                        "checksum_match": ok}
            w["mmu"]["ratio"] = w["mmu"]["best_cpu_mips"] / w["mmu"]["off_best_cpu_mips"]
            log(f"{name}-mmu: {mi} insns, best CPU {mb:.3f} s = {mi / mb / 1e6:.1f} MIPS "
                f"({w['mmu']['ratio']:.2f}x of MMU off){'' if ok else ' CHECKSUM MISMATCH'}")
        sums = [r["checksum"] for r in runs]
        log(f"{name}: {insns} insns, pyaarch64 {p:.3f} s = {insns / p / 1e6:.1f} MIPS")
        if use_uc:
            ur = [run_unicorn(elf, args.uc_uart) for _ in range(args.repeat)]
            us = [r["seconds"] for r in ur]
            u = statistics.median(us)
            uc_cpu = statistics.median(r["cpu_s"] for r in ur)
            w["unicorn"] = {"seconds": u, "all_s": us, "mips": insns / u / 1e6,
                            "cpu_s": uc_cpu, "cpu_mips": insns / uc_cpu / 1e6}
            sums += [r["checksum"] for r in ur]
            log(f"{name}: unicorn {u:.3f} s = {insns / u / 1e6:.1f} MIPS")
        if use_qemu:
            qr = [run_qemu_once(elf) for _ in range(max(5, args.repeat))]
            qw = [r[0] for r in qr]
            q = max(statistics.median(qw) - qstart, 1e-3)
            w["qemu"] = {"seconds": q, "wall_all_s": qw, "mips": insns / q / 1e6}
            sums += [r[1] for r in qr]
            log(f"{name}: qemu {q:.3f} s net = {insns / q / 1e6:.0f} MIPS")
        if use_uc and args.check_icount:
            n = unicorn_icount(elf)
            w["unicorn_icount"] = n
            log(f"{name}: unicorn block-hook count {n} "
                f"({'equal' if n == insns else 'DIFFERENT'} to pyaarch64's {insns})")
        w["checksums_match"] = ref is not None and all(s == ref for s in sums)
        if not w["checksums_match"]:
            log(f"{name}: CHECKSUM MISMATCH: {sums}")
        res["workloads"].append(w)

    if not args.no_start:
        with tempfile.TemporaryDirectory(prefix="pyaarch64-numba-cache-") as d:
            log("cold start (empty numba cache: compiles everything)...")
            cold = cli_start(d)
            warm = [cli_start(d) for _ in range(max(3, args.repeat))]
        res["start"] = {"cold_s": cold, "warm_s": statistics.median(warm), "warm_all_s": warm}

    res["targets"] = {}
    for label, measure, name, cmp, value in TARGETS:
        m = measured(res, measure, name)
        res["targets"][f"{label} {cmp}"] = {
            "target": value, "measured": m,
            "met": m is not None and (m >= value if cmp == ">=" else m <= value)}
    res["load_after"] = loadavg()

    os.makedirs(RESULTS, exist_ok=True)
    path = args.json or os.path.join(
        RESULTS, "bench-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + ".json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print(markdown(res))
    print(f"\nJSON: {path}")
    ok = all(w["checksums_match"] and w.get("mmu", {}).get("checksum_match", True)
             for w in res["workloads"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
