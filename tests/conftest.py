import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tools import pytest_runtest_setup  # noqa: E402,F401  (applies tools.needs markers)


def pytest_addoption(parser):
    parser.addoption("--diff-samples", type=int, default=None,
                     help="random encodings per run of tests/test_diff_unicorn.py "
                          "(default: a small fixed sample)")
    parser.addoption("--diff-seed", type=int, default=1,
                     help="seed of the random encodings of tests/test_diff_unicorn.py")
    parser.addoption("--exec-path", default=None, choices=("fast", "general", "tlbflush", "step"),
                     help="force the CPU's execution path for the whole run (sets "
                          "PYAARCH64_EXEC_PATH; see cpu/ops.py PATH_*): general = the hot loop one "
                          "instruction at a time behind the general fetch, tlbflush = that with the "
                          "soft TLB's data entries flushed before every instruction, step = one "
                          "instruction per run() call")
    parser.addoption("--linux", action="store_true", default=False,
                     help="boot the Debian arm64 kernel in tests/test_linux_boot.py (fetch it "
                          "first with scripts/fetch-guests.sh; same as PYAARCH64_LINUX=1)")


# --- numba compile time, made visible ------------------------------------------
# The CPU core is compiled (or loaded from numba's cache) once per session, up front,
# so the cost shows in the summary instead of inside whichever test runs first.
_core = {}


def pytest_configure(config):
    path = config.getoption("--exec-path")
    if path:
        os.environ["PYAARCH64_EXEC_PATH"] = path     # read by every new Cpu (and subprocess)


def pytest_report_header(config):
    return f"pyaarch64 execution path: {os.environ.get('PYAARCH64_EXEC_PATH') or 'fast'}"


def pytest_sessionstart(session):
    import time
    import numba
    from pyaarch64.cpu import jitcache
    cache = jitcache.cache_dir_of("pyaarch64.cpu.executor")
    _core["cached"] = os.path.isdir(cache) and any(
        f.endswith(".nbi") for _, _, fs in os.walk(cache) for f in fs)
    _core["dir"] = cache
    t = time.time()
    from pyaarch64.emu.api import Machine
    m = Machine()
    m.load_elf(os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "hello.elf"))
    m.run(max_insns=10_000)
    # and every instruction group (cpu/groups.py compiles them on first use otherwise,
    # which would put its progress line into some test's stderr)
    from pyaarch64.cpu import groups
    cpu = m._m.cpu
    for g in range(groups.NGROUPS):
        cpu._load_group(g)
    _core["seconds"] = time.time() - t
    _core["jit"] = not numba.config.DISABLE_JIT


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"pyaarch64 execution path: {os.environ.get('PYAARCH64_EXEC_PATH') or 'fast'}")
    if "seconds" in _core and _core["jit"]:
        how = "loaded from cache" if _core["cached"] else "compiled (cold cache)"
        terminalreporter.write_line(
            f"numba: CPU core {how} in {_core['seconds']:.1f} s; cache {_core['dir']}")
