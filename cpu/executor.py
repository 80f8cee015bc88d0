"""The run loop around the hot loop: everything `cpu/hotloop.py` leaves to it.

Each instruction's semantics live in one place.  The common ops (integer data
processing, branches, loads and stores that hit the soft TLB) are the hot loop's
(`hotloop.hot_run`); this general path never executes them itself.  It calls the
hot loop, and when the hot loop stops at an instruction it cannot finish, it
does the rest here, one instruction at a time:

- the fetch: stop requests, interrupts, PSTATE.IL, tagged or misaligned PCs, the
  soft TLB's EL, exec-TLB misses (a page walk), decode-slot allocation;
- predecode of a word met for the first time (then the hot loop runs it);
- the memory slow path of loads and stores (TLB miss, MMIO, unaligned or
  page-crossing, a store into a page with decoded code);
- the ops that are never hot: WFI, CLREX, CRC32, UNDEF and the slow ops
  (the system group, `system.slow_op`: system registers, exceptions, exclusives,
  and through it the FP and SIMD groups; cpu/groups.py).

`ctl[C_PATH]` forces the other paths for tests (`PATH_*` in cpu/ops.py): the hot
loop one instruction at a time behind the general fetch, or additionally with the
soft TLB flushed before every instruction (every load and store through the
memory slow path, every fetch through a page walk).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import (SH_RD, SH_RN, SH_RM, SH_RA, SH_AUX, OPMASK,
                               C_DAIF, C_EL, C_EXCL_ADDR, C_EXIT_A, C_EXIT_B, C_EXIT_C, C_FEAT,
                               C_GROUP, C_HOT_CALLS, C_HOT_LEFT, C_HOT_W0, C_HOT_W1, C_ICOUNT,
                               C_HOOK_DONE, C_HOOK_SEQ, C_HOOK_SEQN, C_COV_ON, C_HOOK_FLAGS, C_CB_ERR,
                               HF_INVALID, HF_PROT,
                               C_IL, C_IRQ, C_LEAVES, C_MEMSLOW, C_NZCV, C_PATH, C_PC, C_STOP,
                               C_TLB_EL, C_VEC_CALLS, C_VEC_INSNS, C_VEC_OPS, C_VEC_PC,
                               C_DBG, C_SS, C_EXC_COUNT, DBG_BP, DBG_SS,
                               EXIT_BUDGET, EXIT_CB_ERROR, EXIT_DATA_ABORT, EXIT_EXC_LOOP,
                               EXIT_FETCH_ABORT, EXIT_HVC, EXIT_INTERNAL, EXIT_EXC_STUCK, EXIT_SMC, EXIT_STOP,
                               EXIT_TIMER, EXIT_UNDEF, EXIT_WFI, EXIT_WFE, EXIT_GROUP, HOT_LEFT_INSN, PATH_FAST,
                               PATH_TLBFLUSH)
from pyaarch64.cpu.opids import (HOT_FIRST, OP_CLREX, OP_CRC32, OP_HOOK, OP_MRS, OP_NONE, OP_ST,
                                 OP_STP, OP_STRR, OP_UNDEF, OP_WFI, OP_WFE, unpack_CRC32, unpack_MRS)
from pyaarch64.cpu.alu import crc32
from pyaarch64.cpu.memory import (TLB_ENTRIES, T_EXEC, fetch_page, alloc_slot, tlb_flush_data,
                                  access_slow, acc_fsc, tlb_check_el, branch_target, FSC_EXT,
                                  ACC_OK, ACC_CBERR)
from pyaarch64.cpu.exceptions import (undefined, data_abort, insn_abort, pc_align_fault,
                                      illegal_state, take_interrupt, wfi, exc_stuck,
                                      breakpoint_exc, step_exc)
from pyaarch64.cpu.debug import bp_armed_at, bp_fires, ss_active, is_ldex
from pyaarch64.cpu.isa._decoder import predecode
from pyaarch64.cpu.groups import run_group, GROUP_OF, G_FP, G_SIMD, G_VEC, G_COV
from pyaarch64.cpu.hotloop import hot_call, hot_call_at, specialise, generic, IS_HOT, IS_MEM
from pyaarch64.cpu.hooks import (hooked, block_bytes, ends_block, ask, call_host, HOOKS_N, HK_CODE,
                                 HK_BLOCK, HK_INVALID, HK_PROT, PROT_NO_X, HA_ERROR, HA_STOP,
                                 HA_JUMP)
from pyaarch64.cpu.operands import mem_operands, writeback, sx_load

U0 = np.uint64(0)
U1 = np.uint64(1)
U2 = np.uint64(2)
U3 = np.uint64(3)
U11 = np.uint64(11)
U12 = np.uint64(12)
M6 = np.uint64(63)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
PAGE_MASK = np.uint64(0xFFF)
TLB_IDX = np.uint64(TLB_ENTRIES - 1)
EXEC_BASE = np.uint64(T_EXEC * TLB_ENTRIES)
U55 = np.uint64(55)
TOP_NEG = np.uint64(0x1FF)
HOOK_W0 = np.uint64(OP_HOOK)


@njit(cache=True, _nrt=False)
def mem_slow(regs, ctl, sysr, bus, pc, op, w0, w1):
    """A load or store the hot loop left: every access through `access_slow`.
    PC/NZCV are in ctl.  Returns 0 (done: registers written, PC advanced),
    -1 (an exception was taken: continue at ctl's PC) or an exit code."""
    maddr, msize, sign, mode, cnt = mem_operands(regs, w0, w1, pc, op)
    rd = (w0 >> SH_RD) & M6
    rn = (w0 >> SH_RN) & M6
    ra = (w0 >> SH_RA) & M6
    is_w = op == OP_ST or op == OP_STRR or op == OP_STP
    nb = U1 << np.uint64(msize)
    v1 = U0
    for k in range(cnt):
        a = maddr + nb * np.uint64(k)
        src = U0
        if is_w:
            src = regs[rd] if k == 0 else regs[ra]
            if msize < 3:
                src &= (U1 << np.uint64(8 << msize)) - U1
        st, v, fva = access_slow(ctl, sysr, bus, a, 1 << msize, is_w, src, False)
        if st != ACC_OK:
            if st == ACC_CBERR:
                return EXIT_CB_ERROR
            if data_abort(regs, ctl, sysr, pc, fva, is_w, acc_fsc(st)) != 0:
                ctl[C_EXIT_A] = fva
                ctl[C_EXIT_B] = pc
                return EXIT_DATA_ABORT
            return -1
        if not is_w:
            v = sx_load(v, msize, sign)
            if k == 0:
                v1 = v
            else:
                regs[ra] = v
    if not is_w:
        regs[rd] = v1
    writeback(regs, rn, mode, maddr, w1)
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True, _nrt=False, forceinline=True)
def decode_word(word, feat, sysmap):
    """The decode-cache words of an instruction word: predecoded, specialised to a
    hot-loop variant, and for MRS the register's slot (cpu/sysread.py)."""
    w0, w1 = predecode(word, feat)
    w0 = specialise(w0)
    if (w0 & OPMASK) == OP_MRS:
        w1 = np.uint64(np.int64(sysmap[unpack_MRS(np.int64(w0 >> SH_AUX))]))
    return w0, w1


