"""Typed access to guest RAM through the one uint8 array, for the hot paths.

ld64(mem, h) is the little-endian 64-bit value at byte offset h (aligned by the
caller), st32(mem, h, v) stores v's low 32 bits, etc.; ld64u/st64u allow any
alignment.  With these the hot loop needs one RAM base pointer instead of four
array views (fewer live values: the loop's state stays in host registers).  No
bounds check: callers pass offsets of pages the soft TLB maps, all inside RAM.
"""
import numpy as np
from llvmlite import ir as llir
from numba import njit, types, config
from numba.core.extending import intrinsic

from pyaarch64.cpu.ops import VREG

U0 = np.uint64(0)
U1 = np.uint64(1)
U8 = np.uint64(8)


def _ram_load(bits, align):
    def typer(typingctx, arr, off):
        def codegen(context, builder, signature, args):
            a = context.make_array(signature.args[0])(context, builder, args[0])
            ptr = builder.bitcast(builder.gep(a.data, [args[1]]), llir.IntType(bits).as_pointer())
            v = builder.load(ptr, align=align)
            return v if bits == 64 else builder.zext(v, llir.IntType(64))
        return types.uint64(arr, off), codegen
    return intrinsic(typer)


def _ram_store(bits, align):
    def typer(typingctx, arr, off, val):
        def codegen(context, builder, signature, args):
            a = context.make_array(signature.args[0])(context, builder, args[0])
            ptr = builder.bitcast(builder.gep(a.data, [args[1]]), llir.IntType(bits).as_pointer())
            v = args[2] if bits == 64 else builder.trunc(args[2], llir.IntType(bits))
            builder.store(v, ptr, align=align)
            return context.get_dummy_value()
        return types.void(arr, off, val), codegen
    return intrinsic(typer)


if config.DISABLE_JIT:
    # pure-Python semantics (NUMBA_DISABLE_JIT=1): intrinsics do not run there
    def _py_load(dt):
        n = np.dtype(dt).itemsize
        return lambda mem, h: np.uint64(mem[int(h):int(h) + n].view(dt)[0])

    def _py_store(dt):
        n = np.dtype(dt).itemsize
        return lambda mem, h, v: mem[int(h):int(h) + n].view(dt).__setitem__(0, int(v) & ((1 << 8 * n) - 1))
    ld16, ld32, ld64 = _py_load(np.uint16), _py_load(np.uint32), _py_load(np.uint64)
    st16, st32, st64 = _py_store(np.uint16), _py_store(np.uint32), _py_store(np.uint64)
    ld64u, st64u = ld64, st64
else:
    ld16, ld32, ld64 = _ram_load(16, 2), _ram_load(32, 4), _ram_load(64, 8)
    st16, st32, st64 = _ram_store(16, 2), _ram_store(32, 4), _ram_store(64, 8)
    ld64u, st64u = _ram_load(64, 1), _ram_store(64, 1)


@njit(cache=True, _nrt=False, forceinline=True)
def ld_sized(mem, h, lg):
    """The zero-extended little-endian value of 1 << lg bytes (lg 0..3) at offset h."""
    if lg == 3:
        return ld64(mem, h)
    if lg == 2:
        return ld32(mem, h)
    if lg == 1:
        return ld16(mem, h)
    return np.uint64(mem[h])


@njit(cache=True, _nrt=False, forceinline=True)
def st_sized(mem, h, v, lg):
    """Store the low 1 << lg bytes (lg 0..3) of v at offset h."""
    if lg == 3:
        st64(mem, h, v)
    elif lg == 2:
        st32(mem, h, v)
    elif lg == 1:
        st16(mem, h, v)
    else:
        mem[h] = np.uint8(v & np.uint64(0xFF))


@njit(cache=True, _nrt=False, forceinline=True)
def ld1st1_page(regs, mem, h, vt, nw, load, q):
    """LD1/ST1 (multiple structures, no interleave) of nw 8-byte words at RAM offset h
    (any alignment, inside one page): words in register order from Vt, wrapping at
    V31; a D-register load zeroes the register's upper half."""
    wpr = 2 if q else 1                     # words per register
    for j in range(nw):
        r = VREG + 2 * ((vt + j // wpr) & 31) + (j % wpr)
        o = h + U8 * np.uint64(j)
        if load:
            regs[r] = ld64u(mem, o)
            if not q:
                regs[r + 1] = U0
        else:
            st64u(mem, o, regs[r])
