"""In-memory snapshot restore and the fuzz loop (issue 14, item 4), beside unicorn.

    python benchmarks/restore.py [--seconds S] [--no-unicorn]

restore    Machine.restore() of a snapshot of a 128 MiB machine after 0, 64 KiB,
           1 MiB and 16 MiB of its RAM were written (by the host: mem_write; by the
           guest: tests/guest/dirty.S running), median of many.
snapshot   Machine.snapshot() of that machine (a copy of its RAM and state).
fuzz loop  restore a snapshot taken at the entry of tests/guest/bench_parse.S, write
           a 64-byte input, run the guest to its power-off (about 330 instructions):
           execs per second: with restore(), mem_write() and run() a call each,
           and with Machine.run_inputs() taking 100 inputs a call (the same loop,
           with no Python between runs that end the simple way).  unicorn runs the
           same ELF with the same loop: context_restore, mem_write of the input,
           emu_start(entry, until=done).
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)

INPUT = 0x40200000
RAM = 128 << 20


def timeit(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def restore_rows():
    import pyaarch64
    from guestbuild import build
    rows = []
    m = pyaarch64.Machine(machine="virt-7.2", ram_size=RAM)
    m.load_elf(build("dirty.S"))
    m.run(max_insns=40_000)
    rows.append(("snapshot() of a 128 MiB machine", timeit(m.snapshot, 5) * 1e3, "ms"))
    snap = m.snapshot()
    m.restore(snap)
    for label, size in (("nothing", 0), ("64 KiB", 64 << 10), ("1 MiB", 1 << 20), ("16 MiB", 16 << 20)):
        data = bytes([0xA5]) * size

        def one():
            if size:
                m.mem_write(0x40400000, data)
            t = time.perf_counter()
            m.restore(snap)
            return time.perf_counter() - t
        one()
        ts = [one() for _ in range(50 if size < (16 << 20) else 10)]
        rows.append((f"restore(), {label} written by the host since", statistics.median(ts) * 1e3, "ms"))

    def guest_run():
        m.run(max_insns=20_000)
        t = time.perf_counter()
        m.restore(snap)
        return time.perf_counter() - t
    ts = [guest_run() for _ in range(30)]
    rows.append((f"restore(), after 20,000 guest instructions ({m._m.restore_pages} pages)",
                 statistics.median(ts) * 1e3, "ms"))
    return rows


def inputs(n):
    import random
    rng = random.Random(1)
    return [bytes(rng.getrandbits(8) for _ in range(64)) for _ in range(n)]


def execs_per_second(one, seconds):
    """How many times per second one(data) runs, over `seconds`, on 100 inputs in turn."""
    data = inputs(100)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for d in data:
            one(d)
        n += len(data)
    return n / (time.perf_counter() - t0)


def fuzz_pyaarch64(seconds):
    import pyaarch64
    from guestbuild import build
    m = pyaarch64.Machine(machine="virt-7.2", ram_size=RAM)
    m.load_elf(build("bench_parse.S"))
    snap = m.snapshot()

    def one(d):
        m.restore(snap)
        m.mem_write(INPUT, d)
        r = m.run(max_insns=10_000)
        assert r.kind == "poweroff", r
    return execs_per_second(one, seconds)


def fuzz_pyaarch64_batched(seconds):
    """The same loop through Machine.run_inputs, 100 inputs a call (a fuzzer's
    generation of mutants)."""
    import pyaarch64
    from guestbuild import build
    m = pyaarch64.Machine(machine="virt-7.2", ram_size=RAM)
    m.load_elf(build("bench_parse.S"))
    snap = m.snapshot()
    data = inputs(100)
    m.run_inputs(snap, data, INPUT)          # (compiled or loaded from the cache)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        rs = m.run_inputs(snap, data, INPUT, max_insns=10_000)
        assert rs[-1].kind == "poweroff", rs[-1]
        n += len(data)
    return n / (time.perf_counter() - t0)


def fuzz_unicorn(seconds):
    from guestbuild import build, symbols
    path = build("bench_parse.S")
    uc, entry = unicorn_machine(path)
    done = symbols(path)["done"]
    ctx = uc.context_save()

    def one(d):
        uc.context_restore(ctx)
        uc.mem_write(INPUT, d)
        uc.emu_start(entry, done)
    return execs_per_second(one, seconds)


def unicorn_machine(path, ram=RAM):
    """A unicorn with RAM at 0x4000_0000, the ELF's segments in it, PC at its entry."""
    import unicorn as U
    from unicorn.arm64_const import UC_ARM64_REG_PC
    from run import load_segments
    uc = U.Uc(U.UC_ARCH_ARM64, U.UC_MODE_ARM)
    uc.mem_map(0x40000000, ram)
    entry, segs = load_segments(path)
    for addr, data in segs:
        uc.mem_write(addr, data)
    uc.reg_write(UC_ARM64_REG_PC, entry)
    return uc, entry


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--no-unicorn", action="store_true")
    a = ap.parse_args(argv)
    rows = restore_rows()
    print("| measure | value | unit |")
    print("|---|---:|---|")
    for label, v, unit in rows:
        print(f"| {label} | {v:.3f} | {unit} |")
    # interleaved, twice each: machines are noisy
    p, b, u = [], [], []
    for _ in range(2):
        p.append(fuzz_pyaarch64(a.seconds))
        b.append(fuzz_pyaarch64_batched(a.seconds))
        if not a.no_unicorn:
            u.append(fuzz_unicorn(a.seconds))
    print(f"| fuzz loop, pyaarch64 (restore, mem_write, run) | {max(p):.0f} | execs/s |")
    print(f"| fuzz loop, pyaarch64 run_inputs (100 a call) | {max(b):.0f} | execs/s |")
    if u:
        print(f"| fuzz loop, unicorn (same loop) | {max(u):.0f} | execs/s |")
        print(f"| fuzz loop, pyaarch64 / unicorn | {max(p) / max(u):.2f} | |")
        print(f"| fuzz loop, pyaarch64 run_inputs / unicorn | {max(b) / max(u):.2f} | |")


if __name__ == "__main__":
    main()
