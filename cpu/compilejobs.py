"""A first start compiles on two cores: the instruction groups in a second process.

numba compiles on one thread (and holds the GIL), so a cold start used to compile the
CPU core, then each group as the guest first needed it, one after another: about
105 s for a guest using FP/SIMD on a 2-core machine with an empty cache.  When
something is missing from the cache and the host has a second core, `start` launches
``python -m pyaarch64.cpu.compilejobs`` which compiles the groups (system, FP,
Advanced SIMD, vector loop: the order a guest usually needs them) into the same
on-disk cache while this process compiles the core.

Work is shared through one lock file per group (``flock``: released by the kernel
when a process dies, so a killed helper never leaves a group unclaimed): whoever
holds a group's lock compiles it, the other waits for it or does another group
meanwhile, then loads the result from the cache.  The helper ends with its parent
(it watches the parent's pid) and is killed when this process exits; numba writes
cache files atomically, so a helper stopped half-way leaves nothing damaged.

PYAARCH64_COMPILE_JOBS=1 turns the helper off (it is never used on a single core or
when everything is cached); PYAARCH64_COMPILE_LOG=FILE appends its stderr to FILE.
"""
import atexit
import contextlib
import errno
import fcntl
import os
import pickle
import subprocess
import sys
import threading
import time

_started = [None]           # the helper process (Popen) of this process, if any


def jobs():
    """How many processes a cold start may compile in (1 or 2)."""
    v = os.environ.get("PYAARCH64_COMPILE_JOBS", "")
    if v:
        try:
            n = int(v)
        except ValueError:
            raise ValueError(f"PYAARCH64_COMPILE_JOBS={v!r}: expected 1 or 2") from None
        if n not in (1, 2):
            raise ValueError(f"PYAARCH64_COMPILE_JOBS={v!r}: expected 1 or 2")
        return n
    return 2 if (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) >= 2 else 1


def is_cached(g, argtypes):
    """Whether group g compiled for argtypes is in the on-disk cache."""
    from pyaarch64.cpu import groups
    return dispatcher_cached(groups.entry(g)[1], argtypes)


def dispatcher_cached(disp, argtypes):
    """Whether the jitted function `disp` compiled for argtypes is in the on-disk
    cache (reads the index only; numba internals, like cpu/jitcache.py)."""
    cache = getattr(disp, "_cache", None)
    if cache is None or not getattr(cache, "_enabled", False):
        return False
    try:
        key = cache._index_key(argtypes, disp.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:           # noqa: BLE001 -- an unreadable index is a miss
        return False


@contextlib.contextmanager
def claim(g, block=True):
    """Hold group g's compile lock; yields True, or False when block=False and another
    process holds it.  Yields True without locking when the lock file cannot be made
    (read-only cache: numba does not cache there either)."""
    from pyaarch64.cpu import groups, jitcache
    mod, disp = groups.entry(g)
    d = jitcache.cache_dir_of(mod)
    try:
        os.makedirs(d, exist_ok=True)
        fd = os.open(os.path.join(d, f"{getattr(disp, 'py_func', disp).__name__}.compile-lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def start(cpu, order, main_busy):
    """Launch the helper for the groups in `order` that are not cached for this CPU's
    argument types, once per process.  No-op with one job, or when there is nothing
    to share: main_busy says this process has other work (the core) meanwhile, else
    it takes the first group itself and the helper needs a second one."""
    from numba import config
    if _started[0] is not None or jobs() < 2 or config.DISABLE_JIT:
        return None
    todo = [g for g in order if not is_cached(g, cpu._group_types(g))]
    if len(todo) < (1 if main_busy else 2):
        return None
    env = dict(os.environ, PYAARCH64_COMPILE_PARENT=str(os.getpid()))
    log = os.environ.get("PYAARCH64_COMPILE_LOG")     # the helper's stderr, for debugging
    err = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen([sys.executable, "-m", "pyaarch64.cpu.compilejobs"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True)
    if log:
        err.close()
    try:
        p.stdin.write(pickle.dumps([(g, _portable(cpu._group_types(g))) for g in todo]))
        p.stdin.close()
    except OSError:
        pass
    _started[0] = p
    atexit.register(stop)
    return p


def stop():
    """Kill the helper (at exit: a guest that ended needs no more groups)."""
    p = _started[0]
    if p is not None and p.poll() is None:
        p.kill()
        p.wait()


def _watch_parent(pid):
    while True:
        if os.getppid() != pid:
            os._exit(0)
        time.sleep(0.5)


def main():
    from pyaarch64.cpu import groups
    parent = int(os.environ.get("PYAARCH64_COMPILE_PARENT", "0"))
    if parent:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    for g, argtypes in pickle.loads(sys.stdin.buffer.read()):
        with claim(g, block=False) as mine:
            if mine:                    # else the parent compiles it right now
                groups.entry(g)[1].compile(_restored(argtypes))


def _portable(argtypes):
    """argtypes with the MMIO callback's type (ctypes types do not pickle) as a marker,
    also inside the bus (cpu/bus.py, a named tuple)."""
    from numba import types

    def port(t):
        if isinstance(t, types.ExternalFunctionPointer):
            return "MMIO_CB"
        if isinstance(t, types.BaseNamedTuple):
            return ("NAMEDTUPLE", t.instance_class, tuple(port(x) for x in t.types))
        return t
    return tuple(port(t) for t in argtypes)


def _restored(argtypes):
    from numba import typeof, types
    from pyaarch64.cpu.mmio import MMIO_CB
    cb = typeof(MMIO_CB(lambda addr, size, is_write, value: 0))

    def back(t):
        if isinstance(t, str) and t == "MMIO_CB":
            return cb
        if isinstance(t, tuple) and t[0] == "NAMEDTUPLE":
            return types.NamedTuple([back(x) for x in t[2]], t[1])
        return t
    return tuple(back(t) for t in argtypes)


if __name__ == "__main__":
    main()
