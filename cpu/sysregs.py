"""System registers: one table, rows as data (DESIGN §2.4).

Each row (`Row`, a namedtuple): name (Arm ARM spelling; unnamed encodings of the ID
space use the generic assembler spelling S3_0_C0_C<m>_<n>), encoding (op0, op1, CRn,
CRm, op2), kind, reset value, writable mask, the lowest EL allowed to read / write,
and the data columns the rest of the emulator reads:

  trap     EL0 access control beyond the EL columns (T_*): the SCTLR_EL1, CNTKCTL_EL1,
           PMUSERENR_EL0 or MDSCR_EL1 bit that lets EL0 in; when it is clear the
           access traps to EL1 with EC 0x18 (an access the EL columns deny is UNDEF)
  handler  how MRS/MSR act beyond "value & writable mask" (H_*)
  gate     feature/model gate: the row exists only on CPU models whose `sysreg_gates`
           name it ("" = every model); otherwise its encoding is UNDEF
  migrate  the register is state (a snapshot saves it by name); constants (ID
           registers, MIDR, CBAR, ...) are platform identity, computed and alias
           registers have no storage of their own
  gdb      the register goes in gdb's system-registers XML

kinds
  plain   storage with a writable mask (bits outside it keep their value)
  const   value comes from the CPU model (or the row's reset); never state
  special handled in code (NZCV, DAIF, CurrentEL, SPSel, SP_EL0, counters, ...)
  alias   a view of another row's storage (set/clear pairs, PMXEV*): no storage

IMPLEMENTATION DEFINED policy: only the registers a model lists (gate) exist; every
other encoding, IMPLEMENTATION DEFINED space included, is UNDEF.

The executor reads dense arrays built from these rows:
  sysmap  int32[65536]   16-bit encoding key -> slot (or -1: UNDEF)
  sysr    uint64[N, 4]   per slot: value, writable mask, meta, reset
where meta = kind | min_read_el << 4 | min_write_el << 6 | trap << 8 | handler << 16
| storage slot << 24 (the aliased row's for an alias; EL 3 = no access).  A row gated
off keeps its slot (slots are the same for every model) but no encoding maps to it.
Snapshots, dumps and the schema use the *names*, never slots or encodings.
"""
import re
from typing import NamedTuple

import numpy as np

K_PLAIN, K_CONST, K_SPECIAL, K_ALIAS = 0, 1, 2, 3
KIND_NAMES = ("plain", "const", "special", "alias")
NO = 3  # "no EL may do this"
ALL = (1 << 64) - 1

# EL0 trap routines (meta bits 8..15)
T_NONE = 0
T_UMA = 1          # SCTLR_EL1.UMA: DAIF
T_UCT = 2          # SCTLR_EL1.UCT: CTR_EL0
T_CNTFRQ = 3       # CNTKCTL_EL1.EL0PCTEN or EL0VCTEN
T_CNTPCT = 4       # CNTKCTL_EL1.EL0PCTEN
T_CNTVCT = 5       # CNTKCTL_EL1.EL0VCTEN
T_CNTP = 6         # CNTKCTL_EL1.EL0PTEN: CNTP_CTL/CVAL/TVAL
T_CNTV = 7         # CNTKCTL_EL1.EL0VTEN: CNTV_CTL/CVAL/TVAL
T_PMU = 8          # PMUSERENR_EL0.EN
T_PMSWINC = 9      # EN or SW
T_PMCCNTR = 10     # read: EN or CR; write: EN
T_PMEVCNTR = 11    # read: EN or ER; write: EN (PMEVCNTR<n>, PMXEVCNTR)
T_PMSELR = 12      # EN or ER
T_TDCC = 13        # MDSCR_EL1.TDCC set: EL0 access to the DCC registers traps (no row
                   # uses it: QEMU 7.2 does not implement TDCC)

