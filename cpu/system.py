"""Rare operations, reached from the executor's single "slow op" arm: exception
entry and return, system registers, PSTATE, cache/TLB maintenance, exclusives and
atomics.  They work on the state arrays directly (array arguments are fine here:
these paths are rare) and keep PC/NZCV in the control array.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import (
    SP, SINK, C_PC, C_NZCV, C_EL, C_SPSEL, C_DAIF, C_ICOUNT, C_EXIT_A, C_EXIT_B, C_EXIT_C, C_EXCL_ADDR,
    C_EXCL_SIZE, C_EXCL_VAL, C_EXCL_VAL2, C_DCZVA_LOG2, C_EXC_COUNT, C_NS_PER_TICK, C_ICOUNT_SHIFT,
    C_LAST_EXC, C_LAST_ESR, C_LAST_EXC_PC, C_UNDEF_COUNT, C_UNDEF_PC, C_IL, C_IRQ, C_IDLE_NS, C_VEC_PC,
    OP_EXCL, OP_ATOMIC, OP_MRS, OP_MSR, OP_MSRI, OP_SYS, OP_EXC, OP_ERET, OP_LDT, OP_STT,
    OP_FPMEM, OP_FPDP, OP_SIMD, OP_SIMDX, VREG, FK_REG, FK_LIT, FK_PAIR, MODE_PRE, MODE_POST,
    SX_NONE, SX_32,
    EXC_SVC, EXC_HVC, EXC_SMC, EXC_BRK, EXC_HLT,
    EXIT_HVC, EXIT_SMC, EXIT_HLT, EXIT_EXC_LOOP, EXIT_CB_ERROR, EXIT_TIMER, EXIT_WFI)
from pyaarch64.cpu.sysregs import (
    K_PLAIN, K_CONST, R_VAL, R_WMASK, R_META, S_SP_EL0, S_SP_EL1, S_ELR_EL1, S_SPSR_EL1,
    S_ESR_EL1, S_FAR_EL1, S_VBAR_EL1, S_NZCV, S_DAIF, S_CURRENTEL, S_SPSEL, S_CNTVCT, S_CNTPCT,
    S_SCTLR_EL1, S_CPACR_EL1, S_FPCR, S_FPSR, S_CTR_EL0, S_DCZID_EL0, S_CNTFRQ, S_CNTKCTL_EL1,
    S_PAR_EL1, S_CSSELR_EL1, S_CCSIDR_EL1, S_ISR_EL1, S_OSLAR_EL1, S_OSLSR_EL1, S_CNTP_CTL,
    S_CNTP_CVAL, S_CNTP_TVAL, S_CNTV_CTL, S_CNTV_CVAL, S_CNTV_TVAL, key,
    S_TCR_EL1, S_TTBR0_EL1, S_TTBR1_EL1, S_MAIR_EL1,
    S_MDSCR_EL1, S_PMCR, S_PMCNTENSET, S_PMOVSSET, S_PMSELR, S_PMUSERENR, S_PMCCNTR,
    S_PMCCFILTR, S_PMEVCNTR0, S_PMEVTYPER0, PMU_N,
    T_NONE, T_UMA, T_UCT, T_CNTFRQ, T_CNTPCT, T_CNTVCT, T_CNTP, T_CNTV, T_PMU, T_PMSWINC,
    T_PMCCNTR, T_PMEVCNTR, T_PMSELR, T_TDCC,
    H_SET, H_CLR, H_PMCR, H_PMSWINC, H_PMCCNTR, H_PMEVCNTR, H_PMEVTYPER, H_PMXEVTYPER,
    H_PMXEVCNTR, H_CCSIDR, H_ISR, H_OSLAR, H_DCZID, H_TIMER, H_PMCNTEN,
    M_TRAP_SHIFT, M_HANDLER_SHIFT, M_ALIAS_SHIFT)
from pyaarch64.cpu.memory import (access_slow, ram_offset, translate, identity, tlb_flush, flush_decode,
                                  drop_code_page, acc_fsc, ACC_OK, ACC_ABORT, ACC_CBERR,
                                  ACC_CODE, ACC_DROPPED, A_READ, A_WRITE, FSC_ALIGN,
                                  I_ATTR_SH, I_SH_SH, SCTLR_M)
from pyaarch64.cpu.alu import extend
from pyaarch64.cpu.isa.branch import PSF_SPSEL, PSF_DAIFSET, PSF_DAIFCLR
from pyaarch64.cpu.isa.ldst import XK_LDX, XK_STX, XK_LDXP, XK_STXP, XK_LDAR, XK_STLR, XK_CAS, XK_CASP

U0 = np.uint64(0)
U1 = np.uint64(1)
M32 = np.uint64(0xFFFFFFFF)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
INVALID = M64

# exception classes (ESR_ELx.EC)
EC_UNKNOWN = 0x00
EC_WFX = 0x01
EC_FP_ACCESS = 0x07
EC_ILLEGAL_STATE = 0x0E
EC_SVC64 = 0x15
EC_HVC64 = 0x16
EC_SMC64 = 0x17
EC_SYSREG = 0x18
EC_IABT_LOWER = 0x20
EC_IABT_SAME = 0x21
EC_PC_ALIGN = 0x22
EC_DABT_LOWER = 0x24
EC_DABT_SAME = 0x25
EC_SP_ALIGN = 0x26
EC_BRK64 = 0x3C

# vector offsets
V_SYNC, V_IRQ, V_FIQ, V_SERROR = 0x000, 0x080, 0x100, 0x180

K_DC_ZVA = key(1, 3, 7, 4, 1)
K_IC_IALLU = key(1, 0, 7, 5, 0)
K_IC_IALLUIS = key(1, 0, 7, 1, 0)
K_IC_IVAU = key(1, 3, 7, 5, 1)


@njit(cache=True)
def sp_slot(el, spsel):
    if spsel == 0 or el == 0:
        return S_SP_EL0
    return S_SP_EL1


@njit(cache=True)
def switch_sp(regs, ctl, sysr, new_el, new_spsel):
    """Bank the live SP and load the one selected by (new_el, new_spsel)."""
    old = sp_slot(ctl[C_EL], ctl[C_SPSEL])
    new = sp_slot(new_el, new_spsel)
    if old != new:
        sysr[old, R_VAL] = regs[SP]
        regs[SP] = sysr[new, R_VAL]
    ctl[C_EL] = np.uint64(new_el)
    ctl[C_SPSEL] = np.uint64(new_spsel)


@njit(cache=True)
def pstate_bits(ctl):
    """SPSR image of the current PSTATE (AArch64)."""
    el = ctl[C_EL]
    m = (el << np.uint64(2)) | (ctl[C_SPSEL] if el != U0 else U0)
    return ((ctl[C_NZCV] << np.uint64(28)) | (ctl[C_IL] << np.uint64(20))
            | (ctl[C_DAIF] << np.uint64(6)) | m)


@njit(cache=True)
def take_exception(regs, ctl, sysr, ec, iss, far, has_far, ret_pc, vec):
    """Exception entry to EL1.  Returns 0, or EXIT_EXC_LOOP if the vector is not RAM
    (nothing useful could run there: stop and report instead of looping)."""
    el = ctl[C_EL]
    if el == U0:
        base = np.uint64(0x400)
    elif ctl[C_SPSEL] != U0:
        base = np.uint64(0x200)
    else:
        base = U0
    target = sysr[S_VBAR_EL1, R_VAL] + base + np.uint64(vec)
    ctl[C_LAST_EXC_PC] = ret_pc
    if (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_M) == U0:
        fsc, pa = identity(ctl, sysr, target)
        if fsc >= 0 or ram_offset(ctl, pa) < 0:
            ctl[C_EXIT_A] = ret_pc
            ctl[C_EXIT_B] = (np.uint64(ec) << np.uint64(26)) | np.uint64(iss)
            ctl[C_EXIT_C] = far
            return EXIT_EXC_LOOP
    else:
        # MMU on: the vector is translated by the executor's next fetch, which
        # stops the run (EXIT_EXC_LOOP) if that fetch faults, rather than loop
        ctl[C_VEC_PC] = target
    ctl[C_EXC_COUNT] += U1
    ctl[C_LAST_EXC] = np.uint64(ec) if vec == V_SYNC else np.uint64(0x100 + vec)
    sysr[S_SPSR_EL1, R_VAL] = pstate_bits(ctl)
    sysr[S_ELR_EL1, R_VAL] = ret_pc
    if vec == V_SYNC:
        esr = (np.uint64(ec) << np.uint64(26)) | (U1 << np.uint64(25)) | np.uint64(iss)
        sysr[S_ESR_EL1, R_VAL] = esr
        ctl[C_LAST_ESR] = esr
        if has_far:
            sysr[S_FAR_EL1, R_VAL] = far
    switch_sp(regs, ctl, sysr, 1, 1)
    ctl[C_IL] = U0
    ctl[C_DAIF] = np.uint64(0xF)
    ctl[C_PC] = target
    return 0


@njit(cache=True)
def undefined(regs, ctl, sysr, pc):
    ctl[C_UNDEF_COUNT] += U1
    ctl[C_UNDEF_PC] = pc
    return take_exception(regs, ctl, sysr, EC_UNKNOWN, 0, U0, False, pc, V_SYNC)


@njit(cache=True)
def data_abort(regs, ctl, sysr, pc, va, is_write, fsc):
    """Data abort with fault status `fsc` (memory.FSC_*: translation, access flag,
    permission or address size fault with its level, alignment fault, external
    abort for addresses with no device behind them); ISS = WnR | DFSC."""
    ec = EC_DABT_LOWER if ctl[C_EL] == U0 else EC_DABT_SAME
    iss = fsc | ((1 if is_write else 0) << 6)
    return take_exception(regs, ctl, sysr, ec, iss, va, True, pc, V_SYNC)


@njit(cache=True)
def insn_abort(regs, ctl, sysr, va, fsc):
    ec = EC_IABT_LOWER if ctl[C_EL] == U0 else EC_IABT_SAME
    return take_exception(regs, ctl, sysr, ec, fsc, va, True, va, V_SYNC)


@njit(cache=True)
def illegal_state(regs, ctl, sysr, pc):
    return take_exception(regs, ctl, sysr, EC_ILLEGAL_STATE, 0, U0, False, pc, V_SYNC)


@njit(cache=True)
def pc_align_fault(regs, ctl, sysr, va):
    return take_exception(regs, ctl, sysr, EC_PC_ALIGN, 0, va, True, va, V_SYNC)


@njit(cache=True)
def eret(regs, ctl, sysr, pc):
    if ctl[C_EL] == U0:
        return undefined(regs, ctl, sysr, pc)
    spsr = sysr[S_SPSR_EL1, R_VAL]
    m = spsr & np.uint64(0x1F)
    target = sysr[S_ELR_EL1, R_VAL]
    il = (spsr >> np.uint64(20)) & U1
    if m == U0:
        new_el, new_spsel = 0, 0
    elif m == np.uint64(4):
        new_el, new_spsel = 1, 0
    elif m == np.uint64(5):
        new_el, new_spsel = 1, 1
    else:
        # Illegal exception return (EL2/EL3 or AArch32 target): EL and SP stay,
        # PSTATE.IL is set and the next instruction takes an Illegal Execution
        # State exception (checked at the next fetch, see the executor)
        new_el, new_spsel = np.int64(ctl[C_EL]), np.int64(ctl[C_SPSEL])
        il = U1
    ctl[C_IL] = il
    ctl[C_EXCL_ADDR] = INVALID          # exception return clears the local monitor
    ctl[C_NZCV] = (spsr >> np.uint64(28)) & np.uint64(0xF)
    ctl[C_DAIF] = (spsr >> np.uint64(6)) & np.uint64(0xF)
    switch_sp(regs, ctl, sysr, new_el, new_spsel)
    if new_el == 0:
        target &= M64
    ctl[C_PC] = target
    return 0


@njit(cache=True)
def counter(ctl):
    """The system counter (CNTPCT; CNTVCT too, CNTVOFF being 0 without EL2): virtual
    time from instructions retired plus time slept in WFI.  The executor folds its
    local step count into C_ICOUNT before every slow op, so this is exact."""
    ns = (ctl[C_ICOUNT] << ctl[C_ICOUNT_SHIFT]) + ctl[C_IDLE_NS]
    return ns // ctl[C_NS_PER_TICK]


@njit(cache=True)
def take_interrupt(regs, ctl, sysr, pc):
    """Take a pending, unmasked IRQ or FIQ before the instruction at pc.
    Returns 0 (taken, or nothing to take) or EXIT_EXC_LOOP."""
    lines = ctl[C_IRQ]
    daif = ctl[C_DAIF]
    if (lines & np.uint64(2)) != U0 and (daif & U1) == U0:
        return take_exception(regs, ctl, sysr, 0, 0, U0, False, pc, V_FIQ)
    if (lines & U1) != U0 and (daif & np.uint64(2)) == U0:
        return take_exception(regs, ctl, sysr, 0, 0, U0, False, pc, V_IRQ)
    return 0


SCTLR_NTWI = np.uint64(1 << 16)


@njit(cache=True)
def wfi(regs, ctl, sysr, pc):
    """WFI: trapped at EL0 unless SCTLR_EL1.nTWI (returns 0, exception taken);
    a pending interrupt, masked or not, makes it complete at once (returns -1:
    go on); otherwise EXIT_WFI (the board sleeps until the next event)."""
    if ctl[C_EL] == U0 and (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_NTWI) == U0:
        # ISS as QEMU 7.2 builds it: CV=1, COND=0xE, TI=0 (WFI)
        return take_exception(regs, ctl, sysr, EC_WFX, 0x1E00000, U0, False, pc, V_SYNC)
    if (ctl[C_IRQ] & np.uint64(3)) != U0:
        return -1
    return EXIT_WFI


# SCTLR_EL1 bits that let EL0 use some system instructions/registers
SCTLR_UMA = np.uint64(1 << 9)      # DAIF
SCTLR_DZE = np.uint64(1 << 14)     # DC ZVA
SCTLR_UCT = np.uint64(1 << 15)     # CTR_EL0
SCTLR_UCI = np.uint64(1 << 26)     # DC CVAU/CVAC/CIVAC, IC IVAU
MDSCR_TDCC = np.uint64(1 << 12)    # EL0 access to the DCC registers traps


@njit(cache=True)
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


@njit(cache=True)
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
@njit(cache=True)
def pmu_slot(n):
    return S_PMCCNTR if n == 31 else S_PMEVCNTR0 + n


@njit(cache=True)
def pmu_running(sysr, n):
    """Is counter n (0..N-1, or 31: PMCCNTR) counting cycles right now?"""
    if (sysr[S_PMCR, R_VAL] & U1) == U0:
        return False
    if ((sysr[S_PMCNTENSET, R_VAL] >> np.uint64(n)) & U1) == U0:
        return False
    if n == 31:
        return True
    return (sysr[S_PMEVTYPER0 + n, R_VAL] & np.uint64(0xFFFF)) == np.uint64(0x11)


@njit(cache=True)
def pmu_ticks(ctl, sysr, n):
    """Cycles: virtual nanoseconds (1 GHz), /64 for PMCCNTR with PMCR_EL0.D."""
    t = (ctl[C_ICOUNT] << ctl[C_ICOUNT_SHIFT]) + ctl[C_IDLE_NS]
    if n == 31 and (sysr[S_PMCR, R_VAL] & np.uint64(8)) != U0:
        t = t // np.uint64(64)
    return t


@njit(cache=True)
def pmu_get(ctl, sysr, n):
    """A running counter's storage holds ticks - value; a stopped one the value."""
    v = sysr[pmu_slot(n), R_VAL]
    if pmu_running(sysr, n):
        v = pmu_ticks(ctl, sysr, n) - v
    if n != 31:
        v &= M32
    return v


