"""Instruction groups compiled on their own and called through their addresses.

numba links every jitted function a caller uses into the caller's own machine code
and optimises the whole again: the executor used to contain, and recompile, the
system-register code, the floating-point unit and all of Advanced SIMD.  Here the
rare groups are separate compiled units instead, each cached on its own
(cpu/jitcache.py), and the executor calls them through an address it finds in the
control array (`call_group`: one indirect call, no linking).  A group that was
never needed is never compiled: when its address is still 0 the executor returns
EXIT_GROUP, `Cpu.run` compiles (or loads) the group, fills in the address and goes
on; the instruction has not started, so this is invisible to the guest.

Every group entry has the same signature as the slow-op arm
    (regs, ctl, sysr, sysmap, bus, op: int64, w0, w1) -> int64
and returns 0 or an EXIT_* code, with PC/NZCV in ctl.
"""
import importlib
import sys
import threading
import time

import numpy as np
from numba import njit, types, config
from numba.core import cgutils
from numba.core.extending import intrinsic

from pyaarch64.cpu.ops import C_EXIT_A, C_GROUP, EXIT_GROUP
from pyaarch64.cpu.opids import HOT_FIRST, OP_NAMES

# group ids and their entry points (module, function)
G_SYSTEM, G_FP, G_SIMD, G_VEC, G_COV = 0, 1, 2, 3, 4
ENTRIES = {
    G_SYSTEM: ("pyaarch64.cpu.system", "slow_op"),      # sysregs, exceptions, exclusives, SYS, ...
    G_FP: ("pyaarch64.cpu.fpexec", "fp_group"),         # scalar and vector FP, FP loads/stores
    G_SIMD: ("pyaarch64.cpu.simd_perm", "simd_group"),  # Advanced SIMD integer, permutes, structures, crypto
    # not an op group: the hot loop with FP/SIMD in it (cpu/hotvec.py), hotloop.hot_run's
    # signature; loaded with the FP and SIMD groups (VEC_WITH), called by hotloop.hot_call_at
    G_VEC: ("pyaarch64.cpu.hotvec", "hot_run_vec"),
    # the integer hot loop recording edge coverage (cpu/hotcov.py): compiled when a
    # machine first turns coverage on, never ahead
    G_COV: ("pyaarch64.cpu.hotcov", "hot_run_cov"),
}
NAMES = {G_SYSTEM: "system", G_FP: "floating point", G_SIMD: "Advanced SIMD", G_VEC: "vector loop",
         G_COV: "coverage loop"}
NGROUPS = len(ENTRIES)
VEC_WITH = (G_FP, G_SIMD, G_VEC)    # loading any of these loads all three
# the order a guest usually first needs them in (a cold start's second process,
# cpu/compilejobs.py, compiles them in this order)
COMPILE_ORDER = (G_SYSTEM, G_FP, G_SIMD, G_VEC)
# the ops each group runs; GROUP_OF[op] is the group of an op, -1 for the ops the
# hot loop or the general path run themselves
OPS = {
    G_SYSTEM: ("EXCL", "ATOMIC", "MRS", "MSR", "MSRI", "SYS", "EXC", "ERET", "LDT", "STT"),
    G_FP: ("FPDP", "FPMEM"),
    G_SIMD: ("SIMD", "SIMDX"),
}
GROUP_OF = np.full(HOT_FIRST, -1, dtype=np.int64)
for _g, _names in OPS.items():
    for _n in _names:
        GROUP_OF[OP_NAMES.index(_n)] = _g


def call_at_codegen(rettype):
    """The codegen of an intrinsic (addr, *args) -> rettype that calls the compiled
    function at `addr` (numba's own calling convention, so arrays pass as they do
    between jitted functions); errors propagate.  call_group below and
    hotloop.hot_call_at (the vector loop) are built from it."""
    def codegen(context, builder, signature, args):
        argtys = signature.args[1:]
        fnty = context.call_conv.get_function_type(rettype, argtys)
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        status, res = context.call_conv.call_function(builder, fn, rettype, argtys, args[1:])
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return res
    return codegen


@intrinsic
def call_group(typingctx, addr, regs, ctl, sysr, sysmap, bus, op, w0, w1):
    """Call the compiled group entry at `addr`."""
    sig = types.int64(addr, regs, ctl, sysr, sysmap, bus, op, w0, w1)
    return sig, call_at_codegen(types.int64)


_PY = {}            # NUMBA_DISABLE_JIT: fake address -> Python function

if config.DISABLE_JIT:
    def call_group(addr, *args):  # noqa: F811
        return _PY[int(addr)](*args)


