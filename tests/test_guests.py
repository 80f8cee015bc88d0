"""Guest programs (tests/guest/*.c) run on pyaarch64 and compared with expected
output committed under tests/guest/expected/ (generated from QEMU 7.2, the
reference); with qemu-system-aarch64 installed the same ELFs also run on QEMU and
must print exactly the same.

Regenerate the expected files from QEMU with
    PYAARCH64_REGEN_EXPECTED=1 pytest tests/test_guests.py -m qemu
"""
import os
import subprocess

import pytest

from guestbuild import GUEST, build, run_guest
from tools import needs

EXPECTED = os.path.join(GUEST, "expected")
QEMU = "qemu-system-aarch64"
QEMU_TIMEOUT = 30
MACHINE = "virt-7.2"           # the QEMU version we compare with (CNTFRQ etc.)

# name -> extra sources linked in
PROGRAMS = {
    "dp_imm.c": (),
    "dp_reg.c": (),
    "ldst.c": (),
    "sys.c": (),
    "exc.c": ("vectors.S",),
    "decode.c": ("vectors.S",),
    "loops.S": (),
    "uart.c": (),
    "timer.c": ("vectors.S",),
    "mmu.c": ("vectors.S",),
    "fpmem.c": ("vectors.S",),
    "fp_scalar.c": (),
    "simd_int.c": (),
    "fp_simd.c": (),
    "sysregs.c": ("vectors.S",),
    "vecloop.c": (),
    "fwcfg.c": (),
}

# programs also run with another CPU model, against their own expected file
# <name>_<cpu>.txt (also generated from QEMU 7.2): name -> CPU models
OTHER_MODEL_PROGRAMS = {
    "mmu.c": ("max",),          # the 16K granule (cortex-a57 has none)
}

# semihosting runs: id -> (semihosting args (None: QEMU's kernel-file-name fallback),
#                          expected StopReason kind, code, QEMU exit status)
SEMI_RUNS = {
    "exit": (["sh_test", "exit"], "semihosting-exit", 7, 7),
    "extended": (["sh_test", "extended"], "semihosting-exit", 42, 42),
    "fail": (["sh_test", "fail"], "semihosting-exit", 1, 1),
    "noargs": (None, "poweroff", 0, 0),
    "reset": (["sh_test", "reset"], "reset", 0, 0),     # PSCI SYSTEM_RESET with -no-reboot
}
# what the semihosting console (not the UART) receives
SEMI_CONSOLE = b"A\n\nhello from WRITE0\nhello via :tt\n"

qemu = needs(QEMU)


def expected(name):
    path = os.path.join(EXPECTED, name + ".txt")
    if not os.path.exists(path):
        pytest.fail(f"missing {path}: generate it with PYAARCH64_REGEN_EXPECTED=1 "
                    f"pytest tests/test_guests.py -m qemu")
    with open(path, encoding="latin-1", newline="") as f:
        return f.read()


def run_qemu(elf, extra=(), cpu="cortex-a57"):
    """(stdout, stderr, exit status) of the ELF on QEMU's virt board; a timeout fails."""
    cmd = [QEMU, "-M", "virt", "-cpu", cpu, "-m", "128M", "-nographic",
           "-monitor", "none", "-serial", "stdio", "-kernel", elf, *extra]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=QEMU_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("latin-1")
        pytest.fail(f"QEMU timed out after {QEMU_TIMEOUT} s; output so far:\n{out[-2000:]}")
    return r.stdout.decode("latin-1"), r.stderr.decode("latin-1"), r.returncode


def check_same(got, want, what):
    if got == want:
        return
    g, w = got.splitlines(), want.splitlines()
    for i, (a, b) in enumerate(zip(g, w)):
        if a != b:
            pytest.fail(f"{what}: first difference at line {i + 1}:\n  expected: {b}\n  got:      {a}")
    pytest.fail(f"{what}: {len(g)} lines, expected {len(w)}; "
                f"first extra/missing line: {(g[len(w):] or w[len(g):])[0]!r}")


def maybe_regen(name, text):
    if os.environ.get("PYAARCH64_REGEN_EXPECTED"):
        os.makedirs(EXPECTED, exist_ok=True)
        with open(os.path.join(EXPECTED, name + ".txt"), "w", encoding="latin-1", newline="") as f:
            f.write(text)