# MRS/MSR handlers (meta bits 16..23)
H_NONE = 0
H_SET = 1          # write ORs into the storage of the row named by `alias`
H_CLR = 2          # write clears bits in that storage
H_PMCR = 3
H_PMSWINC = 4
H_PMCCNTR = 5
H_PMEVCNTR = 6     # PMEVCNTR<n>_EL0 (n from the slot)
H_PMEVTYPER = 7    # PMEVTYPER<n>_EL0 and PMCCFILTR_EL0 (writes resync running counters)
H_PMXEVTYPER = 8   # PMEVTYPER<PMSELR.SEL> / PMCCFILTR when SEL = 31
H_PMXEVCNTR = 9    # PMEVCNTR<PMSELR.SEL>
H_CCSIDR = 10
H_ISR = 11
H_OSLAR = 12
H_DCZID = 13
H_TIMER = 14
H_PMCNTEN = 15     # PMCNTENSET/CLR (set/clear + counter resync)
H_GIC = 16         # the GIC's CPU interface (ICC_*): the board's model answers
                   # (sysreg_access.gic_sysreg: the MMIO callback at ops.SYSREG_IO + key)


class Row(NamedTuple):
    name: str
    enc: tuple
    kind: int
    reset: int
    wmask: int
    rel: int            # lowest EL that may read (NO: none)
    wel: int            # lowest EL that may write
    trap: int = T_NONE
    handler: int = H_NONE
    gate: str = ""
    migrate: bool = True
    gdb: bool = True
    alias: str = ""     # storage row of an alias


def key(op0, op1, crn, crm, op2):
    return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2


def _plain(name, enc, reset=0, wmask=ALL, rel=1, wel=1, **kw):
    return Row(name, enc, K_PLAIN, reset, wmask, rel, wel, **kw)


def _const(name, enc, reset=0, rel=1, **kw):
    kw.setdefault("migrate", False)
    return Row(name, enc, K_CONST, reset, 0, rel, NO, **kw)


def _special(name, enc, reset=0, wmask=0, rel=1, wel=1, **kw):
    return Row(name, enc, K_SPECIAL, reset, wmask, rel, wel, **kw)


def _alias(name, enc, of, handler, rel=1, wel=1, **kw):
    kw.setdefault("migrate", False)
    return Row(name, enc, K_ALIAS, 0, 0, rel, wel, handler=handler, alias=of, **kw)


# the AArch64 ID register space op0=3 op1=0 CRn=0 CRm=1..7: architected names; every
# other encoding there is reserved, reads as zero at EL1 (rows with generic names)
_ID_SPACE = {
    1: ("ID_PFR0_EL1", "ID_PFR1_EL1", "ID_DFR0_EL1", "ID_AFR0_EL1",
        "ID_MMFR0_EL1", "ID_MMFR1_EL1", "ID_MMFR2_EL1", "ID_MMFR3_EL1"),
    2: ("ID_ISAR0_EL1", "ID_ISAR1_EL1", "ID_ISAR2_EL1", "ID_ISAR3_EL1",
        "ID_ISAR4_EL1", "ID_ISAR5_EL1", "ID_MMFR4_EL1", "ID_ISAR6_EL1"),
    3: ("MVFR0_EL1", "MVFR1_EL1", "MVFR2_EL1", None,
        "ID_PFR2_EL1", "ID_DFR1_EL1", "ID_MMFR5_EL1", None),
    4: ("ID_AA64PFR0_EL1", "ID_AA64PFR1_EL1", "ID_AA64PFR2_EL1", None,
        "ID_AA64ZFR0_EL1", "ID_AA64SMFR0_EL1", None, "ID_AA64FPFR0_EL1"),
    5: ("ID_AA64DFR0_EL1", "ID_AA64DFR1_EL1", "ID_AA64DFR2_EL1", None,
        "ID_AA64AFR0_EL1", "ID_AA64AFR1_EL1", None, None),
    6: ("ID_AA64ISAR0_EL1", "ID_AA64ISAR1_EL1", "ID_AA64ISAR2_EL1", "ID_AA64ISAR3_EL1",
        None, None, None, None),
    7: ("ID_AA64MMFR0_EL1", "ID_AA64MMFR1_EL1", "ID_AA64MMFR2_EL1", "ID_AA64MMFR3_EL1",
        "ID_AA64MMFR4_EL1", None, None, None),
}


def _id_space():
    rows = []
    for crm in range(1, 8):
        for op2, name in enumerate(_ID_SPACE[crm]):
            rows.append(_const(name or f"S3_0_C0_C{crm}_{op2}", (3, 0, 0, crm, op2),
                               gdb=name is not None))
    return tuple(rows)


PMU_N = 6          # event counters of cortex-a53/a57/a72 (PMCR_EL0.N)
PMU_MASK = 0x80000000 | ((1 << PMU_N) - 1)