@njit(cache=True, _nrt=False, forceinline=True)
def run_group(g, regs, ctl, sysr, sysmap, bus, op, w0, w1):
    """Run op in group g, or return EXIT_GROUP (ctl[C_EXIT_A] = g) if it is not loaded."""
    a = ctl[C_GROUP + g]
    if a == np.uint64(0):
        ctl[C_EXIT_A] = np.uint64(g)
        return EXIT_GROUP
    return call_group(a, regs, ctl, sysr, sysmap, bus, op, w0, w1)


# --- loading ---------------------------------------------------------------------
_addr = {}          # (group, argument types) -> address
_lock = threading.Lock()


def entry(g):
    """Group g's entry: (module name, the jitted function)."""
    mod, fn = ENTRIES[g]
    return mod, getattr(importlib.import_module(mod), fn)


def address(g, argtypes):
    """The address of group g's entry compiled for these argument types (compiling or
    loading it from the cache on first use)."""
    key = (g, argtypes)
    a = _addr.get(key)
    if a is not None:
        return a
    with _lock:
        mod, disp = entry(g)
        if config.DISABLE_JIT:
            a = 1 + g
            _PY[a] = disp
        else:
            with compile_progress(f"the {NAMES[g]} group"):
                disp.compile(argtypes)
            cres = disp.overloads[argtypes]
            want = types.uint64 if g in (G_VEC, G_COV) else types.int64
            if cres.signature.return_type != want:
                raise TypeError(f"group entry {mod}.{disp.__name__} returns {cres.signature.return_type}, not {want}")
            a = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
        _addr[key] = a
    return a


def argtypes_of(regs, ctl, sysr, sysmap, bus):
    """The argument types of a group entry (bus: cpu/bus.py)."""
    from numba import typeof
    return tuple(typeof(x) for x in (regs, ctl, sysr, sysmap, bus)) + (
        types.int64, types.uint64, types.uint64)


def loop_argtypes_of(state, ctl, pslot, mem, sysr):
    """The argument types of hotloop.hot_run and its vector variant (G_VEC)."""
    from numba import typeof
    return (typeof(state), typeof(ctl), typeof(pslot), typeof(mem), types.uint64, typeof(sysr))


# --- progress while compiling ------------------------------------------------------
class compile_progress:
    """While numba compiles something that was not in the cache, a line on stderr says
    what and how far it is (functions compiled so far, seconds); silent when
    everything comes from the cache.  Nested uses report once, as the outermost.
    elsewhere=True: waiting for another process to compile it (cpu/compilejobs.py)."""
    _depth = 0
    total_hint = 0       # functions a cold start compiles (set by the caller, when known)

    def __init__(self, what, elsewhere=False):
        self.what = what
        self.elsewhere = elsewhere

    def __enter__(self):
        cls = compile_progress
        cls._depth += 1
        if cls._depth > 1 or config.DISABLE_JIT:
            self.listener = None
            return self
        from numba.core import event
        self.count = 0
        self.t0 = time.time()
        self.shown = False
        self.done = threading.Event()

        progress = self

        class Listener(event.Listener):
            def on_start(self, ev):
                pass

            def on_end(self, ev):
                progress.count += 1

        self.listener = Listener()
        event.register("numba:compile", self.listener)
        self.thread = threading.Thread(target=self._report, daemon=True)
        self.thread.start()
        return self

    def _line(self, final=False):
        dt = time.time() - self.t0
        if self.elsewhere and self.count == 0:
            if final:
                return f"pyaarch64: {self.what} was compiled in a second process (waited {dt:.0f} s)"
            return f"pyaarch64: waiting for {self.what}, compiling in a second process (first start): {dt:.0f} s"
        if final:
            return (f"pyaarch64: compiled {self.what} in {dt:.0f} s ({self.count} functions; "
                    f"cached for the next start)")
        return (f"pyaarch64: compiling {self.what} (first start; cached afterwards): "
                f"{self.count} functions, {dt:.0f} s")

    def _report(self):
        tty = sys.stderr.isatty()
        next_line = 1.0
        while not self.done.wait(0.5):
            if self.count == 0 and not self.elsewhere:
                continue        # nothing compiled yet: loading from the cache is silent
            dt = time.time() - self.t0
            if tty:
                sys.stderr.write("\r" + self._line() + "\x1b[K")
                sys.stderr.flush()
                self.shown = True
            elif dt >= next_line:
                sys.stderr.write(self._line() + "\n")
                sys.stderr.flush()
                self.shown = True
                next_line = dt + 15.0

    def __exit__(self, *exc):
        cls = compile_progress
        cls._depth -= 1
        if self.listener is None:
            return False
        from numba.core import event
        self.done.set()
        self.thread.join()
        event.unregister("numba:compile", self.listener)
        if self.shown:
            end = "\r" if sys.stderr.isatty() else ""
            sys.stderr.write(end + self._line(final=True) + ("\x1b[K" if end else "") + "\n")
            sys.stderr.flush()
        return False
