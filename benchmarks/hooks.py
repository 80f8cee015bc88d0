"""What hooks cost (issue 14, items 1-2), pyaarch64 beside unicorn.

    python benchmarks/hooks.py [--rounds N] [--no-unicorn]

mix MIPS   the `mix` workload with no hooks, with a code hook on a page it never
           runs, with a memory hook on a page it never touches, with an exception
           hook, with edge coverage on (interleaved rounds, best of each)
hook call  a code hook on one instruction of a loop that runs it ~125,000 times:
           (time with the hook - time without) / calls; unicorn with the same hook
step       Machine.step() (one instruction per call); unicorn's emu_start(count=1)
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

UNRELATED = 0x0800_0000          # (the flash region: nothing runs or is accessed there)


def mix_run(elf, setup):
    from pyaarch64.emu.api import Machine
    m = Machine(machine="virt", cpu="cortex-a57")
    m.load_elf(elf)
    setup(m)
    t = time.perf_counter()
    r = m.run(max_insns=5_000_000_000)
    dt = time.perf_counter() - t
    assert r.kind == "poweroff", r
    return m.icount / dt / 1e6


def hook_call_cost():
    import pyaarch64
    from guestbuild import build, symbols
    path = build("dirty.S")
    syms = symbols(path)
    n = 2_000_000
    out = []
    for hooked in (False, True, False, True):
        m = pyaarch64.Machine(machine="virt-7.2")
        m.load_elf(path)
        m.run(max_insns=40_000)
        calls = [0]
        if hooked:
            def cb(mm, a, size):
                calls[0] += 1
            m.hook_add("code", cb, syms["patched"], syms["patched"])
        t = time.perf_counter()
        m.run(max_insns=n)
        out.append((hooked, time.perf_counter() - t, calls[0]))
    base = min(dt for h, dt, _ in out if not h)
    hk = min(dt for h, dt, _ in out if h)
    calls = max(c for _, _, c in out)
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(path)
    m.run(max_insns=40_000)
    t = time.perf_counter()
    for _ in range(20_000):
        m.step()
    step = (time.perf_counter() - t) / 20_000
    return (hk - base) / calls, step


def unicorn_costs():
    import unicorn as U
    from unicorn.arm64_const import UC_ARM64_REG_PC
    from guestbuild import build, symbols
    from restore import unicorn_machine
    path = build("dirty.S")
    uc, entry = unicorn_machine(path)
    uc.mem_map(0x09000000, 0x1000)
    syms = symbols(path)
    calls = [0]

    def cb(u, a, size, ud):
        calls[0] += 1
    res = {}
    try:
        uc.emu_start(entry, 0, count=40_000)
        ctx = uc.context_save()
        t = time.perf_counter()
        uc.emu_start(uc.reg_read(UC_ARM64_REG_PC), 0, count=2_000_000)
        base = time.perf_counter() - t
        uc.context_restore(ctx)
        uc.hook_add(U.UC_HOOK_CODE, cb, begin=syms["patched"], end=syms["patched"])
        t = time.perf_counter()
        uc.emu_start(uc.reg_read(UC_ARM64_REG_PC), 0, count=2_000_000)
        res["hook call"] = (time.perf_counter() - t - base) / max(calls[0], 1)
        uc.context_restore(ctx)
        t = time.perf_counter()
        for _ in range(20_000):
            uc.emu_start(uc.reg_read(UC_ARM64_REG_PC), 0, count=1)
        res["step"] = (time.perf_counter() - t) / 20_000
    except U.UcError as e:
        res["error"] = str(e)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-unicorn", action="store_true")
    a = ap.parse_args(argv)
    import run as R
    elf = R.build("mix")
    setups = {
        "no hooks": lambda m: None,
        "code hook on an unrelated page": lambda m: m.hook_add("code", lambda *x: None, UNRELATED, UNRELATED + 0xFFF),
        "memory hook on an unrelated page": lambda m: m.hook_add("mem_write", lambda *x: None, UNRELATED, UNRELATED + 0xFFF),
        "exception hook": lambda m: m.hook_add("exception", lambda *x: None),
        "edge coverage on": lambda m: m.enable_coverage(),
    }
    best = {k: 0.0 for k in setups}
    for _ in range(a.rounds):
        for k, f in setups.items():
            best[k] = max(best[k], mix_run(elf, f))
    print("| measure | pyaarch64 | unicorn |")
    print("|---|---:|---:|")
    for k, v in best.items():
        rel = f" ({v / best['no hooks'] - 1:+.1%})" if k != "no hooks" else ""
        print(f"| mix MIPS, {k} | {v:.1f}{rel} | |")
    hc, st = hook_call_cost()
    u = {} if a.no_unicorn else unicorn_costs()
    fmt = (lambda x: f"{x * 1e6:.2f} us" if isinstance(x, float) else "–")
    print(f"| code hook call | {hc * 1e6:.2f} us | {fmt(u.get('hook call'))} |")
    print(f"| step() | {st * 1e6:.2f} us | {fmt(u.get('step'))} |")
    if "error" in u:
        print(f"\nunicorn: {u['error']}")


if __name__ == "__main__":
    main()
