"""MRS and MSR (register and immediate forms), driven by the system-register table
(cpu/sysregs.py): EL0 traps, PSTATE fields, the registers with a handler (set/clear
aliases, CCSIDR, ISR, DCZID, OSLAR, the PMU), the generic timer's registers and the
system counter.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import (C_PC, C_NZCV, C_EL, C_SPSEL, C_DAIF, C_ICOUNT, C_NS_PER_TICK,
                               C_ICOUNT_SHIFT, C_IRQ, C_IDLE_NS, EXIT_TIMER, C_MMIO_FN, C_CB_ERR,
                               EXIT_CB_ERROR, SYSREG_IO)
from pyaarch64.cpu.sysregs import (
    K_CONST, R_VAL, R_WMASK, R_META, S_SP_EL0, S_NZCV, S_DAIF, S_SPSEL, S_CNTVCT,
    S_CNTPCT, S_SCTLR_EL1, S_FPCR, S_FPSR, S_CNTKCTL_EL1, S_CSSELR_EL1, S_OSLSR_EL1, S_CNTP_CTL,
    S_CNTP_CVAL, S_CNTP_TVAL, S_CNTV_CTL, S_CNTV_CVAL,
    S_MDSCR_EL1, S_PMCR, S_PMCNTENSET, S_PMOVSSET, S_PMSELR, S_PMUSERENR, S_PMCCNTR,
    S_PMCCFILTR, S_PMEVCNTR0, S_PMEVTYPER0, PMU_N,
    T_NONE, T_UMA, T_UCT, T_CNTFRQ, T_CNTPCT, T_CNTVCT, T_CNTP, T_CNTV, T_PMSWINC,
    T_PMCCNTR, T_PMEVCNTR, T_PMSELR, T_TDCC,
    H_SET, H_CLR, H_PMCR, H_PMSWINC, H_PMCCNTR, H_PMEVCNTR, H_PMEVTYPER, H_PMXEVTYPER,
    H_PMXEVCNTR, H_CCSIDR, H_ISR, H_OSLAR, H_DCZID, H_TIMER, H_PMCNTEN, H_GIC,
    M_TRAP_SHIFT, M_HANDLER_SHIFT, M_ALIAS_SHIFT)
from pyaarch64.cpu.isa.branch import PSF_SPSEL, PSF_DAIFSET
from pyaarch64.cpu.exceptions import take_exception, undefined, switch_sp, EC_SYSREG, V_SYNC
from pyaarch64.cpu.fpaccess import fp_trapped, fp_trap
from pyaarch64.cpu.sysread import mrs_plain
from pyaarch64.cpu.mmio import call_c

U0 = np.uint64(0)
U1 = np.uint64(1)
M32 = np.uint64(0xFFFFFFFF)

# SCTLR_EL1 bits that let EL0 use some system instructions/registers
SCTLR_UMA = np.uint64(1 << 9)      # DAIF
SCTLR_DZE = np.uint64(1 << 14)     # DC ZVA
SCTLR_UCT = np.uint64(1 << 15)     # CTR_EL0
SCTLR_UCI = np.uint64(1 << 26)     # DC CVAU/CVAC/CIVAC, IC IVAU
MDSCR_TDCC = np.uint64(1 << 12)    # EL0 access to the DCC registers traps


@njit(cache=True, _nrt=False)
def sysreg_trap(regs, ctl, sysr, pc, k, rt, is_read):
    """Trapped MSR/MRS/SYS (EC 0x18); ISS = Op0 Op2 Op1 CRn Rt CRm Direction."""
    op0 = (k >> 14) & 3
    op1 = (k >> 11) & 7
    crn = (k >> 7) & 15
    crm = (k >> 3) & 15
    op2 = k & 7
    r = rt if rt < 31 else 31
    iss = ((op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (r << 5) | (crm << 1)
           | (1 if is_read else 0))
    return take_exception(regs, ctl, sysr, EC_SYSREG, iss, U0, False, pc, V_SYNC)


@njit(cache=True, _nrt=False)
def el0_trapped(sysr, meta, is_read):
    """EL0 access to a register that SCTLR_EL1, CNTKCTL_EL1, PMUSERENR_EL0 or
    MDSCR_EL1 may deny (the row's trap column); True: trap to EL1 with EC 0x18."""
    trap = (meta >> M_TRAP_SHIFT) & 0xFF
    if trap == T_NONE:
        return False
    if trap == T_UMA:
        return (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_UMA) == U0
    if trap == T_UCT:
        return (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_UCT) == U0
    if trap == T_TDCC:
        return (sysr[S_MDSCR_EL1, R_VAL] & MDSCR_TDCC) != U0
    kc = sysr[S_CNTKCTL_EL1, R_VAL]
    if trap == T_CNTFRQ:
        return (kc & np.uint64(3)) == U0
    if trap == T_CNTPCT:
        return (kc & U1) == U0
    if trap == T_CNTVCT:
        return (kc & np.uint64(2)) == U0
    if trap == T_CNTP:
        return (kc & np.uint64(0x200)) == U0     # EL0PTEN
    if trap == T_CNTV:
        return (kc & np.uint64(0x100)) == U0     # EL0VTEN
    u = sysr[S_PMUSERENR, R_VAL]
    if (u & U1) != U0:                           # EN: every PMU register
        return False
    if trap == T_PMSWINC:
        return (u & np.uint64(2)) == U0          # SW
    if trap == T_PMCCNTR:
        return not (is_read and (u & np.uint64(4)) != U0)     # CR: read only
    if trap == T_PMEVCNTR:
        return not (is_read and (u & np.uint64(8)) != U0)     # ER: read only
    if trap == T_PMSELR:
        return (u & np.uint64(8)) == U0          # ER: read and write
    return True                                  # T_PMU


# --- PMU: cycle counter and event counters (see cpu/sysregs.py _pmu) ------------------
@njit(cache=True, _nrt=False)
def pmu_slot(n):
    return S_PMCCNTR if n == 31 else S_PMEVCNTR0 + n


@njit(cache=True, _nrt=False)
def pmu_running(sysr, n):
    """Is counter n (0..N-1, or 31: PMCCNTR) counting cycles right now?"""
    if (sysr[S_PMCR, R_VAL] & U1) == U0:
        return False
    if ((sysr[S_PMCNTENSET, R_VAL] >> np.uint64(n)) & U1) == U0:
        return False
    if n == 31:
        return True
    return (sysr[S_PMEVTYPER0 + n, R_VAL] & np.uint64(0xFFFF)) == np.uint64(0x11)


@njit(cache=True, _nrt=False)
def pmu_ticks(ctl, sysr, n):
    """Cycles: virtual nanoseconds (1 GHz), /64 for PMCCNTR with PMCR_EL0.D."""
    t = (ctl[C_ICOUNT] << ctl[C_ICOUNT_SHIFT]) + ctl[C_IDLE_NS]
    if n == 31 and (sysr[S_PMCR, R_VAL] & np.uint64(8)) != U0:
        t = t // np.uint64(64)
    return t


@njit(cache=True, _nrt=False)
def pmu_get(ctl, sysr, n):
    """A running counter's storage holds ticks - value; a stopped one the value."""
    v = sysr[pmu_slot(n), R_VAL]
    if pmu_running(sysr, n):
        v = pmu_ticks(ctl, sysr, n) - v
    if n != 31:
        v &= M32
    return v


@njit(cache=True, _nrt=False)
def pmu_set(ctl, sysr, n, v):
    if n != 31:
        v &= M32
    if pmu_running(sysr, n):
        v = pmu_ticks(ctl, sysr, n) - v
    sysr[pmu_slot(n), R_VAL] = v


@njit(cache=True, _nrt=False)
def pmu_freeze(ctl, sysr):
    """Every counter's storage to value form (before a write that may start or stop
    counters: PMCR_EL0, PMCNTENSET/CLR_EL0, PMEVTYPER<n>_EL0, PMCCFILTR_EL0)."""
    for n in range(PMU_N):
        sysr[S_PMEVCNTR0 + n, R_VAL] = pmu_get(ctl, sysr, n)
    sysr[S_PMCCNTR, R_VAL] = pmu_get(ctl, sysr, 31)


@njit(cache=True, _nrt=False)
def pmu_thaw(ctl, sysr):
    """...and back: the counters running now keep ticks - value."""
    for n in range(PMU_N):
        if pmu_running(sysr, n):
            sysr[S_PMEVCNTR0 + n, R_VAL] = pmu_ticks(ctl, sysr, n) - sysr[S_PMEVCNTR0 + n, R_VAL]
    if pmu_running(sysr, 31):
        sysr[S_PMCCNTR, R_VAL] = pmu_ticks(ctl, sysr, 31) - sysr[S_PMCCNTR, R_VAL]


@njit(cache=True, _nrt=False)
def pmu_swinc(ctl, sysr, v):
    """PMSWINC_EL0: +1 on each enabled event counter counting SW_INCR (0x00) whose
    EL filter lets the current EL count; a wrap sets its PMOVS bit."""
    if (sysr[S_PMCR, R_VAL] & U1) == U0:
        return
    el = ctl[C_EL]
    for n in range(PMU_N):
        bit = U1 << np.uint64(n)
        if (v & bit) == U0 or (sysr[S_PMCNTENSET, R_VAL] & bit) == U0:
            continue
        t = sysr[S_PMEVTYPER0 + n, R_VAL]
        if (t & np.uint64(0xFFFF)) != U0:
            continue
        if (el == U1 and (t & np.uint64(1 << 31)) != U0) or (el == U0 and (t & np.uint64(1 << 30)) != U0):
            continue
        c = sysr[S_PMEVCNTR0 + n, R_VAL] + U1
        if c > M32:
            sysr[S_PMOVSSET, R_VAL] |= bit
        sysr[S_PMEVCNTR0 + n, R_VAL] = c & M32


@njit(cache=True, _nrt=False)
def sysreg_handler(regs, ctl, sysr, slot, handler, tgt, rt, is_read):
    """Registers with a handler (the row's handler column).  Returns 0 or EXIT_TIMER."""
    if handler == H_TIMER:
        return timer_reg(regs, ctl, sysr, slot, rt, is_read)
    if is_read:
        v = sysr[tgt, R_VAL]
        if handler == H_CCSIDR:
            sel = sysr[S_CSSELR_EL1, R_VAL] & np.uint64(0xF)
            v = U0
            if sel == U0:
                v = sysr[slot, R_VAL]
            elif sel == U1:
                v = sysr[slot, R_WMASK] >> np.uint64(32)
            elif sel == np.uint64(2):
                v = sysr[slot, R_WMASK] & M32
        elif handler == H_ISR:
            irq = ctl[C_IRQ]
            v = ((irq & U1) << np.uint64(7)) | (((irq >> U1) & U1) << np.uint64(6))
        elif handler == H_DCZID:
            if ctl[C_EL] == U0 and (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_DZE) == U0:
                v |= np.uint64(0x10)                 # DZP: DC ZVA prohibited at EL0
        elif handler == H_PMCCNTR:
            v = pmu_get(ctl, sysr, 31)
        elif handler == H_PMEVCNTR:
            v = pmu_get(ctl, sysr, slot - S_PMEVCNTR0)
        elif handler == H_PMXEVTYPER or handler == H_PMXEVCNTR:
            sel = np.int64(sysr[S_PMSELR, R_VAL] & np.uint64(31))
            v = U0
            if handler == H_PMXEVTYPER:
                if sel == 31:
                    v = sysr[S_PMCCFILTR, R_VAL]
                elif sel < PMU_N:
                    v = sysr[S_PMEVTYPER0 + sel, R_VAL]
            elif sel < PMU_N:
                v = pmu_get(ctl, sysr, sel)
        regs[rt] = v
        return 0
    v = regs[rt]
    if handler == H_SET:
        sysr[tgt, R_VAL] |= v & sysr[tgt, R_WMASK]
    elif handler == H_CLR:
        sysr[tgt, R_VAL] &= ~v
    elif handler == H_OSLAR:
        lk = (v & U1) << U1
        sysr[S_OSLSR_EL1, R_VAL] = (sysr[S_OSLSR_EL1, R_VAL] & ~np.uint64(2)) | lk
    elif handler == H_PMSWINC:
        pmu_swinc(ctl, sysr, v)
    elif handler == H_PMCCNTR:
        pmu_set(ctl, sysr, 31, v)
    elif handler == H_PMEVCNTR:
        pmu_set(ctl, sysr, slot - S_PMEVCNTR0, v)
    elif handler == H_PMXEVCNTR:
        sel = np.int64(sysr[S_PMSELR, R_VAL] & np.uint64(31))
        if sel < PMU_N:
            pmu_set(ctl, sysr, sel, v)
    else:
        # writes that may start or stop counters: keep every counter's value across
        # (PMCR_EL0, PMCNTENSET/CLR_EL0, PMEVTYPER<n>_EL0, PMCCFILTR_EL0, PMXEVTYPER_EL0)
        pmu_freeze(ctl, sysr)
        if handler == H_PMCR:
            if (v & np.uint64(4)) != U0:             # C: cycle counter reset
                sysr[S_PMCCNTR, R_VAL] = U0
            if (v & np.uint64(2)) != U0:             # P: event counters reset
                for n in range(PMU_N):
                    sysr[S_PMEVCNTR0 + n, R_VAL] = U0
            wm = sysr[slot, R_WMASK]
            sysr[slot, R_VAL] = (sysr[slot, R_VAL] & ~wm) | (v & wm)
        elif handler == H_PMCNTEN:
            if tgt == slot:
                sysr[tgt, R_VAL] |= v & sysr[tgt, R_WMASK]
            else:
                sysr[tgt, R_VAL] &= ~v
        elif handler == H_PMEVTYPER:
            wm = sysr[slot, R_WMASK]
            sysr[slot, R_VAL] = (sysr[slot, R_VAL] & ~wm) | (v & wm)
        elif handler == H_PMXEVTYPER:
            sel = np.int64(sysr[S_PMSELR, R_VAL] & np.uint64(31))
            s2 = -1
            if sel == 31:
                s2 = S_PMCCFILTR
            elif sel < PMU_N:
                s2 = S_PMEVTYPER0 + sel
            if s2 >= 0:
                wm = sysr[s2, R_WMASK]
                sysr[s2, R_VAL] = (sysr[s2, R_VAL] & ~wm) | (v & wm)
        pmu_thaw(ctl, sysr)
    return 0


@njit(cache=True, _nrt=False)
def gic_sysreg(regs, ctl, sysr, pc, k, rt, is_read):
    """A register of the GIC's CPU interface (H_GIC): the board's MMIO callback at
    SYSREG_IO + the encoding key answers (the GIC model updates the IRQ/FIQ lines in
    ctl, seen before the next instruction).  Returns 0 or EXIT_CB_ERROR (the PC
    stays at the instruction)."""
    if ctl[C_MMIO_FN] == U0:
        return undefined(regs, ctl, sysr, pc)
    v = call_c(ctl[C_MMIO_FN], np.uint64(SYSREG_IO) | np.uint64(k), np.uint32(8),
               np.uint32(0 if is_read else 1), U0 if is_read else regs[rt])
    if ctl[C_CB_ERR] != U0:
        return EXIT_CB_ERROR
    if is_read:
        regs[rt] = np.uint64(v)
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True, _nrt=False)
def counter(ctl):
    """The system counter (CNTPCT; CNTVCT too, CNTVOFF being 0 without EL2): virtual
    time from instructions retired plus time slept in WFI.  The executor folds its
    local step count into C_ICOUNT before every slow op, so this is exact."""
    ns = (ctl[C_ICOUNT] << ctl[C_ICOUNT_SHIFT]) + ctl[C_IDLE_NS]
    return ns // ctl[C_NS_PER_TICK]