@njit(cache=True)
def pmu_set(ctl, sysr, n, v):
    if n != 31:
        v &= M32
    if pmu_running(sysr, n):
        v = pmu_ticks(ctl, sysr, n) - v
    sysr[pmu_slot(n), R_VAL] = v


@njit(cache=True)
def pmu_freeze(ctl, sysr):
    """Every counter's storage to value form (before a write that may start or stop
    counters: PMCR_EL0, PMCNTENSET/CLR_EL0, PMEVTYPER<n>_EL0, PMCCFILTR_EL0)."""
    for n in range(PMU_N):
        sysr[S_PMEVCNTR0 + n, R_VAL] = pmu_get(ctl, sysr, n)
    sysr[S_PMCCNTR, R_VAL] = pmu_get(ctl, sysr, 31)


@njit(cache=True)
def pmu_thaw(ctl, sysr):
    """...and back: the counters running now keep ticks - value."""
    for n in range(PMU_N):
        if pmu_running(sysr, n):
            sysr[S_PMEVCNTR0 + n, R_VAL] = pmu_ticks(ctl, sysr, n) - sysr[S_PMEVCNTR0 + n, R_VAL]
    if pmu_running(sysr, 31):
        sysr[S_PMCCNTR, R_VAL] = pmu_ticks(ctl, sysr, 31) - sysr[S_PMCCNTR, R_VAL]


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def sysreg(regs, ctl, sysr, sysmap, pc, k, rt, is_read):
    """MRS / MSR, driven by the table (cpu/sysregs.py).  Returns 0 or an exit code."""
    slot = sysmap[k]
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
    if handler != 0:
        ctl[C_PC] = pc + np.uint64(4)
        return sysreg_handler(regs, ctl, sysr, slot, handler,
                              (meta >> M_ALIAS_SHIFT) & 0xFFFF, rt, is_read)
    if slot == S_NZCV:
        if is_read:
            regs[rt] = ctl[C_NZCV] << np.uint64(28)
        else:
            ctl[C_NZCV] = (regs[rt] >> np.uint64(28)) & np.uint64(0xF)
    elif slot == S_DAIF:
        if is_read:
            regs[rt] = ctl[C_DAIF] << np.uint64(6)
        else:
            ctl[C_DAIF] = (regs[rt] >> np.uint64(6)) & np.uint64(0xF)
    elif slot == S_CURRENTEL:
        regs[rt] = ctl[C_EL] << np.uint64(2)
    elif slot == S_SPSEL:
        if is_read:
            regs[rt] = ctl[C_SPSEL]
        else:
            switch_sp(regs, ctl, sysr, np.int64(ctl[C_EL]), np.int64(regs[rt] & U1))
    elif slot == S_SP_EL0:
        if ctl[C_SPSEL] == U0:
            return undefined(regs, ctl, sysr, pc)   # SP_EL0 is the live SP
        if is_read:
            regs[rt] = sysr[S_SP_EL0, R_VAL]
        else:
            sysr[S_SP_EL0, R_VAL] = regs[rt]
    elif slot == S_CNTVCT or slot == S_CNTPCT:
        regs[rt] = counter(ctl)
    elif is_read:
        regs[rt] = sysr[slot, R_VAL]
    elif kind == K_CONST:
        return undefined(regs, ctl, sysr, pc)
    else:
        wm = sysr[slot, R_WMASK]
        sysr[slot, R_VAL] = (sysr[slot, R_VAL] & ~wm) | (regs[rt] & wm)
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True)
def fp_trapped(ctl, sysr):
    """FP/SIMD access disabled at the current EL by CPACR_EL1.FPEN."""
    fpen = (sysr[S_CPACR_EL1, R_VAL] >> np.uint64(20)) & np.uint64(3)
    return fpen == U0 or fpen == np.uint64(2) or (ctl[C_EL] == U0 and fpen == U1)


