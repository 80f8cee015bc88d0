"""Differential testing of our CPU core against unicorn (an instruction-level oracle).

One `Harness` holds a pyaarch64 `Cpu` and a unicorn engine with the same 4 MiB of
RAM (same random contents) at RAM_BASE.  `Harness.step(words, regs, sp, nzcv)`
writes ``clrex; words...`` at CODE in both, sets the same state, runs
``1 + len(words)`` instructions in each and returns both outcomes as `State`s.

Both sides run at EL1 with SPSel=1 and the MMU off.  An exception (undefined
instruction, alignment fault, abort on unmapped memory) is an outcome of its own
("fault"): both must fault, and the rest of the state is not compared then.

Also here: random *valid* encodings generated from our own decode tables
(cpu/isa/_decoder.py), with per-pattern register set-ups that keep loads and
stores inside the data window, and skipping of CONSTRAINED UNPREDICTABLE forms.
Used by tests/test_diff_unicorn.py and tests/test_numba_discipline.py (which runs
it with NUMBA_BOUNDSCHECK=1 and NUMBA_DISABLE_JIT=1 in a subprocess).
"""
import os
import random
import struct
import subprocess
import tempfile

import numpy as np

from tools import need

ASSEMBLER = ("aarch64-linux-gnu-as", "aarch64-linux-gnu-objcopy")
M64 = (1 << 64) - 1
RAM_BASE = 0x40000000
RAM_SIZE = 0x400000          # 4 MiB: LDR (literal) reaches +-1 MiB around CODE
CODE = 0x40200000
DATA = 0x40100000            # the window loads and stores stay inside
DATA_SIZE = 0x10000
PTR = DATA + 0x2000          # base registers point at PTR + small offsets
CLREX = 0xD503305F

EDGE = [0, 1, M64, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0x7FFFFFFF, 0x80000000,
        0xFFFFFFFF, 0x100000000, 0xFFFFFFFF80000000, 0xFFFF, 0x8000, 0xFF, 0x80, 2, 31, 32,
        63, 64, 0xFFFFFFFE, M64 - 1, 0x00000000FFFF0000]


class State:
    __slots__ = ("x", "sp", "pc", "nzcv", "fault", "mem", "steps", "v", "fpsr")

    def __init__(self, x, sp, pc, nzcv, fault, mem, steps, v=None, fpsr=None):
        self.x, self.sp, self.pc, self.nzcv, self.fault, self.mem, self.steps = \
            x, sp, pc, nzcv, fault, mem, steps
        self.v = v        # V0..V31 as 128-bit ints
        self.fpsr = fpsr  # FPSR after the run (cumulative exception flags, QC)

    def diff(self, other):
        """Human-readable differences (empty list when equal)."""
        if self.fault or other.fault:
            if bool(self.fault) != bool(other.fault):
                return [f"fault: ours={self.fault} unicorn={other.fault}"]
            return []
        out = []
        for i in range(31):
            if self.x[i] != other.x[i]:
                out.append(f"x{i}: ours={self.x[i]:#x} unicorn={other.x[i]:#x}")
        if self.sp != other.sp:
            out.append(f"sp: ours={self.sp:#x} unicorn={other.sp:#x}")
        if self.pc != other.pc:
            out.append(f"pc: ours={self.pc:#x} unicorn={other.pc:#x}")
        if self.nzcv != other.nzcv:
            out.append(f"nzcv: ours={self.nzcv:04b} unicorn={other.nzcv:04b}")
        if self.fpsr is not None and other.fpsr is not None and self.fpsr != other.fpsr:
            out.append(f"fpsr: ours={self.fpsr:#x} unicorn={other.fpsr:#x}")
        if self.v is not None and other.v is not None:
            for i in range(32):
                if self.v[i] != other.v[i]:
                    out.append(f"v{i}: ours={self.v[i]:#034x} unicorn={other.v[i]:#034x}")
        if self.mem != other.mem:
            a = np.frombuffer(self.mem, np.uint8)
            b = np.frombuffer(other.mem, np.uint8)
            idx = np.nonzero(a != b)[0]
            out.append(f"memory differs at {len(idx)} bytes from {DATA + int(idx[0]):#x}: "
                       f"ours={bytes(a[idx[0]:idx[0] + 8]).hex()} "
                       f"unicorn={bytes(b[idx[0]:idx[0] + 8]).hex()}")
        return out


