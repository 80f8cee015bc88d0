"""The compile cache and the instruction groups (cpu/jitcache.py, cpu/groups.py).

A first start shows its progress and a warm one stays silent; an edit of one group
recompiles that group and what imports it, never the executor."""
import os
import subprocess
import sys

import pytest

from pyaarch64.cpu import jitcache, groups, compilejobs
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
    # a guest using floating point compiles the FP/SIMD groups now (unless the first
    # start's helper process got to them before hello ended), and nothing else
    fp = build("fp_scalar.c")
    r3 = _cli(env, fp, machine="virt-7.2")
    assert r3.returncode == 0, r3.stderr[-2000:]
    assert "the CPU core" not in r3.stderr and "system group" not in r3.stderr, r3.stderr
    for line in r3.stderr.splitlines():
        assert any(f"the {n} group" in line for n in ("floating point", "Advanced SIMD", "vector loop")), line


def _compiled_here(stderr):
    """The groups this process compiled itself, from its progress lines."""
    return {n for n in groups.NAMES.values() if f"compiled the {n} group in " in stderr}


@pytest.mark.slow
def test_first_start_compiles_the_groups_in_a_second_process(tmp_path):
    """A cold start of a guest that uses FP/SIMD compiles on two cores: the core here,
    the groups in the helper (cpu/compilejobs.py) meanwhile, so this process does not
    compile all of them itself; the helper is gone when the command ends."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYAARCH64_COMPILE_JOBS="2")
    env.pop("PYAARCH64_EXEC_PATH", None)
    r = _cli(env, build("vecloop.c"))
    assert r.returncode == 0, r.stderr[-2000:]
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "expected",
                           "vecloop.txt")) as f:
        assert r.stdout == f.read()
    here = _compiled_here(r.stderr)
    # the helper starts with the system group while this process compiles the core
    assert "system" not in here, r.stderr
    assert here < set(groups.NAMES.values()), r.stderr
    assert "pyaarch64: compiled the CPU core in " in r.stderr, r.stderr
    left = subprocess.run(["pgrep", "-f", "pyaarch64.cpu.compilejobs"], capture_output=True, text=True)
    for pid in left.stdout.split():
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert str(tmp_path).encode() not in f.read(), "compile helper outlived its command"


def test_compile_lock_is_released_when_its_holder_dies(tmp_path):
    """Whoever holds a group's lock compiles it; the other process skips it (or waits)
    and gets it when the holder ends, even killed half-way."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from pyaarch64.cpu import compilejobs, groups\n"
        "with compilejobs.claim(groups.G_VEC):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with compilejobs.claim(groups.G_VEC, block=False) as mine:
            assert mine is False
        with compilejobs.claim(groups.G_SIMD, block=False) as mine:
            assert mine is True
    finally:
        holder.kill()
        holder.wait()
    with compilejobs.claim(groups.G_VEC, block=False) as mine:
        assert mine is True


def test_compile_helper_only_when_it_has_work(monkeypatch):
    """The helper starts when groups are missing from the cache and there is a second
    job for it; PYAARCH64_COMPILE_JOBS=1 keeps everything in this process."""
    class FakeCpu:
        _cb = None

        def _group_types(self, g):
            return ("types", g)

    monkeypatch.setattr(compilejobs, "_started", [None])
    monkeypatch.setattr(compilejobs, "is_cached", lambda g, t: g == groups.G_SYSTEM)
    spawned = []

    class FakePopen:
        def __init__(self, argv, **kw):
            spawned.append(argv)
            self.stdin = open(os.devnull, "wb")

        def poll(self):
            return 0

    monkeypatch.setattr(compilejobs.subprocess, "Popen", FakePopen)
    monkeypatch.setenv("PYAARCH64_COMPILE_JOBS", "1")
    assert compilejobs.start(FakeCpu(), groups.COMPILE_ORDER, main_busy=True) is None
    monkeypatch.setenv("PYAARCH64_COMPILE_JOBS", "2")
    # this process takes the one missing group itself: nothing to share
    assert compilejobs.start(FakeCpu(), (groups.G_SYSTEM, groups.G_FP), main_busy=False) is None
    assert compilejobs.start(FakeCpu(), (groups.G_SYSTEM, groups.G_FP), main_busy=True) is not None
    assert spawned == [[sys.executable, "-m", "pyaarch64.cpu.compilejobs"]]
    assert compilejobs.start(FakeCpu(), groups.COMPILE_ORDER, main_busy=True) is None   # once
    monkeypatch.setenv("PYAARCH64_COMPILE_JOBS", "3")
    with pytest.raises(ValueError, match="PYAARCH64_COMPILE_JOBS"):
        compilejobs.jobs()