@njit(cache=True, _nrt=False)
def timer_reg(regs, ctl, sysr, slot, rt, is_read):
    """CNTP_*/CNTV_* CTL, CVAL, TVAL.  Returns EXIT_TIMER after a write."""
    if slot == S_CNTP_CTL or slot == S_CNTP_CVAL or slot == S_CNTP_TVAL:
        sctl, scval = S_CNTP_CTL, S_CNTP_CVAL
    else:
        sctl, scval = S_CNTV_CTL, S_CNTV_CVAL
    now = counter(ctl)
    if is_read:
        if slot == sctl:
            c = sysr[sctl, R_VAL]
            ist = U0
            if (c & U1) != U0 and now >= sysr[scval, R_VAL]:
                ist = np.uint64(4)
            regs[rt] = c | ist
        elif slot == scval:
            regs[rt] = sysr[scval, R_VAL]
        else:
            regs[rt] = (sysr[scval, R_VAL] - now) & M32
        return 0
    v = regs[rt]
    if slot == sctl:
        sysr[sctl, R_VAL] = v & np.uint64(3)
    elif slot == scval:
        sysr[scval, R_VAL] = v
    else:
        sysr[scval, R_VAL] = now + np.uint64(np.int64(np.int32(np.uint32(v & M32))))
    return EXIT_TIMER