class Harness:
    def __init__(self, seed=1, model="cortex-a57"):
        need("unicorn")
        from unicorn import Uc, UC_ARCH_ARM64, UC_MODE_ARM
        from unicorn import arm64_const as A
        from pyaarch64.cpu.core import Cpu
        from pyaarch64.cpu import ops as O
        from pyaarch64.cpu import opids as OI
        self.O = O
        self.A = A
        rng = np.random.default_rng(seed)
        init = rng.integers(0, 256, RAM_SIZE, dtype=np.uint8)
        # ours
        self.cpu = Cpu(model)
        self.mem = init.copy()
        self.cpu.attach_ram(self.mem, RAM_BASE)
        ctl = self.cpu.ctl

        def no_device(addr, size, is_write, value):
            ctl[O.C_MMIO_ERR] = 1          # nothing outside RAM: external abort
            return 0
        self.cpu.attach_mmio(no_device)
        self.feat = int(self.cpu.ctl[O.C_FEAT])
        self.cpu.set_reg("CPACR_EL1", 3 << 20)          # FP/SIMD on at EL1 (unicorn's default)
        # the V registers start every step from the same random values on both sides
        self.vvals = [int(rng.integers(0, 1 << 63)) << 65 | int(rng.integers(0, 1 << 63)) << 1
                      | int(rng.integers(0, 2)) for _ in range(32)]
        # unicorn
        uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        uc.ctl_set_cpu_model({"cortex-a53": A.UC_CPU_ARM64_A53, "cortex-a72": A.UC_CPU_ARM64_A72,
                              "max": A.UC_CPU_ARM64_MAX}
                             .get(model, A.UC_CPU_ARM64_A57))
        uc.mem_map(RAM_BASE, RAM_SIZE)
        uc.mem_write(RAM_BASE, init.tobytes())
        self.uc = uc
        self.xregs = [getattr(A, f"UC_ARM64_REG_X{i}") for i in range(29)] + \
            [A.UC_ARM64_REG_X29, A.UC_ARM64_REG_X30]
        self.read_ids = self.xregs + [A.UC_ARM64_REG_SP, A.UC_ARM64_REG_PC, A.UC_ARM64_REG_NZCV]
        self.qregs = [getattr(A, f"UC_ARM64_REG_Q{i}") for i in range(32)]
        self._pstate0 = uc.reg_read(A.UC_ARM64_REG_PSTATE)
        self.dwin = slice(DATA - RAM_BASE, DATA - RAM_BASE + DATA_SIZE)
        self._nstep = 0

    # ------------------------------------------------------------------
    def _write_code(self, words):
        code = struct.pack(f"<{len(words)}I", *words)
        off = CODE - RAM_BASE
        self.mem[off:off + len(code)] = np.frombuffer(code, np.uint8)
        self.uc.mem_write(CODE, code)
        self.uc.ctl_remove_cache(CODE, CODE + len(code))

    def sync_data(self):
        """Make unicorn's data window equal to ours (after a mismatch)."""
        self.uc.mem_write(DATA, self.mem[self.dwin].tobytes())

    def step(self, words, regs, sp, nzcv, count=None, v=None, fpcr=0, fpsr=0):
        """Run clrex; words in both.  regs: 31 ints; v: 32 128-bit ints for V0..V31 (default:
        the harness's fixed random values); fpcr/fpsr: their values before the run.
        Returns (ours, unicorn)."""
        words = [CLREX] + list(words)
        n = count + 1 if count is not None else len(words)
        self._write_code(words)
        v = self.vvals if v is None else v
        return (self._run_ours(regs, sp, nzcv, n, v, fpcr, fpsr),
                self._run_uc(regs, sp, nzcv, n, v, fpcr, fpsr))

    def _run_ours(self, regs, sp, nzcv, n, vvals, fpcr, fpsr):
        O = self.O
        cpu = self.cpu
        # drop the decoded code; every other step also flush the soft TLB, so loads and
        # stores run both through the slow path (TLB miss) and the inline fast path
        self._nstep += 1
        if self._nstep & 1:
            cpu.invalidate_code()
        else:
            cpu.pslot[:] = -1
            cpu.slotpage[:] = -1
        r = cpu.regs
        r[:31] = np.array(regs, dtype=np.uint64)
        r[O.ZR] = 0
        r[O.SP] = sp
        for i, v in enumerate(vvals):
            cpu.vregs[i, 0] = v & M64
            cpu.vregs[i, 1] = v >> 64
        cpu.set_reg("FPCR", fpcr)
        cpu.set_reg("FPSR", fpsr)
        ctl = cpu.ctl
        ctl[O.C_PC] = CODE
        ctl[O.C_NZCV] = nzcv
        ctl[O.C_EL] = 1
        ctl[O.C_SPSEL] = 1
        ctl[O.C_MMIO_ERR] = 0
        ic0 = int(ctl[O.C_ICOUNT])
        ex = cpu.run(n)
        steps = int(ctl[O.C_ICOUNT]) - ic0
        fault = None if ex == O.EXIT_BUDGET else O.EXIT_NAMES.get(ex, str(ex))
        vs = [int(cpu.vregs[i, 0]) | (int(cpu.vregs[i, 1]) << 64) for i in range(32)]
        return State([int(v) for v in r[:31]], int(r[O.SP]), int(ctl[O.C_PC]),
                     int(ctl[O.C_NZCV]), fault, self.mem[self.dwin].tobytes(), steps, vs,
                     int(cpu.reg("FPSR")))

    def _run_uc(self, regs, sp, nzcv, n, vvals, fpcr, fpsr):
        from unicorn import UcError, UC_ERR_FETCH_UNMAPPED
        A = self.A
        uc = self.uc
        uc.reg_write_batch(list(zip(self.xregs, regs)) + [
            (A.UC_ARM64_REG_SP, sp), (A.UC_ARM64_REG_PSTATE, self._pstate0),
            (A.UC_ARM64_REG_NZCV, nzcv << 28), (A.UC_ARM64_REG_PC, CODE),
            (A.UC_ARM64_REG_FPCR, fpcr), (A.UC_ARM64_REG_FPSR, fpsr)])
        for q, v in zip(self.qregs, vvals):
            uc.reg_write(q, v)
        fault = None
        try:
            uc.emu_start(CODE, 0, count=n)
        except UcError as e:
            if e.errno != UC_ERR_FETCH_UNMAPPED:   # a branch out of RAM: PC is the target
                fault = str(e)
        v = uc.reg_read_batch(self.read_ids)
        vs = [uc.reg_read(q) for q in self.qregs]
        return State(list(v[:31]), v[31], v[32], (v[33] >> 28) & 15, fault,
                     bytes(uc.mem_read(DATA, DATA_SIZE)), n, vs,
                     uc.reg_read(A.UC_ARM64_REG_FPSR))

    def check(self, words, regs, sp, nzcv, count=None, v=None, fpcr=0, fpsr=0):
        """step() and return a list of differences (resyncing memory if any)."""
        ours, theirs = self.step(words, regs, sp, nzcv, count, v, fpcr, fpsr)
        d = ours.diff(theirs)
        if ours.fault or theirs.fault or d:
            self.sync_data()
        return d


