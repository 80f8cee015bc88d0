"""System registers: one table, rows as data.

Each row: name (Arm ARM spelling), encoding (op0, op1, CRn, CRm, op2), kind,
reset value, writable mask, and the lowest EL allowed to read / write.

kinds
  plain   storage with a writable mask (bits outside it keep their reset value)
  const   value comes from the CPU model's ID registers (never state)
  special handled in code (NZCV, DAIF, CurrentEL, SPSel, SP_EL0, counters, ...)

The executor reads dense arrays built from these rows:
  sysmap  int32[65536]   16-bit encoding key -> slot (or -1: UNDEF)
  sysr    uint64[N, 4]   per slot: value, writable mask, meta, reset
where meta = kind | min_read_el << 4 | min_write_el << 6 (3 = no access).
Snapshots, dumps and the schema use the *names*, never slots or encodings.
"""
import numpy as np

K_PLAIN, K_CONST, K_SPECIAL = 0, 1, 2
NO = 3  # "no EL may do this"
ALL = (1 << 64) - 1


def key(op0, op1, crn, crm, op2):
    return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2


# name, (op0, op1, crn, crm, op2), kind, reset, wmask, read EL, write EL
ROWS = (
    # --- registers the executor touches directly come first (fixed order) ---
    ("SP_EL0",      (3, 0, 4, 1, 0), K_SPECIAL, 0, ALL, 1, 1),
    ("SP_EL1",      (3, 4, 4, 1, 0), K_SPECIAL, 0, ALL, NO, NO),   # EL2+ only
    ("ELR_EL1",     (3, 0, 4, 0, 1), K_PLAIN, 0, ALL, 1, 1),
    # SPSR/ESR/CONTEXTIDR/TCR/MDSCR/CPACR keep every bit written, as QEMU 7.2 does
    ("SPSR_EL1",    (3, 0, 4, 0, 0), K_PLAIN, 0, ALL, 1, 1),
    ("ESR_EL1",     (3, 0, 5, 2, 0), K_PLAIN, 0, ALL, 1, 1),
    ("FAR_EL1",     (3, 0, 6, 0, 0), K_PLAIN, 0, ALL, 1, 1),
    ("VBAR_EL1",    (3, 0, 12, 0, 0), K_PLAIN, 0, 0xFFFFFFFFFFFFFFE0, 1, 1),   # QEMU: bits 4:0 RES0
    ("SCTLR_EL1",   (3, 0, 1, 0, 0), K_PLAIN, 0x00C50838, 0x000000003E3FFF7F, 1, 1),
    ("CPACR_EL1",   (3, 0, 1, 0, 2), K_PLAIN, 0, ALL, 1, 1),
    ("NZCV",        (3, 3, 4, 2, 0), K_SPECIAL, 0, 0xF0000000, 0, 0),
    ("DAIF",        (3, 3, 4, 2, 1), K_SPECIAL, 0x3C0, 0x3C0, 0, 0),
    ("CurrentEL",   (3, 0, 4, 2, 2), K_SPECIAL, 0, 0, 1, NO),
    ("SPSel",       (3, 0, 4, 2, 0), K_SPECIAL, 1, 1, 1, 1),
    ("FPCR",        (3, 3, 4, 4, 0), K_PLAIN, 0, 0x07F70000, 0, 0),   # no FP16, no FP traps
    ("FPSR",        (3, 3, 4, 4, 1), K_PLAIN, 0, 0xF800009F, 0, 0),
    ("CNTFRQ_EL0",  (3, 3, 14, 0, 0), K_PLAIN, 62500000, 0xFFFFFFFF, 0, 1),
    ("CNTVCT_EL0",  (3, 3, 14, 0, 2), K_SPECIAL, 0, 0, 0, NO),
    ("CNTPCT_EL0",  (3, 3, 14, 0, 1), K_SPECIAL, 0, 0, 0, NO),
    ("DCZID_EL0",   (3, 3, 0, 0, 7), K_CONST, 0, 0, 0, NO),
    ("CTR_EL0",     (3, 3, 0, 0, 1), K_CONST, 0, 0, 0, NO),
    ("TPIDR_EL0",   (3, 3, 13, 0, 2), K_PLAIN, 0, ALL, 0, 0),
    ("TPIDRRO_EL0", (3, 3, 13, 0, 3), K_PLAIN, 0, ALL, 0, 1),
    ("TPIDR_EL1",   (3, 0, 13, 0, 4), K_PLAIN, 0, ALL, 1, 1),
    ("CONTEXTIDR_EL1", (3, 0, 13, 0, 1), K_PLAIN, 0, ALL, 1, 1),
    ("MIDR_EL1",    (3, 0, 0, 0, 0), K_CONST, 0, 0, 1, NO),
    ("MPIDR_EL1",   (3, 0, 0, 0, 5), K_CONST, 0x80000000, 0, 1, NO),
    ("REVIDR_EL1",  (3, 0, 0, 0, 6), K_CONST, 0, 0, 1, NO),
    ("ID_AA64PFR0_EL1", (3, 0, 0, 4, 0), K_CONST, 0, 0, 1, NO),
    ("ID_AA64PFR1_EL1", (3, 0, 0, 4, 1), K_CONST, 0, 0, 1, NO),
    ("ID_AA64DFR0_EL1", (3, 0, 0, 5, 0), K_CONST, 0, 0, 1, NO),
    ("ID_AA64DFR1_EL1", (3, 0, 0, 5, 1), K_CONST, 0, 0, 1, NO),
    ("ID_AA64AFR0_EL1", (3, 0, 0, 5, 4), K_CONST, 0, 0, 1, NO),
    ("ID_AA64AFR1_EL1", (3, 0, 0, 5, 5), K_CONST, 0, 0, 1, NO),
    ("ID_AA64ISAR0_EL1", (3, 0, 0, 6, 0), K_CONST, 0, 0, 1, NO),
    ("ID_AA64ISAR1_EL1", (3, 0, 0, 6, 1), K_CONST, 0, 0, 1, NO),
    ("ID_AA64MMFR0_EL1", (3, 0, 0, 7, 0), K_CONST, 0, 0, 1, NO),
    ("ID_AA64MMFR1_EL1", (3, 0, 0, 7, 1), K_CONST, 0, 0, 1, NO),
    ("ID_AA64MMFR2_EL1", (3, 0, 0, 7, 2), K_CONST, 0, 0, 1, NO),
    ("CLIDR_EL1",   (3, 1, 0, 0, 1), K_CONST, 0, 0, 1, NO),
    ("AIDR_EL1",    (3, 1, 0, 0, 7), K_CONST, 0, 0, 1, NO),
    ("TCR_EL1",     (3, 0, 2, 0, 2), K_PLAIN, 0, ALL, 1, 1),
    ("TTBR0_EL1",   (3, 0, 2, 0, 0), K_PLAIN, 0, ALL, 1, 1),
    ("TTBR1_EL1",   (3, 0, 2, 0, 1), K_PLAIN, 0, ALL, 1, 1),
    ("MAIR_EL1",    (3, 0, 10, 2, 0), K_PLAIN, 0, ALL, 1, 1),
    ("AMAIR_EL1",   (3, 0, 10, 3, 0), K_PLAIN, 0, 0, 1, 1),          # RAZ/WI (QEMU)
    ("AFSR0_EL1",   (3, 0, 5, 1, 0), K_PLAIN, 0, 0, 1, 1),
    ("AFSR1_EL1",   (3, 0, 5, 1, 1), K_PLAIN, 0, 0, 1, 1),
    ("PAR_EL1",     (3, 0, 7, 4, 0), K_PLAIN, 0, ALL, 1, 1),
    ("MDSCR_EL1",   (2, 0, 0, 2, 2), K_PLAIN, 0, ALL, 1, 1),
    ("CSSELR_EL1",  (3, 2, 0, 0, 0), K_PLAIN, 0, 0xF, 1, 1),
    ("CNTKCTL_EL1", (3, 0, 14, 1, 0), K_PLAIN, 0, 0x3FF, 1, 1),       # EL0 counter/timer access
    # generic timers: CTL keeps ENABLE/IMASK (ISTATUS is computed on read), TVAL is a
    # view of CVAL - counter; a write makes the run loop exit so the board re-derives
    # the interrupt line and the next deadline (cpu/timer.py)
    ("CNTP_CTL_EL0",  (3, 3, 14, 2, 1), K_PLAIN, 0, 3, 0, 0),
    ("CNTP_CVAL_EL0", (3, 3, 14, 2, 2), K_PLAIN, 0, ALL, 0, 0),
    ("CNTP_TVAL_EL0", (3, 3, 14, 2, 0), K_SPECIAL, 0, 0, 0, 0),
    ("CNTV_CTL_EL0",  (3, 3, 14, 3, 1), K_PLAIN, 0, 3, 0, 0),
    ("CNTV_CVAL_EL0", (3, 3, 14, 3, 2), K_PLAIN, 0, ALL, 0, 0),
    ("CNTV_TVAL_EL0", (3, 3, 14, 3, 0), K_SPECIAL, 0, 0, 0, 0),
    ("ACTLR_EL1",   (3, 0, 1, 0, 1), K_PLAIN, 0, 0, 1, 1),            # IMPLEMENTATION DEFINED: RAZ/WI
    # AArch32 ID registers (the rest of the op0=3 op1=0 CRn=0 CRm=1..7 space is RAZ)
    ("ID_PFR0_EL1", (3, 0, 0, 1, 0), K_CONST, 0, 0, 1, NO),
    ("ID_PFR1_EL1", (3, 0, 0, 1, 1), K_CONST, 0, 0, 1, NO),
    ("ID_DFR0_EL1", (3, 0, 0, 1, 2), K_CONST, 0, 0, 1, NO),
    ("ID_AFR0_EL1", (3, 0, 0, 1, 3), K_CONST, 0, 0, 1, NO),
    ("ID_MMFR0_EL1", (3, 0, 0, 1, 4), K_CONST, 0, 0, 1, NO),
    ("ID_MMFR1_EL1", (3, 0, 0, 1, 5), K_CONST, 0, 0, 1, NO),
    ("ID_MMFR2_EL1", (3, 0, 0, 1, 6), K_CONST, 0, 0, 1, NO),
    ("ID_MMFR3_EL1", (3, 0, 0, 1, 7), K_CONST, 0, 0, 1, NO),
    ("ID_ISAR0_EL1", (3, 0, 0, 2, 0), K_CONST, 0, 0, 1, NO),
    ("ID_ISAR1_EL1", (3, 0, 0, 2, 1), K_CONST, 0, 0, 1, NO),
    ("ID_ISAR2_EL1", (3, 0, 0, 2, 2), K_CONST, 0, 0, 1, NO),
    ("ID_ISAR3_EL1", (3, 0, 0, 2, 3), K_CONST, 0, 0, 1, NO),
    ("ID_ISAR4_EL1", (3, 0, 0, 2, 4), K_CONST, 0, 0, 1, NO),
    ("ID_ISAR5_EL1", (3, 0, 0, 2, 5), K_CONST, 0, 0, 1, NO),
    ("MVFR0_EL1",   (3, 0, 0, 3, 0), K_CONST, 0, 0, 1, NO),
    ("MVFR1_EL1",   (3, 0, 0, 3, 1), K_CONST, 0, 0, 1, NO),
    ("MVFR2_EL1",   (3, 0, 0, 3, 2), K_CONST, 0, 0, 1, NO),
    # CCSIDR_EL1: the value for CSSELR_EL1 = 0; the L1I and L2 values are packed in
    # the row's wmask column (a const register has no writable bits), see build()
    ("CCSIDR_EL1",  (3, 1, 0, 0, 0), K_CONST, 0, 0, 1, NO),
    ("ISR_EL1",     (3, 0, 12, 1, 0), K_SPECIAL, 0, 0, 1, NO),   # pending IRQ/FIQ lines
    # OS lock and debug registers Linux resets at boot (no self-hosted debug yet:
    # breakpoints/watchpoints are stored, never hit).  Cortex-A57: 6 + 4 of them.
    ("OSLAR_EL1",   (2, 0, 1, 0, 4), K_SPECIAL, 0, 1, NO, 1),     # write-only: sets OSLSR.OSLK
    ("OSLSR_EL1",   (2, 0, 1, 1, 4), K_SPECIAL, 0xA, 0, 1, NO),
    ("OSDLR_EL1",   (2, 0, 1, 3, 4), K_PLAIN, 0, 1, 1, 1),
    ("DBGBVR0_EL1", (2, 0, 0, 0, 4), K_PLAIN, 0, ALL, 1, 1),
    ("DBGBCR0_EL1", (2, 0, 0, 0, 5), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGBVR1_EL1", (2, 0, 0, 1, 4), K_PLAIN, 0, ALL, 1, 1),
    ("DBGBCR1_EL1", (2, 0, 0, 1, 5), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGBVR2_EL1", (2, 0, 0, 2, 4), K_PLAIN, 0, ALL, 1, 1),
    ("DBGBCR2_EL1", (2, 0, 0, 2, 5), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGBVR3_EL1", (2, 0, 0, 3, 4), K_PLAIN, 0, ALL, 1, 1),
    ("DBGBCR3_EL1", (2, 0, 0, 3, 5), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGBVR4_EL1", (2, 0, 0, 4, 4), K_PLAIN, 0, ALL, 1, 1),
    ("DBGBCR4_EL1", (2, 0, 0, 4, 5), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGBVR5_EL1", (2, 0, 0, 5, 4), K_PLAIN, 0, ALL, 1, 1),
    ("DBGBCR5_EL1", (2, 0, 0, 5, 5), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGWVR0_EL1", (2, 0, 0, 0, 6), K_PLAIN, 0, ALL, 1, 1),
    ("DBGWCR0_EL1", (2, 0, 0, 0, 7), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGWVR1_EL1", (2, 0, 0, 1, 6), K_PLAIN, 0, ALL, 1, 1),
    ("DBGWCR1_EL1", (2, 0, 0, 1, 7), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGWVR2_EL1", (2, 0, 0, 2, 6), K_PLAIN, 0, ALL, 1, 1),
    ("DBGWCR2_EL1", (2, 0, 0, 2, 7), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("DBGWVR3_EL1", (2, 0, 0, 3, 6), K_PLAIN, 0, ALL, 1, 1),
    ("DBGWCR3_EL1", (2, 0, 0, 3, 7), K_PLAIN, 0, 0xFFFFFFFF, 1, 1),
    ("PMUSERENR_EL0", (3, 3, 9, 14, 0), K_PLAIN, 0, 0xF, 1, 1),  # no PMU yet: EL0 access UNDEF
)

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

# sysr columns
R_VAL, R_WMASK, R_META, R_RESET = 0, 1, 2, 3


def build(model, overrides=None):
    """Dense arrays for one CPU: (sysmap, sysr).  `overrides` maps a register
    name to a dict with optional 'reset' and 'wmask' (machine-type deltas)."""
    overrides = overrides or {}
    sysmap = np.full(65536, -1, dtype=np.int32)
    sysr = np.zeros((NSLOTS, 4), dtype=np.uint64)
    for i, (name, enc, kind, reset, wmask, rel, wel) in enumerate(ROWS):
        k = key(*enc)
        if sysmap[k] != -1:
            raise ValueError(f"sysreg encoding clash: {name} and {NAMES[sysmap[k]]}")
        sysmap[k] = i
        o = overrides.get(name, {})
        reset = o.get("reset", reset)
        wmask = o.get("wmask", wmask)
        if kind == K_CONST and name in model.idregs:
            reset = model.idregs[name]
        if name == "CCSIDR_EL1":
            wmask = (model.id("CCSIDR_EL1:1") << 32) | model.id("CCSIDR_EL1:2")
        sysr[i, R_VAL] = reset
        sysr[i, R_RESET] = reset
        sysr[i, R_WMASK] = wmask
        sysr[i, R_META] = kind | (rel << 4) | (wel << 6)
    return sysmap, sysr


def find(name):
    """Row for a register name (case-insensitive), or None."""
    for r in ROWS:
        if r[0].lower() == name.lower():
            return r
    return None
