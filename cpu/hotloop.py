"""The hot loop: the executor's common case as its own small function.

`hot_run` executes guest instructions while they are integer data processing,
branches, and loads/stores that hit the soft TLB (aligned, inside a page), and
while the code stays on pages whose decode slot and exec-TLB entry already exist.
It makes no calls, so LLVM can keep the interpreter's state (PC, flags, the
count, the array bases) in host registers; the full `executor.run` loop around
it does everything else one instruction at a time: fetch misses, interrupts,
system and FP/SIMD ops, undecoded slots, memory slow paths (MMIO, TLB misses,
unaligned or page-crossing accesses).

It leaves without side effects on an instruction it cannot finish, so the caller
simply executes the instruction at the returned PC.  Returns the number of
instructions it retired; PC and NZCV go back through `ctl`.
"""
from types import FunctionType

import numpy as np
from numba import njit, types, config
from numba.core import cgutils
from numba.core.extending import intrinsic

from pyaarch64.cpu.ops import (SH_RD, SH_RN, SH_RM, SH_RA, SH_AUX, OPMASK, AUX_CLEAR,
                               C_DAIF, C_EL, C_HOT_LEFT, C_HOT_W0, C_HOT_W1, C_IL, C_IRQ, C_NZCV,
                               C_PC, C_STOP, C_TLB_EL, C_VEC_OPS, C_VEC_PC, HOT_LEFT_FETCH,
                               HOT_LEFT_INSN, MODE_OFF, SX_NONE, VREG,
                               C_COV_MASK, C_COV_BASE, C_COV_PREV, C_EVENT, C_WFE_EXIT)
from pyaarch64.cpu.opids import (HOT_FIRST, HOT_GENERIC_OP, HOT_NAMES, OP_ADC, OP_ADDI, OP_ADDR, OP_ADDSI,
                                 OP_ADDSR, OP_ADDX, OP_ADR, OP_ADRP, OP_B, OP_BARRIER, OP_BCOND,
                                 OP_BCONDM, OP_BFM, OP_BL, OP_BR, OP_CBZ, OP_CCMP, OP_CSEL,
                                 OP_DCZVA, OP_DIV, OP_DP1, OP_EXCL, OP_EXTR, OP_FPMEM, OP_LD,
                                 OP_LDB, OP_LDH, OP_LDLIT, OP_LDP, OP_LDRR, OP_LDRRB, OP_LDRRH,
                                 OP_LDRRW, OP_LDRRX, OP_LDW, OP_LDX, OP_LOGI, OP_LOGSR, OP_MADD,
                                 OP_MADDL, OP_MOVI, OP_MOVK, OP_MRS, OP_MULH, OP_NAMES, OP_NOP,
                                 OP_PRFM, OP_RET, OP_SBF, OP_SEV, OP_SHIFTV, OP_ST, OP_STP,
                                 OP_STRR, OP_SUBSI32, OP_SUBSI64, OP_SYS, OP_TBZ, OP_UBF, OP_WFE,
                                 pack_BCONDM, unpack_ADC, unpack_ADDI, unpack_ADDSI, unpack_ADDSR,
                                 unpack_ADDX, unpack_BCOND, unpack_BCONDM, unpack_BR, unpack_CBZ,
                                 unpack_CCMP, unpack_CSEL, unpack_DIV, unpack_DP1, unpack_EXTR,
                                 unpack_LD, unpack_LDRR, unpack_LOGI, unpack_LOGSR, unpack_MADD,
                                 unpack_MADDL, unpack_MOVK, unpack_MULH, unpack_SHIFTV, unpack_SYS,
                                 unpack_TBZ, unpack_UBF)
from pyaarch64.cpu.alu import (addc, logic, logic_flags, shift, extend, field_mask, cond_holds, dp1,
                               umulh, smulh, udiv, sdiv)
from pyaarch64.cpu.memory import TLB_ENTRIES, T_WRITE, T_EXEC, CODE_TAG, STATE_TLB, STATE_DCACHE

