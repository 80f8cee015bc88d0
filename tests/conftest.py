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
    parser.addoption("--linux", action="store_true", default=False,
                     help="boot the Debian arm64 kernel in tests/test_linux_boot.py (fetch it "
                          "first with scripts/fetch-guests.sh; same as PYAARCH64_LINUX=1)")


# --- numba compile time, made visible ------------------------------------------
# The CPU core is compiled (or loaded from numba's cache) once per session, up front,
# so the cost shows in the summary instead of inside whichever test runs first.
_core = {}


def pytest_sessionstart(session):
    import time
    import numba
    from pyaarch64 import cpu  # noqa: F401  (sets numba's cache dir)
    cache = numba.config.CACHE_DIR
    _core["cached"] = os.path.isdir(cache) and any(
        f.endswith(".nbi") for _, _, fs in os.walk(cache) for f in fs)
    _core["dir"] = cache
    t = time.time()
    from pyaarch64.emu.api import Machine
    m = Machine()
    m.load_elf(os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "hello.elf"))
    m.run(max_insns=10_000)
    _core["seconds"] = time.time() - t
    _core["jit"] = not numba.config.DISABLE_JIT


def pytest_terminal_summary(terminalreporter):
    if "seconds" in _core and _core["jit"]:
        how = "loaded from cache" if _core["cached"] else "compiled (cold cache)"
        terminalreporter.write_line(
            f"numba: CPU core {how} in {_core['seconds']:.1f} s; cache {_core['dir']}")