# --- integer, load/store, system and exception programs ---------------------------
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_guest_matches_expected(name):
    elf = build(name, extra_sources=PROGRAMS[name])
    out, stop, _ = run_guest(elf, machine=MACHINE)
    assert stop.kind == "poweroff", stop
    assert out.endswith("EXIT 0\n"), out[-500:]
    check_same(out, expected(os.path.splitext(name)[0]), name)


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_guest_matches_qemu(name):
    elf = build(name, extra_sources=PROGRAMS[name])
    out, _, status = run_qemu(elf)
    maybe_regen(os.path.splitext(name)[0], out)
    assert status == 0
    check_same(out, expected(os.path.splitext(name)[0]), f"{name} on QEMU vs expected file")


_OTHER = [(n, c) for n, cs in sorted(OTHER_MODEL_PROGRAMS.items()) for c in cs]


def _other_name(name, cpu):
    return os.path.splitext(name)[0] + "_" + cpu.replace("-", "_")


@pytest.mark.parametrize("name,cpu", _OTHER)
def test_guest_other_model_matches_expected(name, cpu):
    elf = build(name, extra_sources=PROGRAMS[name])
    out, stop, _ = run_guest(elf, machine=MACHINE, cpu=cpu)
    assert stop.kind == "poweroff", stop
    assert out.endswith("EXIT 0\n"), out[-500:]
    check_same(out, expected(_other_name(name, cpu)), f"{name} on {cpu}")


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("name,cpu", _OTHER)
def test_guest_other_model_matches_qemu(name, cpu):
    elf = build(name, extra_sources=PROGRAMS[name])
    out, _, status = run_qemu(elf, cpu=cpu)
    maybe_regen(_other_name(name, cpu), out)
    assert status == 0
    check_same(out, expected(_other_name(name, cpu)), f"{name} on QEMU -cpu {cpu} vs expected file")


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a53", "cortex-a72"])
@pytest.mark.parametrize("name", ["sys.c", "exc.c", "decode.c", "mmu.c", "sysregs.c"])
def test_other_cpu_models_match_qemu(name, cpu):
    """ID registers, cache geometry and traps of the other CPU models, straight
    against QEMU (the expected files are for the default cortex-a57)."""
    elf = build(name, extra_sources=PROGRAMS[name])
    want, _, _ = run_qemu(elf, cpu=cpu)
    out, stop, _ = run_guest(elf, machine=MACHINE, cpu=cpu)
    assert stop.kind == "poweroff", stop
    check_same(out, want, f"{name} on {cpu}: pyaarch64 vs QEMU")


# --- semihosting ---------------------------------------------------------------------
def run_semihosting(elf, args):
    from pyaarch64.machine.virt import VirtMachine
    serial, console = bytearray(), bytearray()
    m = VirtMachine(machine=MACHINE, serial=serial.extend, semihosting=True, no_reboot=True,
                    semihosting_cmdline=None if args is None else " ".join(args))
    m.semihosting.out = console.extend
    m.load_kernel(elf)
    stop = m.run(max_insns=50_000_000)
    return serial.decode("latin-1"), bytes(console), stop


@pytest.mark.parametrize("run", sorted(SEMI_RUNS))
def test_semihosting(run):
    args, kind, code, _ = SEMI_RUNS[run]
    elf = build("semihost.c", extra_sources=("vectors.S",))
    out, console, stop = run_semihosting(elf, args)
    assert (stop.kind, stop.code) == (kind, code), stop
    assert console == SEMI_CONSOLE
    check_same(out, expected("semihost_" + run), f"semihost.c ({run})")


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("run", sorted(SEMI_RUNS))
def test_semihosting_matches_qemu(run):
    args, _, _, status = SEMI_RUNS[run]
    elf = build("semihost.c", extra_sources=("vectors.S",))
    cfg = "enable=on,target=native" + "".join(",arg=" + a for a in args or ())
    out, err, rc = run_qemu(elf, ["-semihosting-config", cfg, "-no-reboot"])
    # QEMU 7.2 sends SYS_WRITEC/SYS_WRITE0 to its stderr and writes to ":tt" to
    # stdout, where they mix with the UART's output: take them out of the UART text.
    assert err == "A\n\nhello from WRITE0\n"
    assert "hello via :tt\n" in out
    out = out.replace("hello via :tt\n", "", 1)
    maybe_regen("semihost_" + run, out)
    assert rc == status
    check_same(out, expected("semihost_" + run), f"semihost.c ({run}) on QEMU vs expected file")