U0 = np.uint64(0)
U1 = np.uint64(1)
U2 = np.uint64(2)
U3 = np.uint64(3)
U4 = np.uint64(4)
U7 = np.uint64(7)
U8 = np.uint64(8)
U31 = np.uint64(31)
U11 = np.uint64(11)
U12 = np.uint64(12)
U32 = np.uint64(32)
U63 = np.uint64(63)
U64 = np.uint64(64)
M6 = np.uint64(63)
M32 = np.uint64(0xFFFFFFFF)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
PAGE_MASK = np.uint64(0xFFF)
NOT_PAGE = np.uint64(0xFFFFFFFFFFFFF000)
TLB_IDX = np.uint64(TLB_ENTRIES - 1)
PAIR_LAST = np.uint64(4096)   # a pair of 2 << size bytes at offset <= 4096 - (2 << size) stays in its page
WRITE_BASE = np.uint64(T_WRITE * TLB_ENTRIES)
EXEC_BASE = np.uint64(T_EXEC * TLB_ENTRIES)
NO_PAGE = np.uint64(0xFFFFFFFFFFFFFFFF)
U55 = np.uint64(55)
TOP_NEG = np.uint64(0x1FF)
TOFF = np.uint64(STATE_TLB)
DOFF = np.uint64(STATE_DCACHE)


from pyaarch64.cpu.ram import (ld16, ld32, ld64, st32, st64, ld_sized,  # noqa: E402
                               st_sized, ld64u, st64u)
from pyaarch64.cpu.sysregs import S_SCTLR_EL1, R_VAL  # noqa: E402
from pyaarch64.cpu.sysread import mrs_plain, dczva_hit  # noqa: E402
from pyaarch64.cpu.exclusive import excl_hit  # noqa: E402
from pyaarch64.cpu.sysregs import key as _sysreg_key  # noqa: E402
K_DC_ZVA = _sysreg_key(1, 3, 7, 4, 1)
SCTLR_A = np.uint64(2)
from pyaarch64.cpu.operands import (sx_load, mem_operands, writeback, fp_enabled,  # noqa: E402
                                    fp_mem_operands)


# the generic ops hot_run executes (besides the HOT_NAMES variants): the general path
# (cpu/executor.py) leaves these to it and does only their memory slow path, or (MRS,
# EXCL: ops of the system group too) the forms the hot loop declines
HOT_LOOP_OPS = ("ADDI", "ADDSI", "LOGI", "MOVI", "MOVK", "ADR", "ADRP", "UBF", "SBF", "BFM", "EXTR",
                "ADDSR", "ADDX", "ADDR", "LOGSR", "ADC", "CCMP", "CSEL", "SHIFTV", "MADD", "MADDL",
                "MULH", "DIV", "DP1", "B", "BL", "BCOND", "CBZ", "TBZ", "BR", "RET", "MRS", "EXCL",
                "LD", "ST", "LDRR", "STRR", "LDLIT", "LDP", "STP", "PRFM",
                "NOP", "BARRIER", "WFE", "SEV")
IS_HOT = np.zeros(HOT_FIRST, dtype=np.bool_)
for _n in HOT_LOOP_OPS:
    IS_HOT[OP_NAMES.index(_n)] = True
# the ops that end a block (coverage: cpu/hotcov.py), by op id, hot variants included
IS_BRANCH = np.zeros(HOT_FIRST + len(HOT_NAMES), dtype=np.bool_)
for _n in ("B", "BL", "BCOND", "CBZ", "TBZ", "BR", "RET"):
    IS_BRANCH[OP_NAMES.index(_n)] = True
IS_BRANCH[HOT_FIRST + HOT_NAMES.index("BCONDM")] = True
IS_MEM = np.zeros(HOT_FIRST, dtype=np.bool_)      # ... of which loads and stores
for _n in ("LD", "ST", "LDRR", "STRR", "LDLIT", "LDP", "STP"):
    IS_MEM[OP_NAMES.index(_n)] = True