DBG_NBP = 6        # breakpoint and watchpoint register pairs (ID_AA64DFR0_EL1 BRPs/WRPs of
DBG_NWP = 4        # every model here; cpu/debug.py reads the counts from the register)


def _debug():
    rows = [
        # OS lock and the breakpoint/watchpoint registers, 6 + 4 as ID_AA64DFR0_EL1 says;
        # QEMU 7.2 keeps all 64 bits of BVR/BCR/WCR, WVR[1:0] RES0.  They act (cpu/debug.py)
        # in the machine types with the debug architecture; before those they are stored
        # and never hit
        _special("OSLAR_EL1", (2, 0, 1, 0, 4), 0, 1, NO, 1, handler=H_OSLAR, migrate=False,
                 gdb=False),                                   # write-only: OSLSR.OSLK
        _special("OSLSR_EL1", (2, 0, 1, 1, 4), 0xA, 0, 1, NO),
        _plain("OSDLR_EL1", (2, 0, 1, 3, 4), 0, 1),
        _const("MDRAR_EL1", (2, 0, 1, 0, 0)),
        _plain("MDCCINT_EL1", (2, 0, 0, 2, 0)),
        # EL0 may read it; QEMU 7.2 ignores MDSCR_EL1.TDCC (T_TDCC), so do we
        _const("MDCCSR_EL0", (2, 3, 0, 1, 0), rel=0),
    ]
    for n in range(DBG_NBP):
        rows.append(_plain(f"DBGBVR{n}_EL1", (2, 0, 0, n, 4)))
        rows.append(_plain(f"DBGBCR{n}_EL1", (2, 0, 0, n, 5)))
    for n in range(DBG_NWP):
        rows.append(_plain(f"DBGWVR{n}_EL1", (2, 0, 0, n, 6), wmask=ALL & ~3))
        rows.append(_plain(f"DBGWCR{n}_EL1", (2, 0, 0, n, 7)))
    return tuple(rows)


def _pmu():
    """PMUv3 as QEMU 7.2 shows it on these cores: PMCR_EL0.N = 6 event counters (32-bit)
    and the cycle counter.  PMCCNTR counts virtual nanoseconds (QEMU: cycles at 1 GHz
    of its virtual clock; ours is instructions retired << icount shift + idle time, so
    it is deterministic); PMCCNTR/PMEVCNTR<n> count while PMCR_EL0.E and their
    PMCNTENSET bit are set (event counters only for CPU_CYCLES 0x11; SW_INCR 0x00
    counts PMSWINC writes).  PMCEID0 advertises SW_INCR and CPU_CYCLES only (QEMU
    without -icount has no INST_RETIRED).  The EL filters (PMCCFILTR/PMEVTYPER P, U)
    are stored but do not stop a running cycle count.  No overflow interrupt, and no
    overflow flag for a counter that wraps while counting cycles (SW_INCR sets it).
    A running counter's storage holds ticks - value (sysreg_access.pmu_get): saved raw with
    the instruction count and idle time, it restores exactly."""
    rows = [
        _special("PMCR_EL0", (3, 3, 9, 12, 0), 0, 0xF9, 0, 0, trap=T_PMU, handler=H_PMCR),
        _plain("PMCNTENSET_EL0", (3, 3, 9, 12, 1), 0, PMU_MASK, 0, 0, trap=T_PMU,
               handler=H_PMCNTEN),
        _alias("PMCNTENCLR_EL0", (3, 3, 9, 12, 2), "PMCNTENSET_EL0", H_PMCNTEN, 0, 0,
               trap=T_PMU),
        _plain("PMOVSSET_EL0", (3, 3, 9, 14, 3), 0, PMU_MASK, 0, 0, trap=T_PMU,
               handler=H_SET),
        _alias("PMOVSCLR_EL0", (3, 3, 9, 12, 3), "PMOVSSET_EL0", H_CLR, 0, 0, trap=T_PMU),
        _plain("PMINTENSET_EL1", (3, 0, 9, 14, 1), 0, PMU_MASK, handler=H_SET),
        _alias("PMINTENCLR_EL1", (3, 0, 9, 14, 2), "PMINTENSET_EL1", H_CLR),
        _special("PMSWINC_EL0", (3, 3, 9, 12, 4), 0, 0, NO, 0, trap=T_PMSWINC,
                 handler=H_PMSWINC, migrate=False, gdb=False),      # write-only
        _plain("PMSELR_EL0", (3, 3, 9, 12, 5), 0, 0x1F, 0, 0, trap=T_PMSELR),
        _const("PMCEID0_EL0", (3, 3, 9, 12, 6), 0x20001, rel=0, trap=T_PMU),
        _const("PMCEID1_EL0", (3, 3, 9, 12, 7), 0, rel=0, trap=T_PMU),
        _special("PMCCNTR_EL0", (3, 3, 9, 13, 0), 0, ALL, 0, 0, trap=T_PMCCNTR,
                 handler=H_PMCCNTR),
        _alias("PMXEVTYPER_EL0", (3, 3, 9, 13, 1), "PMSELR_EL0", H_PMXEVTYPER, 0, 0,
               trap=T_PMU),
        _alias("PMXEVCNTR_EL0", (3, 3, 9, 13, 2), "PMSELR_EL0", H_PMXEVCNTR, 0, 0,
               trap=T_PMEVCNTR),
        _plain("PMUSERENR_EL0", (3, 3, 9, 14, 0), 0, 0xF, 0, 1),
        _plain("PMCCFILTR_EL0", (3, 3, 14, 15, 7), 0, 0xFC000000, 0, 0, trap=T_PMU,
               handler=H_PMEVTYPER),
    ]
    for n in range(PMU_N):
        rows.append(_special(f"PMEVCNTR{n}_EL0", (3, 3, 14, 8 + (n >> 3), n & 7), 0,
                             0xFFFFFFFF, 0, 0, trap=T_PMEVCNTR, handler=H_PMEVCNTR))
    for n in range(PMU_N):
        rows.append(_plain(f"PMEVTYPER{n}_EL0", (3, 3, 14, 12 + (n >> 3), n & 7), 0,
                           0xFE00FFFF, 0, 0, trap=T_PMU, handler=H_PMEVTYPER))
    return tuple(rows)