# ---------------------------------------------------------------------------
# operands

def rand_value(rng):
    k = rng.random()
    if k < 0.4:
        return rng.choice(EDGE)
    if k < 0.5:
        return rng.getrandbits(32)
    if k < 0.6:
        return (rng.getrandbits(32) | 0xFFFFFFFF00000000) if rng.random() < 0.5 else rng.getrandbits(8)
    return rng.getrandbits(64)


def rand_regs(rng):
    return [rand_value(rng) for _ in range(31)]


def ptr(rng, align=None):
    """A pointer near PTR; aligned to `align` bytes if given (else often aligned)."""
    if align is None:
        align = rng.choice([1, 2, 4, 8, 16, 16, 16, 16])
    return (PTR + rng.randrange(0, 0x100)) & ~(align - 1)


def small_offset(rng):
    """A small signed register offset (64-bit two's complement)."""
    return rng.randrange(-0x80, 0x80) & M64


def ptr_regs(rng, align=None):
    return [ptr(rng, align) for _ in range(31)]


# ---------------------------------------------------------------------------
# assembling hand-picked instructions

_asm_cache = {}


def assemble(lines):
    """Assemble a list of one-instruction lines with aarch64-linux-gnu-as; returns words."""
    todo = [ln for ln in lines if ln not in _asm_cache]
    if todo:
        need(*ASSEMBLER)
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "a.s")
            obj = os.path.join(d, "a.o")
            binf = os.path.join(d, "a.bin")
            with open(src, "w") as f:
                f.write(".arch armv8.1-a+crc\n.text\n" + "\n".join(todo) + "\n")
            r = subprocess.run(["aarch64-linux-gnu-as", "-o", obj, src],
                               capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError(r.stderr)
            subprocess.run(["aarch64-linux-gnu-objcopy", "-O", "binary", "-j", ".text", obj, binf],
                           check=True)
            data = open(binf, "rb").read()
        assert len(data) == 4 * len(todo), (len(data), len(todo))
        for i, ln in enumerate(todo):
            _asm_cache[ln] = struct.unpack_from("<I", data, 4 * i)[0]
    return [_asm_cache[ln] for ln in lines]


# ---------------------------------------------------------------------------
# random valid encodings from our decode tables

SKIP_PATTERNS = {"SYSTEM", "EXCP"}   # and ERET (in BR_REG), filtered below
REG_FIELDS = {"rd", "rn", "rm", "ra", "rt", "rt2", "rs"}


def _fields(dec, k, w):
    """Field values of word w for decoder k (an index into dec.DECODERS)."""
    return {name: (w >> lsb) & ((1 << width) - 1) for name, lsb, width in dec.DEC_FIELDS[k]}


def unpredictable(name, f):
    """True for CONSTRAINED UNPREDICTABLE register combinations we do not compare."""
    if name == "LDST_IMM9":
        wb = f["idx"] in (1, 3)
        is_load = f["opc"] != 0
        if wb and f["rn"] == f["rt"] and f["rn"] != 31:
            return True
        return False
    if name == "LDST_PAIR":
        wb = f["typ"] in (1, 3)
        if f["L"] and f["rt"] == f["rt2"]:
            return True
        if wb and f["rn"] != 31 and (f["rn"] == f["rt"] or f["rn"] == f["rt2"]):
            return True
        return False
    if name == "LDST_PAIR_V":
        return bool(f["L"] and f["rt"] == f["rt2"])
    if name == "LDST_EXCL":
        pair = f["o1"] == 1 and f["o2"] == 0
        store = f["L"] == 0
        excl = f["o2"] == 0
        if pair and f["L"] and f["rt"] == f["rt2"]:
            return True
        if store and excl:
            if f["rs"] == f["rt"] or (pair and f["rs"] == f["rt2"]):
                return True
            if f["rs"] == f["rn"] and f["rn"] != 31:
                return True
        return False
    return False


def unicorn_wrong(name, f):
    """Encodings where unicorn (QEMU 5) is known to disagree with the Arm ARM; our
    behaviour for them is checked against a reference in test_diff_unicorn.py."""
    # LDSMAX/LDSMIN{B,H,W}: unicorn compares the zero-extended values (unsigned)
    return name == "ATOMIC" and f["o3"] == 0 and f["opc"] in (4, 5) and f["size"] < 3


def random_encoding(rng, dec, predecode, feat, opundef, tries=64, patterns=None):
    """(decoder name, word, fields) for a random word of a random allowed encoding class
    that our decoder accepts.  A class is the words one decoder function of the tables
    takes (dec.DEC_MASK/DEC_VALUE: the fixed bits outside its fields); it is chosen
    uniformly (among `patterns`, decoder names, if given), then up to `tries` words of it
    whose first matching table line calls that decoder."""
    names = dec.DECODERS
    while True:
        k = rng.randrange(len(names))
        name = names[k]
        if name in SKIP_PATTERNS or (patterns is not None and name not in patterns):
            continue
        mask = int(dec.DEC_MASK[k])
        for _ in range(tries):
            w = (int(dec.DEC_VALUE[k]) | (rng.getrandbits(32) & ~mask)) & 0xFFFFFFFF
            # zero some opcode-like fields: sparse groups (DP1, DP2) get hit too
            for fname, lsb, width in dec.DEC_FIELDS[k]:
                if fname not in REG_FIELDS and rng.random() < 0.3:
                    w &= ~(((1 << width) - 1) << lsb)
            if dec.decoder_of(w) != k:
                continue
            f = _fields(dec, k, w)
            if name == "BR_REG" and f["opc"] == 4:
                continue                  # ERET
            if unpredictable(name, f) or unicorn_wrong(name, f):
                continue
            w0, _ = predecode(w, feat)
            if (int(w0) & 0x3FF) == opundef:
                continue
            return name, w, f


def setup_for(rng, name, f):
    """Registers, SP for a random encoding of pattern `name` with fields f."""
    if name in ("ATOMIC", "CAS", "CASP"):
        regs = ptr_regs(rng, 16 if rng.random() < 0.9 else None)
        for k in ("rs", "rt"):
            for r in ((f[k], f[k] + 1) if name == "CASP" else (f[k],)):
                if r != f["rn"] and r < 31:
                    regs[r] = rand_value(rng)
        return regs, ptr(rng, 16)
    mem = name.startswith("LD")
    if not mem:
        regs = rand_regs(rng)
        sp = rand_value(rng) if rng.random() < 0.5 else ptr(rng, 16)
        return regs, sp
    if name == "LDST_EXCL":
        # always aligned: unicorn (QEMU 5) skips the alignment check of LDAR/STLR and of
        # a store-exclusive whose monitor check fails, which the Arm ARM requires
        # (AArch64.CheckAlignment for AccType_ORDERED/ATOMIC); test_diff_unicorn checks
        # our alignment faults on its own.
        regs = ptr_regs(rng, 16)
        # store data registers hold values, not pointers
        for k in ("rt", "rt2"):
            if f[k] != f["rn"] and f[k] < 31:
                regs[f[k]] = rand_value(rng)
        return regs, ptr(rng, 16)
    regs = ptr_regs(rng)
    if name in ("LDST_REGOFF", "LDST_REGOFF_V"):
        rm = f["rm"]
        if rm != f["rn"] and rm < 31:
            regs[rm] = small_offset(rng)
        elif rm == f["rn"] and rm < 31:
            # base == index: both read the same value; keep it small and the
            # address (base + scaled extended base) inside RAM is not possible,
            # so let it fault on both sides
            pass
    for k in ("rt", "rt2"):
        if k in f and f[k] < 31 and f[k] != f.get("rn") and rng.random() < 0.5:
            regs[f[k]] = rand_value(rng)
    return regs[:31], ptr(rng, 16 if rng.random() < 0.7 else None)


def random_sample(h, n, seed, max_per_pattern=5, patterns=None):
    """Run n random valid encodings through both; returns ({pattern: [failure, ...]}, set of
    patterns sampled)."""
    from pyaarch64.cpu.isa import _decoder as dec
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu import opids as OI
    rng = random.Random(seed)
    failures = {}
    seen = set()
    for _ in range(n):
        name, w, f = random_encoding(rng, dec, dec.predecode, h.feat, OI.OP_UNDEF,
                                     patterns=patterns)
        seen.add(name)
        regs, sp = setup_for(rng, name, f)
        if name in ("CAS", "CASP") and rng.random() < 0.5:
            # make the comparison succeed: Rs (Rs+1) = memory
            a = (sp if f["rn"] == 31 else regs[f["rn"]]) - RAM_BASE
            nb = 1 << (f["size"] if name == "CAS" else 2 + f["sz"])
            for k in range(2 if name == "CASP" else 1):
                r = f["rs"] + k
                if r < 31 and r != f["rn"] and 0 <= a + nb * (k + 1) <= RAM_SIZE:
                    regs[r] = int.from_bytes(h.mem[a + nb * k:a + nb * (k + 1)].tobytes(), "little")
        nzcv = rng.randrange(16)
        d = h.check([w], regs, sp, nzcv)
        if d:
            lst = failures.setdefault(name, [])
            if len(lst) < max_per_pattern:
                lst.append(f"{w:#010x} {f} nzcv={nzcv:04b}: {'; '.join(d[:3])}")
    return failures, seen


BRANCH_PATTERNS = {"B_COND", "CB", "TB", "B_IMM", "BR_REG"}


def random_sequences(h, n, seed, length=4, max_failures=10):
    """n straight-line runs of `length` random valid encodings (no branches, no
    exclusives: a store-exclusive after a load-exclusive of another size is CONSTRAINED
    UNPREDICTABLE).  Flags and registers flow from one instruction to the next, and the
    data TLB stays warm within a run.  Returns a list of failures."""
    from pyaarch64.cpu.isa import _decoder as dec
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu import opids as OI
    rng = random.Random(seed)
    allowed = set(dec.DECODERS) - SKIP_PATTERNS - BRANCH_PATTERNS - {"LDST_EXCL"}
    failures = []
    for _ in range(n):
        seq = [random_encoding(rng, dec, dec.predecode, h.feat, OI.OP_UNDEF, patterns=allowed)
               for _ in range(length)]
        regs, sp = setup_for(rng, *seq[0][::2])
        for name, w, f in seq[1:]:
            if (name.startswith("LD") or name in ("ATOMIC", "CAS", "CASP")) and f.get("rn", 31) < 31:
                regs[f["rn"]] = ptr(rng)
        nzcv = rng.randrange(16)
        d = h.check([w for _, w, _ in seq], regs, sp, nzcv)
        if d and len(failures) < max_failures:
            failures.append(" ; ".join(f"{nm}:{w:#010x}" for nm, w, _ in seq) + f" nzcv={nzcv:04b}: "
                            + "; ".join(d[:3]))
    return failures
