"""Executor op ids, register slots and the layout of the control array.

The predecoder turns each A64 instruction into two uint64 words:

    w0 = op | rd << 10 | rn << 16 | rm << 22 | ra << 28 | aux << 34
    w1 = imm (64-bit)

Register operands are *slots*: 0..30 are X0..X30, ZR reads as zero, SP is the
current stack pointer, SINK absorbs writes to XZR.  The decoder resolves
register number 31 to ZR/SP/SINK so the executor never tests for 31.

Op ids are positions in ``OP_NAMES``; they are an in-memory detail only and
must never be written to a snapshot (snapshots store names, see DESIGN §5).
"""

# --- register slots -------------------------------------------------------
ZR = 31      # always reads 0
SP = 32      # current SP (SP_EL0 or SP_ELx, swapped on EL/SPSel change)
SINK = 33    # write sink for XZR destinations
# the FP/SIMD registers V0..V31 live in the same array: Vn's low 64 bits at
# VREG + 2n, high 64 bits at VREG + 2n + 1 (Cpu.vregs is a (32, 2) view of them)
VREG = 40
NREGS = VREG + 64

# --- ops --------------------------------------------------------------------
OP_NAMES = (
    "NONE",        # 0: cache slot not decoded yet (never produced by the decoder)
    "UNDEF",       # unallocated / not implemented on this CPU model
    "NOP",
    # data processing, immediate
    "ADDI",        # rd = rn + imm                     aux: W
    "ADDSI",       # rd = rn +/- imm, set flags        aux: W | SUB<<1
    "LOGI",        # rd = rn op imm                    aux: W | opc<<1 (and/orr/eor/ands)
    "MOVI",        # rd = imm
    "MOVK",        # rd = (rd & ~(0xffff<<sh)) | imm   aux: W | sh<<1
    "ADR",         # rd = pc + imm
    "ADRP",        # rd = (pc & ~0xfff) + imm
    "UBF",         # bitfield: aux: W | lsb<<1 | width<<8 | pos<<15
    "SBF",
    "BFM",
    "EXTR",        # aux: W | lsb<<1
    # data processing, register
    "ADDSR",       # add/sub shifted reg: aux: W | SUB<<1 | S<<2 | stype<<3 | amount<<5
    "ADDX",        # add/sub extended reg: aux: W | SUB<<1 | S<<2 | option<<3 | amount<<6
    "ADDR",        # plain 64-bit add, rm unshifted (hot)
    "LOGSR",       # logical shifted reg: aux: W | opc<<1 | N<<3 | stype<<4 | amount<<6
    "ADC",         # aux: W | SUB<<1 | S<<2
    "CCMP",        # aux: W | cond<<1 | nzcv<<5 | CMN<<9 | IMM<<10  (imm form: imm = value)
    "CSEL",        # aux: W | cond<<1 | kind<<5 (0 csel, 1 csinc, 2 csinv, 3 csneg)
    "SHIFTV",      # aux: W | type<<1
    "MADD",        # rd = ra +/- rn*rm   aux: W | SUB<<1
    "MADDL",       # aux: SUB | SIGNED<<1
    "MULH",        # aux: SIGNED
    "DIV",         # aux: W | SIGNED<<1
    "DP1",         # aux: W | kind<<1 (0 rbit,1 rev16,2 rev32,3 rev,4 clz,5 cls)
    "CRC32",       # aux: size_log2 | C<<2
    # branches
    "B",           # pc = imm (absolute target)
    "BL",
    "BCOND",       # aux: cond
    "CBZ",         # aux: W | NZ<<1
    "TBZ",         # aux: bit | NZ<<6
    "BR",          # aux: LINK
    "RET",
    # loads / stores
    "LD",          # imm offset: aux: size | sign<<2 | mode<<4
    "ST",          # imm offset: aux: size | mode<<4
    "LDRR",        # register offset: aux: size | sign<<2 | option<<4 | shift<<7
    "STRR",
    "LDLIT",       # aux: size | sign<<2; imm = absolute address
    "LDP",         # aux: size | sign<<2 | mode<<4
    "STP",
    "PRFM",        # prefetch: no-op
    # system / rare: executed in helpers outside the hot switch
    "EXCL",        # exclusives and acquire/release: aux describes the form
    "ATOMIC",      # LSE atomics
    "MRS",         # imm = sysreg key (op0:op1:CRn:CRm:op2)
    "MSR",
    "MSRI",        # MSR (immediate) to PSTATE fields: aux: field, imm: value
    "SYS",         # DC/IC/AT/TLBI: aux: key
    "BARRIER",
    "EXC",         # SVC/HVC/SMC/BRK/HLT: aux: kind, imm: imm16
    "ERET",
    "WFI",
    "WFE",
    "SEV",
    "CLREX",
    "LDT",         # LDTR/STTR and the b/h/sb/sh/sw forms (EL0 permissions at EL1):
    "STT",         # imm offset, aux: size | sign<<2
    "FPMEM",       # FP/SIMD register load/store (slow op): rd = Vt, ra = Vt2 (raw numbers),
                   # rn = base slot, rm = index slot; aux: log2 size | L<<3 | mode<<4 |
                   # kind<<6 (FK_*) | option<<8 | shift<<11; imm: offset
    "FPDP",        # floating point, scalar and Advanced SIMD (slow op, cpu/fpexec.py): the
                   # decoded fields, layout in cpu/isa/fp.py
    "SIMD",        # Advanced SIMD integer/bitwise data processing (slow op, cpu/simd_int.py):
                   # rd/rn/rm = raw V numbers; aux: see cpu/isa/simd.py
    # Advanced SIMD structure loads/stores, copy, modified immediate, permutes, EXT,
    # TBL/TBX and crypto (slow op, cpu/simd_perm.py simdx): aux = kind (cpu/isa/simdx.py
    # SX_*) | fields, imm = the kind's pre-digested fields
    "SIMDX",
)
for _i, _n in enumerate(OP_NAMES):
    globals()["OP_" + _n] = _i