# IMPLEMENTATION DEFINED registers QEMU 7.2 gives cortex-a53/a57/a72 (gate "a5x-impdef"):
# RAZ/WI, except CBAR_EL1 (read-only: the base of the GIC/private peripherals, which
# QEMU's virt board sets to its GIC distributor address; a machine type may override
# the row's reset by name)
_IMPDEF = (
    _plain("L2CTLR_EL1", (3, 1, 11, 0, 2), 0, 0, gate="a5x-impdef"),   # (cores - 1) << 24
    _plain("L2ECTLR_EL1", (3, 1, 11, 0, 3), 0, 0, gate="a5x-impdef"),
    _plain("L2ACTLR_EL1", (3, 1, 15, 0, 0), 0, 0, gate="a5x-impdef"),
    _plain("CPUACTLR_EL1", (3, 1, 15, 2, 0), 0, 0, gate="a5x-impdef"),
    _plain("CPUECTLR_EL1", (3, 1, 15, 2, 1), 0, 0, gate="a5x-impdef"),
    _plain("CPUMERRSR_EL1", (3, 1, 15, 2, 2), 0, 0, gate="a5x-impdef"),
    _plain("L2MERRSR_EL1", (3, 1, 15, 2, 3), 0, 0, gate="a5x-impdef"),
    _const("CBAR_EL1", (3, 1, 15, 3, 0), 0x08000000, gate="a5x-impdef"),
)



# gates a board gives its CPUs (not a CPU model's): the GICv3's CPU interface
GATE_GICV3, GATE_GICV3_APR4 = "gicv3", "gicv3-apr4"
BOARD_GATES = (GATE_GICV3, GATE_GICV3_APR4)


