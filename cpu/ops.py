"""Executor op ids, register slots and the layout of the control array.

The predecoder turns each A64 instruction into two uint64 words:

    w0 = op | rd << 10 | rn << 16 | rm << 22 | ra << 28 | aux << 34
    w1 = imm (64-bit)

Register operands are *slots*: 0..30 are X0..X30, ZR reads as zero, SP is the
current stack pointer, SINK absorbs writes to XZR.  The decoder resolves
register number 31 to ZR/SP/SINK so the executor never tests for 31.

Op ids (cpu/opids.py, generated from cpu/isa/ops.tab) are positions in
``OP_NAMES``; they are an in-memory detail only and must never be written to a
snapshot (snapshots store names, see DESIGN §5).
"""
import numpy as np

# --- the decoded word w0 (above): field shifts and masks, as the jitted code uses them
SH_RD = np.uint64(10)
SH_RN = np.uint64(16)
SH_RM = np.uint64(22)
SH_RA = np.uint64(28)
SH_AUX = np.uint64(34)
OPMASK = np.uint64(0x3FF)                                   # op: bits 0-9
AUX_CLEAR = ~(np.uint64(0x3FFFFFFF) << SH_AUX)              # w0 without its aux

# --- register slots -------------------------------------------------------
ZR = 31      # always reads 0
SP = 32      # current SP (SP_EL0 or SP_ELx, swapped on EL/SPSel change)
SINK = 33    # write sink for XZR destinations
# the FP/SIMD registers V0..V31 live in the same array: Vn's low 64 bits at
# VREG + 2n, high 64 bits at VREG + 2n + 1 (Cpu.vregs is a (32, 2) view of them)
VREG = 40
NREGS = VREG + 64

# --- ops --------------------------------------------------------------------
# The op ids (OP_<NAME>) and each op's aux layout are declared in cpu/isa/ops.tab and
# generated into cpu/opids.py (with pack_<NAME>/unpack_<NAME>); below are the values
# of some aux fields.

# load/store addressing modes (aux field "mode")
MODE_OFF, MODE_PRE, MODE_POST = 0, 1, 2
# sign-extension kinds for loads
SX_NONE, SX_64, SX_32 = 0, 1, 2

# FPMEM kinds
FK_IMM, FK_REG, FK_LIT, FK_PAIR = 0, 1, 2, 3

# FPDP kinds (the encoding class, aux field "kind"): scalar FP, then Advanced SIMD FP
K_DP1, K_DP2, K_DP3, K_CMP, K_CCMP, K_CSEL, K_IMM, K_INT, K_FIXED = 0, 1, 2, 3, 4, 5, 6, 7, 8
K_V3, K_S3, K_V2, K_S2, K_ACROSS, K_SPAIR, K_VELEM, K_SELEM, K_VSHIFT, K_SSHIFT = (
    9, 10, 11, 12, 13, 14, 15, 16, 17, 18)

# EXC kinds
EXC_SVC, EXC_HVC, EXC_SMC, EXC_BRK, EXC_HLT = 1, 2, 3, 4, 5

# --- control array layout ---------------------------------------------------
CTL_SIZE = 99
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
C_EXC_MARK = 45     # instructions retired (+ the executor's pending steps) at the last
C_EXC_RUN = 46      # exception entry, and how many entries in a row retired none in
                    # between (exceptions.exc_stuck; process-local, never in a snapshot)
C_EXC_FIRST = 47    # ELR_EL1 of the first exception of that run of entries
C_GROUP = 48        # 48..55: addresses of the compiled instruction groups (cpu/groups.py; 0: not
                    # loaded yet).  Process-local, like every ctl slot: never in a snapshot
# hooks (cpu/hooks.py)
C_HOOK_DONE = 56    # 1 + the PC whose hooks the host has just run (its instruction runs next
                    # without asking again); 0: none
C_HOOK_SEQ = 57     # the PC after the last hooked instruction that retired, and the
C_HOOK_SEQN = 58    # instruction count then: a hooked PC elsewhere starts a block
C_MMIO_FN = 59      # address of the board's MMIO callback (cpu/mmio.py; 0: none, every
                    # access outside RAM aborts)
