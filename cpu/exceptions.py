"""Exception entry and return: SP banking, the SPSR image, the vector and ESR/FAR of
an exception taken to EL1; the exceptions the CPU raises itself (undefined
instruction, data and instruction aborts, illegal execution state, PC alignment),
interrupts, WFI, SVC/HVC/SMC/BRK/HLT and ERET.  The executor and the other modules of
the system group (cpu/system.py) take their exceptions through here; like them these
functions work on the state arrays directly and keep PC/NZCV in the control array.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import (
    SP, C_PC, C_NZCV, C_EL, C_SPSEL, C_DAIF, C_EXIT_A, C_EXIT_B, C_EXIT_C, C_EXCL_ADDR, C_EXC_COUNT,
    C_LAST_EXC, C_LAST_ESR, C_LAST_EXC_PC, C_UNDEF_COUNT, C_UNDEF_PC, C_IL, C_IRQ, C_VEC_PC,
    C_ICOUNT, C_EXC_MARK, C_EXC_RUN, C_EXC_FIRST, EXC_STUCK_AFTER, C_HOOK_FLAGS, HF_EXC, C_SS,
    EXC_SVC, EXC_HVC, EXC_SMC, EXC_BRK,
    EXIT_HVC, EXIT_SMC, EXIT_HLT, EXIT_EXC_LOOP, EXIT_WFI)
from pyaarch64.cpu.sysregs import (
    R_VAL, S_SP_EL0, S_SP_EL1, S_ELR_EL1, S_SPSR_EL1, S_ESR_EL1, S_FAR_EL1, S_VBAR_EL1, S_SCTLR_EL1)
from pyaarch64.cpu.memory import ram_offset, identity, SCTLR_M
from pyaarch64.cpu.hooks import call_host, HK_EXC
from pyaarch64.cpu.debug import ss_active, FSC_DEBUG

U0 = np.uint64(0)
U1 = np.uint64(1)
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
EC_BKPT_LOWER = 0x30          # the debug exceptions (cpu/debug.py); + 1: from EL1
EC_STEP_LOWER = 0x32
EC_WATCH_LOWER = 0x34
EC_BRK64 = 0x3C

# vector offsets
V_SYNC, V_IRQ, V_FIQ, V_SERROR = 0x000, 0x080, 0x100, 0x180


@njit(cache=True, _nrt=False)
def sp_slot(el, spsel):
    if spsel == 0 or el == 0:
        return S_SP_EL0
    return S_SP_EL1


@njit(cache=True, _nrt=False)
def switch_sp(regs, ctl, sysr, new_el, new_spsel):
    """Bank the live SP and load the one selected by (new_el, new_spsel)."""
    old = sp_slot(ctl[C_EL], ctl[C_SPSEL])
    new = sp_slot(new_el, new_spsel)
    if old != new:
        sysr[old, R_VAL] = regs[SP]
        regs[SP] = sysr[new, R_VAL]
    ctl[C_EL] = np.uint64(new_el)
    ctl[C_SPSEL] = np.uint64(new_spsel)


@njit(cache=True, _nrt=False)
def pstate_bits(ctl):
    """SPSR image of the current PSTATE (AArch64)."""
    el = ctl[C_EL]
    m = (el << np.uint64(2)) | (ctl[C_SPSEL] if el != U0 else U0)
    return ((ctl[C_NZCV] << np.uint64(28)) | (ctl[C_SS] << np.uint64(21)) | (ctl[C_IL] << np.uint64(20))
            | (ctl[C_DAIF] << np.uint64(6)) | m)


@njit(cache=True, _nrt=False)
def exc_stuck(ctl, sysr, steps):
    """The executor took an exception without retiring an instruction (`steps`: the
    instructions it retired but has not yet added to C_ICOUNT).  True when that is the
    EXC_STUCK_AFTER-th in a row with none retired in between: the vector faults at its
    own entry, interrupts are masked there, so nothing can change any more; the exit
    fields (EXIT_EXC_STUCK) are set.  Bounds the run loop by exception entries, not
    only by retired instructions."""
    t = ctl[C_ICOUNT] + steps
    if t != ctl[C_EXC_MARK] or ctl[C_EXC_RUN] == U0:
        ctl[C_EXC_MARK] = t
        ctl[C_EXC_RUN] = U0
        ctl[C_EXC_FIRST] = sysr[S_ELR_EL1, R_VAL]
    ctl[C_EXC_RUN] += U1
    if ctl[C_EXC_RUN] < np.uint64(EXC_STUCK_AFTER):
        return False
    ctl[C_EXC_RUN] = U0
    ctl[C_EXIT_A] = sysr[S_ELR_EL1, R_VAL]
    ctl[C_EXIT_B] = sysr[S_ESR_EL1, R_VAL]
    ctl[C_EXIT_C] = sysr[S_FAR_EL1, R_VAL]
    return True


@njit(cache=True, _nrt=False)
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
    ctl[C_SS] = U0
    ctl[C_DAIF] = np.uint64(0xF)
    ctl[C_PC] = target
    if (ctl[C_HOOK_FLAGS] & np.uint64(HF_EXC)) != U0:
        # exception hooks (cpu/hooks.py): the entry is committed; the host may move
        # the PC or stop the run (before the vector's first instruction)
        call_host(ctl, ret_pc, np.uint64(ec), HK_EXC, np.uint64(vec))
    return 0


@njit(cache=True, _nrt=False)
def undefined(regs, ctl, sysr, pc):
    ctl[C_UNDEF_COUNT] += U1
    ctl[C_UNDEF_PC] = pc
    return take_exception(regs, ctl, sysr, EC_UNKNOWN, 0, U0, False, pc, V_SYNC)


@njit(cache=True, _nrt=False)
def data_abort(regs, ctl, sysr, pc, va, is_write, fsc):
    """Data abort with fault status `fsc` (memory.FSC_*: translation, access flag,
    permission or address size fault with its level, alignment fault, external
    abort for addresses with no device behind them); ISS = WnR | DFSC.  The debug
    fault status (a watchpoint, cpu/debug.py) is the watchpoint exception: EC
    0x34/0x35, ISS = WnR | 0x22, FAR = the watched address."""
    ec = EC_DABT_LOWER if ctl[C_EL] == U0 else EC_DABT_SAME
    if fsc == FSC_DEBUG:
        ec = EC_WATCH_LOWER + (0 if ctl[C_EL] == U0 else 1)
    iss = fsc | ((1 if is_write else 0) << 6)
    return take_exception(regs, ctl, sysr, ec, iss, va, True, pc, V_SYNC)


@njit(cache=True, _nrt=False)
def insn_abort(regs, ctl, sysr, va, fsc):
    ec = EC_IABT_LOWER if ctl[C_EL] == U0 else EC_IABT_SAME
    return take_exception(regs, ctl, sysr, ec, fsc, va, True, va, V_SYNC)


@njit(cache=True, _nrt=False)
def illegal_state(regs, ctl, sysr, pc):
    return take_exception(regs, ctl, sysr, EC_ILLEGAL_STATE, 0, U0, False, pc, V_SYNC)


@njit(cache=True, _nrt=False)
def pc_align_fault(regs, ctl, sysr, va):
    return take_exception(regs, ctl, sysr, EC_PC_ALIGN, 0, va, True, va, V_SYNC)


@njit(cache=True, _nrt=False)
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
    # PSTATE.SS from SPSR.SS where software step is active after the return
    ctl[C_SS] = U0
    if ((spsr >> np.uint64(21)) & U1) != U0 and ss_active(ctl, sysr):
        ctl[C_SS] = U1
    if new_el == 0:
        target &= M64
    ctl[C_PC] = target
    return 0


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def exc_insn(regs, ctl, sysr, pc, kind, imm):
    if kind == EXC_SVC:
        ctl[C_SS] = U0       # a stepped SVC completes: SPSR.SS = 0 (the step is pending)
        return take_exception(regs, ctl, sysr, EC_SVC64, imm, U0, False, pc + np.uint64(4), V_SYNC)
    if kind == EXC_BRK:
        return take_exception(regs, ctl, sysr, EC_BRK64, imm, U0, False, pc, V_SYNC)
    ctl[C_EXIT_A] = np.uint64(imm)
    ctl[C_EXIT_B] = pc
    if kind == EXC_HVC:
        if ctl[C_EL] == U0:
            return undefined(regs, ctl, sysr, pc)
        ctl[C_PC] = pc + np.uint64(4)
        ctl[C_SS] = U0
        return EXIT_HVC
    if kind == EXC_SMC:
        if ctl[C_EL] == U0:
            return undefined(regs, ctl, sysr, pc)
        ctl[C_PC] = pc + np.uint64(4)
        ctl[C_SS] = U0
        return EXIT_SMC
    # HLT: the board decides (semihosting) -- PC still at the HLT
    ctl[C_PC] = pc
    return EXIT_HLT


@njit(cache=True, _nrt=False)
def breakpoint_exc(regs, ctl, sysr, pc):
    """A hardware breakpoint before the instruction at pc (cpu/debug.py): EC 0x30/0x31,
    ISS 0x22, ELR = pc, FAR = 0 (UNKNOWN: QEMU 7.2 writes 0)."""
    ec = EC_BKPT_LOWER + (0 if ctl[C_EL] == U0 else 1)
    return take_exception(regs, ctl, sysr, ec, FSC_DEBUG, U0, True, pc, V_SYNC)


@njit(cache=True, _nrt=False)
def step_exc(regs, ctl, sysr, pc, isv, ex):
    """The software step exception before the instruction at pc: EC 0x32/0x33, ISS =
    ISV (the step completed an instruction: EX is valid) | EX (that instruction was a
    load-exclusive) | 0x22."""
    ec = EC_STEP_LOWER + (0 if ctl[C_EL] == U0 else 1)
    iss = FSC_DEBUG | ((1 << 24) if isv else 0) | ((1 << 6) if ex else 0)
    return take_exception(regs, ctl, sysr, ec, iss, U0, False, pc, V_SYNC)