def _gicv3():
    """The GICv3 CPU interface's registers (ICC_*_EL1), present when the board has a
    GICv3 (gate "gicv3"; ICC_AP<n>R1..3 only with 7 preemption bits, gate "gicv3-apr4").
    Every access goes to the board's GIC model (H_GIC), which holds their state (its
    snapshot section, not cpu0's) and knows which CPU asks; reads of IAR acknowledge,
    so none of them is read for dumps or gdb.  EL0 has no access to any of them."""
    def icc(name, enc, rel=1, wel=1, gate=GATE_GICV3):
        return Row(name, (3, 0) + enc, K_SPECIAL, 0, 0, rel, wel, handler=H_GIC, gate=gate,
                   migrate=False, gdb=False)
    rows = [icc("ICC_PMR_EL1", (4, 6, 0)),
            icc("ICC_IAR0_EL1", (12, 8, 0), wel=NO), icc("ICC_EOIR0_EL1", (12, 8, 1), rel=NO),
            icc("ICC_HPPIR0_EL1", (12, 8, 2), wel=NO), icc("ICC_BPR0_EL1", (12, 8, 3))]
    for n in range(4):
        g = GATE_GICV3 if n == 0 else GATE_GICV3_APR4
        rows += [icc(f"ICC_AP0R{n}_EL1", (12, 8, 4 + n), gate=g),
                 icc(f"ICC_AP1R{n}_EL1", (12, 9, n), gate=g)]
    rows += [icc("ICC_DIR_EL1", (12, 11, 1), rel=NO), icc("ICC_RPR_EL1", (12, 11, 3), wel=NO),
             icc("ICC_SGI1R_EL1", (12, 11, 5), rel=NO), icc("ICC_ASGI1R_EL1", (12, 11, 6), rel=NO),
             icc("ICC_SGI0R_EL1", (12, 11, 7), rel=NO),
             icc("ICC_IAR1_EL1", (12, 12, 0), wel=NO), icc("ICC_EOIR1_EL1", (12, 12, 1), rel=NO),
             icc("ICC_HPPIR1_EL1", (12, 12, 2), wel=NO), icc("ICC_BPR1_EL1", (12, 12, 3)),
             icc("ICC_CTLR_EL1", (12, 12, 4)), icc("ICC_SRE_EL1", (12, 12, 5)),
             icc("ICC_IGRPEN0_EL1", (12, 12, 6)), icc("ICC_IGRPEN1_EL1", (12, 12, 7))]
    return tuple(rows)