# the MMIO callback's address for a system register the board answers (sysregs.H_GIC):
# SYSREG_IO + the register's 16-bit encoding key, 8 bytes; outside any physical address
SYSREG_IO = 1 << 63
C_HOOK_FN = 62      # address of the hook callback (cpu/hooks.py)
C_HOOK_FLAGS = 63   # which other hooks exist: HF_EXC (exception entry), HF_MEM (the
                    # memory-hook table of cpu/hooks.py is not empty)
HF_EXC = 1
HF_MEM = 2
HF_INVALID = 4      # mem_invalid hooks: a fetch from no RAM asks the host first
HF_PROT = 8         # some RAM page has harness protections (bus.prot, Machine.mem_protect)
# coverage (cpu/hotcov.py): an AFL-shaped edge bitmap in the CPU's state array
C_COV_ON = 64       # 1: the executor runs the coverage loop
C_COV_PREV = 65     # AFL's prev_loc (the last branch target's hash >> 1)
C_COV_MASK = 66     # bitmap size - 1 (a power of two)
C_COV_BASE = 67     # byte offset of the bitmap in the state array (memory.STATE_COV)
# RAM regions besides the board's RAM (the embedding API's map_ram): up to XRAM_MAX,
# each (guest physical base, size, offset in the RAM array after the board's RAM)
C_XRAM_N = 68
C_XRAM = 69         # 69..92
# calls into the host (MMIO and hook callbacks, counted by their trampolines in
# cpu/core.py): a batch run that called the host ends in the host (cpu/batch.py)
C_HOST_CALLS = 93
# the self-hosted debug architecture (cpu/debug.py)
C_DBG = 94          # DBG_* flags: derived from the machine type and the debug registers
C_SS = 95           # PSTATE.SS (software step; machine state, saved as cpu0 "pstate.ss")
# TLB maintenance instructions executed (a counter): with several CPUs the board
# empties the other CPUs' soft TLBs when it moved (machine/smp.py)
C_TLBI = 96
# WFE with several CPUs (machine/smp.py): the event register (SEV/SEVL set it, a WFE
# consumes it), and 1 while a WFE with no event leaves the run (EXIT_WFE: the board
# lets another CPU run); 0: WFE is a NOP (one CPU, or nothing else can run now)
C_EVENT = 97
C_WFE_EXIT = 98
DBG_ON = 1          # the machine type has the debug architecture (else the registers are
                    # stored and never act, as before virt-10.0)
DBG_BP = 2          # some breakpoint is armed: its address decodes to OP_HOOK
DBG_WP = 4          # some watchpoint is armed: its pages stay out of the soft TLB
DBG_SS = 8          # MDSCR_EL1.SS is set: the executor checks the step state machine
XRAM_MAX = 8
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
EXIT_EXC_STUCK = 16    # EXC_STUCK_AFTER exception entries in a row with no instruction retired:
                       # the vector faults at its own entry, nothing can change any more.
                       # A = ELR_EL1 (where the last one was taken), B = its ESR, C = its FAR
EXC_STUCK_AFTER = 64
EXIT_WFE = 17          # WFE with no event while ctl[C_WFE_EXIT]: the PC is past it
EXIT_NAMES = {
    EXIT_BUDGET: "budget", EXIT_HVC: "hvc", EXIT_SMC: "smc", EXIT_HLT: "hlt",
    EXIT_WFI: "wfi", EXIT_STOP: "stop", EXIT_FETCH_ABORT: "fetch-abort",
    EXIT_DATA_ABORT: "data-abort", EXIT_UNDEF: "undefined", EXIT_CB_ERROR: "callback-error",
    EXIT_TRACE: "trace", EXIT_EXC_LOOP: "exception-loop", EXIT_TIMER: "timer",
    EXIT_INTERNAL: "internal-error", EXIT_GROUP: "group", EXIT_EXC_STUCK: "exception-loop",
    EXIT_WFE: "wfe",
}
