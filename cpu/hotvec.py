"""The vector loop: the hot loop (cpu/hotloop.py) with FP and Advanced SIMD in it.

Code compiled the normal way mixes integer and FP/SIMD instructions (glibc's string
functions, memcpy, float kernels).  The integer hot loop leaves at every one of them,
and each leave costs the general path's dispatch and a group call.  Adding FP/SIMD
arms to the integer loop makes integer code slower (measured: 7-10% on mix), so
there are two compiled forms of the one `hotloop.hot_run`:

- the integer loop, where `hotloop.vec_arm` refuses every FP/SIMD op (LLVM removes
  the arm), and
- this vector loop, the same function compiled with `vec_arm` below, which runs
  the FP/SIMD data-processing ops through the same semantic functions the FP and
  SIMD groups use (cpu/simd_int.py, cpu/simd_perm.py, cpu/fpexec.py), and
  LD1/ST1 (multiple structures) that hit the soft TLB inside one page.

No instruction's semantics are written here: only which ops may run without the
general path (no exception possible, no memory slow path).  The executor switches to
the vector loop when the integer loop leaves at an FP/SIMD op and back when a vector
loop call runs none (ctl[C_VEC_OPS]).  It is compiled with the FP and SIMD groups
(cpu/groups.py G_VEC), lazily: integer-only guests never pay for it.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import SH_RD, SH_RM, SH_RN, C_NZCV, OPMASK, SH_AUX
from pyaarch64.cpu.opids import OP_FPDP, OP_SIMD, OP_SIMDX, unpack_SIMDX
from pyaarch64.cpu import hotloop
from pyaarch64.cpu.hotloop import write_hit
from pyaarch64.cpu.memory import TLB_ENTRIES, T_WRITE, STATE_TLB
from pyaarch64.cpu.sysregs import R_VAL, S_SCTLR_EL1
from pyaarch64.cpu.operands import fp_enabled
from pyaarch64.cpu.simd_int import simd_int
from pyaarch64.cpu.simd_perm import simdx_regs
from pyaarch64.cpu.fpexec import fpdp_words
from pyaarch64.cpu.vmem import mult_fields
from pyaarch64.cpu.ram import ld1st1_page
from pyaarch64.cpu.isa.simdx import SX_MULT, SX_SINGLE

U0 = np.uint64(0)
U1 = np.uint64(1)
U12 = np.uint64(12)
M5 = np.uint64(31)
M6 = np.uint64(63)
PAGE_MASK = np.uint64(0xFFF)
TLB_IDX = np.uint64(TLB_ENTRIES - 1)
WRITE_BASE = np.uint64(T_WRITE * TLB_ENTRIES)
TOFF = np.uint64(STATE_TLB)
SCTLR_A = np.uint64(2)


@njit(cache=True, _nrt=False)
def vec_arm(st, ctl, pslot, mem, sysr, pc, w0, w1, nzcv):
    """Run the FP/SIMD op (w0, w1) at pc if it needs nothing but registers (or RAM
    through a soft-TLB hit): returns the NZCV after it, or -1 (nothing changed: the
    general path runs it)."""
    if not fp_enabled(ctl, sysr):
        return np.int64(-1)                     # the access trap is the general path's
    op = w0 & OPMASK
    if op == OP_SIMD:
        simd_int(st, ctl, sysr, pc, np.int64((w0 >> SH_RD) & M5),
                 np.int64((w0 >> SH_RN) & M5), np.int64((w0 >> SH_RM) & M5),
                 np.int64(w0 >> SH_AUX))
        return nzcv
    if op == OP_FPDP:
        ctl[C_NZCV] = np.uint64(nzcv)           # FCMP writes it, FCCMP/FCSEL read it
        fpdp_words(st, ctl, sysr, pc, w0, w1)
        return np.int64(ctl[C_NZCV])
    if op != OP_SIMDX:
        return np.int64(-1)
    kind = unpack_SIMDX(np.int64(w0 >> SH_AUX))[0]
    if kind > SX_SINGLE:
        simdx_regs(st, w0, w1)
        return nzcv
    if kind != SX_MULT:
        return np.int64(-1)
    # LD1/ST1 (multiple structures, one to four registers) inside one page, soft-TLB
    # hit, no alignment checking: straight to RAM (cpu/vmem.py does every other case)
    load, q, lg, rpt, selem, wb, immpost = mult_fields(w1)
    if selem != 1 or (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_A) != U0:
        return np.int64(-1)
    rn = (w0 >> SH_RN) & M6
    addr = st[rn]
    total = np.uint64(rpt * (16 if q else 8))
    vp = addr >> U12
    if (addr & PAGE_MASK) + total > np.uint64(4096):
        return np.int64(-1)
    e = (vp & TLB_IDX) << U1
    if load:
        if st[TOFF + e] != vp:
            return np.int64(-1)
    else:
        e += WRITE_BASE << U1
        if not write_hit(st, pslot, e, vp, addr, total):
            return np.int64(-1)
    offs = total if immpost else st[(w0 >> SH_RM) & M6]
    ld1st1_page(st, mem, addr + st[TOFF + e + U1], np.int64((w0 >> SH_RD) & M5),
                np.int64(total >> np.uint64(3)), load, q)
    if wb:
        st[rn] = addr + offs
    return nzcv


hot_run_vec = hotloop.variant(
    "hot_run_vec", __name__, "The vector loop: hotloop.hot_run with hotvec.vec_arm (see the module doc).",
    {"cache": True}, vec_arm=vec_arm)