ROWS = (
    # --- registers the executor touches directly come first ---
    _special("SP_EL0", (3, 0, 4, 1, 0), 0, ALL),
    _special("SP_EL1", (3, 4, 4, 1, 0), 0, ALL, NO, NO),       # EL2+ only
    _plain("ELR_EL1", (3, 0, 4, 0, 1)),
    # SPSR/ESR/CONTEXTIDR/TCR/MDSCR/CPACR keep every bit written, as QEMU 7.2 does
    _plain("SPSR_EL1", (3, 0, 4, 0, 0)),
    _plain("ESR_EL1", (3, 0, 5, 2, 0)),
    _plain("FAR_EL1", (3, 0, 6, 0, 0)),
    _plain("VBAR_EL1", (3, 0, 12, 0, 0), 0, 0xFFFFFFFFFFFFFFE0),  # QEMU: bits 4:0 RES0
    # QEMU 7.2 keeps every bit but the MTE ones (ITFSB, TCF0, TCF, ATA0, ATA: 43:37)
    _plain("SCTLR_EL1", (3, 0, 1, 0, 0), 0x00C50838, ALL & ~(0x7F << 37)),
    _plain("CPACR_EL1", (3, 0, 1, 0, 2)),
    _special("NZCV", (3, 3, 4, 2, 0), 0, 0xF0000000, 0, 0, migrate=False),   # PSTATE
    _special("DAIF", (3, 3, 4, 2, 1), 0x3C0, 0x3C0, 0, 0, trap=T_UMA, migrate=False),
    _special("CurrentEL", (3, 0, 4, 2, 2), 0, 0, 1, NO, migrate=False),
    _special("SPSel", (3, 0, 4, 2, 0), 1, 1, migrate=False),
    _plain("FPCR", (3, 3, 4, 4, 0), 0, 0x07F70000, 0, 0),       # no FP16, no FP traps
    _plain("FPSR", (3, 3, 4, 4, 1), 0, 0xF800009F, 0, 0),
    _plain("CNTFRQ_EL0", (3, 3, 14, 0, 0), 62500000, ALL, 0, 1, trap=T_CNTFRQ),
    _special("CNTVCT_EL0", (3, 3, 14, 0, 2), 0, 0, 0, NO, trap=T_CNTVCT, migrate=False),
    _special("CNTPCT_EL0", (3, 3, 14, 0, 1), 0, 0, 0, NO, trap=T_CNTPCT, migrate=False),
    _const("DCZID_EL0", (3, 3, 0, 0, 7), rel=0, handler=H_DCZID),
    _const("CTR_EL0", (3, 3, 0, 0, 1), rel=0, trap=T_UCT),
    _plain("TPIDR_EL0", (3, 3, 13, 0, 2), 0, ALL, 0, 0),
    _plain("TPIDRRO_EL0", (3, 3, 13, 0, 3), 0, ALL, 0, 1),
    _plain("TPIDR_EL1", (3, 0, 13, 0, 4)),
    _plain("CONTEXTIDR_EL1", (3, 0, 13, 0, 1)),
    _const("MIDR_EL1", (3, 0, 0, 0, 0)),
    _const("MPIDR_EL1", (3, 0, 0, 0, 5), 0x80000000),
    _const("REVIDR_EL1", (3, 0, 0, 0, 6)),
    _const("CLIDR_EL1", (3, 1, 0, 0, 1)),
    _const("AIDR_EL1", (3, 1, 0, 0, 7)),
    _plain("TCR_EL1", (3, 0, 2, 0, 2)),
    _plain("TTBR0_EL1", (3, 0, 2, 0, 0)),
    _plain("TTBR1_EL1", (3, 0, 2, 0, 1)),
    _plain("MAIR_EL1", (3, 0, 10, 2, 0)),
    _plain("AMAIR_EL1", (3, 0, 10, 3, 0), 0, 0),                # RAZ/WI (QEMU)
    _plain("AFSR0_EL1", (3, 0, 5, 1, 0), 0, 0),
    _plain("AFSR1_EL1", (3, 0, 5, 1, 1), 0, 0),
    _plain("PAR_EL1", (3, 0, 7, 4, 0)),
    _plain("MDSCR_EL1", (2, 0, 0, 2, 2)),
    _plain("CSSELR_EL1", (3, 2, 0, 0, 0), 0, 0xF),
    _plain("CNTKCTL_EL1", (3, 0, 14, 1, 0)),                    # QEMU keeps all 64 bits
    # generic timers: CTL keeps ENABLE/IMASK (ISTATUS is computed on read), TVAL is a
    # view of CVAL - counter; a write makes the run loop exit so the board re-derives
    # the interrupt line and the next deadline (cpu/timer.py).  Contiguous rows.
    _plain("CNTP_CTL_EL0", (3, 3, 14, 2, 1), 0, 3, 0, 0, trap=T_CNTP, handler=H_TIMER),
    _plain("CNTP_CVAL_EL0", (3, 3, 14, 2, 2), 0, ALL, 0, 0, trap=T_CNTP, handler=H_TIMER),
    _special("CNTP_TVAL_EL0", (3, 3, 14, 2, 0), 0, 0, 0, 0, trap=T_CNTP, handler=H_TIMER,
             migrate=False),
    _plain("CNTV_CTL_EL0", (3, 3, 14, 3, 1), 0, 3, 0, 0, trap=T_CNTV, handler=H_TIMER),
    _plain("CNTV_CVAL_EL0", (3, 3, 14, 3, 2), 0, ALL, 0, 0, trap=T_CNTV, handler=H_TIMER),
    _special("CNTV_TVAL_EL0", (3, 3, 14, 3, 0), 0, 0, 0, 0, trap=T_CNTV, handler=H_TIMER,
             migrate=False),
    _plain("ACTLR_EL1", (3, 0, 1, 0, 1), 0, 0),                 # IMPLEMENTATION DEFINED: RAZ/WI
    _const("RVBAR_EL1", (3, 0, 12, 0, 1)),                      # EL1 is the highest EL
    # CCSIDR_EL1: the value for CSSELR_EL1 = 0; the L1I and L2 values are packed in
    # the row's wmask column (a const register has no writable bits), see build()
    _const("CCSIDR_EL1", (3, 1, 0, 0, 0), handler=H_CCSIDR),
    _special("ISR_EL1", (3, 0, 12, 1, 0), 0, 0, 1, NO, handler=H_ISR, migrate=False),
) + _id_space() + _debug() + _pmu() + _IMPDEF + _gicv3()

NAMES = tuple(r[0] for r in ROWS)
SLOT = {r[0]: i for i, r in enumerate(ROWS)}
NSLOTS = len(ROWS)

