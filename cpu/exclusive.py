"""The common case of the exclusives, for the hot loop (cpu/hotloop.py runs it without
leaving) and for `atomics.excl`, which tries it first: LDXR/LDAXR, STXR/STLXR, LDAR and
STLR of one register, aligned, on a page the soft TLB maps for the access (a read entry
for the loads; a write entry, so RAM without decoded code, for the stores).  Pairs,
misaligned addresses, TLB misses, MMIO and faults are `atomics.excl`'s.

The local monitor lives in ctl (C_EXCL_ADDR/SIZE/VAL): a store-exclusive succeeds when
the monitor holds its address and size and memory still has the value the
load-exclusive read (see cpu/atomics.py).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import C_EXCL_ADDR, C_EXCL_SIZE, C_EXCL_VAL, C_EXCL_VAL2
from pyaarch64.cpu.opids import unpack_EXCL
from pyaarch64.cpu.memory import TLB_ENTRIES, T_WRITE
from pyaarch64.cpu.ram import ld_sized, st_sized
from pyaarch64.cpu.isa.ldst import XK_LDX, XK_STX, XK_LDAR, XK_STLR

U0 = np.uint64(0)
U1 = np.uint64(1)
U12 = np.uint64(12)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
TLB_IDX = np.uint64(TLB_ENTRIES - 1)
WRITE_BASE = np.uint64(T_WRITE * TLB_ENTRIES)


@njit(cache=True, _nrt=False, forceinline=True)
def excl_hit(regs, tlbarr, toff, ctl, mem, rt, rn, rs, aux):
    """Run the exclusive (op EXCL; aux: ops.tab) if it is the common case
    above: True, registers/memory/monitor updated; else False, nothing done."""
    kind, size, _, _, _ = unpack_EXCL(aux)
    if kind != XK_LDX and kind != XK_STX and kind != XK_LDAR and kind != XK_STLR:
        return False                                      # pairs, CAS, CASP
    nb = U1 << np.uint64(size)
    addr = regs[rn]
    if (addr & (nb - U1)) != U0:
        return False                                      # the alignment fault: excl's
    vp = addr >> U12
    load = kind == XK_LDX or kind == XK_LDAR
    e = (vp & TLB_IDX) << U1
    if not load:
        e += WRITE_BASE << U1                             # (a page with decoded code never matches)
    e += toff
    if tlbarr[e] != vp:
        return False
    h = addr + tlbarr[e + U1]
    if load:
        v = ld_sized(mem, h, size)
        if kind == XK_LDX:
            ctl[C_EXCL_ADDR] = addr
            ctl[C_EXCL_SIZE] = nb
            ctl[C_EXCL_VAL] = v
            ctl[C_EXCL_VAL2] = U0
        regs[rt] = v
        return True
    if kind == XK_STLR:
        st_sized(mem, h, regs[rt], size)
        return True
    ok = (ctl[C_EXCL_ADDR] == addr and ctl[C_EXCL_SIZE] == nb
          and ld_sized(mem, h, size) == ctl[C_EXCL_VAL])
    if ok:
        st_sized(mem, h, regs[rt], size)
    ctl[C_EXCL_ADDR] = M64
    regs[rs] = U0 if ok else U1
    return True
