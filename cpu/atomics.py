"""Exclusives (LDXR/STXR, LDXP/STXP, LDAR/STLR) with the local exclusive monitor in
the control array, and the FEAT_LSE atomics (CAS, CASP, LDADD ... SWP).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import SINK, C_PC, C_EXCL_ADDR, C_EXCL_SIZE, C_EXCL_VAL, C_EXCL_VAL2
from pyaarch64.cpu.opids import unpack_EXCL, unpack_ATOMIC
from pyaarch64.cpu.memory import ACC_OK, FSC_ALIGN, access_slow
from pyaarch64.cpu.isa.ldst import XK_LDX, XK_STX, XK_LDXP, XK_STXP, XK_LDAR, XK_STLR, XK_CASP
from pyaarch64.cpu.exceptions import data_abort
from pyaarch64.cpu.memaccess import abort_status, zext
from pyaarch64.cpu.exclusive import excl_hit

U0 = np.uint64(0)
U1 = np.uint64(1)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
INVALID = M64


@njit(cache=True, _nrt=False)
def excl(regs, ctl, sysr, bus, pc, rt, rn, rs, rt2, aux):
    if excl_hit(regs, bus.tlb, U0, ctl, bus.mem, rt, rn, rs, aux):
        ctl[C_PC] = pc + np.uint64(4)                # the common case (cpu/exclusive.py)
        return 0
    kind, size, _, _, _ = unpack_EXCL(aux)
    nb = 1 << size
    addr = regs[rn]
    pair = kind == XK_LDXP or kind == XK_STXP
    total = nb * 2 if pair else nb
    if (addr & np.uint64(total - 1)) != U0:
        return data_abort(regs, ctl, sysr, pc, addr, kind == XK_STX or kind == XK_STXP or kind == XK_STLR,
                          FSC_ALIGN)
    if kind == XK_LDX or kind == XK_LDAR or kind == XK_LDXP:
        st, v, fva = access_slow(ctl, sysr, bus, addr, nb, False, U0)
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, False)
        v2 = U0
        if pair:
            st, v2, fva = access_slow(ctl, sysr, bus, addr + np.uint64(nb), nb, False, U0)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, False)
        if kind != XK_LDAR:
            ctl[C_EXCL_ADDR] = addr
            ctl[C_EXCL_SIZE] = np.uint64(total)
            ctl[C_EXCL_VAL] = v
            ctl[C_EXCL_VAL2] = v2
        regs[rt] = v
        if pair:
            regs[rt2] = v2
    elif kind == XK_STLR:
        st, v, fva = access_slow(ctl, sysr, bus, addr, nb, True, zext(regs[rt], size))
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, True)
    else:
        # store-exclusive: succeeds if the monitor holds this address and memory
        # still has the value the load-exclusive saw
        ok = ctl[C_EXCL_ADDR] == addr and ctl[C_EXCL_SIZE] == np.uint64(total)
        if ok:
            st, cur, fva = access_slow(ctl, sysr, bus, addr, nb, False, U0)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
            ok = cur == ctl[C_EXCL_VAL]
            if ok and pair:
                st, cur2, fva = access_slow(ctl, sysr, bus, addr + np.uint64(nb), nb, False, U0)
                ok = st == ACC_OK and cur2 == ctl[C_EXCL_VAL2]
        if ok:
            st, v, fva = access_slow(ctl, sysr, bus, addr, nb, True, zext(regs[rt], size))
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
            if pair:
                st, v, fva = access_slow(ctl, sysr, bus, addr + np.uint64(nb), nb, True,
                                    zext(regs[rt2], size))
                if st != ACC_OK:
                    return abort_status(regs, ctl, sysr, pc, st, fva, True)
        ctl[C_EXCL_ADDR] = INVALID
        regs[rs] = U0 if ok else U1
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True, _nrt=False)
def cas(regs, ctl, sysr, bus, pc, rn, aux):
    """CAS{A}{L}{B,H} and CASP{A}{L} (FEAT_LSE).  aux (ops.tab EXCL): kind, size, Rs, Rt,
    raw register numbers (31 is XZR; Rs is read and written).  Memory is written only
    when the comparison succeeds; Rs (Rs+1) receives the old value either way."""
    kind, size, _, rs, rt = unpack_EXCL(aux)
    nb = 1 << size
    pair = kind == XK_CASP
    total = nb * 2 if pair else nb
    addr = regs[rn]
    if (addr & np.uint64(total - 1)) != U0:
        return data_abort(regs, ctl, sysr, pc, addr, True, FSC_ALIGN)
    st, old1, fva = access_slow(ctl, sysr, bus, addr, nb, False, U0)
    if st != ACC_OK:
        return abort_status(regs, ctl, sysr, pc, st, fva, False)
    old2 = U0
    same = old1 == zext(regs[rs], size)          # slot 31 is ZR: reads 0
    if pair:
        st, old2, fva = access_slow(ctl, sysr, bus, addr + np.uint64(nb), nb, False, U0)
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, False)
        same = same and old2 == zext(regs[rs + 1], size)
    if same:
        st, _, fva = access_slow(ctl, sysr, bus, addr, nb, True, zext(regs[rt], size))
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, True)
        if pair:
            st, _, fva = access_slow(ctl, sysr, bus, addr + np.uint64(nb), nb, True,
                                zext(regs[rt + 1], size))
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
    regs[SINK if rs == 31 else rs] = old1
    if pair:
        regs[SINK if rs + 1 == 31 else rs + 1] = old2
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True, _nrt=False)
def atomic(regs, ctl, sysr, bus, pc, rt, rn, rs, aux):
    op, size, _, _ = unpack_ATOMIC(aux)
    nb = 1 << size
    addr = regs[rn]
    if (addr & np.uint64(nb - 1)) != U0:
        return data_abort(regs, ctl, sysr, pc, addr, True, FSC_ALIGN)
    st, old, fva = access_slow(ctl, sysr, bus, addr, nb, False, U0)
    if st != ACC_OK:
        return abort_status(regs, ctl, sysr, pc, st, fva, False)
    v = zext(regs[rs], size)
    bits = 8 << size
    sh = np.uint64(64 - bits)
    so = np.int64(old << sh) >> np.int64(sh)
    sv = np.int64(v << sh) >> np.int64(sh)
    if op == 0:
        new = old + v
    elif op == 1:
        new = old & ~v
    elif op == 2:
        new = old ^ v
    elif op == 3:
        new = old | v
    elif op == 4:
        new = old if so >= sv else v
    elif op == 5:
        new = old if so <= sv else v
    elif op == 6:
        new = old if old >= v else v
    elif op == 7:
        new = old if old <= v else v
    else:
        new = v
    st, _, fva = access_slow(ctl, sysr, bus, addr, nb, True, zext(new, size))
    if st != ACC_OK:
        return abort_status(regs, ctl, sysr, pc, st, fva, True)
    regs[rt] = old
    ctl[C_PC] = pc + np.uint64(4)
    return 0