# fixed slots the executor uses (module-level ints become numba constants)
S_SP_EL0 = SLOT["SP_EL0"]
S_SP_EL1 = SLOT["SP_EL1"]
S_ELR_EL1 = SLOT["ELR_EL1"]
S_SPSR_EL1 = SLOT["SPSR_EL1"]
S_ESR_EL1 = SLOT["ESR_EL1"]
S_FAR_EL1 = SLOT["FAR_EL1"]
S_VBAR_EL1 = SLOT["VBAR_EL1"]
S_SCTLR_EL1 = SLOT["SCTLR_EL1"]
S_NZCV = SLOT["NZCV"]
S_DAIF = SLOT["DAIF"]
S_CURRENTEL = SLOT["CurrentEL"]
S_SPSEL = SLOT["SPSel"]
S_CNTVCT = SLOT["CNTVCT_EL0"]
S_CNTPCT = SLOT["CNTPCT_EL0"]
S_CNTFRQ = SLOT["CNTFRQ_EL0"]
S_CPACR_EL1 = SLOT["CPACR_EL1"]
S_FPCR = SLOT["FPCR"]
S_FPSR = SLOT["FPSR"]
S_CTR_EL0 = SLOT["CTR_EL0"]
S_DCZID_EL0 = SLOT["DCZID_EL0"]
S_CNTKCTL_EL1 = SLOT["CNTKCTL_EL1"]
S_PAR_EL1 = SLOT["PAR_EL1"]
S_CSSELR_EL1 = SLOT["CSSELR_EL1"]
S_CCSIDR_EL1 = SLOT["CCSIDR_EL1"]
S_ISR_EL1 = SLOT["ISR_EL1"]
S_OSLAR_EL1 = SLOT["OSLAR_EL1"]
S_OSLSR_EL1 = SLOT["OSLSR_EL1"]
S_CNTP_CTL = SLOT["CNTP_CTL_EL0"]
S_CNTP_CVAL = SLOT["CNTP_CVAL_EL0"]
S_CNTP_TVAL = SLOT["CNTP_TVAL_EL0"]
S_CNTV_CTL = SLOT["CNTV_CTL_EL0"]
S_CNTV_CVAL = SLOT["CNTV_CVAL_EL0"]
S_CNTV_TVAL = SLOT["CNTV_TVAL_EL0"]
assert S_CNTV_TVAL - S_CNTP_CTL == 5    # system.sysreg tests the timer rows as one range
# the stage-1 MMU's registers
S_TCR_EL1 = SLOT["TCR_EL1"]
S_TTBR0_EL1 = SLOT["TTBR0_EL1"]
S_TTBR1_EL1 = SLOT["TTBR1_EL1"]
S_MAIR_EL1 = SLOT["MAIR_EL1"]
S_ID_AA64MMFR0_EL1 = SLOT["ID_AA64MMFR0_EL1"]
S_MDSCR_EL1 = SLOT["MDSCR_EL1"]
# the debug architecture's registers (cpu/debug.py): BVR<n>/BCR<n> and WVR<n>/WCR<n> pairs
S_OSDLR_EL1 = SLOT["OSDLR_EL1"]
S_CONTEXTIDR_EL1 = SLOT["CONTEXTIDR_EL1"]
S_ID_AA64DFR0_EL1 = SLOT["ID_AA64DFR0_EL1"]
S_DBGBVR0 = SLOT["DBGBVR0_EL1"]
S_DBGWVR0 = SLOT["DBGWVR0_EL1"]
S_DBG_LAST = SLOT[f"DBGWCR{DBG_NWP - 1}_EL1"]
assert all(SLOT[f"DBGBVR{n}_EL1"] == S_DBGBVR0 + 2 * n and SLOT[f"DBGBCR{n}_EL1"] == S_DBGBVR0 + 2 * n + 1
           for n in range(DBG_NBP))
assert all(SLOT[f"DBGWVR{n}_EL1"] == S_DBGWVR0 + 2 * n and SLOT[f"DBGWCR{n}_EL1"] == S_DBGWVR0 + 2 * n + 1
           for n in range(DBG_NWP))