NOPS = len(OP_NAMES)

# --- hot-loop variants -----------------------------------------------------------
# Specialised forms of common ops: cpu/hotloop.specialise() substitutes them right
# after predecode, so the hot loop's handlers do not branch on aux (size, sign,
# mode, SUB, the condition), and the executor's general path maps them back to the
# generic op with hotloop.generic() (aux is unchanged, except BCONDM's added mask).
# In-memory only, like every op id.  Grouped by generic op, in this order.
HOT_FIRST = 64
HOT_NAMES = (
    "LDX", "LDW", "LDH", "LDB",             # LD, offset mode, zero-extending: 64/32/16/8-bit
    "LDRRX", "LDRRW", "LDRRH", "LDRRB",     # LDRR, zero-extending: 64/32/16/8-bit
    "SUBSI64", "SUBSI32",                   # ADDSI with SUB (CMP/SUBS immediate)
    "BCONDM",                               # BCOND; aux = cond | (16-bit NZCV truth mask) << 4
    "DCZVA",                                # SYS with the key of DC ZVA
)
assert HOT_FIRST >= NOPS
for _i, _n in enumerate(HOT_NAMES):
    globals()["OP_" + _n] = HOT_FIRST + _i

# load/store addressing modes (aux field "mode")
MODE_OFF, MODE_PRE, MODE_POST = 0, 1, 2
# sign-extension kinds for loads
SX_NONE, SX_64, SX_32 = 0, 1, 2

# FPMEM kinds
FK_IMM, FK_REG, FK_LIT, FK_PAIR = 0, 1, 2, 3

# EXC kinds
EXC_SVC, EXC_HVC, EXC_SMC, EXC_BRK, EXC_HLT = 1, 2, 3, 4, 5

# --- control array layout ---------------------------------------------------
CTL_SIZE = 64
C_PC = 0
C_NZCV = 1          # N<<3 | Z<<2 | C<<1 | V
C_ICOUNT = 2        # instructions retired since reset
C_EXIT = 3          # exit code of the last run()
C_EXIT_A = 4        # exit details
C_EXIT_B = 5
C_EXIT_C = 6
C_EL = 7            # current exception level
C_SPSEL = 8
C_DAIF = 9          # D<<3 | A<<2 | I<<1 | F
C_IRQ = 10          # bit0 IRQ line, bit1 FIQ line (level, set by devices)
C_RAM_BASE = 11
C_RAM_SIZE = 12
C_MMIO_ERR = 13     # set by the Python side when an MMIO access has no device (abort)
C_CB_ERR = 14       # set when a Python callback raised
C_EXCL_ADDR = 15    # exclusive monitor: address, or ~0 when open
C_EXCL_SIZE = 16
C_EXCL_VAL = 17     # low 64 bits of the value read by the load-exclusive
C_EXCL_VAL2 = 18    # second word (pairs)
C_STOP = 19         # set by a callback to stop the run loop at the next instruction:
                    # 1 = stop (EXIT_STOP), 2 = re-plan timers and go on (EXIT_TIMER)