@njit(cache=True, _nrt=False, forceinline=True)
def specialise(w0):
    """The decoded word w0 with a common op replaced by its hot-loop variant
    (ops.HOT_NAMES); called by the executor right after predecode."""
    op = np.int64(w0 & OPMASK)
    aux = np.int64(w0 >> SH_AUX)
    hop = -1
    if op == OP_LD:
        size, sign, mode = unpack_LD(aux)
        if sign == SX_NONE and mode == MODE_OFF:
            hop = OP_LDX + 3 - size
    elif op == OP_LDRR:
        size, sign, _, _ = unpack_LDRR(aux)
        if sign == SX_NONE:
            hop = OP_LDRRX + 3 - size
    elif op == OP_ADDSI:
        w, sub = unpack_ADDSI(aux)
        if sub:
            hop = OP_SUBSI32 if w else OP_SUBSI64
    elif op == OP_SYS:
        if unpack_SYS(aux) == K_DC_ZVA:
            hop = OP_DCZVA
    elif op == OP_BCOND:
        cond = unpack_BCOND(aux)
        mask = 0
        for f in range(16):
            if cond_holds(cond, np.int64(f)):
                mask |= 1 << f
        w0 = (w0 & AUX_CLEAR) | (np.uint64(pack_BCONDM(cond, mask)) << SH_AUX)
        hop = OP_BCONDM
    if hop < 0:
        return w0
    return (w0 & ~OPMASK) | np.uint64(hop)


@njit(cache=True, _nrt=False, forceinline=True)
def write_hit(st, pslot, e, vp, maddr, nb):
    """Whether a store of nb bytes at maddr (inside one page) may go straight to RAM
    through the write-TLB entry at e: a plain hit, or a page that holds decoded code
    (tag with CODE_TAG: data next to code) where the store overwrites no decoded
    word.  Else the slow path stores and forgets the words (memory.access1)."""
    t = st[TOFF + e]
    if t == vp:
        return True
    if t != (vp | CODE_TAG):
        return False
    h = maddr + st[TOFF + e + U1]
    cs = np.int64(pslot[h >> U12])
    if cs < 0:
        return True
    base = DOFF + (np.uint64(cs) << U11)
    for k in range(np.int64((h & PAGE_MASK) >> U2), np.int64(((h & PAGE_MASK) + nb - U1) >> U2) + 1):
        if st[base + (np.uint64(k) << U1)] != U0:
            return False
    return True


@njit(cache=True, _nrt=False, forceinline=True)
def generic(op):
    """The generic op of a hot-loop variant (op >= HOT_FIRST; ops.tab's [hot])."""
    return np.int64(HOT_GENERIC_OP[op - HOT_FIRST])


@njit(cache=True, _nrt=False, forceinline=True)
def vec_arm(st, ctl, pslot, mem, sysr, pc, w0, w1, nzcv):
    """The FP/SIMD arm of the integer loop: it runs none of them (-1: leave).  The
    vector loop (cpu/hotvec.py) is this same function with cpu/hotvec.vec_arm here,
    which returns the NZCV after the instruction, or -1 without side effects."""
    return np.int64(-1)


COVER = False       # record edge coverage (the variant in cpu/hotcov.py)


def variant(name, module, doc, jit_options, **names):
    """hot_run compiled again as `name` with some of its global names bound to other
    values (vec_arm: cpu/hotvec.py; COVER: cpu/hotcov.py), cached with `module`
    (cpu/jitcache.py keys the cache per module)."""
    py = getattr(hot_run, "py_func", hot_run)        # (NUMBA_DISABLE_JIT: a plain function)
    g = dict(py.__globals__)
    g.update(names)
    f = FunctionType(py.__code__, g, name, py.__defaults__, py.__closure__)
    f.__qualname__ = name
    f.__module__ = module
    f.__doc__ = doc
    return njit(**jit_options)(f)


