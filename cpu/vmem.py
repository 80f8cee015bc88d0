"""Advanced SIMD structure loads and stores: LD1-LD4/ST1-ST4 (multiple structures),
single-lane LD1-LD4/ST1-ST4, LD1R-LD4R, with no offset or post-index (immediate or Xm).

Memory goes through memory.access_slow (the MMU/soft TLB path of the other rare
loads/stores).  A load changes no register unless every access succeeded; a store
writes in increasing address order, so a fault leaves the bytes before the faulting
access written (as QEMU does); the base register is written back only after the whole
transfer.  With SCTLR_EL1.A set, an address that is not a multiple of the element size
takes an alignment fault.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import SH_AUX, SH_RD, SH_RM, SH_RN, VREG, C_PC, C_EL
from pyaarch64.cpu.opids import unpack_SIMDX
from pyaarch64.cpu.sysregs import R_VAL, S_SCTLR_EL1
from pyaarch64.cpu.memory import ACC_OK, FSC_ALIGN, A_WRITE, translate, T_WRITE, TLB_ENTRIES, access_slow
from pyaarch64.cpu.exceptions import data_abort
from pyaarch64.cpu.memaccess import abort_status
from pyaarch64.cpu.isa.simdx import SX_MULT
from pyaarch64.cpu.ram import ld1st1_page

U0 = np.uint64(0)
U12 = np.uint64(12)
PAGE_OFF = np.uint64(0xFFF)
SCTLR_A = np.uint64(2)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
F_DONE, F_EXC, F_GENERIC = 0, 1, 2      # outcomes of ld1st1
TLB_IDX = np.uint64(TLB_ENTRIES - 1)


@njit(cache=True, _nrt=False)
def _pick(j, a0, a1, a2, a3, a4, a5, a6, a7):
    if j < 4:
        if j < 2:
            return a0 if j == 0 else a1
        return a2 if j == 2 else a3
    if j < 6:
        return a4 if j == 4 else a5
    return a6 if j == 6 else a7


@njit(cache=True, _nrt=False)
def ld1st1(regs, ctl, sysr, bus, pc, vt, addr, total, load, q):
    """LD1/ST1 (multiple structures, 1-4 registers) as 8-byte accesses, without a
    buffer: the loaded words wait in locals until every access has succeeded.
    Returns (F_DONE, 0), (F_EXC, exception/exit code) or (F_GENERIC, 0)."""
    nw = total >> 3
    wpr = 2 if q else 1                     # words per register
    vp = addr >> U12
    if vp == (addr + np.uint64(total - 1)) >> U12:
        # one page: a soft-TLB hit goes straight to RAM (as the executor's inline
        # loads/stores do; pages with decoded code are never in the write TLB)
        e = 2 * (np.int64(vp & TLB_IDX) + (0 if load else T_WRITE * TLB_ENTRIES))
        if bus.tlb[e] == vp:
            ld1st1_page(regs, bus.mem, addr + bus.tlb[e + 1], vt, nw, load, q)
            return F_DONE, 0
    if not load:
        last = addr + np.uint64(total - 1)
        if (addr >> U12) != (last >> U12) and (addr & np.uint64(7)) != U0:
            return F_GENERIC, 0             # an unaligned store across a page: the generic path
        for j in range(nw):
            tt = (vt + j // wpr) & 31
            v = regs[VREG + 2 * tt + (j % wpr)]
            st, x, fva = access_slow(ctl, sysr, bus,
                                addr + np.uint64(8 * j), 8, True, v)
            if st != ACC_OK:
                return F_EXC, abort_status(regs, ctl, sysr, pc, st, fva, True)
        return F_DONE, 0
    a0 = U0
    a1 = U0
    a2 = U0
    a3 = U0
    a4 = U0
    a5 = U0
    a6 = U0
    a7 = U0
    for j in range(nw):
        st, v, fva = access_slow(ctl, sysr, bus,
                            addr + np.uint64(8 * j), 8, False, U0)
        if st != ACC_OK:
            return F_EXC, abort_status(regs, ctl, sysr, pc, st, fva, False)
        if j == 0:
            a0 = v
        elif j == 1:
            a1 = v
        elif j == 2:
            a2 = v
        elif j == 3:
            a3 = v
        elif j == 4:
            a4 = v
        elif j == 5:
            a5 = v
        elif j == 6:
            a6 = v
        else:
            a7 = v
    for k in range(nw // wpr):
        tt = (vt + k) & 31
        if q:
            regs[VREG + 2 * tt] = _pick(2 * k, a0, a1, a2, a3, a4, a5, a6, a7)
            regs[VREG + 2 * tt + 1] = _pick(2 * k + 1, a0, a1, a2, a3, a4, a5, a6, a7)
        else:
            regs[VREG + 2 * tt] = _pick(k, a0, a1, a2, a3, a4, a5, a6, a7)
            regs[VREG + 2 * tt + 1] = U0
    return F_DONE, 0


@njit(cache=True, _nrt=False, forceinline=True)
def mult_fields(w1):
    """The fields of a decoded SX_MULT (cpu/isa/simdx.py): (load, Q, log2 element
    size, registers per structure repeat, elements per structure, writeback,
    immediate post-index)."""
    f = np.int64(w1)
    return ((f & 1) == 1, (f >> 1) & 1, (f >> 2) & 3, (f >> 4) & 7, (f >> 7) & 7, (f >> 10) & 1,
            (f >> 11) & 1)


@njit(cache=True, _nrt=True)    # (NRT: it allocates its buffers)
def vldst(regs, ctl, sysr, bus, pc, w0, w1):
    vt = np.int64((w0 >> SH_RD) & np.uint64(31))
    rn = np.int64((w0 >> SH_RN) & np.uint64(63))
    rm = np.int64((w0 >> SH_RM) & np.uint64(63))
    kind = unpack_SIMDX(np.int64(w0 >> SH_AUX))[0]
    f = np.int64(w1)
    load = (f & 1) == 1
    q = (f >> 1) & 1
    dbytes = 16 if q else 8
    if kind == SX_MULT:
        load, q, lg, rpt, selem, wb, immpost = mult_fields(w1)
        repl = 0
        index = 0
        elements = dbytes >> lg
        total = rpt * selem * dbytes
    else:
        lg = (f >> 2) & 3
        rpt = 1
        selem = (f >> 4) & 7
        wb = (f >> 7) & 1
        immpost = (f >> 8) & 1
        repl = (f >> 9) & 1
        index = (f >> 10) & 15
        elements = 1
        total = selem << lg
    ebytes = np.int64(1) << lg
    addr = regs[rn]
    if (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_A) != U0 and (addr & np.uint64(ebytes - 1)) != U0:
        return data_abort(regs, ctl, sysr, pc, addr, not load, FSC_ALIGN)
    # the post-index offset is read before anything is written (Xm may be a target)
    if immpost:
        offs = np.uint64(total)
    else:
        offs = regs[rm]
    if kind == SX_MULT and selem == 1:
        # LD1/ST1 (multiple): memory holds the registers' bytes in order
        how, r = ld1st1(regs, ctl, sysr, bus, pc, vt, addr, total, load, q)
        if how == F_DONE:
            if wb:
                regs[rn] = addr + offs
            ctl[C_PC] = pc + np.uint64(4)
            return 0
        if how == F_EXC:
            return r
    chunk = 8 if (total & 7) == 0 else ebytes
    buf = np.zeros(64, np.uint8)
    nr = rpt * selem
    if load:
        for off in range(0, total, chunk):
            st, v, fva = access_slow(ctl, sysr, bus,
                                addr + np.uint64(off), chunk, False, U0)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, False)
            for b in range(chunk):
                buf[off + b] = np.uint8((v >> np.uint64(8 * b)) & np.uint64(0xFF))
        out = np.zeros(8, np.uint64)
        if kind == SX_MULT:
            # element e of register r+s comes from ((r*elements + e)*selem + s)*ebytes
            for r in range(rpt):
                for e in range(elements):
                    for s in range(selem):
                        off = ((r * elements + e) * selem + s) * ebytes
                        val = U0
                        for b in range(ebytes):
                            val |= np.uint64(buf[off + b]) << np.uint64(8 * b)
                        k = r + s
                        pos = e * ebytes
                        out[2 * k + (pos >> 3)] |= val << np.uint64((pos & 7) * 8)
        else:
            for s in range(selem):
                off = s * ebytes
                val = U0
                for b in range(ebytes):
                    val |= np.uint64(buf[off + b]) << np.uint64(8 * b)
                if repl:
                    w = U0
                    for p in range(0, 8, ebytes):
                        w |= val << np.uint64(8 * p)
                    out[2 * s] = w
                    out[2 * s + 1] = w if q else U0
                else:
                    tt = (vt + s) & 31
                    lo = regs[VREG + 2 * tt]
                    hi = regs[VREG + 2 * tt + 1]
                    pos = index * ebytes
                    sh = np.uint64((pos & 7) * 8)
                    m = M64 if ebytes == 8 else ((np.uint64(1) << np.uint64(8 * ebytes)) - np.uint64(1))
                    if pos >= 8:
                        hi = (hi & ~(m << sh)) | (val << sh)
                    else:
                        lo = (lo & ~(m << sh)) | (val << sh)
                    out[2 * s] = lo
                    out[2 * s + 1] = hi
        for k in range(nr):
            tt = (vt + k) & 31
            regs[VREG + 2 * tt] = out[2 * k]
            regs[VREG + 2 * tt + 1] = out[2 * k + 1]
    else:
        if kind == SX_MULT:
            for r in range(rpt):
                for e in range(elements):
                    for s in range(selem):
                        off = ((r * elements + e) * selem + s) * ebytes
                        tt = (vt + r + s) & 31
                        pos = e * ebytes
                        w = regs[VREG + 2 * tt + (pos >> 3)] >> np.uint64((pos & 7) * 8)
                        for b in range(ebytes):
                            buf[off + b] = np.uint8((w >> np.uint64(8 * b)) & np.uint64(0xFF))
        else:
            for s in range(selem):
                off = s * ebytes
                tt = (vt + s) & 31
                pos = index * ebytes
                w = regs[VREG + 2 * tt + (pos >> 3)] >> np.uint64((pos & 7) * 8)
                for b in range(ebytes):
                    buf[off + b] = np.uint8((w >> np.uint64(8 * b)) & np.uint64(0xFF))
        last = addr + np.uint64(total - 1)
        if (addr >> U12) != (last >> U12):
            # crossing a page: element by element, and an element that straddles the
            # boundary is written only if the second page translates (QEMU probes it)
            chunk = ebytes
        for off in range(0, total, chunk):
            v = U0
            for b in range(chunk):
                v |= np.uint64(buf[off + b]) << np.uint64(8 * b)
            a = addr + np.uint64(off)
            a2 = a + np.uint64(chunk - 1)
            if (a >> U12) != (a2 >> U12):
                fsc, pa, info = translate(ctl, sysr, bus.mem, a2 & ~PAGE_OFF, A_WRITE,
                                          np.int64(ctl[C_EL]))
                if fsc >= 0:
                    return data_abort(regs, ctl, sysr, pc, a2 & ~PAGE_OFF, True, fsc)
            st, x, fva = access_slow(ctl, sysr, bus, a, chunk, True, v)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
    if wb:
        regs[rn] = addr + offs
    ctl[C_PC] = pc + np.uint64(4)
    return 0