@njit(cache=True)
def fp_trap(regs, ctl, sysr, pc):
    # ISS as QEMU builds it (CV=1, COND=0xE)
    return take_exception(regs, ctl, sysr, EC_FP_ACCESS, 0x1E00000, U0, False, pc, V_SYNC)


@njit(cache=True)
def fp_mem(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, w0, w1):
    """LDR/STR/LDUR/STUR/LDP/STP/LDNP/STNP and literal loads of B/H/S/D/Q registers.
    A load writes the whole V register (zero-extended); nothing is committed
    before every access has succeeded."""
    if fp_trapped(ctl, sysr):
        return fp_trap(regs, ctl, sysr, pc)
    vt = np.int64((w0 >> np.uint64(10)) & np.uint64(31))
    rn = np.int64((w0 >> np.uint64(16)) & np.uint64(63))
    rm = np.int64((w0 >> np.uint64(22)) & np.uint64(63))
    vt2 = np.int64((w0 >> np.uint64(28)) & np.uint64(31))
    aux = np.int64(w0 >> np.uint64(34))
    lg = aux & 7
    load = (aux >> 3) & 1
    mode = (aux >> 4) & 3
    kind = (aux >> 6) & 3
    nb = np.uint64(1) << np.uint64(lg)
    base = regs[rn]
    if kind == FK_LIT:
        addr = pc + w1
    elif kind == FK_REG:
        addr = base + extend(regs[rm], (aux >> 8) & 7, (aux >> 11) & 7)
    elif mode == MODE_POST:
        addr = base
    else:
        addr = base + w1
    n = 2 if kind == FK_PAIR else 1
    lo0 = U0
    hi0 = U0
    lo1 = U0
    hi1 = U0
    for k in range(n):
        a = addr + nb * np.uint64(k)
        v = vt if k == 0 else vt2
        if load:
            if lg == 4:
                st, lo, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, a, 8, False, U0)
                if st != ACC_OK:
                    return abort_status(regs, ctl, sysr, pc, st, fva, False)
                st, hi, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, a + np.uint64(8), 8, False, U0)
            else:
                hi = U0
                st, lo, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, a, 1 << lg, False, U0)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, False)
            if k == 0:
                lo0 = lo
                hi0 = hi
            else:
                lo1 = lo
                hi1 = hi
        else:
            lo = regs[VREG + 2 * v]
            if lg == 4:
                st, x, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, a, 8, True, lo)
                if st != ACC_OK:
                    return abort_status(regs, ctl, sysr, pc, st, fva, True)
                st, x, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, a + np.uint64(8), 8, True,
                                    regs[VREG + 2 * v + 1])
            else:
                if lg < 3:
                    lo &= (U1 << np.uint64(8 << lg)) - U1
                st, x, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, a, 1 << lg, True, lo)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
    if load:
        regs[VREG + 2 * vt] = lo0
        regs[VREG + 2 * vt + 1] = hi0
        if n == 2:
            regs[VREG + 2 * vt2] = lo1
            regs[VREG + 2 * vt2 + 1] = hi1
    if kind != FK_LIT and kind != FK_REG:
        if mode == MODE_PRE:
            regs[rn] = addr
        elif mode == MODE_POST:
            regs[rn] = base + w1
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True)
def mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, va, size, is_write, value, unpriv=False):
    """Data access for rare ops.  A store into decoded code drops that page's
    decode slot (the executor re-enters the page after every slow op)."""
    st, v, x = access_slow(ctl, sysr, mem, tlb, pslot, slotpage, cb, va, size, is_write, value, unpriv)
    if st == ACC_CODE:
        drop_code_page(pslot, slotpage, np.int64(x >> np.uint64(12)))
        return ACC_OK, v, U0
    if st == ACC_DROPPED:
        return ACC_OK, v, U0
    return st, v, x