assert S_OSLAR_EL1 < S_OSDLR_EL1 < S_DBGBVR0 < S_DBG_LAST   # (one range: debug.touches)
S_PMCR = SLOT["PMCR_EL0"]
S_PMCNTENSET = SLOT["PMCNTENSET_EL0"]
S_PMOVSSET = SLOT["PMOVSSET_EL0"]
S_PMSELR = SLOT["PMSELR_EL0"]
S_PMUSERENR = SLOT["PMUSERENR_EL0"]
S_PMCCNTR = SLOT["PMCCNTR_EL0"]
S_PMCCFILTR = SLOT["PMCCFILTR_EL0"]
S_PMEVCNTR0 = SLOT["PMEVCNTR0_EL0"]
S_PMEVTYPER0 = SLOT["PMEVTYPER0_EL0"]
assert all(SLOT[f"PMEVCNTR{n}_EL0"] == S_PMEVCNTR0 + n for n in range(PMU_N))
assert all(SLOT[f"PMEVTYPER{n}_EL0"] == S_PMEVTYPER0 + n for n in range(PMU_N))

# sysr columns
R_VAL, R_WMASK, R_META, R_RESET = 0, 1, 2, 3


# meta fields
M_KIND_SHIFT, M_REL_SHIFT, M_WEL_SHIFT, M_TRAP_SHIFT, M_HANDLER_SHIFT = 0, 4, 6, 8, 16
M_ALIAS_SHIFT = 24     # storage slot: the aliased row's, or the row's own


def meta(row, slot):
    tgt = SLOT[row.alias] if row.alias else slot
    return (row.kind | (row.rel << M_REL_SHIFT) | (row.wel << M_WEL_SHIFT)
            | (row.trap << M_TRAP_SHIFT) | (row.handler << M_HANDLER_SHIFT)
            | (tgt << M_ALIAS_SHIFT))


def present(row, model):
    """Does the row exist on this CPU model (its gate)?"""
    return not row.gate or row.gate in getattr(model, "sysreg_gates", ())


def build(model, overrides=None):
    """Dense arrays for one CPU: (sysmap, sysr).  `overrides` maps a register
    name to a dict with optional 'reset' and 'wmask' (machine-type deltas).
    A CPU model's value for a register (model.idregs) replaces the row's reset."""
    overrides = overrides or {}
    unknown = set(overrides) - set(SLOT)
    if unknown:
        raise ValueError(f"sysreg overrides name unknown registers: {sorted(unknown)}")
    sysmap = np.full(65536, -1, dtype=np.int32)
    sysr = np.zeros((NSLOTS, 4), dtype=np.uint64)
    for i, row in enumerate(ROWS):
        name = row.name
        reset, wmask = row.reset, row.wmask
        if name in model.idregs:
            reset = model.idregs[name]
        o = overrides.get(name, {})
        reset = o.get("reset", reset)
        wmask = o.get("wmask", wmask)
        if name == "CCSIDR_EL1":
            wmask = (model.id("CCSIDR_EL1:1") << 32) | model.id("CCSIDR_EL1:2")
        sysr[i, R_VAL] = reset
        sysr[i, R_RESET] = reset
        sysr[i, R_WMASK] = wmask
        sysr[i, R_META] = meta(row, i)
        if present(row, model):
            sysmap[key(*row.enc)] = i
    return sysmap, sysr


_BY_LOWER = {r.name.lower(): r for r in ROWS}
_BY_KEY = {}
for _r in ROWS:
    _k = key(*_r.enc)
    if _k in _BY_KEY:
        raise ValueError(f"sysreg encoding clash: {_r.name} and {_BY_KEY[_k].name}")
    _BY_KEY[_k] = _r
    if _r.alias and _r.alias not in SLOT:
        raise ValueError(f"{_r.name}: alias of unknown register {_r.alias}")
del _r, _k

NAME_RE = re.compile(r"^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_EL[0-3]|S3_0_C0_C[1-7]_[0-7]"
                     r"|NZCV|DAIF|CurrentEL|SPSel|FPCR|FPSR)$")


def find(name):
    """Row for a register name (case-insensitive), or None."""
    return _BY_LOWER.get(name.lower())


def by_key(k):
    """Row for a 16-bit encoding key, or None."""
    return _BY_KEY.get(k)


def enc_name(enc):
    """Generic assembler spelling of an encoding: S3_0_C0_C3_3."""
    return "S{}_{}_C{}_C{}_{}".format(*enc)