@njit(cache=True, _nrt=False)
def hot_run(st, ctl, pslot, mem, budget, sysr):
    """Run up to `budget` (> 0) instructions of the common case; see the module doc.
    st: the CPU state array (registers at 0, soft TLB at STATE_TLB, decode cache at
    STATE_DCACHE; memory.new_state); mem: the RAM array (uint8), read and written
    with the typed accessors above; sysr: the system registers (CPACR_EL1 for FP
    access)."""
    pc = ctl[C_PC]
    nzcv = np.int64(ctl[C_NZCV])
    left = np.uint64(budget)
    cpage = NO_PAGE
    # edge coverage (cpu/hotcov.py compiles this function with COVER = True; here the
    # constant is False and the code below is not compiled in)
    cov = st.view(np.uint8)
    cmask = ctl[C_COV_MASK]
    covbase = ctl[C_COV_BASE]
    prev = ctl[C_COV_PREV]
    cbase = U0
    w0 = U0
    w1 = U0
    nvec = U0
    while left != U0:
        vpage = pc >> U12
        if vpage != cpage:
            # the executor's fetch, common case only: no stop request, no unmasked
            # interrupt, no illegal state, an untagged aligned PC, the soft TLB
            # built for this EL, an exec-TLB hit on a page with a decode slot
            if ctl[C_STOP] != U0 or ctl[C_IL] != U0 or ctl[C_EL] != ctl[C_TLB_EL]:
                break
            if ctl[C_IRQ] != U0 and (ctl[C_IRQ] & ~(((ctl[C_DAIF] >> U1) & U1)
                                                    | ((ctl[C_DAIF] & U1) << U1))) != U0:
                break
            top = pc >> U55
            if (top != U0 and top != TOP_NEG) or (pc & U3) != U0:
                break
            e = ((vpage & TLB_IDX) + EXEC_BASE) << U1
            if st[TOFF + e] != vpage:
                break
            page = ((vpage << U12) + st[TOFF + e + U1]) >> U12
            cslot = np.int64(pslot[page])
            if cslot < 0:
                break
            ctl[C_VEC_PC] = M64
            cbase = DOFF + (np.uint64(cslot) << U11)
            cpage = vpage
        idx = (pc & PAGE_MASK) >> U2
        di = cbase | (idx << U1)
        w0 = st[di]
        w1 = st[di + U1]
        op = np.int64(w0 & OPMASK)
        rd = (w0 >> SH_RD) & M6
        rn = (w0 >> SH_RN) & M6
        aux = np.int64(w0 >> SH_AUX)
        npc = pc + U4
        if op == OP_ADDI:
            r = st[rn] + w1
            if unpack_ADDI(aux):                           # W
                r &= M32
            st[rd] = r
        elif op == OP_BCONDM:
            if (unpack_BCONDM(aux)[1] >> nzcv) & 1:        # the truth table of cond
                npc = pc + w1
        elif op == OP_SUBSI64:
            r, nzcv = addc(st[rn], ~w1, 1, 0)
            st[rd] = r
        elif op == OP_SUBSI32:
            r, nzcv = addc(st[rn], ~w1, 1, 1)
            st[rd] = r
        elif op == OP_LDX or op == OP_LDRRX:
            # the specialised loads (ops.HOT_NAMES): zero-extending, one size each.
            # Four arms on purpose: one arm for all sizes (a size switch, a helper for
            # the TLB check) measured 200 vs 228 MIPS on the mix benchmark.
            if op == OP_LDX:
                maddr = st[rn] + w1
            else:
                _, _, option, amount = unpack_LDRR(aux)
                maddr = st[rn] + extend(st[(w0 >> SH_RM) & M6], option, amount)
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if (maddr & U7) != U0 or st[TOFF + e] != vp:
                break
            st[rd] = ld64(mem, maddr + st[TOFF + e + U1])
        elif op == OP_LDW or op == OP_LDRRW:
            if op == OP_LDW:
                maddr = st[rn] + w1
            else:
                _, _, option, amount = unpack_LDRR(aux)
                maddr = st[rn] + extend(st[(w0 >> SH_RM) & M6], option, amount)
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if (maddr & U3) != U0 or st[TOFF + e] != vp:
                break
            st[rd] = ld32(mem, maddr + st[TOFF + e + U1])
        elif op == OP_LDH or op == OP_LDRRH:
            if op == OP_LDH:
                maddr = st[rn] + w1
            else:
                _, _, option, amount = unpack_LDRR(aux)
                maddr = st[rn] + extend(st[(w0 >> SH_RM) & M6], option, amount)
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if (maddr & U1) != U0 or st[TOFF + e] != vp:
                break
            st[rd] = ld16(mem, maddr + st[TOFF + e + U1])
        elif op == OP_LDB or op == OP_LDRRB:
            if op == OP_LDB:
                maddr = st[rn] + w1
            else:
                _, _, option, amount = unpack_LDRR(aux)
                maddr = st[rn] + extend(st[(w0 >> SH_RM) & M6], option, amount)
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if st[TOFF + e] != vp:
                break
            st[rd] = np.uint64(mem[maddr + st[TOFF + e + U1]])
        elif op == OP_LD or op == OP_LDRR or op == OP_LDLIT:
            # the other loads (sign-extending, pre/post-index, literal): aligned (so
            # inside a page), read-TLB hit; anything else is left to the general path
            maddr, msize, sign, mode, _ = mem_operands(st, w0, w1, pc, op)
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if (maddr & ((U1 << np.uint64(msize)) - U1)) != U0 or st[TOFF + e] != vp:
                break
            st[rd] = sx_load(ld_sized(mem, maddr + st[TOFF + e + U1], msize), msize, sign)
            writeback(st, rn, mode, maddr, w1)
        elif op == OP_ST or op == OP_STRR:
            maddr, msize, _, mode, _ = mem_operands(st, w0, w1, pc, op)
            vp = maddr >> U12
            e = ((vp & TLB_IDX) + WRITE_BASE) << U1
            if ((maddr & ((U1 << np.uint64(msize)) - U1)) != U0
                    or not write_hit(st, pslot, e, vp, maddr, U1 << np.uint64(msize))):
                break
            st_sized(mem, maddr + st[TOFF + e + U1], st[rd], msize)
            writeback(st, rn, mode, maddr, w1)
        elif op == OP_ADDR:
            st[rd] = st[rn] + st[(w0 >> SH_RM) & M6]
        elif op == OP_ADDSI:
            w, sub = unpack_ADDSI(aux)
            a = st[rn]
            if sub:
                r, nzcv = addc(a, ~w1, 1, w)
            else:
                r, nzcv = addc(a, w1, 0, w)
            st[rd] = r
        elif op == OP_ADDSR:
            w, sub, setf, stype, amount = unpack_ADDSR(aux)
            a = st[rn]
            b = st[(w0 >> SH_RM) & M6]
            if w:
                a &= M32
                b &= M32
            b = shift(b, stype, amount, w)
            if setf:
                if sub:
                    r, nzcv = addc(a, ~b, 1, w)
                else:
                    r, nzcv = addc(a, b, 0, w)
            else:
                r = a - b if sub else a + b
                if w:
                    r &= M32
            st[rd] = r
        elif op == OP_MOVI:
            st[rd] = w1
        elif op == OP_CBZ:
            w, nz = unpack_CBZ(aux)
            v = st[rn]
            if w:
                v &= M32
            if (v == U0) != (nz != 0):
                npc = pc + w1
        elif op == OP_B:
            npc = pc + w1
        elif op == OP_BL:
            st[30] = npc
            npc = pc + w1
        elif op == OP_RET:
            npc = st[rn]
            if npc & U3:
                cpage = NO_PAGE        # misaligned target: the fetch raises the PC alignment fault
        elif op == OP_BR:
            t = st[rn]
            if unpack_BR(aux):                             # LINK
                st[30] = npc
            npc = t
            if npc & U3:
                cpage = NO_PAGE
        elif op == OP_LDP:
            # pairs of W or X registers (LDPSW sign-extends); both halves in one page
            maddr, msize, sign, mode, _ = mem_operands(st, w0, w1, pc, op)
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if ((maddr & ((U1 << np.uint64(msize)) - U1)) != U0
                    or (maddr & PAGE_MASK) > PAIR_LAST - (U2 << np.uint64(msize)) or st[TOFF + e] != vp):
                break
            h = maddr + st[TOFF + e + U1]
            if msize == 3:
                v = ld64(mem, h)
                v2 = ld64(mem, h + U8)
            else:
                v = sx_load(ld32(mem, h), msize, sign)
                v2 = sx_load(ld32(mem, h + U4), msize, sign)
            st[rd] = v
            st[(w0 >> SH_RA) & M6] = v2
            writeback(st, rn, mode, maddr, w1)
        elif op == OP_STP:
            maddr, msize, _, mode, _ = mem_operands(st, w0, w1, pc, op)
            vp = maddr >> U12
            e = ((vp & TLB_IDX) + WRITE_BASE) << U1
            if ((maddr & ((U1 << np.uint64(msize)) - U1)) != U0
                    or (maddr & PAGE_MASK) > PAIR_LAST - (U2 << np.uint64(msize))
                    or not write_hit(st, pslot, e, vp, maddr, U2 << np.uint64(msize))):
                break
            h = maddr + st[TOFF + e + U1]
            v = st[rd]
            v2 = st[(w0 >> SH_RA) & M6]
            if msize == 3:
                st64(mem, h, v)
                st64(mem, h + U8, v2)
            else:
                st32(mem, h, v)
                st32(mem, h + U4, v2)
            writeback(st, rn, mode, maddr, w1)
        elif op == OP_LOGI:
            w, opc = unpack_LOGI(aux)
            r = logic(st[rn], w1, opc, w)
            if opc == 3:
                nzcv = logic_flags(r, w)
            st[rd] = r
        elif op == OP_LOGSR:
            w, opc, invert, stype, amount = unpack_LOGSR(aux)
            b = st[(w0 >> SH_RM) & M6]
            if w:
                b &= M32
            b = shift(b, stype, amount, w)
            if invert:
                b = ~b
            r = logic(st[rn], b, opc, w)
            if opc == 3:
                nzcv = logic_flags(r, w)
            st[rd] = r
        elif op == OP_UBF:
            w, lsb, width, pos = unpack_UBF(aux)
            r = ((st[rn] >> np.uint64(lsb)) & field_mask(width)) << np.uint64(pos)
            if w:
                r &= M32
            st[rd] = r
        elif op == OP_SBF:
            w, lsb, width, pos = unpack_UBF(aux)
            f = (st[rn] >> np.uint64(lsb)) & field_mask(width)
            if width < 64:
                sh = np.uint64(64 - width)
                f = np.uint64(np.int64(f << sh) >> np.int64(sh))
            r = f << np.uint64(pos)
            if w:
                r &= M32
            st[rd] = r
        elif op == OP_BFM:
            w, lsb, width, pos = unpack_UBF(aux)
            fm = field_mask(width)
            f = (st[rn] >> np.uint64(lsb)) & fm
            r = (st[rd] & ~(fm << np.uint64(pos))) | (f << np.uint64(pos))
            if w:
                r &= M32
            st[rd] = r
        elif op == OP_MOVK:
            w, sh = unpack_MOVK(aux)
            r = (st[rd] & ~(np.uint64(0xFFFF) << np.uint64(sh))) | w1
            if w:
                r &= M32
            st[rd] = r
        elif op == OP_ADR:
            st[rd] = pc + w1
        elif op == OP_ADRP:
            st[rd] = (pc & NOT_PAGE) + w1
        elif op == OP_TBZ:
            bit, nz = unpack_TBZ(aux)
            if (((st[rn] >> np.uint64(bit)) & U1) == U0) != (nz != 0):
                npc = pc + w1
        elif op == OP_CSEL:
            w, cond, kind = unpack_CSEL(aux)
            if cond_holds(cond, nzcv):
                r = st[rn]
            else:
                r = st[(w0 >> SH_RM) & M6]
                if kind == 1:
                    r = r + U1
                elif kind == 2:
                    r = ~r
                elif kind == 3:
                    r = U0 - r
            if w:
                r &= M32
            st[rd] = r
        elif op == OP_CCMP:
            w, cond, flags, cmn, imm = unpack_CCMP(aux)
            if cond_holds(cond, nzcv):
                a = st[rn]
                if imm:
                    b = w1
                else:
                    b = st[(w0 >> SH_RM) & M6]
                if cmn:
                    r, nzcv = addc(a, b, 0, w)
                else:
                    r, nzcv = addc(a, ~b, 1, w)
            else:
                nzcv = flags
        elif op == OP_ADDX:
            w, sub, setf, option, amount = unpack_ADDX(aux)
            a = st[rn]
            b = extend(st[(w0 >> SH_RM) & M6], option, amount)
            if setf:
                if sub:
                    r, nzcv = addc(a, ~b, 1, w)
                else:
                    r, nzcv = addc(a, b, 0, w)
            else:
                r = a - b if sub else a + b
                if w:
                    r &= M32
            st[rd] = r
        elif op == OP_ADC:
            w, sub, setf = unpack_ADC(aux)
            b = st[(w0 >> SH_RM) & M6]
            if sub:
                b = ~b
            r, f = addc(st[rn], b, (nzcv >> 1) & 1, w)
            if setf:
                nzcv = f
            st[rd] = r
        elif op == OP_EXTR:
            w, lsb_ = unpack_EXTR(aux)
            lsb = np.uint64(lsb_)
            hi = st[rn]
            lo = st[(w0 >> SH_RM) & M6]
            if w:
                v = ((hi & M32) << U32) | (lo & M32)
                r = (v >> lsb) & M32
            elif lsb == U0:
                r = lo
            else:
                r = (lo >> lsb) | (hi << (U64 - lsb))
            st[rd] = r
        elif op == OP_SHIFTV:
            w, stype = unpack_SHIFTV(aux)
            a = st[rn]
            b = st[(w0 >> SH_RM) & M6]
            if w:
                a &= M32
                amt = np.int64(b & np.uint64(31))
            else:
                amt = np.int64(b & U63)
            st[rd] = shift(a, stype, amt, w)
        elif op == OP_MADD:
            p = st[rn] * st[(w0 >> SH_RM) & M6]
            acc = st[(w0 >> SH_RA) & M6]
            w, sub = unpack_MADD(aux)
            r = acc - p if sub else acc + p
            if w:
                r &= M32
            st[rd] = r
        elif op == OP_MADDL:
            sub, signed = unpack_MADDL(aux)
            a = st[rn] & M32
            b = st[(w0 >> SH_RM) & M6] & M32
            if signed:
                a = np.uint64(np.int64(np.int32(np.uint32(a))))
                b = np.uint64(np.int64(np.int32(np.uint32(b))))
            p = a * b
            acc = st[(w0 >> SH_RA) & M6]
            st[rd] = acc - p if sub else acc + p
        elif op == OP_MULH:
            a = st[rn]
            b = st[(w0 >> SH_RM) & M6]
            st[rd] = smulh(a, b) if unpack_MULH(aux) else umulh(a, b)
        elif op == OP_DP1:
            # RBIT/REV*/CLZ/CLS (the kernel's bitmaps, fls/ffs, big-endian device tree)
            w, kind = unpack_DP1(aux)
            a = st[rn]
            if w:
                a &= M32
            st[rd] = dp1(a, kind, w)
        elif op == OP_FPMEM:
            # loads/stores of B/H/S/D/Q registers (and pairs): FP enabled, inside a
            # page, soft-TLB hit (a store: write_hit), aligned or (D and Q,
            # as string and memcpy code does) unaligned with alignment checking off;
            # anything else is the floating-point group's (fpaccess.fp_mem)
            if not fp_enabled(ctl, sysr):
                break
            maddr, lg, load, mode, cnt = fp_mem_operands(st, w0, w1, pc)
            nb = U1 << np.uint64(lg)
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if (maddr & PAGE_MASK) + nb * np.uint64(cnt) > PAIR_LAST:
                break
            if load:
                if st[TOFF + e] != vp:
                    break
            else:
                e += WRITE_BASE << U1
                if not write_hit(st, pslot, e, vp, maddr, nb * np.uint64(cnt)):
                    break
            if (maddr & (nb - U1)) != U0 and (lg < 3 or (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_A) != U0):
                break
            h = maddr + st[TOFF + e + U1]
            for k in range(cnt):
                vi = VREG + 2 * ((w0 >> (SH_RD if k == 0 else SH_RA)) & U31)
                if load:                   # (a Q register is two 64-bit halves)
                    if lg >= 3:
                        st[vi] = ld64u(mem, h)
                        st[vi + U1] = ld64u(mem, h + U8) if lg == 4 else U0
                    else:
                        st[vi] = ld_sized(mem, h, lg)
                        st[vi + U1] = U0
                else:
                    if lg >= 3:
                        st64u(mem, h, st[vi])
                        if lg == 4:
                            st64u(mem, h + U8, st[vi + U1])
                    else:
                        st_sized(mem, h, st[vi], lg)
                h += nb
            writeback(st, rn, mode, maddr, w1)
        elif op == OP_EXCL:
            # LDXR/STXR/LDAXR/STLXR/LDAR/STLR of one register on a soft-TLB hit (the
            # kernel's spinlocks and atomics); the rest: the system group
            if not excl_hit(st, st, TOFF, ctl, mem, rd, rn, (w0 >> SH_RM) & M6, aux):
                break
        elif op == OP_DCZVA:
            if not dczva_hit(st, TOFF, ctl, sysr, mem, st[rn]):
                break
        elif op == OP_DIV:
            a = st[rn]
            b = st[(w0 >> SH_RM) & M6]
            w, signed = unpack_DIV(aux)
            st[rd] = sdiv(a, b, w) if signed else udiv(a, b, w)
        elif op == OP_MRS:
            # plain system-register reads (SP_EL0, TPIDR_EL1, DAIF, CTR_EL0, ...: the
            # kernel's `current`, per-CPU data, irq flags); w1 is the register's slot
            # (the executor puts it there at predecode); the rest: the system group
            ok, v = mrs_plain(ctl, sysr, np.int64(w1), nzcv)
            if not ok:
                break
            st[rd] = v
        elif op == OP_NOP:
            pass
        elif op == OP_BARRIER:
            pass
        elif op == OP_PRFM:
            pass
        elif op == OP_SEV:
            ctl[C_EVENT] = U1
        elif op == OP_WFE:
            # (and YIELD, aux 1) several CPUs: with no event, the general path ends the
            # run (EXIT_WFE: machine/smp.py); one CPU: a NOP
            if (w0 >> SH_AUX) == U0 and ctl[C_EVENT] != U0:
                ctl[C_EVENT] = U0
            elif ctl[C_WFE_EXIT] != U0:
                break
        else:
            # FP/SIMD data processing: the vector loop's (cpu/hotvec.py); here vec_arm
            # refuses everything and LLVM removes the arm
            r = vec_arm(st, ctl, pslot, mem, sysr, pc, w0, w1, nzcv)
            if r < 0:
                break
            nzcv = r
            nvec += U1
        if COVER and (npc != pc + U4 or IS_BRANCH[op]):
            # a branch, taken or not (the next block starts): AFL's edge
            # (prev_loc ^ cur_loc), counted in a byte
            cur = ((npc >> U4) ^ (npc << U8)) & cmask
            i = covbase + (cur ^ prev)
            cov[i] = np.uint8(cov[i] + np.uint8(1))
            prev = cur >> U1
        pc = npc
        left -= U1
    if COVER:
        ctl[C_COV_PREV] = prev
    ctl[C_PC] = pc
    ctl[C_NZCV] = np.uint64(nzcv)
    ctl[C_VEC_OPS] = nvec
    # stopped at an instruction (its page is the current one: the general path gets
    # its decoded words and needs no fetch) or at the fetch
    if cpage == (pc >> U12):
        ctl[C_HOT_LEFT] = HOT_LEFT_INSN
        ctl[C_HOT_W0] = w0
        ctl[C_HOT_W1] = w1
    else:
        ctl[C_HOT_LEFT] = HOT_LEFT_FETCH
    return np.uint64(budget) - left