@njit(cache=True)
def abort_status(regs, ctl, sysr, pc, st, fva, is_write):
    if st == ACC_CBERR:
        return EXIT_CB_ERROR
    return data_abort(regs, ctl, sysr, pc, fva, is_write, acc_fsc(st))


@njit(cache=True)
def zext(v, size):
    if size >= 3:
        return v
    return v & ((U1 << np.uint64(8 << size)) - U1)


@njit(cache=True)
def excl(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, rt, rn, rs, rt2, aux):
    kind = aux & 7
    size = (aux >> 3) & 3
    nb = 1 << size
    addr = regs[rn]
    pair = kind == XK_LDXP or kind == XK_STXP
    total = nb * 2 if pair else nb
    if (addr & np.uint64(total - 1)) != U0:
        return data_abort(regs, ctl, sysr, pc, addr, kind == XK_STX or kind == XK_STXP or kind == XK_STLR,
                          FSC_ALIGN)
    if kind == XK_LDX or kind == XK_LDAR or kind == XK_LDXP:
        st, v, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, nb, False, U0)
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, False)
        v2 = U0
        if pair:
            st, v2, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr + np.uint64(nb), nb, False, U0)
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
        st, v, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, nb, True, zext(regs[rt], size))
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, True)
    else:
        # store-exclusive: succeeds if the monitor holds this address and memory
        # still has the value the load-exclusive saw
        ok = ctl[C_EXCL_ADDR] == addr and ctl[C_EXCL_SIZE] == np.uint64(total)
        if ok:
            st, cur, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, nb, False, U0)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
            ok = cur == ctl[C_EXCL_VAL]
            if ok and pair:
                st, cur2, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr + np.uint64(nb), nb, False, U0)
                ok = st == ACC_OK and cur2 == ctl[C_EXCL_VAL2]
        if ok:
            st, v, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, nb, True, zext(regs[rt], size))
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
            if pair:
                st, v, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr + np.uint64(nb), nb, True,
                                    zext(regs[rt2], size))
                if st != ACC_OK:
                    return abort_status(regs, ctl, sysr, pc, st, fva, True)
        ctl[C_EXCL_ADDR] = INVALID
        regs[rs] = U0 if ok else U1
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True)
def cas(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, rn, aux):
    """CAS{A}{L}{B,H} and CASP{A}{L} (FEAT_LSE).  aux: kind | size << 3 | Rs << 8 | Rt << 13,
    raw register numbers (31 is XZR; Rs is read and written).  Memory is written only
    when the comparison succeeds; Rs (Rs+1) receives the old value either way."""
    kind = aux & 7
    size = (aux >> 3) & 3
    rs = (aux >> 8) & 31
    rt = (aux >> 13) & 31
    nb = 1 << size
    pair = kind == XK_CASP
    total = nb * 2 if pair else nb
    addr = regs[rn]
    if (addr & np.uint64(total - 1)) != U0:
        return data_abort(regs, ctl, sysr, pc, addr, True, FSC_ALIGN)
    st, old1, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, nb, False, U0)
    if st != ACC_OK:
        return abort_status(regs, ctl, sysr, pc, st, fva, False)
    old2 = U0
    same = old1 == zext(regs[rs], size)          # slot 31 is ZR: reads 0
    if pair:
        st, old2, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr + np.uint64(nb), nb, False, U0)
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, False)
        same = same and old2 == zext(regs[rs + 1], size)
    if same:
        st, _, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, nb, True, zext(regs[rt], size))
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, True)
        if pair:
            st, _, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr + np.uint64(nb), nb, True,
                                zext(regs[rt + 1], size))
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
    regs[SINK if rs == 31 else rs] = old1
    if pair:
        regs[SINK if rs + 1 == 31 else rs + 1] = old2
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True)
def atomic(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, rt, rn, rs, aux):
    op = aux & 15
    size = (aux >> 4) & 3
    nb = 1 << size
    addr = regs[rn]
    if (addr & np.uint64(nb - 1)) != U0:
        return data_abort(regs, ctl, sysr, pc, addr, True, FSC_ALIGN)
    st, old, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, nb, False, U0)
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
    st, _, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, nb, True, zext(new, size))
    if st != ACC_OK:
        return abort_status(regs, ctl, sysr, pc, st, fva, True)
    regs[rt] = old
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True)
def at_par(ctl, sysr, mem, va, op2):
    """PAR_EL1 after AT S1E1R (op2 0), S1E1W (1), S1E0R (2), S1E0W (3)."""
    acc = A_WRITE if (op2 & 1) else A_READ
    el = 1 if op2 < 2 else 0
    fsc, pa, info = translate(ctl, sysr, mem, va, acc, el)
    if fsc >= 0:
        # F=1, FST; PTW = S = 0 (stage 1 only); bit 11 RES1
        return np.uint64(0x801) | (np.uint64(fsc) << U1)
    par = (pa & np.uint64(0xFFFFFFFFF000)) | np.uint64(0xA00)       # PA, NS, RES1
    if (sysr[S_SCTLR_EL1, R_VAL] & SCTLR_M) != U0:
        # ATTR from MAIR_EL1[AttrIndx], SH from the descriptor
        ai = np.uint64((info >> I_ATTR_SH) & 7)
        attr = (sysr[S_MAIR_EL1, R_VAL] >> (ai << np.uint64(3))) & np.uint64(0xFF)
        par |= (attr << np.uint64(56)) | (np.uint64((info >> I_SH_SH) & 3) << np.uint64(7))
    return par


