"""The C type of the host callbacks the jitted core calls -- the board's MMIO
callback, (address, size in bytes, is_write, value) -> value read, and the hook
callback (cpu/hooks.py) -- and `call_c`, which calls one through its address.

The addresses live in ctl (C_MMIO_FN, C_HOOK_FN), not in the arguments: numba
unboxes a ctypes function argument through ctypes.cast on every call into the
jitted code (about 1 us each), which a single step or a fuzz loop would pay."""
import ctypes
import weakref

from llvmlite import ir
from numba import config, types
from numba.core.extending import intrinsic

MMIO_CB = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32,
                           ctypes.c_uint32, ctypes.c_uint64)

# NUMBA_DISABLE_JIT: address -> the ctypes function.  Weak: the caller keeps `fn` (the
# CPU does), and a strong table would keep every machine ever made alive through its
# callback's closure (a test suite grew by gigabytes)
_PY = weakref.WeakValueDictionary()


def address_of(fn):
    """The address of a MMIO_CB function (keep `fn` alive as long as it is used)."""
    a = ctypes.cast(fn, ctypes.c_void_p).value
    _PY[a] = fn
    return a


@intrinsic
def call_c(typingctx, addr, a, size, kind, value):
    """fn(a, size, kind, value) for the MMIO_CB function at `addr`."""
    sig = types.uint64(types.uint64, types.uint64, types.uint32, types.uint32, types.uint64)

    def codegen(context, builder, signature, args):
        i64, i32 = ir.IntType(64), ir.IntType(32)
        fnty = ir.FunctionType(i64, [i64, i32, i32, i64])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(fn, list(args[1:]))
    return sig, codegen


if config.DISABLE_JIT:
    def call_c(addr, a, size, kind, value):  # noqa: F811
        return _PY[int(addr)](int(a), int(size), int(kind), int(value))
