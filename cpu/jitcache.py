"""numba's on-disk cache for the CPU core, keyed by what each module's code depends on.

numba checks only the source file that defines a jitted function, while our jitted
code freezes constants and inlines functions from the modules it imports (op ids,
sysreg slots, decode tables, ALU helpers).  So each module of this package gets a
cache directory named after a hash of its own source and of every module of the
package it imports, directly or not.  A change to one module recompiles that
module and the modules that import it, and nothing else: the floating-point
group's code is not recompiled after an edit of the MMU, nor the executor after an
edit of the FP group (the executor calls the groups through addresses,
cpu/groups.py, and does not import them).

Directories: ``$NUMBA_CACHE_DIR`` or ``~/.cache/pyaarch64/numba``, then
``<module>-<hash>/``.  Old versions stay until removed (switching branches back
and forth does not recompile); ``python -m pyaarch64.cpu.jitcache --prune``
removes every directory that the current sources do not use.
"""
import ast
import functools
import hashlib
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = "pyaarch64.cpu"


def base_dir():
    return os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pyaarch64", "numba")


def _path_of(mod):
    rel = mod[len(PKG) + 1:].replace(".", os.sep) if mod != PKG else ""
    p = os.path.join(HERE, rel)
    if os.path.isdir(p):
        return os.path.join(p, "__init__.py")
    return p + ".py"


@functools.lru_cache(maxsize=None)
def _imports(mod):
    """The modules of this package that `mod` imports (any form, any depth of the file)."""
    path = _path_of(mod)
    with open(path, "rb") as f:
        tree = ast.parse(f.read(), path)
    pkg = mod if path.endswith("__init__.py") else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = pkg.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                src = parent + ("." + node.module if node.module else "")
            else:
                src = node.module or ""
            names = [src] + [src + "." + a.name for a in node.names]
        for n in names:
            if n.startswith(PKG + "."):             # (the package's __init__ has no jitted code)
                if os.path.exists(_path_of(n)):
                    out.add(n)
    out.discard(mod)
    return frozenset(out)


@functools.lru_cache(maxsize=None)
def dep_hash(mod):
    """Hash of `mod`'s source and of every module of the package it depends on."""
    seen, todo = set(), [mod]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(_imports(m))
    h = hashlib.sha256()
    for m in sorted(seen):
        with open(_path_of(m), "rb") as f:
            h.update(m.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()[:16]


def cache_dir_of(mod):
    return os.path.join(base_dir(), f"{mod[len(PKG) + 1:]}-{dep_hash(mod)}")


def install():
    """Put our locator first in numba's list (idempotent)."""
    from numba.core import caching

    class DependencyLocator(caching._CacheLocator):
        """Caches functions defined in this package by their dependency hash."""

        def __init__(self, py_func, mod):
            self._lineno = py_func.__code__.co_firstlineno
            self._stamp = dep_hash(mod)
            self._path = cache_dir_of(mod)

        def get_cache_path(self):
            return self._path

        def get_source_stamp(self):
            return self._stamp

        def get_disambiguator(self):
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            mod = getattr(py_func, "__module__", "") or ""
            if not (mod.startswith(PKG + ".") and os.path.abspath(py_file).startswith(HERE + os.sep)):
                return None
            self = cls(py_func, mod)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    impl = caching.CacheImpl
    impl._locator_classes = [c for c in impl._locator_classes
                             if c.__name__ != "DependencyLocator"]
    impl._locator_classes.insert(0, DependencyLocator)


def prune():
    """Remove the cache directories the current sources do not use; returns their names."""
    base = base_dir()
    if not os.path.isdir(base):
        return []
    keep = set()
    for root, dirs, files in os.walk(HERE):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(root, f), HERE)[:-3].replace(os.sep, ".")
                mod = PKG + "." + rel.replace(".__init__", "") if rel != "__init__" else PKG
                if mod != PKG:
                    keep.add(os.path.basename(cache_dir_of(mod)))
    gone = []
    for d in sorted(os.listdir(base)):
        if d not in keep and os.path.isdir(os.path.join(base, d)):
            shutil.rmtree(os.path.join(base, d), ignore_errors=True)
            gone.append(d)
    return gone


if __name__ == "__main__":
    if sys.argv[1:] == ["--prune"]:
        for d in prune():
            print("removed", d)
    else:
        print(f"cache: {base_dir()}")
        for f in sorted(os.listdir(HERE)):
            if f.endswith(".py") and f != "__init__.py":
                m = PKG + "." + f[:-3]
                print(f"  {m:32} {dep_hash(m)}  imports {len(_imports(m))}")
