"""The run loop: fetch through the exec TLB, look up the per-page decode cache,
dispatch through one flat switch.  Hot integer, branch and load/store ops run
inline; rare ones go through `system.slow_op`.  Loads and stores share one memory
stage after the switch (fast path: aligned, inside a page, TLB hit).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import *  # noqa: F401,F403  (op ids, slots, ctl layout: constants)
from pyaarch64.cpu.alu import (add64, addc, logic, logic_flags, shift, extend, field_mask, dp1, umulh,
                               smulh, crc32, udiv, sdiv, cond_holds)
from pyaarch64.cpu.memory import (TLB_ENTRIES, T_READ, T_WRITE, T_EXEC, fetch_page, alloc_slot,
                                  access_slow, acc_fsc, tlb_check_el, branch_target,
                                  ACC_OK, ACC_CODE, ACC_DROPPED, ACC_CBERR)
from pyaarch64.cpu.system import (slow_op, undefined, data_abort, insn_abort, pc_align_fault,
                                  illegal_state, take_interrupt, wfi)
from pyaarch64.cpu.isa._decoder import predecode
from pyaarch64.cpu.hotloop import hot_call, specialise, generic

U0 = np.uint64(0)
U1 = np.uint64(1)
U2 = np.uint64(2)
U3 = np.uint64(3)
U4 = np.uint64(4)
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
WRITE_BASE = np.uint64(T_WRITE * TLB_ENTRIES)
EXEC_BASE = np.uint64(T_EXEC * TLB_ENTRIES)
NO_PAGE = np.uint64(0xFFFFFFFFFFFFFFFF)
SH_RD = np.uint64(10)
SH_RN = np.uint64(16)
SH_RM = np.uint64(22)
SH_RA = np.uint64(28)
SH_AUX = np.uint64(34)
U55 = np.uint64(55)
TOP_NEG = np.uint64(0x1FF)
OPMASK = np.uint64(0x3FF)

# memory-stage kinds
MK_NONE, MK_LOAD, MK_STORE = 0, 1, 2


@njit(cache=True, forceinline=True)
def sx_load(v, size, sign):
    if sign == SX_NONE or size == 3:
        return v
    bits = np.uint64(64 - (8 << size))
    s = np.uint64(np.int64(v << bits) >> np.int64(bits))
    if sign == SX_32:
        s &= M32
    return s


@njit(cache=True)
def run(regs, ctl, sysr, sysmap, mem, dcache, pslot, slotpage, tlb, cb, budget, state):
    """Execute up to `budget` instructions.  Returns an EXIT_* code."""
    m16 = mem.view(np.uint16)
    m32 = mem.view(np.uint32)
    m64 = mem.view(np.uint64)
    pc = ctl[C_PC]
    nzcv = np.int64(ctl[C_NZCV])
    feat = np.int64(ctl[C_FEAT])
    budget = np.uint64(budget)
    steps = U0
    cpage = NO_PAGE
    chost = np.int64(0)
    cslot = np.int64(0)
    cu = U0
    exitc = 0
    while True:
        if steps >= budget:
            exitc = EXIT_BUDGET
            break
        # ---- the common case: cpu/hotloop.py, until an instruction it leaves to us ----
        ctl[C_PC] = pc
        ctl[C_NZCV] = np.uint64(nzcv)
        n = hot_call(state, ctl, pslot, mem, budget - steps)
        if n != U0:
            steps += n
            pc = ctl[C_PC]
            nzcv = np.int64(ctl[C_NZCV])
            cpage = NO_PAGE
            if steps >= budget:
                exitc = EXIT_BUDGET
                break
        # ---- fetch ----------------------------------------------------------
        vpage = pc >> U12
        if vpage != cpage:
            if ctl[C_STOP] != U0:
                # 1: a user/API stop; 2: a device changed a deadline (re-plan, go on)
                exitc = EXIT_STOP if ctl[C_STOP] == U1 else EXIT_TIMER
                ctl[C_STOP] = U0
                break
            if ctl[C_IRQ] != U0 and (ctl[C_IRQ] & ~(((ctl[C_DAIF] >> U1) & U1)
                                                    | ((ctl[C_DAIF] & U1) << U1))) != U0:
                # an unmasked IRQ (line bit 0 vs DAIF.I) or FIQ (bit 1 vs DAIF.F):
                # interrupts are taken at block boundaries; anything that can raise
                # a line mid-block (MMIO, slow ops) ends the block
                ctl[C_PC] = pc
                ctl[C_NZCV] = np.uint64(nzcv)
                exitc = take_interrupt(regs, ctl, sysr, pc)
                if exitc != 0:
                    break
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                cpage = NO_PAGE        # the EL may have changed (soft-TLB check at the fetch)
                continue
            if ctl[C_IL] != U0:
                # PSTATE.IL (only ERET sets it, and every slow op ends the block)
                ctl[C_PC] = pc
                ctl[C_NZCV] = np.uint64(nzcv)
                exitc = illegal_state(regs, ctl, sysr, pc)
                if exitc != 0:
                    break
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                cpage = NO_PAGE
                continue
            top = pc >> U55
            if top != U0 and top != TOP_NEG:
                pc = branch_target(sysr, pc)       # a tagged branch target (TBI)
                vpage = pc >> U12
            if ctl[C_EL] != ctl[C_TLB_EL]:
                tlb_check_el(ctl, sysr, tlb)
            if (pc & U3) != U0:
                ctl[C_PC] = pc
                ctl[C_NZCV] = np.uint64(nzcv)
                exitc = pc_align_fault(regs, ctl, sysr, pc)
                if exitc != 0:
                    break
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                cpage = NO_PAGE
                continue
            e = ((vpage & TLB_IDX) + EXEC_BASE) << U1
            if tlb[e] == vpage:
                hp = np.int64((vpage << U12) + tlb[e + U1])     # exec-TLB hit: no call
            else:
                hp = fetch_page(ctl, sysr, mem, tlb, pc)
            if hp < 0:
                ctl[C_PC] = pc
                ctl[C_NZCV] = np.uint64(nzcv)
                fsc = -1 - hp
                if ctl[C_VEC_PC] == pc:
                    # the vector of the exception just taken cannot be fetched
                    ctl[C_EXIT_A] = pc
                    ctl[C_EXIT_B] = np.uint64((0x21 << 26) | (1 << 25) | fsc)
                    ctl[C_EXIT_C] = pc
                    exitc = EXIT_EXC_LOOP
                    break
                exitc = insn_abort(regs, ctl, sysr, pc, fsc)
                if exitc != 0:
                    ctl[C_EXIT_A] = pc
                    exitc = EXIT_FETCH_ABORT
                    break
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                cpage = NO_PAGE
                continue
            ctl[C_VEC_PC] = M64
            page = hp >> 12
            cslot = np.int64(pslot[page])
            if cslot < 0:
                cslot = alloc_slot(ctl, dcache, pslot, slotpage, tlb, page)
            cu = np.uint64(cslot)
            chost = hp
            cpage = vpage
        idx = (pc & PAGE_MASK) >> U2
        di = (cu << U11) | (idx << U1)
        w0 = dcache[di]
        w1 = dcache[di + U1]
        op = np.int64(w0 & OPMASK)
        if op >= HOT_FIRST:
            op = generic(op)       # a hot-loop variant (ops.HOT_NAMES): aux is the generic op's
        rd = (w0 >> SH_RD) & M6
        rn = (w0 >> SH_RN) & M6
        aux = np.int64(w0 >> SH_AUX)
        npc = pc + U4
        mk = MK_NONE
        maddr = U0
        msize = np.int64(0)
        mode = np.int64(0)
        mcnt = 1
        # ---- execute --------------------------------------------------------
        if op == OP_ADDI:
            r = regs[rn] + w1
            if aux & 1:
                r &= M32
            regs[rd] = r
        elif op == OP_LD:
            # inline fast path: aligned (so inside a page), read-TLB hit.  LD, ST and
            # LDRR repeat the sized access on purpose: a helper would have to take the
            # memory views as arguments, and array arguments cost refcounting per call.
            base = regs[rn]
            mode = (aux >> 4) & 3
            maddr = base if mode == MODE_POST else base + w1
            msize = aux & 3
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if (maddr & ((U1 << np.uint64(msize)) - U1)) == U0 and tlb[e] == vp:
                h = maddr + tlb[e + U1]
                if msize == 3:
                    v = m64[h >> U3]
                elif msize == 2:
                    v = np.uint64(m32[h >> U2])
                elif msize == 1:
                    v = np.uint64(m16[h >> U1])
                else:
                    v = np.uint64(mem[h])
                if aux & 12:
                    v = sx_load(v, msize, (aux >> 2) & 3)
                regs[rd] = v
                if mode == MODE_PRE:
                    regs[rn] = maddr
                elif mode == MODE_POST:
                    regs[rn] = base + w1
            else:
                mk = MK_LOAD            # slow path in the memory stage
        elif op == OP_ST:
            base = regs[rn]
            mode = (aux >> 4) & 3
            maddr = base if mode == MODE_POST else base + w1
            msize = aux & 3
            vp = maddr >> U12
            e = ((vp & TLB_IDX) + WRITE_BASE) << U1
            if (maddr & ((U1 << np.uint64(msize)) - U1)) == U0 and tlb[e] == vp:
                h = maddr + tlb[e + U1]
                v = regs[rd]
                if msize == 3:
                    m64[h >> U3] = v
                elif msize == 2:
                    m32[h >> U2] = np.uint32(v & M32)
                elif msize == 1:
                    m16[h >> U1] = np.uint16(v & np.uint64(0xFFFF))
                else:
                    mem[h] = np.uint8(v & np.uint64(0xFF))
                if mode == MODE_PRE:
                    regs[rn] = maddr
                elif mode == MODE_POST:
                    regs[rn] = base + w1
            else:
                mk = MK_STORE
        elif op == OP_BCOND:
            if cond_holds(aux & 15, nzcv):
                npc = pc + w1
        elif op == OP_ADDR:
            regs[rd] = regs[rn] + regs[(w0 >> SH_RM) & M6]
        elif op == OP_ADDSI:
            w = aux & 1
            a = regs[rn]
            if aux & 2:
                r, nzcv = addc(a, ~w1, 1, w)
            else:
                r, nzcv = addc(a, w1, 0, w)
            regs[rd] = r
        elif op == OP_ADDSR:
            w = aux & 1
            a = regs[rn]
            b = regs[(w0 >> SH_RM) & M6]
            if w:
                a &= M32
                b &= M32
            b = shift(b, (aux >> 3) & 3, (aux >> 5) & 63, w)
            if aux & 4:
                if aux & 2:
                    r, nzcv = addc(a, ~b, 1, w)
                else:
                    r, nzcv = addc(a, b, 0, w)
            else:
                r = a - b if aux & 2 else a + b
                if w:
                    r &= M32
            regs[rd] = r
        elif op == OP_MOVI:
            regs[rd] = w1
        elif op == OP_CBZ:
            v = regs[rn]
            if aux & 1:
                v &= M32
            if (v == U0) != ((aux & 2) != 0):
                npc = pc + w1
        elif op == OP_B:
            npc = pc + w1
        elif op == OP_BL:
            regs[30] = npc
            npc = pc + w1
        elif op == OP_RET:
            npc = regs[rn]
            if npc & U3:
                cpage = NO_PAGE        # misaligned target: the fetch raises the PC alignment fault
        elif op == OP_BR:
            t = regs[rn]
            if aux & 1:
                regs[30] = npc
            npc = t
            if npc & U3:
                cpage = NO_PAGE
        elif op == OP_LDP:
            maddr = regs[rn]
            mk = MK_LOAD
            msize = aux & 3
            mode = (aux >> 4) & 3
            if mode != MODE_POST:
                maddr += w1
            mcnt = 2
        elif op == OP_STP:
            maddr = regs[rn]
            mk = MK_STORE
            msize = aux & 3
            mode = (aux >> 4) & 3
            if mode != MODE_POST:
                maddr += w1
            mcnt = 2
        elif op == OP_LDRR:
            maddr = regs[rn] + extend(regs[(w0 >> SH_RM) & M6], (aux >> 4) & 7, (aux >> 7) & 3)
            msize = aux & 3
            vp = maddr >> U12
            e = (vp & TLB_IDX) << U1
            if (maddr & ((U1 << np.uint64(msize)) - U1)) == U0 and tlb[e] == vp:
                h = maddr + tlb[e + U1]
                if msize == 3:
                    v = m64[h >> U3]
                elif msize == 2:
                    v = np.uint64(m32[h >> U2])
                elif msize == 1:
                    v = np.uint64(m16[h >> U1])
                else:
                    v = np.uint64(mem[h])
                if aux & 12:
                    v = sx_load(v, msize, (aux >> 2) & 3)
                regs[rd] = v
            else:
                mk = MK_LOAD
        elif op == OP_STRR:
            maddr = regs[rn] + extend(regs[(w0 >> SH_RM) & M6], (aux >> 4) & 7, (aux >> 7) & 3)
            mk = MK_STORE
            msize = aux & 3
        elif op == OP_LDLIT:
            maddr = pc + w1
            mk = MK_LOAD
            msize = aux & 3
            mode = MODE_OFF
            mcnt = 1
        elif op == OP_LOGI:
            opc = (aux >> 1) & 3
            r = logic(regs[rn], w1, opc, aux & 1)
            if opc == 3:
                nzcv = logic_flags(r, aux & 1)
            regs[rd] = r
        elif op == OP_LOGSR:
            w = aux & 1
            b = regs[(w0 >> SH_RM) & M6]
            if w:
                b &= M32
            b = shift(b, (aux >> 4) & 3, (aux >> 6) & 63, w)
            if aux & 8:
                b = ~b
            opc = (aux >> 1) & 3
            r = logic(regs[rn], b, opc, w)
            if opc == 3:
                nzcv = logic_flags(r, w)
            regs[rd] = r
        elif op == OP_UBF:
            fm = field_mask((aux >> 8) & 127)
            r = ((regs[rn] >> np.uint64((aux >> 1) & 63)) & fm) << np.uint64((aux >> 15) & 63)
            if aux & 1:
                r &= M32
            regs[rd] = r
        elif op == OP_SBF:
            width = (aux >> 8) & 127
            f = (regs[rn] >> np.uint64((aux >> 1) & 63)) & field_mask(width)
            if width < 64:
                sh = np.uint64(64 - width)
                f = np.uint64(np.int64(f << sh) >> np.int64(sh))
            r = f << np.uint64((aux >> 15) & 63)
            if aux & 1:
                r &= M32
            regs[rd] = r
        elif op == OP_BFM:
            fm = field_mask((aux >> 8) & 127)
            pos = np.uint64((aux >> 15) & 63)
            f = (regs[rn] >> np.uint64((aux >> 1) & 63)) & fm
            r = (regs[rd] & ~(fm << pos)) | (f << pos)
            if aux & 1:
                r &= M32
            regs[rd] = r
        elif op == OP_MOVK:
            sh = np.uint64((aux >> 1) & 63)
            r = (regs[rd] & ~(np.uint64(0xFFFF) << sh)) | w1
            if aux & 1:
                r &= M32
            regs[rd] = r
        elif op == OP_ADR:
            regs[rd] = pc + w1
        elif op == OP_ADRP:
            regs[rd] = (pc & NOT_PAGE) + w1
        elif op == OP_TBZ:
            bit = np.uint64(aux & 63)
            if (((regs[rn] >> bit) & U1) == U0) != ((aux & 64) != 0):
                npc = pc + w1
        elif op == OP_CSEL:
            cond = (aux >> 1) & 15
            if cond_holds(cond, nzcv):
                r = regs[rn]
            else:
                kind = (aux >> 5) & 3
                r = regs[(w0 >> SH_RM) & M6]
                if kind == 1:
                    r = r + U1
                elif kind == 2:
                    r = ~r
                elif kind == 3:
                    r = U0 - r
            if aux & 1:
                r &= M32
            regs[rd] = r
        elif op == OP_CCMP:
            w = aux & 1
            if cond_holds((aux >> 1) & 15, nzcv):
                a = regs[rn]
                if aux & 1024:
                    b = w1
                else:
                    b = regs[(w0 >> SH_RM) & M6]
                if aux & 512:
                    r, nzcv = addc(a, b, 0, w)
                else:
                    r, nzcv = addc(a, ~b, 1, w)
            else:
                nzcv = (aux >> 5) & 15
        elif op == OP_ADDX:
            w = aux & 1
            a = regs[rn]
            b = extend(regs[(w0 >> SH_RM) & M6], (aux >> 3) & 7, (aux >> 6) & 7)
            if aux & 4:
                if aux & 2:
                    r, nzcv = addc(a, ~b, 1, w)
                else:
                    r, nzcv = addc(a, b, 0, w)
            else:
                r = a - b if aux & 2 else a + b
                if w:
                    r &= M32
            regs[rd] = r
        elif op == OP_ADC:
            w = aux & 1
            b = regs[(w0 >> SH_RM) & M6]
            if aux & 2:
                b = ~b
            r, f = addc(regs[rn], b, (nzcv >> 1) & 1, w)
            if aux & 4:
                nzcv = f
            regs[rd] = r
        elif op == OP_EXTR:
            lsb = np.uint64((aux >> 1) & 63)
            hi = regs[rn]
            lo = regs[(w0 >> SH_RM) & M6]
            if aux & 1:
                v = ((hi & M32) << U32) | (lo & M32)
                r = (v >> lsb) & M32
            elif lsb == U0:
                r = lo
            else:
                r = (lo >> lsb) | (hi << (U64 - lsb))
            regs[rd] = r
        elif op == OP_SHIFTV:
            w = aux & 1
            a = regs[rn]
            b = regs[(w0 >> SH_RM) & M6]
            if w:
                a &= M32
                amt = np.int64(b & np.uint64(31))
            else:
                amt = np.int64(b & U63)
            regs[rd] = shift(a, (aux >> 1) & 3, amt, w)
        elif op == OP_MADD:
            p = regs[rn] * regs[(w0 >> SH_RM) & M6]
            acc = regs[(w0 >> SH_RA) & M6]
            r = acc - p if aux & 2 else acc + p
            if aux & 1:
                r &= M32
            regs[rd] = r
        elif op == OP_MADDL:
            a = regs[rn] & M32
            b = regs[(w0 >> SH_RM) & M6] & M32
            if aux & 2:
                a = np.uint64(np.int64(np.int32(np.uint32(a))))
                b = np.uint64(np.int64(np.int32(np.uint32(b))))
            p = a * b
            acc = regs[(w0 >> SH_RA) & M6]
            regs[rd] = acc - p if aux & 1 else acc + p
        elif op == OP_MULH:
            a = regs[rn]
            b = regs[(w0 >> SH_RM) & M6]
            regs[rd] = smulh(a, b) if aux & 1 else umulh(a, b)
        elif op == OP_DIV:
            a = regs[rn]
            b = regs[(w0 >> SH_RM) & M6]
            regs[rd] = sdiv(a, b, aux & 1) if aux & 2 else udiv(a, b, aux & 1)
        elif op == OP_DP1:
            w = aux & 1
            a = regs[rn]
            if w:
                a &= M32
            regs[rd] = dp1(a, (aux >> 1) & 7, w)
        elif op == OP_CRC32:
            sz = aux & 3
            regs[rd] = crc32(regs[rn], regs[(w0 >> SH_RM) & M6], 1 << sz, (aux >> 2) & 1)
        elif op == OP_NOP:
            pass
        elif op == OP_BARRIER:
            pass
        elif op == OP_PRFM:
            pass
        elif op == OP_SEV:
            pass
        elif op == OP_WFE:
            pass
        elif op == OP_CLREX:
            ctl[C_EXCL_ADDR] = M64
        elif op == OP_WFI:
            ctl[C_PC] = pc
            ctl[C_NZCV] = np.uint64(nzcv)
            exitc = wfi(regs, ctl, sysr, pc)
            if exitc == EXIT_WFI:
                pc = npc
                steps += U1
                break
            if exitc == 0:               # trapped to EL1
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                cpage = NO_PAGE
                continue
            if exitc > 0:
                break
            exitc = 0                    # an interrupt is pending: WFI completes at once
        elif op == OP_NONE:
            # not decoded yet (a fresh slot is all zeros): decode, then dispatch again
            w0, w1 = predecode(m32[np.uint64(chost >> 2) + idx], feat)
            w0 = specialise(w0)
            dcache[di] = w0
            dcache[di + U1] = w1
            continue
        elif op == OP_UNDEF:
            ctl[C_PC] = pc
            ctl[C_NZCV] = np.uint64(nzcv)
            ctl[C_EXIT_A] = pc
            ctl[C_EXIT_B] = np.uint64(m32[np.uint64(chost >> 2) + idx])
            exitc = undefined(regs, ctl, sysr, pc)
            if exitc != 0:
                exitc = EXIT_UNDEF
                ctl[C_EXIT_A] = pc
                break
            pc = ctl[C_PC]
            nzcv = np.int64(ctl[C_NZCV])
            cpage = NO_PAGE
            continue
        else:
            # rare ops: system registers, exceptions, exclusives, atomics, SYS
            ctl[C_PC] = pc
            ctl[C_NZCV] = np.uint64(nzcv)
            # fold the steps so far into the instruction count: the counter
            # registers read it (budget shrinks by the same amount)
            ctl[C_ICOUNT] += steps
            budget -= steps
            steps = U0
            exitc = slow_op(regs, ctl, sysr, sysmap, mem, tlb, pslot, slotpage, cb, op, w0, w1)
            if exitc == 0 or exitc == EXIT_HVC or exitc == EXIT_SMC or exitc == EXIT_TIMER:
                steps += U1
            pc = ctl[C_PC]
            nzcv = np.int64(ctl[C_NZCV])
            if exitc != 0:
                break
            cpage = NO_PAGE    # PSTATE or the code may have changed
            continue
        # ---- memory stage ---------------------------------------------------
        if mk != MK_NONE:
            nb = np.uint64(1) << np.uint64(msize)
            done = False
            if (maddr & (nb - U1)) == U0 and (maddr & PAGE_MASK) + nb * np.uint64(mcnt) <= np.uint64(4096):
                vp = maddr >> U12
                e = vp & TLB_IDX
                if mk == MK_STORE:
                    e += WRITE_BASE
                if tlb[e + e] == vp:
                    h = maddr + tlb[e + e + U1]
                    ra = (w0 >> SH_RA) & M6
                    if mk == MK_LOAD:
                        sign = (aux >> 2) & 3
                        for k in range(mcnt):
                            if msize == 3:
                                v = m64[h >> U3]
                            elif msize == 2:
                                v = np.uint64(m32[h >> U2])
                            elif msize == 1:
                                v = np.uint64(m16[h >> U1])
                            else:
                                v = np.uint64(mem[h])
                            v = sx_load(v, msize, sign)
                            if k == 0:
                                regs[rd] = v
                            else:
                                regs[ra] = v
                            h += nb
                    else:
                        for k in range(mcnt):
                            v = regs[rd] if k == 0 else regs[ra]
                            if msize == 3:
                                m64[h >> U3] = v
                            elif msize == 2:
                                m32[h >> U2] = np.uint32(v & M32)
                            elif msize == 1:
                                m16[h >> U1] = np.uint16(v & np.uint64(0xFFFF))
                            else:
                                mem[h] = np.uint8(v & np.uint64(0xFF))
                            h += nb
                    done = True
            if not done:
                ctl[C_PC] = pc
                ctl[C_NZCV] = np.uint64(nzcv)
                # exact virtual time for devices (an MMIO read of a clock)
                ctl[C_ICOUNT] += steps
                budget -= steps
                steps = U0
                ra = (w0 >> SH_RA) & M6
                is_w = mk == MK_STORE
                sign = (aux >> 2) & 3
                fail = False
                code = False
                v1 = U0
                for k in range(mcnt):
                    a = maddr + nb * np.uint64(k)
                    src = U0
                    if is_w:
                        src = regs[rd] if k == 0 else regs[ra]
                        if msize < 3:
                            src &= (U1 << np.uint64(8 << msize)) - U1
                    st, v, fva = access_slow(ctl, sysr, mem, tlb, pslot, slotpage, cb, a, 1 << msize, is_w, src,
                                             False)
                    if st == ACC_CODE:
                        # a store into a page with decoded code: forget the
                        # decoded words it overwrote (self-modifying code)
                        cs = np.int64(pslot[np.int64(fva >> U12)])
                        k0 = np.int64((fva & PAGE_MASK) >> U2)
                        k1 = np.int64(((fva & PAGE_MASK) + nb - U1) >> U2)
                        for kk in range(k0, k1 + 1):
                            dcache[(cs << 11) | (kk << 1)] = U0
                    elif st == ACC_DROPPED:
                        code = True
                    elif st != ACC_OK:
                        if st == ACC_CBERR:
                            exitc = EXIT_CB_ERROR
                        else:
                            exitc = data_abort(regs, ctl, sysr, pc, fva, is_w, acc_fsc(st))
                            if exitc != 0:
                                ctl[C_EXIT_A] = fva
                                ctl[C_EXIT_B] = pc
                                exitc = EXIT_DATA_ABORT
                        fail = True
                        break
                    if not is_w:
                        v = sx_load(v, msize, sign)
                        if k == 0:
                            v1 = v
                        else:
                            regs[ra] = v
                if fail:
                    if exitc != 0:
                        break
                    pc = ctl[C_PC]
                    nzcv = np.int64(ctl[C_NZCV])
                    cpage = NO_PAGE
                    continue
                if not is_w:
                    regs[rd] = v1
                if code or ctl[C_IRQ] != U0:
                    cpage = NO_PAGE      # (a device may have raised an interrupt)
                if ctl[C_STOP] != U0:
                    if mode == MODE_PRE:
                        regs[rn] = maddr
                    elif mode == MODE_POST:
                        regs[rn] = maddr + w1
                    pc = npc
                    steps += U1
                    exitc = EXIT_STOP if ctl[C_STOP] == U1 else EXIT_TIMER
                    ctl[C_STOP] = U0
                    break
            if mode == MODE_PRE:
                regs[rn] = maddr
            elif mode == MODE_POST:
                regs[rn] = maddr + w1
        pc = npc
        steps += U1
    ctl[C_PC] = pc
    ctl[C_NZCV] = np.uint64(nzcv)
    ctl[C_ICOUNT] += steps
    return exitc