@njit(cache=True, _nrt=False)
def hook_stepped(ctl, pc, steps, hk_pc, hk_n0, hk_end):
    """After a hooked instruction's step: if it retired, the next hooked PC that does
    not follow it (or any, after a branch: hk_end) starts a block and its own hooks
    are due again; if an exception came first (the PC moved), they are due again
    when it runs."""
    n_now = ctl[C_ICOUNT] + steps
    if n_now != hk_n0:
        ctl[C_HOOK_SEQ] = M64 if hk_end else hk_pc + np.uint64(4)
        ctl[C_HOOK_SEQN] = n_now
        ctl[C_HOOK_DONE] = U0
    elif pc != hk_pc:
        ctl[C_HOOK_DONE] = U0


@njit(cache=True, _nrt=False)
def ldex_at(ctl, sysr, bus, pc):
    """The instruction at pc is a load-exclusive (a software step of it reports EX);
    False when it cannot be fetched (it will take its abort)."""
    if (pc & U3) != U0:
        return False
    hp = fetch_page(ctl, sysr, bus.mem, bus.tlb, pc)
    if hp < 0:
        return False
    return is_ldex(bus.mem.view(np.uint32)[np.uint64(hp >> 2) + ((pc & PAGE_MASK) >> U2)])


@njit(cache=True, _nrt=False)
def irq_due(ctl):
    """An unmasked IRQ or FIQ is pending (taken at the next fetch)."""
    return ctl[C_IRQ] != U0 and (ctl[C_IRQ] & ~(((ctl[C_DAIF] >> U1) & U1)
                                                 | ((ctl[C_DAIF] & U1) << U1))) != U0


