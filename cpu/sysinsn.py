"""SYS: cache maintenance (DC, IC; DC ZVA zeroes memory), TLB invalidation (TLBI) and
address translation (AT, with its PAR_EL1).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import C_PC, C_EL, C_DCZVA_LOG2, C_HOOK_FLAGS, HF_MEM, C_DBG, DBG_WP, C_TLBI
from pyaarch64.cpu.hooks import mem_hooked
from pyaarch64.cpu.sysregs import R_VAL, S_SCTLR_EL1, S_PAR_EL1, S_MAIR_EL1, key
from pyaarch64.cpu.memory import (access_slow, ram_offset, translate, tlb_flush, flush_decode, drop_code_page,
                                  ACC_OK, tlb_fill_write,
                                  A_READ, A_WRITE, I_ATTR_SH, I_SH_SH, SCTLR_M)
from pyaarch64.cpu.exceptions import undefined, data_abort
from pyaarch64.cpu.sysreg_access import sysreg_trap, SCTLR_DZE, SCTLR_UCI
from pyaarch64.cpu.memaccess import abort_status
from pyaarch64.cpu.sysread import dczva_hit
from pyaarch64.cpu.debug import wp_check, FSC_DEBUG

U0 = np.uint64(0)
U1 = np.uint64(1)

K_DC_ZVA = key(1, 3, 7, 4, 1)
K_IC_IALLU = key(1, 0, 7, 5, 0)
K_IC_IALLUIS = key(1, 0, 7, 1, 0)
K_IC_IVAU = key(1, 3, 7, 5, 1)


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def sys_insn(regs, ctl, sysr, bus, pc, k, rt):
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
        if dczva_hit(bus.tlb, U0, ctl, sysr, bus.mem, regs[rt]):
            ctl[C_PC] = pc + np.uint64(4)
            return 0
        bs = np.uint64(1) << ctl[C_DCZVA_LOG2]
        base = regs[rt] & ~(bs - U1)
        # the common case (Linux clears pages with it): one translation, RAM, zeroed
        # in place; a page with decoded code loses its decode slot
        fsc, pa, info = translate(ctl, sysr, bus.mem, base, A_WRITE, np.int64(el))
        if fsc < 0 and (ctl[C_DBG] & np.uint64(DBG_WP)) != U0:
            # a guest watchpoint on the block (cpu/debug.py): before any byte is zeroed
            whit, wfar, _ = wp_check(ctl, sysr, base, bs, True, False)
            if whit:
                return data_abort(regs, ctl, sysr, pc, wfar, True, FSC_DEBUG)
        if fsc < 0 and (ctl[C_DBG] & np.uint64(DBG_WP)) == U0 and (
                (ctl[C_HOOK_FLAGS] & np.uint64(HF_MEM)) == U0
                or not mem_hooked(bus.hooks, base, np.int64(bs), True)[1]):
            hoff = ram_offset(ctl, pa)
            if hoff >= 0 and bus.prot[hoff >> 12] == 0:
                drop_code_page(bus.pslot, bus.slotpage, hoff >> 12)
                bus.dirty[hoff >> 12] = 1
                bus.mem[hoff:hoff + np.int64(bs)] = 0
                tlb_fill_write(bus.tlb, base, hoff)         # the page's next blocks: sysread.dczva_hit
                ctl[C_PC] = pc + np.uint64(4)
                return 0
        for off in range(0, np.int64(bs), 8):
            st, v, fva = access_slow(ctl, sysr, bus, base + np.uint64(off), 8, True, U0)
            if st != ACC_OK:
                return abort_status(regs, ctl, sysr, pc, st, fva, True)
    elif k == K_IC_IALLU or k == K_IC_IALLUIS:
        if el == U0:
            return undefined(regs, ctl, sysr, pc)
        flush_decode(bus.pslot, bus.slotpage)
    elif k == K_IC_IVAU:
        fsc, pa, info = translate(ctl, sysr, bus.mem, regs[rt], A_READ, np.int64(el))
        if fsc < 0:
            off = ram_offset(ctl, pa)
            if off >= 0:
                drop_code_page(bus.pslot, bus.slotpage, off >> 12)
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
            par = at_par(ctl, sysr, bus.mem, regs[rt], k & 7)
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
        tlb_flush(bus.tlb)
        ctl[C_TLBI] += U1             # (other CPUs' soft TLBs: the board, machine/smp.py)
    else:
        return undefined(regs, ctl, sysr, pc)
    ctl[C_PC] = pc + np.uint64(4)
    return 0