@intrinsic
def hot_call(typingctx, st, ctl, pslot, mem, budget, sysr):
    """hot_run(...) called with LLVM's `noinline` on the call: inlined into the
    executor's big loop (LLVM inlines a function with one caller), the hot loop
    would share that loop's register allocation and keep its state on the stack."""
    sig = types.uint64(st, ctl, pslot, mem, budget, sysr)

    def codegen(context, builder, signature, args):
        cres = hot_run.get_compile_result(signature)
        context.add_linking_libs([cres.library])
        fn = context.declare_function(builder.module, cres.fndesc)
        status, res = context.call_conv.call_function(builder, fn, cres.signature.return_type,
                                                      cres.signature.args, args, attrs=("noinline",))
        with cgutils.if_unlikely(builder, status.is_error):    # (NUMBA_BOUNDSCHECK's IndexError)
            context.call_conv.return_status_propagate(builder, status)
        return res
    return sig, codegen


@intrinsic
def hot_call_at(typingctx, addr, st, ctl, pslot, mem, budget, sysr):
    """Call a compiled variant of hot_run (the vector loop, cpu/hotvec.py) through its
    address (cpu/groups.py loads it); errors propagate."""
    from pyaarch64.cpu.groups import call_at_codegen
    return types.uint64(addr, st, ctl, pslot, mem, budget, sysr), call_at_codegen(types.uint64)


if config.DISABLE_JIT:
    # pure-Python semantics (NUMBA_DISABLE_JIT=1): intrinsics do not run there
    hot_call = hot_run  # noqa: F811

    def hot_call_at(addr, *args):  # noqa: F811
        from pyaarch64.cpu.groups import _PY
        return _PY[int(addr)](*args)