@njit(cache=True, _nrt=False)
def run(regs, ctl, sysr, sysmap, bus, budget, state):
    """Execute up to `budget` instructions.  Returns an EXIT_* code."""
    mem, tlb, pslot, dcache, hooks = bus.mem, bus.tlb, bus.pslot, bus.dcache, bus.hooks
    m32 = mem.view(np.uint32)
    pc = ctl[C_PC]
    nzcv = np.int64(ctl[C_NZCV])
    feat = np.int64(ctl[C_FEAT])
    path = ctl[C_PATH]
    budget = np.uint64(budget)
    steps = U0
    exitc = 0
    vec = False            # run the vector loop (cpu/hotvec.py) instead of the integer one
    # a hooked instruction's one step (cpu/hooks.py): 0 none, 1 its real words are in
    # the slot for the next hot-loop call, 2 that call is over: OP_HOOK goes back
    hk_state = 0
    hk_di = U0
    hk_slot = 0
    hk_page = 0
    hk_pc = U0
    hk_n0 = U0
    hk_end = False
    # software step (cpu/debug.py): the stepped instruction runs alone; armed from its
    # start (instruction count and exception count then, whether it is a load-exclusive)
    # until it retires (the step exception follows) or an exception is taken first
    ss_armed = False
    ss_n0 = U0
    ss_e0 = U0
    ss_ex = False
    while True:
        if hk_state == 2:
            if bus.slotpage[hk_slot] == hk_page:
                dcache[hk_di] = HOOK_W0
                dcache[hk_di + U1] = U0
            hook_stepped(ctl, pc, steps, hk_pc, hk_n0, hk_end)
            hk_state = 0
        elif hk_state == 1:
            hk_state = 2
        if ss_armed or (ctl[C_DBG] & np.uint64(DBG_SS)) != U0:
            # ---- software step: MDSCR_EL1.SS set (only then: costs nothing otherwise) ----
            isv = -1
            if ss_armed:
                if ctl[C_EXC_COUNT] != ss_e0:
                    ss_armed = False       # an exception came first (its SPSR.SS says how far)
                elif ctl[C_ICOUNT] + steps != ss_n0:
                    ss_armed = False       # retired: the step exception (unless an SVC/HVC/SMC
                    if ctl[C_SS] != U0:    # completed it already: then it is pending)
                        isv = 1
            if isv < 0 and not ss_armed and ss_active(ctl, sysr):
                if ctl[C_SS] == U0:
                    if not irq_due(ctl):   # pending: before the next instruction (an interrupt first)
                        isv = 0
                else:
                    ss_armed = True
                    ss_n0 = ctl[C_ICOUNT] + steps
                    ss_e0 = ctl[C_EXC_COUNT]
                    ss_ex = ldex_at(ctl, sysr, bus, pc)
            if isv >= 0:
                ctl[C_SS] = U0
                ctl[C_PC] = pc
                ctl[C_NZCV] = np.uint64(nzcv)
                exitc = step_exc(regs, ctl, sysr, pc, isv == 1, isv == 1 and ss_ex)
                if exitc != 0:
                    break
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                if exc_stuck(ctl, sysr, steps):
                    exitc = EXIT_EXC_STUCK
                    break
                continue
        if steps >= budget:
            exitc = EXIT_BUDGET
            break
        # ---- the common case: cpu/hotloop.py, until an instruction it leaves to us ----
        hb = budget - steps
        if path != PATH_FAST or hk_state == 2 or ss_armed:
            hb = U1
            if path == PATH_TLBFLUSH:
                tlb_flush_data(tlb)    # every load and store through the memory slow path
        ctl[C_PC] = pc
        ctl[C_NZCV] = np.uint64(nzcv)
        hv = ctl[C_GROUP + G_VEC]
        if ctl[C_COV_ON] != U0:
            # edge coverage: the coverage loop (cpu/hotcov.py), loaded on first use
            hc = ctl[C_GROUP + G_COV]
            if hc == U0:
                ctl[C_EXIT_A] = np.uint64(G_COV)
                exitc = EXIT_GROUP
                break
            n = hot_call_at(hc, state, ctl, pslot, mem, hb, sysr)
        elif vec and hv != U0:
            n = hot_call_at(hv, state, ctl, pslot, mem, hb, sysr)
            ctl[C_VEC_CALLS] += U1
            ctl[C_VEC_INSNS] += ctl[C_VEC_OPS]
            vec = ctl[C_VEC_OPS] != U0     # back to the integer loop after a call with no FP/SIMD
        else:
            n = hot_call(state, ctl, pslot, mem, hb, sysr)
        ctl[C_HOT_CALLS] += U1
        if n != hb:
            ctl[C_LEAVES] += U1
        if n != U0:
            steps += n
            pc = ctl[C_PC]
            nzcv = np.int64(ctl[C_NZCV])
            if n == hb:
                continue
        # ---- the instruction the hot loop stopped at ---------------------------
        w0 = U0
        w1 = U0
        op = OP_NONE
        if ctl[C_HOT_LEFT] == HOT_LEFT_INSN:
            # its decoded words come with it: the hot loop's fetch checks held, so
            # there is no fetch to do (unless it is not decoded yet or undefined)
            w0 = ctl[C_HOT_W0]
            w1 = ctl[C_HOT_W1]
            op = np.int64(w0 & OPMASK)
            if op >= HOT_FIRST:
                op = generic(op)   # a hot-loop variant (ops.HOT_NAMES): aux is the generic op's
            if op == OP_HOOK:
                op = OP_NONE       # (the fetch below has what running it takes)
        if op == OP_NONE or op == OP_UNDEF:
            # ---- fetch ----------------------------------------------------------
            if ctl[C_STOP] != U0:
                # 1: a user/API stop; 2: a device changed a deadline (re-plan, go on)
                exitc = EXIT_STOP if ctl[C_STOP] == U1 else EXIT_TIMER
                ctl[C_STOP] = U0
                break
            # an unmasked IRQ (line bit 0 vs DAIF.I) or FIQ (bit 1 vs DAIF.F), taken between
            # instructions the hot loop leaves (it leaves at every page entry); PSTATE.IL
            # (only ERET sets it); a misaligned PC.  Each takes an exception (0) or stops.
            ev = -1
            if ctl[C_IRQ] != U0 and (ctl[C_IRQ] & ~(((ctl[C_DAIF] >> U1) & U1)
                                                    | ((ctl[C_DAIF] & U1) << U1))) != U0:
                ev = take_interrupt(regs, ctl, sysr, pc)
            elif ctl[C_IL] != U0:
                ev = illegal_state(regs, ctl, sysr, pc)
            else:
                top = pc >> U55
                if top != U0 and top != TOP_NEG:
                    pc = branch_target(sysr, pc)       # a tagged branch target (TBI)
                    ctl[C_PC] = pc
                if ctl[C_EL] != ctl[C_TLB_EL]:
                    tlb_check_el(ctl, sysr, tlb)
                if (pc & U3) != U0:
                    ev = pc_align_fault(regs, ctl, sysr, pc)
            if ev >= 0:
                exitc = ev
                if exitc != 0:
                    break
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                if exc_stuck(ctl, sysr, steps):
                    exitc = EXIT_EXC_STUCK
                    break
                continue
            vpage = pc >> U12
            e = ((vpage & TLB_IDX) + EXEC_BASE) << U1
            if tlb[e] == vpage:
                hp = np.int64((vpage << U12) + tlb[e + U1])     # exec-TLB hit: no call
            else:
                hp = fetch_page(ctl, sysr, mem, tlb, pc)
            if hp < 0:
                fsc = -1 - hp
                if fsc == FSC_EXT and (ctl[C_HOOK_FLAGS] & HF_INVALID) != U0:
                    # a fetch from no RAM: mem_invalid hooks may map some (cpu/hooks.py)
                    ctl[C_PC] = pc
                    ctl[C_NZCV] = np.uint64(nzcv)
                    call_host(ctl, pc, np.uint32(4), HK_INVALID, U0)
                    if ctl[C_CB_ERR] != U0:
                        exitc = EXIT_CB_ERROR          # (or a retry: the host knows)
                        break
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
                if exc_stuck(ctl, sysr, steps):
                    exitc = EXIT_EXC_STUCK
                    break
                continue
            ctl[C_VEC_PC] = M64
            page = hp >> 12
            if (ctl[C_HOOK_FLAGS] & HF_PROT) != U0 and (bus.prot[page] & PROT_NO_X) != 0:
                # a page mem_protect forbids executing: out of the exec TLB, ask the host
                tlb[((vpage & TLB_IDX) + EXEC_BASE) << U1] = M64
                ctl[C_PC] = pc
                ctl[C_NZCV] = np.uint64(nzcv)
                call_host(ctl, pc, np.uint32(4), HK_PROT, U2)
                exitc = EXIT_CB_ERROR
                break
            cslot = np.int64(pslot[page])
            if cslot < 0:
                cslot = alloc_slot(ctl, bus, page)
            idx = (pc & PAGE_MASK) >> U2
            di = (np.uint64(cslot) << U11) | (idx << U1)
            w0 = dcache[di]
            w1 = dcache[di + U1]
            op = np.int64(w0 & OPMASK)
            if op >= HOT_FIRST:
                op = generic(op)       # a hot-loop variant (ops.HOT_NAMES): aux is the generic op's
            if op == OP_HOOK:
                if (ctl[C_DBG] & np.uint64(DBG_BP)) != U0 and bp_fires(ctl, sysr, pc):
                    # ---- a guest breakpoint (cpu/debug.py): before the host's hooks ----
                    ctl[C_PC] = pc
                    ctl[C_NZCV] = np.uint64(nzcv)
                    exitc = breakpoint_exc(regs, ctl, sysr, pc)
                    if exitc != 0:
                        break
                    pc = ctl[C_PC]
                    nzcv = np.int64(ctl[C_NZCV])
                    if exc_stuck(ctl, sysr, steps):
                        exitc = EXIT_EXC_STUCK
                        break
                    continue
                # ---- an address with hooks (cpu/hooks.py): ask the host once ------
                hw = np.uint64(hp >> 2) + idx
                if ctl[C_HOOK_DONE] != pc + U1 and hooked(hooks, pc):
                    ctl[C_PC] = pc
                    ctl[C_NZCV] = np.uint64(nzcv)
                    ctl[C_ICOUNT] += steps
                    budget -= steps
                    steps = U0
                    kind = HK_CODE
                    size = np.uint32(4)
                    if pc != ctl[C_HOOK_SEQ] or ctl[C_ICOUNT] != ctl[C_HOOK_SEQN]:
                        kind |= HK_BLOCK
                        size = block_bytes(m32, hw, pc)
                    act = ask(ctl, bus, pc, size, kind)
                    if act == HA_ERROR:
                        exitc = EXIT_CB_ERROR
                        break
                    ctl[C_HOOK_DONE] = pc + U1
                    if act == HA_STOP or ctl[C_STOP] == U1:
                        ctl[C_STOP] = U0
                        exitc = EXIT_STOP
                        break
                    if act == HA_JUMP or ctl[C_PC] != pc:
                        ctl[C_HOOK_DONE] = U0                # moved: this instruction does not run
                        pc = ctl[C_PC]
                        nzcv = np.int64(ctl[C_NZCV])
                        continue
                    nzcv = np.int64(ctl[C_NZCV])
                # the instruction itself: its real words in the slot for one step
                w0, w1 = decode_word(m32[hw], feat, sysmap)
                dcache[di] = w0
                dcache[di + U1] = w1
                hk_state = 1
                hk_di = di
                hk_slot = cslot
                hk_page = page
                hk_pc = pc
                hk_n0 = ctl[C_ICOUNT] + steps
                hk_end = ends_block(m32[hw])
                continue
            # ---- the instructions the hot loop leaves -----------------------------
            if op == OP_NONE:
                # not decoded yet (a fresh slot is all zeros): decode, then the hot loop runs it
                w0, w1 = decode_word(m32[np.uint64(hp >> 2) + idx], feat, sysmap)
                if ((hooks[HOOKS_N] != U0 and hooked(hooks, pc))
                        or ((ctl[C_DBG] & np.uint64(DBG_BP)) != U0 and bp_armed_at(sysr, pc))):
                    w0 = HOOK_W0               # hooked or a guest breakpoint: asked first (above)
                    w1 = U0
                dcache[di] = w0
                dcache[di + U1] = w1
                if (w0 & OPMASK) != U0:
                    continue
                op = OP_UNDEF          # (the decoder never produces NONE)
            if op == OP_UNDEF:
                ctl[C_EXIT_A] = pc
                ctl[C_EXIT_B] = np.uint64(m32[np.uint64(hp >> 2) + idx])
                exitc = undefined(regs, ctl, sysr, pc)
                if exitc != 0:
                    exitc = EXIT_UNDEF
                    ctl[C_EXIT_A] = pc
                    break
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                if exc_stuck(ctl, sysr, steps):
                    exitc = EXIT_EXC_STUCK
                    break
                continue
            if IS_HOT[op]:
                continue           # the hot loop stopped at the fetch, which is done now: it runs it
        if op == OP_WFE:
            # the hot loop leaves a WFE only when it ends the run (C_WFE_EXIT, no event)
            pc += np.uint64(4)
            steps += U1
            exitc = EXIT_WFE
            break
        if op == OP_WFI:
            exitc = wfi(regs, ctl, sysr, pc)
            if exitc == EXIT_WFI and ss_armed:
                exitc = -1                 # a stepped WFI does not sleep (the step exception follows)
            if exitc == EXIT_WFI:
                pc += np.uint64(4)
                steps += U1
                break
            if exitc > 0:
                break
            if exitc < 0:                # an interrupt is pending: WFI completes at once
                pc += np.uint64(4)
                steps += U1
            else:                        # trapped to EL1
                pc = ctl[C_PC]
                nzcv = np.int64(ctl[C_NZCV])
                if exc_stuck(ctl, sysr, steps):
                    exitc = EXIT_EXC_STUCK
                    break
            exitc = 0
            continue
        rd = (w0 >> SH_RD) & M6
        rn = (w0 >> SH_RN) & M6
        rm = (w0 >> SH_RM) & M6
        aux = np.int64(w0 >> SH_AUX)
        if op == OP_CRC32:
            size, c = unpack_CRC32(aux)
            regs[rd] = crc32(regs[rn], regs[rm], 1 << size, c)
        elif op == OP_CLREX:
            ctl[C_EXCL_ADDR] = M64
        elif IS_HOT[op] and GROUP_OF[op] < 0:
            # one of the hot loop's ops, refused after its own fetch: only loads and
            # stores do that (their slow path follows); anything else is a defect,
            # reported instead of looping.  (An op that is also a group's, MRS, goes
            # to its group below.)
            if not IS_MEM[op]:
                ctl[C_EXIT_A] = pc
                ctl[C_EXIT_B] = np.uint64(op)
                exitc = EXIT_INTERNAL
                break
            # the memory slow path; exact virtual time for devices (an MMIO read of a clock)
            ctl[C_ICOUNT] += steps
            budget -= steps
            steps = U0
            ctl[C_MEMSLOW] += U1
            exitc = mem_slow(regs, ctl, sysr, bus, pc, op, w0, w1)
            if exitc > 0:
                break
            pc = ctl[C_PC]
            nzcv = np.int64(ctl[C_NZCV])
            if exitc == 0:
                steps += U1
                if ctl[C_STOP] != U0:
                    exitc = EXIT_STOP if ctl[C_STOP] == U1 else EXIT_TIMER
                    ctl[C_STOP] = U0
                    break
            elif exc_stuck(ctl, sysr, steps):     # -1: a data abort was taken
                exitc = EXIT_EXC_STUCK
                break
            exitc = 0
            continue
        else:
            # an instruction group's op (cpu/groups.py): system registers, exceptions,
            # exclusives, atomics, SYS; floating point; Advanced SIMD.  Fold the steps
            # so far into the instruction count: the counter registers and devices
            # read it (budget shrinks by the same amount)
            g = GROUP_OF[op]
            if g == G_FP or g == G_SIMD:
                vec = True         # FP/SIMD code: the vector loop from the next call on
            if g < 0:
                ctl[C_EXIT_A] = pc
                ctl[C_EXIT_B] = np.uint64(op)
                exitc = EXIT_INTERNAL
                break
            ctl[C_NZCV] = np.uint64(nzcv)
            ctl[C_ICOUNT] += steps
            budget -= steps
            steps = U0
            exitc = run_group(g, regs, ctl, sysr, sysmap, bus, op, w0, w1)
            if exitc == 0 or exitc == EXIT_HVC or exitc == EXIT_SMC or exitc == EXIT_TIMER:
                steps += U1
            pc = ctl[C_PC]
            nzcv = np.int64(ctl[C_NZCV])
            if exitc != 0:
                break
            continue
        pc += np.uint64(4)
        steps += U1
    if ss_armed and ctl[C_EXC_COUNT] == ss_e0 and ctl[C_ICOUNT] + steps != ss_n0 and ctl[C_SS] != U0:
        # the run ends right after a stepped instruction retired: its step exception now
        # (after HVC/SMC/HLT, which the board finishes, it stays pending: ISS.ISV = 0)
        ctl[C_SS] = U0
        if exitc == EXIT_BUDGET or exitc == EXIT_STOP or exitc == EXIT_TIMER:
            ctl[C_PC] = pc
            ctl[C_NZCV] = np.uint64(nzcv)
            ev = step_exc(regs, ctl, sysr, pc, True, ss_ex)
            if ev != 0:
                exitc = ev
            pc = ctl[C_PC]
            nzcv = np.int64(ctl[C_NZCV])
    if hk_state != 0:                          # a run that ends around a hooked step
        if bus.slotpage[hk_slot] == hk_page:
            dcache[hk_di] = HOOK_W0
            dcache[hk_di + U1] = U0
        if hk_state == 2:
            hook_stepped(ctl, pc, steps, hk_pc, hk_n0, hk_end)
    ctl[C_PC] = pc
    ctl[C_NZCV] = np.uint64(nzcv)
    ctl[C_ICOUNT] += steps
    return exitc
