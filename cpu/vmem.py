"""Advanced SIMD structure loads and stores: LD1-LD4/ST1-ST4 (multiple structures),
single-lane LD1-LD4/ST1-ST4, LD1R-LD4R, with no offset or post-index (immediate or Xm).

Memory goes through system.mem_rw (the MMU/soft TLB path of the other rare
loads/stores).  A load changes no register unless every access succeeded; a store
writes in increasing address order, so a fault leaves the bytes before the faulting
access written (as QEMU does); the base register is written back only after the whole
transfer.  With SCTLR_EL1.A set, an address that is not a multiple of the element size
takes an alignment fault.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import VREG, C_PC, C_EL
from pyaarch64.cpu.sysregs import R_VAL, S_SCTLR_EL1
from pyaarch64.cpu.memory import ACC_OK, FSC_ALIGN, A_WRITE, translate
from pyaarch64.cpu import system as _sys
from pyaarch64.cpu.isa.simdx import SX_MULT

U0 = np.uint64(0)
U12 = np.uint64(12)
PAGE_OFF = np.uint64(0xFFF)
SCTLR_A = np.uint64(2)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True)
def vldst(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, w0, w1):
    vt = np.int64((w0 >> np.uint64(10)) & np.uint64(31))
    rn = np.int64((w0 >> np.uint64(16)) & np.uint64(63))
    rm = np.int64((w0 >> np.uint64(22)) & np.uint64(63))
    kind = np.int64(w0 >> np.uint64(34)) & 31
    f = np.int64(w1)
    load = (f & 1) == 1
    q = (f >> 1) & 1
    dbytes = 16 if q else 8
    if kind == SX_MULT:
        lg = (f >> 2) & 3
        rpt = (f >> 4) & 7
        selem = (f >> 7) & 7
        wb = (f >> 10) & 1
        immpost = (f >> 11) & 1
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
        return _sys.data_abort(regs, ctl, sysr, pc, addr, not load, FSC_ALIGN)
    # the post-index offset is read before anything is written (Xm may be a target)
    if immpost:
        offs = np.uint64(total)
    else:
        offs = regs[rm]
    chunk = 8 if (total & 7) == 0 else ebytes
    buf = np.zeros(64, np.uint8)
    nr = rpt * selem
    if load:
        for off in range(0, total, chunk):
            st, v, fva = _sys.mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb,
                                     addr + np.uint64(off), chunk, False, U0)
            if st != ACC_OK:
                return _sys.abort_status(regs, ctl, sysr, pc, st, fva, False)
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
                fsc, pa, info = translate(ctl, sysr, mem, a2 & ~PAGE_OFF, A_WRITE,
                                          np.int64(ctl[C_EL]))
                if fsc >= 0:
                    return _sys.data_abort(regs, ctl, sysr, pc, a2 & ~PAGE_OFF, True, fsc)
            st, x, fva = _sys.mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, a, chunk, True, v)
            if st != ACC_OK:
                return _sys.abort_status(regs, ctl, sysr, pc, st, fva, True)
    if wb:
        regs[rn] = addr + offs
    ctl[C_PC] = pc + np.uint64(4)
    return 0