@njit(cache=True)
def unpriv_ldst(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, rt, rn, aux, imm, is_write):
    """LDTR/STTR (and b/h/sb/sh/sw): at EL1 the access has EL0's permissions (no PAN
    on Armv8.0); at EL0 it is an ordinary access."""
    size = aux & 3
    sign = (aux >> 2) & 3
    addr = regs[rn] + imm
    unpriv = ctl[C_EL] != U0
    if is_write:
        st, v, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, 1 << size, True,
                            zext(regs[rt], size), unpriv)
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, True)
    else:
        st, v, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, addr, 1 << size, False, U0, unpriv)
        if st != ACC_OK:
            return abort_status(regs, ctl, sysr, pc, st, fva, False)
        if sign != SX_NONE and size < 3:
            bits = np.uint64(64 - (8 << size))
            v = np.uint64(np.int64(v << bits) >> np.int64(bits))
            if sign == SX_32:
                v &= M32
        regs[rt] = v
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True)
def sys_insn(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, k, rt):
    """SYS: cache maintenance, DC ZVA, TLBI, AT."""
    op1 = (k >> 11) & 7
    crn = (k >> 7) & 15
    crm = (k >> 3) & 15
    el = ctl[C_EL]
    if el == U0 and op1 == 3 and crn == 7:
        sctlr = sysr[S_SCTLR_EL1, R_VAL]
        if k == K_DC_ZVA:
            if (sctlr & SCTLR_DZE) == U0:
                return sysreg_trap(regs, ctl, sysr, pc, k, rt, False)
        elif (sctlr & SCTLR_UCI) == U0:
            return sysreg_trap(regs, ctl, sysr, pc, k, rt, False)
    if k == K_DC_ZVA:
        bs = np.uint64(1) << ctl[C_DCZVA_LOG2]
        base = regs[rt] & ~(bs - U1)
        # the common case (Linux clears pages with it): one translation, RAM, zeroed
        # in place; a page with decoded code loses its decode slot
        fsc, pa, info = translate(ctl, sysr, mem, base, A_WRITE, np.int64(el))
        if fsc < 0:
            hoff = ram_offset(ctl, pa)
            if hoff >= 0:
                drop_code_page(pslot, slotpage, hoff >> 12)
                mem[hoff:hoff + np.int64(bs)] = 0
                ctl[C_PC] = pc + np.uint64(4)
                return 0
        for off in range(0, np.int64(bs), 8):
            st, v, fva = mem_rw(ctl, sysr, mem, tlb, pslot, slotpage, cb, base + np.uint64(off), 8, True, U0)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
    elif k == K_IC_IALLU or k == K_IC_IALLUIS:
        if el == U0:
            return undefined(regs, ctl, sysr, pc)
        flush_decode(pslot, slotpage)
    elif k == K_IC_IVAU:
        fsc, pa, info = translate(ctl, sysr, mem, regs[rt], A_READ, np.int64(el))
        if fsc < 0:
            off = ram_offset(ctl, pa)
            if off >= 0:
                drop_code_page(pslot, slotpage, off >> 12)
    elif crn == 7:
        # the Armv8.0 DC and AT operations (no DC CVAP/CVADP, CFP, ...); caches are
        # not modelled, so DC is a no-op; the invalidate, set/way and AT forms are
        # EL1-only (EL0 DC CVAC/CVAU/CIVAC were checked above)
        op2 = k & 7
        if op1 == 3 and (crm == 10 or crm == 11 or crm == 14) and op2 == 1:
            pass
        elif op1 == 0 and ((crm == 6 and (op2 == 1 or op2 == 2))
                           or ((crm == 10 or crm == 14) and op2 == 2)):
            if el == U0:
                return undefined(regs, ctl, sysr, pc)
        elif op1 == 0 and crm == 8 and op2 <= 3:          # AT S1E1R/W, S1E0R/W
            if el == U0:
                return undefined(regs, ctl, sysr, pc)
            par = at_par(ctl, sysr, mem, regs[rt], k & 7)
            if (par & np.uint64(0x3F)) >= np.uint64(0x29) and (par & np.uint64(0x3F)) <= np.uint64(0x2F):
                # an external abort on the walk is not reported in PAR_EL1 but taken as a
                # data abort (CM = 1, WnR = 1, as QEMU 7.2 reports it)
                return data_abort(regs, ctl, sysr, pc, regs[rt], True, np.int64((par >> U1) & np.uint64(0x3F)) | 0x100)
            sysr[S_PAR_EL1, R_VAL] = par
        else:
            return undefined(regs, ctl, sysr, pc)
    elif (crn == 8 and op1 == 0 and (crm == 3 or crm == 7)
          and ((k & 7) <= 3 or (k & 7) == 5 or (k & 7) == 7)):   # TLBI ...E1(IS)
        if el == U0:
            return undefined(regs, ctl, sysr, pc)
        tlb_flush(tlb)
    else:
        return undefined(regs, ctl, sysr, pc)
    ctl[C_PC] = pc + np.uint64(4)
    return 0