@njit(cache=True, _nrt=False)
def sysreg(regs, ctl, sysr, sysmap, pc, k, rt, is_read):
    """MRS / MSR, driven by the table (cpu/sysregs.py).  Returns 0 or an exit code."""
    slot = sysmap[k]
    if is_read:
        ok, v = mrs_plain(ctl, sysr, np.int64(slot), np.int64(ctl[C_NZCV]))
        if ok:                                       # (the hot loop runs these itself)
            regs[rt] = v
            ctl[C_PC] = pc + np.uint64(4)
            return 0
    el = np.int64(ctl[C_EL])
    if slot < 0:
        return undefined(regs, ctl, sysr, pc)        # no such register on this CPU
    meta = np.int64(sysr[slot, R_META])
    kind = meta & 0xF
    if is_read:
        if el < ((meta >> 4) & 3):
            return undefined(regs, ctl, sysr, pc)
    else:
        if el < ((meta >> 6) & 3):
            return undefined(regs, ctl, sysr, pc)
    if el == 0 and el0_trapped(sysr, meta, is_read):
        return sysreg_trap(regs, ctl, sysr, pc, k, rt, is_read)
    if slot == S_FPCR or slot == S_FPSR:
        if fp_trapped(ctl, sysr):
            return fp_trap(regs, ctl, sysr, pc)
    handler = (meta >> M_HANDLER_SHIFT) & 0xFF
    if handler == H_GIC:
        return gic_sysreg(regs, ctl, sysr, pc, k, rt, is_read)
    if handler != 0:
        ctl[C_PC] = pc + np.uint64(4)
        return sysreg_handler(regs, ctl, sysr, slot, handler,
                              (meta >> M_ALIAS_SHIFT) & 0xFFFF, rt, is_read)
    # the reads left by mrs_plain (after the checks above): the counters, FPCR/FPSR,
    # SP_EL0 while it is the live SP
    if slot == S_SP_EL0 and ctl[C_SPSEL] == U0:
        return undefined(regs, ctl, sysr, pc)       # SP_EL0 is the live SP
    if is_read:
        if slot == S_CNTVCT or slot == S_CNTPCT:
            regs[rt] = counter(ctl)
        else:
            regs[rt] = sysr[slot, R_VAL]
    elif slot == S_NZCV:
        ctl[C_NZCV] = (regs[rt] >> np.uint64(28)) & np.uint64(0xF)
    elif slot == S_DAIF:
        ctl[C_DAIF] = (regs[rt] >> np.uint64(6)) & np.uint64(0xF)
    elif slot == S_SPSEL:
        switch_sp(regs, ctl, sysr, np.int64(ctl[C_EL]), np.int64(regs[rt] & U1))
    elif slot == S_SP_EL0:
        sysr[S_SP_EL0, R_VAL] = regs[rt]
    elif kind == K_CONST:
        return undefined(regs, ctl, sysr, pc)
    else:
        wm = sysr[slot, R_WMASK]
        sysr[slot, R_VAL] = (sysr[slot, R_VAL] & ~wm) | (regs[rt] & wm)
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True, _nrt=False)
def msr_imm(regs, ctl, sysr, pc, field, v):
    el = ctl[C_EL]
    if el == U0 and field != PSF_SPSEL and (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_UMA) == U0:
        # MSR DAIFSet/DAIFClr at EL0 without SCTLR_EL1.UMA: trapped (the Arm ARM's ISS;
        # QEMU 7.2 swaps the op1/op2 fields in it)
        kk = ((field >> 3) << 11) | (4 << 7) | ((v & 15) << 3) | (field & 7)
        return sysreg_trap(regs, ctl, sysr, pc, kk, 31, False)
    if field == PSF_SPSEL:
        if el == U0:
            return undefined(regs, ctl, sysr, pc)
        switch_sp(regs, ctl, sysr, np.int64(el), v & 1)
    elif field == PSF_DAIFSET:
        ctl[C_DAIF] |= np.uint64(v)
    else:
        ctl[C_DAIF] &= ~np.uint64(v)
    ctl[C_PC] = pc + np.uint64(4)
    return 0
