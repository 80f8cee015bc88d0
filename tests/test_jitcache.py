"""The compile cache and the instruction groups (cpu/jitcache.py, cpu/groups.py).

A first start shows its progress and a warm one stays silent; an edit of one group
recompiles that group and what imports it, never the executor."""
import os
import subprocess
import sys

import pytest

from pyaarch64.cpu import jitcache
from guestbuild import build

CPU = "pyaarch64.cpu."
GROUP_MODULES = ("fpu", "fpexec", "fpvec", "simd_int", "simd_perm", "vmem", "crypto")
# the system group's modules (cpu/system.py's slow_op and what it dispatches to)
SYSTEM_MODULES = ("system", "exceptions", "sysreg_access", "sysinsn", "atomics", "memaccess", "fpaccess")


def closure(mod):
    seen, todo = set(), [mod]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(jitcache._imports(m))
    return seen


def test_executor_does_not_depend_on_the_fp_and_simd_groups():
    """The executor reaches the FP and SIMD groups through addresses only: an edit of
    any of their modules leaves the executor's (and the system group's) cache valid."""
    for mod in ("executor", "hotloop") + SYSTEM_MODULES:
        deps = {m[len(CPU):] for m in closure(CPU + mod)}
        assert not deps & set(GROUP_MODULES), (mod, sorted(deps & set(GROUP_MODULES)))
    # the FP access checks and FP loads/stores are the FP group's: not the executor's
    for mod in ("executor", "hotloop"):
        assert CPU + "fpaccess" not in closure(CPU + mod), mod


def test_no_import_cycle_between_system_and_the_groups():
    assert CPU + "system" not in closure(CPU + "ops")
    for mod in GROUP_MODULES:
        assert CPU + mod not in closure(CPU + "system"), mod


def test_no_import_cycle_in_cpu():
    """No module of cpu/ depends on itself (a cycle would give all its modules one
    cache key, so an edit of any of them would recompile them all)."""
    here = os.path.dirname(os.path.abspath(jitcache.__file__))
    mods = [CPU + f[:-3] for f in os.listdir(here) if f.endswith(".py") and f != "__init__.py"]
    mods += [CPU + "isa." + f[:-3] for f in os.listdir(os.path.join(here, "isa"))
             if f.endswith(".py") and f != "__init__.py"]
    for mod in mods:
        for dep in jitcache._imports(mod):
            assert mod not in closure(dep), (mod, dep)


def test_hash_follows_imports():
    """A module's key covers what it imports: alu's hash enters the hot loop's, and the
    FP unit's does not."""
    h_hot = jitcache.dep_hash(CPU + "hotloop")
    assert CPU + "alu" in closure(CPU + "hotloop")
    assert CPU + "fpu" not in closure(CPU + "hotloop")
    assert CPU + "fpu" in closure(CPU + "fpexec")
    assert jitcache.cache_dir_of(CPU + "hotloop").endswith("hotloop-" + h_hot)


def _cli(env, elf, machine="virt"):
    return subprocess.run([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-M", machine, "-nographic",
                           elf], env=env, capture_output=True, text=True, timeout=1200,
                          stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_first_start_shows_progress_and_warm_start_is_silent(tmp_path):
    """With an empty cache the command says what it compiles (and finishes); the same
    command again prints nothing but the guest's output."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("PYAARCH64_EXEC_PATH", None)
    hello = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "hello.elf")
    r = _cli(env, hello)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Hello from pyaarch64!" in r.stdout
    assert "pyaarch64: compiling the CPU core (first start; cached afterwards): " in r.stderr, r.stderr
    assert "pyaarch64: compiled the CPU core in " in r.stderr, r.stderr
    r2 = _cli(env, hello)
    assert r2.returncode == 0 and "Hello from pyaarch64!" in r2.stdout
    assert r2.stderr == "", r2.stderr
    # a guest using floating point compiles that group now, and only that group
    fp = build("fp_scalar.c")
    r3 = _cli(env, fp, machine="virt-7.2")
    assert r3.returncode == 0, r3.stderr[-2000:]
    assert "pyaarch64: compiled the floating point group in " in r3.stderr, r3.stderr
    assert "the CPU core" not in r3.stderr and "system group" not in r3.stderr, r3.stderr
