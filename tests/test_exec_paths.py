"""Every execution path runs the guest programs and the random differential sample.

The CPU has one definition per instruction but several ways to reach it (cpu/ops.py
PATH_*): the hot loop running freely (every other test), the hot loop one
instruction at a time behind the general path's fetch (`general`), that with the
soft TLB's data entries flushed before every instruction so that every load and
store takes the memory slow path (`tlbflush`), and one instruction per `run()`
call (`step`).  Each path here runs the same tests as the default one, in a pytest
subprocess with `--exec-path`, so a defect that only one path reaches fails here.
`tests/mutation_check.py` shows that each path's own code is covered.
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

# the guest programs against QEMU's expected output, and the differential sample
# (the step path costs a Python call per instruction: the sysregs guest, 9 M
# instructions, runs in the other paths' normal runs only)
SUITE = ["test_guests.py::test_guest_matches_expected",
         "--deselect", "test_guests.py::test_guest_matches_expected[sysregs.c]",
         "test_guests.py::test_guest_other_model_matches_expected", "test_diff_unicorn.py",
         "test_diff_fp.py", "test_diff_simd.py", "test_diff_simdx.py", "test_guest_simdx.py",
         "test_restore.py", "test_hooks.py", "test_coverage.py", "test_run_inputs.py",
         "test_debug_arch.py"]
PATHS = {
    "general": SUITE,
    "tlbflush": SUITE,
    "step": SUITE,
}


def run_path(path, args, timeout=1800):
    env = dict(os.environ)
    env.pop("PYAARCH64_EXEC_PATH", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
           f"--exec-path={path}", *args]
    return subprocess.run(cmd, cwd=HERE, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(PATHS))
def test_path_runs_guests_and_differential_sample(path):
    r = run_path(path, PATHS[path])
    tail = (r.stdout + r.stderr)[-4000:]
    assert r.returncode == 0, f"--exec-path={path} failed:\n{tail}"
    assert f"pyaarch64 execution path: {path}" in r.stdout, tail
    assert " passed" in r.stdout and " failed" not in r.stdout, tail


def test_exec_path_is_checked(monkeypatch):
    """A misspelt path is a clear error, not a silent fall back to the fast path."""
    from pyaarch64.cpu.core import exec_path
    monkeypatch.setenv("PYAARCH64_EXEC_PATH", "genral")
    with pytest.raises(ValueError, match="expected one of fast, general, tlbflush, step"):
        exec_path()


@pytest.mark.parametrize("path", ["general", "tlbflush", "step"])
def test_path_really_differs(path, monkeypatch):
    """The switch reaches the CPU: a guest with loads and stores prints the same and
    retires the same instructions on every path, while the slower paths call the hot
    loop once per instruction and (tlbflush) take the memory slow path for every load
    and store (the executor's counters, cpu/ops.py C_HOT_CALLS, C_MEMSLOW)."""
    from pyaarch64.cpu import ops as O
    from guestbuild import build, run_guest
    elf = build("ldst.c")
    monkeypatch.setenv("PYAARCH64_EXEC_PATH", "fast")
    out0, stop0, m0 = run_guest(elf, machine="virt-7.2")
    monkeypatch.setenv("PYAARCH64_EXEC_PATH", path)
    out1, stop1, m1 = run_guest(elf, machine="virt-7.2")
    assert m1.cpu.exec_path == path
    assert (stop1.kind, out1, m1.cpu.icount) == (stop0.kind, out0, m0.cpu.icount)
    c0, c1 = m0.cpu.ctl, m1.cpu.ctl
    assert c0[O.C_HOT_CALLS] < m0.cpu.icount // 4        # the hot loop runs freely
    assert c1[O.C_HOT_CALLS] >= m1.cpu.icount            # one call per instruction (or more)
    if path == "tlbflush":
        assert c1[O.C_MEMSLOW] > 2 * c0[O.C_MEMSLOW] + 1000


def test_vector_loop_runs_fp_simd(monkeypatch):
    """Compiled FP/SIMD loops (tests/guest/vecloop.c) run in the vector loop
    (cpu/hotvec.py) instead of leaving the hot loop at every FP/SIMD instruction, with
    the output and instruction count of the general path (one instruction at a time)."""
    from pyaarch64.cpu import ops as O
    from guestbuild import build, run_guest
    from test_guests import expected
    elf = build("vecloop.c")
    monkeypatch.setenv("PYAARCH64_EXEC_PATH", "fast")
    out0, stop0, m0 = run_guest(elf, machine="virt-7.2")
    assert out0 == expected("vecloop")
    monkeypatch.setenv("PYAARCH64_EXEC_PATH", "general")
    out1, stop1, m1 = run_guest(elf, machine="virt-7.2")
    assert (stop1.kind, out1, m1.cpu.icount) == (stop0.kind, out0, m0.cpu.icount)
    c0, c1 = m0.cpu.ctl, m1.cpu.ctl
    n = m0.cpu.icount
    # a fifth of the program is FP/SIMD; nearly all of it runs in the vector loop,
    # which stops less than once per 500 instructions (mostly at words met for the
    # first time and UART writes; the integer loop alone stops at every FP/SIMD one)
    assert c0[O.C_VEC_INSNS] > n // 5, (int(c0[O.C_VEC_INSNS]), n)
    assert c0[O.C_LEAVES] < n // 500, (int(c0[O.C_LEAVES]), n)
    assert c1[O.C_VEC_INSNS] > n // 5                    # the general path reaches it too


def test_integer_code_leaves_the_vector_loop(monkeypatch):
    """A guest without FP/SIMD never enters the vector loop: after the FP/SIMD start-up
    of a program, integer code runs in the integer loop again (C_VEC_CALLS stays
    small against the hot-loop calls)."""
    from pyaarch64.cpu import ops as O
    from guestbuild import build, run_guest
    monkeypatch.setenv("PYAARCH64_EXEC_PATH", "fast")
    out, stop, m = run_guest(build("ldst.c"), machine="virt-7.2")
    assert m.cpu.ctl[O.C_VEC_CALLS] == 0
    monkeypatch.setenv("PYAARCH64_EXEC_PATH", "general")
    out, stop, m = run_guest(build("simd_int.c"), machine="virt-7.2")
    c = m.cpu.ctl
    assert 0 < c[O.C_VEC_CALLS] < c[O.C_HOT_CALLS]       # one call per instruction: both loops
