"""Advanced SIMD copy (DUP, INS, UMOV, SMOV, scalar DUP), modified immediate (MOVI,
MVNI, ORR, BIC, FMOV), permutes (ZIP/UZP/TRN), EXT and TBL/TBX; and `simdx`, the
entry point of the SIMDX slow op (decoded by cpu/isa/simdx.py), which also reaches
the structure loads/stores (cpu/vmem.py) and the crypto instructions (cpu/crypto.py).

Operands are read into locals before the destination is written (Vd may be a source).
A 64-bit (Q=0) result zeroes the upper half of the V register.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import SH_AUX, SH_RD, SH_RM, SH_RN, C_PC, VREG
from pyaarch64.cpu.opids import OP_SIMDX, unpack_SIMDX
from pyaarch64.cpu.simd_int import simd_int
from pyaarch64.cpu.fpaccess import fp_trapped, fp_trap
from pyaarch64.cpu.isa.simdx import (SX_SINGLE, SX_DUP_ELEM, SX_DUP_GEN, SX_SMOV, SX_UMOV,
                                     SX_INS_GEN, SX_INS_ELEM, SX_SDUP, SX_MODIMM, SX_PERM,
                                     SX_EXT, SX_TBL, SX_AES, MI_SET, MI_ORR)
from pyaarch64.cpu import vmem as _vmem
from pyaarch64.cpu.crypto import crypto

U0 = np.uint64(0)
M32 = np.uint64(0xFFFFFFFF)
EMASK = np.array([0xFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)


@njit(cache=True, _nrt=False)
def eget(a, base, i, sz):
    """Element i (size 1<<sz bytes) of the 128-bit value a[base], a[base+1]."""
    per = 8 >> sz
    w = a[base + i // per]
    if sz == 3:
        return w
    return (w >> np.uint64((i % per) << (3 + sz))) & EMASK[sz]


@njit(cache=True, _nrt=False)
def eset(a, base, i, sz, val):
    per = 8 >> sz
    j = base + i // per
    if sz == 3:
        a[j] = val
        return
    sh = np.uint64((i % per) << (3 + sz))
    m = EMASK[sz] << sh
    a[j] = (a[j] & ~m) | ((val << sh) & m)


@njit(cache=True, _nrt=False)
def replicate(val, sz):
    """val (an element of 1<<sz bytes) repeated over 64 bits."""
    w = val & EMASK[sz]
    if sz <= 0:
        w |= w << np.uint64(8)
    if sz <= 1:
        w |= w << np.uint64(16)
    if sz <= 2:
        w |= w << np.uint64(32)
    return w


@njit(cache=True, _nrt=False)
def eget2(lo, hi, i, sz):
    """Element i (size 1<<sz bytes) of the 128-bit value hi:lo."""
    per = 8 >> sz
    w = hi if i >= per else lo
    if sz == 3:
        return w
    return (w >> np.uint64((i % per) << (3 + sz))) & EMASK[sz]


@njit(cache=True, _nrt=False)
def eput(w, j, sz, val):
    """w with its element j (of 1<<sz bytes, within this 64-bit word) replaced by val."""
    if sz == 3:
        return val
    sh = np.uint64(j << (3 + sz))
    m = EMASK[sz] << sh
    return (w & ~m) | ((val << sh) & m)


@njit(cache=True, _nrt=False)
def perm(regs, kind, rd, rn, rm, f):
    """Copy, permutes, EXT, TBL/TBX (no allocation: operands are held as lo/hi pairs)."""
    vd = VREG + 2 * rd
    if kind == SX_DUP_ELEM or kind == SX_DUP_GEN:
        sz = f & 3
        if kind == SX_DUP_ELEM:
            val = eget(regs, VREG + 2 * rn, (f >> 2) & 15, sz)
        else:
            val = regs[rn]
        w = replicate(val, sz)
        regs[vd] = w
        regs[vd + 1] = w if (f >> 10) & 1 else U0
    elif kind == SX_SMOV or kind == SX_UMOV:
        sz = f & 3
        val = eget(regs, VREG + 2 * rn, (f >> 2) & 15, sz)
        if kind == SX_SMOV:
            bits = np.uint64(64 - (8 << sz))
            val = np.uint64(np.int64(val << bits) >> np.int64(bits))
            if ((f >> 10) & 1) == 0:
                val &= M32
        regs[rd] = val
    elif kind == SX_INS_GEN:
        eset(regs, vd, (f >> 2) & 15, f & 3, regs[rn])
    elif kind == SX_INS_ELEM:
        sz = f & 3
        val = eget(regs, VREG + 2 * rn, (f >> 6) & 15, sz)
        eset(regs, vd, (f >> 2) & 15, sz, val)
    elif kind == SX_SDUP:
        val = eget(regs, VREG + 2 * rn, (f >> 2) & 15, f & 3)
        regs[vd] = val
        regs[vd + 1] = U0
    elif kind == SX_PERM:
        sz = f & 3
        opcode = (f >> 2) & 7
        q = (f >> 5) & 1
        alo = regs[VREG + 2 * rn]
        ahi = regs[VREG + 2 * rn + 1]
        blo = regs[VREG + 2 * rm]
        bhi = regs[VREG + 2 * rm + 1]
        rlo = U0
        rhi = U0
        elements = (16 if q else 8) >> sz
        per = 8 >> sz
        pairs = elements >> 1
        part = opcode >> 2
        op = opcode & 3
        for e in range(elements):
            if op == 1:                              # UZP1/UZP2
                i = 2 * e + part
                if i < elements:
                    val = eget2(alo, ahi, i, sz)
                else:
                    val = eget2(blo, bhi, i - elements, sz)
            elif op == 2:                            # TRN1/TRN2
                i = (e & ~1) + part
                if e & 1:
                    val = eget2(blo, bhi, i, sz)
                else:
                    val = eget2(alo, ahi, i, sz)
            else:                                    # ZIP1/ZIP2
                i = part * pairs + (e >> 1)
                if e & 1:
                    val = eget2(blo, bhi, i, sz)
                else:
                    val = eget2(alo, ahi, i, sz)
            if e < per:
                rlo = eput(rlo, e, sz, val)
            else:
                rhi = eput(rhi, e - per, sz, val)
        regs[vd] = rlo
        regs[vd + 1] = rhi
    elif kind == SX_EXT:
        pos = f & 15
        q = (f >> 4) & 1
        alo = regs[VREG + 2 * rn]
        ahi = regs[VREG + 2 * rn + 1]
        blo = regs[VREG + 2 * rm]
        bhi = regs[VREG + 2 * rm + 1]
        if q == 0:
            # bytes pos..pos+7 of Vm<63:0>:Vn<63:0>
            if pos == 0:
                regs[vd] = alo
            else:
                regs[vd] = (alo >> np.uint64(8 * pos)) | (blo << np.uint64(64 - 8 * pos))
            regs[vd + 1] = U0
        else:
            # bytes pos..pos+15 of the 256-bit Vm:Vn, as four 64-bit words
            w0 = alo
            w1 = ahi
            w2 = blo
            w3 = bhi
            if pos >= 8:
                w0 = ahi
                w1 = blo
                w2 = bhi
                pos -= 8
            if pos == 0:
                lo = w0
                hi = w1
            else:
                sh = np.uint64(8 * pos)
                sh2 = np.uint64(64 - 8 * pos)
                lo = (w0 >> sh) | (w1 << sh2)
                hi = (w1 >> sh) | (w2 << sh2)
            regs[vd] = lo
            regs[vd + 1] = hi
    elif kind == SX_TBL:
        nregs = (f & 3) + 1
        tbx = (f >> 2) & 1
        q = (f >> 3) & 1
        ilo = regs[VREG + 2 * rm]
        ihi = regs[VREG + 2 * rm + 1]
        rlo = regs[vd] if tbx else U0
        rhi = regs[vd + 1] if (tbx and q) else U0
        for i in range(16 if q else 8):
            k = np.int64(eget2(ilo, ihi, i, 0))
            if k < 16 * nregs:
                t = (rn + (k >> 4)) & 31
                val = eget(regs, VREG + 2 * t, k & 15, 0)
                if i < 8:
                    rlo = eput(rlo, i, 0, val)
                else:
                    rhi = eput(rhi, i - 8, 0, val)
        regs[vd] = rlo
        regs[vd + 1] = rhi
    return 0


@njit(cache=True, _nrt=False)
def simdx(regs, ctl, sysr, bus, pc, w0, w1):
    """The SIMDX slow op."""
    if fp_trapped(ctl, sysr):
        return fp_trap(regs, ctl, sysr, pc)
    if unpack_SIMDX(np.int64(w0 >> SH_AUX))[0] <= SX_SINGLE:
        return _vmem.vldst(regs, ctl, sysr, bus, pc, w0, w1)
    simdx_regs(regs, w0, w1)
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True, _nrt=False)
def simdx_regs(regs, w0, w1):
    """The SIMDX kinds that touch only registers (all but the loads and stores)."""
    aux = np.int64(w0 >> SH_AUX)
    kind, q, how = unpack_SIMDX(aux)
    rd = np.int64((w0 >> SH_RD) & np.uint64(63))
    rn = np.int64((w0 >> SH_RN) & np.uint64(63))
    rm = np.int64((w0 >> SH_RM) & np.uint64(63))
    if kind == SX_MODIMM:
        vd = VREG + 2 * rd
        lo = w1
        hi = w1 if q else U0
        if how == MI_ORR:
            lo |= regs[vd]
            if q:
                hi |= regs[vd + 1]
        elif how != MI_SET:
            lo &= regs[vd]
            if q:
                hi &= regs[vd + 1]
        regs[vd] = lo
        regs[vd + 1] = hi
    elif kind >= SX_AES:
        crypto(regs, kind, rd, rn, rm, np.int64(w1))
    else:
        perm(regs, kind, rd, rn, rm, np.int64(w1))


@njit(cache=True, _nrt=False)
def simd_group(regs, ctl, sysr, sysmap, bus, op, w0, w1):
    """Entry of the Advanced SIMD group (cpu/groups.py): SIMD (integer), SIMDX."""
    pc = ctl[C_PC]
    if op == OP_SIMDX:
        return np.int64(simdx(regs, ctl, sysr, bus, pc, w0, w1))
    if fp_trapped(ctl, sysr):
        return np.int64(fp_trap(regs, ctl, sysr, pc))
    m31 = np.uint64(31)
    return np.int64(simd_int(regs, ctl, sysr, pc, np.int64((w0 >> SH_RD) & m31),
                             np.int64((w0 >> SH_RN) & m31), np.int64((w0 >> SH_RM) & m31),
                             np.int64(w0 >> SH_AUX)))
