"""The AArch64 CPU: decode tables, the numba executor, system registers, CPU models.

numba's on-disk cache only tracks the file that defines each jitted function,
while our jitted code freezes constants from sibling modules (op ids, sysreg
slots, decode tables).  So the cache directory is salted with a hash of every
source file in this package: any change to the CPU sources gets a fresh cache.
"""
import hashlib
import os


def _source_hash():
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for root, dirs, files in os.walk(here):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                with open(os.path.join(root, f), "rb") as fh:
                    h.update(f.encode() + b"\0" + fh.read())
    return h.hexdigest()[:16]


def _configure_numba_cache():
    import numba
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyaarch64", "numba")
    numba.config.CACHE_DIR = os.path.join(base, _source_hash())


SOURCE_HASH = _source_hash()
_configure_numba_cache()