@njit(cache=True)
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


@njit(cache=True)
def exc_insn(regs, ctl, sysr, pc, kind, imm):
    if kind == EXC_SVC:
        return take_exception(regs, ctl, sysr, EC_SVC64, imm, U0, False, pc + np.uint64(4), V_SYNC)
    if kind == EXC_BRK:
        return take_exception(regs, ctl, sysr, EC_BRK64, imm, U0, False, pc, V_SYNC)
    ctl[C_EXIT_A] = np.uint64(imm)
    ctl[C_EXIT_B] = pc
    if kind == EXC_HVC:
        if ctl[C_EL] == U0:
            return undefined(regs, ctl, sysr, pc)
        ctl[C_PC] = pc + np.uint64(4)
        return EXIT_HVC
    if kind == EXC_SMC:
        if ctl[C_EL] == U0:
            return undefined(regs, ctl, sysr, pc)
        ctl[C_PC] = pc + np.uint64(4)
        return EXIT_SMC
    # HLT: the board decides (semihosting) -- PC still at the HLT
    ctl[C_PC] = pc
    return EXIT_HLT


@njit(cache=True)
def slow_op(regs, ctl, sysr, sysmap, mem, tlb, pslot, slotpage, cb, op, w0, w1):
    """Entry of the system group (cpu/groups.py OPS[G_SYSTEM]).  PC/NZCV are in ctl; returns 0 or an exit code."""
    pc = ctl[C_PC]
    rd = np.int64((w0 >> np.uint64(10)) & np.uint64(63))
    rn = np.int64((w0 >> np.uint64(16)) & np.uint64(63))
    rm = np.int64((w0 >> np.uint64(22)) & np.uint64(63))
    ra = np.int64((w0 >> np.uint64(28)) & np.uint64(63))
    aux = np.int64(w0 >> np.uint64(34))
    if op == OP_MRS:
        return np.int64(sysreg(regs, ctl, sysr, sysmap, pc, aux, rd, True))
    if op == OP_MSR:
        r = sysreg(regs, ctl, sysr, sysmap, pc, aux, rn, False)
        slot = sysmap[aux]
        if (slot == S_SCTLR_EL1 or slot == S_TCR_EL1 or slot == S_TTBR0_EL1
                or slot == S_TTBR1_EL1):
            tlb_flush(tlb)        # the soft TLB caches translations and permissions
        return np.int64(r)
    if op == OP_LDT or op == OP_STT:
        return np.int64(unpriv_ldst(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, rd, rn, aux, w1,
                           op == OP_STT))
    if op == OP_MSRI:
        return np.int64(msr_imm(regs, ctl, sysr, pc, aux, np.int64(w1)))
    if op == OP_EXC:
        return np.int64(exc_insn(regs, ctl, sysr, pc, aux, np.int64(w1)))
    if op == OP_ERET:
        return np.int64(eret(regs, ctl, sysr, pc))
    if op == OP_SYS:
        return np.int64(sys_insn(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, aux, rn))
    if op == OP_EXCL:
        if (aux & 7) >= XK_CAS:
            return np.int64(cas(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, rn, aux))
        return np.int64(excl(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, rd, rn, rm, ra, aux))
    if op == OP_ATOMIC:
        return np.int64(atomic(regs, ctl, sysr, mem, tlb, pslot, slotpage, cb, pc, rd, rn, rm, aux))
    return np.int64(undefined(regs, ctl, sysr, pc))