C_FEAT = 20         # feature bits of the CPU model (see cpu.models.FEAT_*)
C_SLOT_RR = 21      # decode-cache round-robin pointer
C_TRACE = 22        # 1: exit before every new translation block (for -d in_asm/exec)
C_LAST_PC = 23      # PC of the last instruction executed (for traces)
C_DCZVA_LOG2 = 24   # log2 of the DC ZVA block size in bytes
C_EXC_COUNT = 25    # exceptions taken since reset (for -d int)
C_LAST_EXC = 26     # EC of the last exception (0x100 + vector offset for interrupts)
C_LAST_ESR = 27
C_LAST_EXC_PC = 28  # its preferred return address
C_UNDEF_COUNT = 29  # undefined instructions met (for -d unimp)
C_NS_PER_TICK = 30  # generic counter: nanoseconds per tick (16 at 62.5 MHz)
C_ICOUNT_SHIFT = 31 # -icount shift: each instruction is 2**shift ns of virtual time
C_IL = 32           # PSTATE.IL (set by an illegal exception return; the next fetch traps)
C_IDLE_NS = 33      # virtual ns that passed while the PE slept in WFI (time = icount << shift + this)
C_UNDEF_PC = 34     # PC of the last undefined instruction (for -d unimp)
C_HOT_LEFT = 35     # where the hot loop last stopped: HOT_LEFT_FETCH or HOT_LEFT_INSN
C_PATH = 36         # execution path (PATH_*): tests force the slower ones
# counters for profiling and tests (not state: never in a snapshot)
C_HOT_CALLS = 37    # calls of the hot loop
C_LEAVES = 38       # times it stopped before its budget (the general path took over)
C_MEMSLOW = 39      # loads and stores through the memory slow path
C_HOT_W0 = 40       # the decoded words of the instruction the hot loop stopped at
C_HOT_W1 = 41       # (when ctl[C_HOT_LEFT] == HOT_LEFT_INSN)
C_VEC_OPS = 42      # FP/SIMD instructions the last hot-loop call ran (the vector loop's)
C_VEC_CALLS = 43    # calls of the vector loop (a counter, like C_HOT_CALLS)
C_VEC_INSNS = 44    # FP/SIMD instructions the vector loop ran (a counter)
C_GROUP = 48        # 48..55: addresses of the compiled instruction groups (cpu/groups.py; 0: not
                    # loaded yet).  Process-local, like every ctl slot: never in a snapshot
# MMU (slots kept apart from the rest)
C_TLB_EL = 60       # the EL the soft TLB's entries were filled at
C_VEC_PC = 61       # vector address of the exception just taken with the MMU on (~0: none):
                    # a fetch fault there would loop, so the run stops (EXIT_EXC_LOOP)

# where hotloop.hot_run stopped before its budget was spent (ctl[C_HOT_LEFT])
HOT_LEFT_INSN = 0   # at an instruction it leaves to the general path
HOT_LEFT_FETCH = 1  # at the fetch (page entry, interrupt, stop request, ...)

# execution paths (ctl[C_PATH]); every one runs the same op definitions
PATH_FAST = 0       # the hot loop runs as far as it can (normal operation)
PATH_GENERAL = 1    # the hot loop runs one instruction at a time behind the general fetch
PATH_TLBFLUSH = 2   # PATH_GENERAL with the soft TLB's data entries flushed before every
                    # instruction: every load and store takes the memory slow path
PATH_NAMES = {"fast": PATH_FAST, "general": PATH_GENERAL, "tlbflush": PATH_TLBFLUSH}

# --- exit codes of run() ----------------------------------------------------
EXIT_BUDGET = 1     # instruction budget spent
EXIT_HVC = 2        # HVC with no EL2: the board handles it (PSCI); A = imm16
EXIT_SMC = 3
EXIT_HLT = 4        # HLT: A = imm16 (semihosting when enabled)
EXIT_WFI = 5
EXIT_STOP = 6       # a callback asked to stop
EXIT_FETCH_ABORT = 7   # exception would be taken but the vector is not executable: A = address
EXIT_DATA_ABORT = 8    # likewise for data: A = address, B = pc
EXIT_UNDEF = 9         # likewise for undefined instruction: A = pc, B = insn
EXIT_CB_ERROR = 10     # a Python device callback raised
EXIT_TRACE = 11        # trace mode: about to execute a new block at PC
EXIT_EXC_LOOP = 12     # an exception whose vector is unmapped: A = pc, B = ESR
EXIT_TIMER = 13        # a generic-timer register was written: the board re-derives lines/deadlines
EXIT_INTERNAL = 14     # an emulator defect (the general path and the hot loop disagree): A = pc, B = insn
EXIT_GROUP = 15        # the instruction at PC needs group A (cpu/groups.py), not loaded yet: load it
                       # and run on (the instruction has not started)
EXIT_NAMES = {
    EXIT_BUDGET: "budget", EXIT_HVC: "hvc", EXIT_SMC: "smc", EXIT_HLT: "hlt",
    EXIT_WFI: "wfi", EXIT_STOP: "stop", EXIT_FETCH_ABORT: "fetch-abort",
    EXIT_DATA_ABORT: "data-abort", EXIT_UNDEF: "undefined", EXIT_CB_ERROR: "callback-error",
    EXIT_TRACE: "trace", EXIT_EXC_LOOP: "exception-loop", EXIT_TIMER: "timer",
    EXIT_INTERNAL: "internal-error", EXIT_GROUP: "group",
}
