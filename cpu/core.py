"""One CPU: its state arrays, register access by name, and the call into the
numba run loop.  The board (machine/) supplies RAM and an MMIO callback."""
import os
from contextlib import nullcontext

import numpy as np

from pyaarch64.cpu import ops as O
from pyaarch64.cpu import sysregs as SR
from pyaarch64.cpu.memory import new_state, INVALID, TLB_ENTRIES, T_WRITE
from pyaarch64.cpu.models import get_model
from pyaarch64.cpu import groups
from pyaarch64.cpu import compilejobs
from pyaarch64.cpu.bus import Bus
from pyaarch64.cpu.mmio import MMIO_CB, address_of
from pyaarch64.errors import RegisterError
from pyaarch64.cpu.hooks import new_table


# decode-cache slots, one 4 KiB code page each (16 KiB of decoded words: 32 MiB in all,
# touched only as slots are used).  Linux's boot to a shell runs about 1,500 code pages:
# with 256 slots it allocated a slot 29,706 times and predecoded 2.9 M words, with 2048
# 2,570 times and 0.39 M (benchmarks/profile_executor.py linux)
DECODE_SLOTS = 2048
_compiled = [False]      # the executor was compiled or loaded in this process

GPR_NAMES = tuple(f"x{i}" for i in range(31))
_VWIDTH = {"v": 128, "q": 128, "d": 64, "s": 32, "h": 16, "b": 8}


def _vreg(n):
    """(width, number) for v0..v31 / q / d / s / h / b names, else None."""
    if len(n) >= 2 and n[0] in _VWIDTH and n[1:].isdigit() and int(n[1:]) < 32:
        return _VWIDTH[n[0]], int(n[1:])
    return None


def _width(n):
    """The width in bits of register name n (lower case) for reg_write's range check."""
    v = _vreg(n)
    if v is not None:
        return v[0]
    if n[:1] == "w" and n[1:].isdigit():
        return 32
    return 64


def exec_path():
    """The execution path the environment asks for: PYAARCH64_EXEC_PATH=fast (the
    default), general, tlbflush or step (see cpu/ops.py PATH_*; `step` is the general
    path driven one instruction per call by the board).  For tests."""
    p = os.environ.get("PYAARCH64_EXEC_PATH", "fast") or "fast"
    if p not in O.PATH_NAMES and p != "step":
        raise ValueError(f"PYAARCH64_EXEC_PATH={p!r}: expected one of fast, general, tlbflush, step")
    return p


class Cpu:
    """State of one AArch64 PE.  Arrays are shared with the jitted executor."""

    def __init__(self, model="cortex-a57", sysreg_overrides=None, ns_per_tick=16, icount_shift=0,
                 debug_arch=False):
        self.model = get_model(model) if isinstance(model, str) else model
        # the self-hosted debug architecture acts (cpu/debug.py; the machine type says)
        self.debug_arch = bool(debug_arch)
        # registers, soft TLB and decode cache: views of one array (see memory.new_state)
        self.state, self.regs, self.tlb, self.dcache, (self._cov, cov_base) = new_state(
            O.NREGS, DECODE_SLOTS)
        self.vregs = self.regs[O.VREG:O.VREG + 64].reshape(32, 2)   # V0..V31: (low, high)
        self.ctl = np.zeros(O.CTL_SIZE, dtype=np.uint64)
        self.ctl[O.C_COV_BASE] = cov_base
        self.sysmap, self.sysr = SR.build(self.model, sysreg_overrides)
        self.pslot = None
        self.slotpage = np.full(DECODE_SLOTS, -1, dtype=np.int64)
        self.mem = None
        self._cb = None
        self._args = None
        self.hooks = new_table()
        self.attach_hooks(None)
        self._groups_key = None
        self.ns_per_tick = ns_per_tick
        self.icount_shift = icount_shift
        self.exec_path = exec_path()
        self.ctl[O.C_PATH] = O.PATH_NAMES.get(self.exec_path, O.PATH_GENERAL)
        self.reset()

    # --- wiring ------------------------------------------------------------
    def attach_ram(self, mem, base, size=None, extra=()):
        """Give the CPU its RAM: a C-contiguous uint8 array whose first `size` bytes
        (default: all) are mapped at `base`, and `extra` regions (guest base, size,
        offset in the array) after them."""
        assert mem.dtype == np.uint8 and mem.flags.c_contiguous and len(mem) % 4096 == 0
        assert len(extra) <= O.XRAM_MAX
        self.mem = mem
        self.ctl[O.C_RAM_BASE] = base
        self.ctl[O.C_RAM_SIZE] = len(mem) if size is None else size
        self.ctl[O.C_XRAM_N] = len(extra)
        for k, (b, n, off) in enumerate(extra):
            self.ctl[O.C_XRAM + 3 * k:O.C_XRAM + 3 * k + 3] = (b, n, off)
        self._args = None               # (run's arguments: the Bus holds these arrays)
        self.pslot = np.full(len(mem) // 4096, -1, dtype=np.int32)
        self.slotpage[:] = -1           # (no slot in use: alloc_slot clears a slot it hands out)
        self.dirty = np.ones(len(mem) // 4096, dtype=np.uint8)   # (no epoch yet: all of it)
        self.prot = np.zeros(len(mem) // 4096, dtype=np.uint8)
        self.ctl[O.C_HOOK_FLAGS] = int(self.ctl[O.C_HOOK_FLAGS]) & ~O.HF_PROT
        self.tlb[0::2] = INVALID

    def attach_mmio(self, fn):
        """fn(addr, size, is_write, value) -> int.  Exceptions are caught and stop the
        run loop (a ctypes callback cannot raise through numba)."""
        ctl = self.ctl

        def trampoline(addr, size, is_write, value):
            ctl[O.C_HOST_CALLS] += 1
            try:
                return fn(addr, size, is_write, value) & 0xFFFFFFFFFFFFFFFF
            except BaseException as e:   # noqa: BLE001 -- reported after the run
                self.callback_error = e
                ctl[O.C_CB_ERR] = 1
                return 0
        self.callback_error = None
        self._cb = MMIO_CB(trampoline)
        self.ctl[O.C_MMIO_FN] = address_of(self._cb)

    def attach_hooks(self, fn):
        """fn(pc, size, kind, value) -> HA_* for the addresses in self.hooks (see
        cpu/hooks.py), or None (the table stays empty).  An exception is caught and
        stops the run loop, as for MMIO."""
        ctl = self.ctl

        def trampoline(pc, size, kind, value):
            ctl[O.C_HOST_CALLS] += 1
            try:
                return fn(pc, size, kind, value) if fn is not None else 0
            except BaseException as e:   # noqa: BLE001 -- reported after the run
                self.callback_error = e
                ctl[O.C_CB_ERR] = 1
                ctl[O.C_STOP] = 1        # (an exception hook's caller goes on to a fetch)
                return 0
        self.callback_error = None
        self._hcb = MMIO_CB(trampoline)
        self.ctl[O.C_HOOK_FN] = address_of(self._hcb)

    def set_hooks(self, ranges, mem_ranges=(), exceptions=False, invalid=False):
        """The hook table (cpu/hooks.py): code ranges [(begin, end), ...] (virtual,
        end exclusive), memory ranges [(begin, end, MEM_R | MEM_W), ...], and whether
        exception entries call the host.  Changed code ranges drop the decode cache
        (hooked words decode to OP_HOOK), changed memory ranges the soft TLB (hooked
        pages must not be in it)."""
        from pyaarch64.cpu import hooks as H
        if len(ranges) > H.HOOKS_MAX:
            raise ValueError(f"at most {H.HOOKS_MAX} hooked code ranges (got {len(ranges)})")
        if len(mem_ranges) > H.MEM_MAX:
            raise ValueError(f"at most {H.MEM_MAX} hooked memory ranges (got {len(mem_ranges)})")
        t = self.hooks
        old_code = t[:H.MEM_FIRST].copy()
        old_mem = t[H.MEM_FIRST:].copy()
        t[:] = 0
        for k, (b, e) in enumerate(ranges):
            t[H.HOOKS_FIRST + 2 * k] = b
            t[H.HOOKS_FIRST + 2 * k + 1] = e
        t[H.HOOKS_N] = len(ranges)
        for k, (b, e, rw) in enumerate(mem_ranges):
            t[H.MEM_FIRST + 3 * k:H.MEM_FIRST + 3 * k + 3] = (b, e, rw)
        t[H.HOOKS_NMEM] = len(mem_ranges)
        self.ctl[O.C_HOOK_FLAGS] = ((O.HF_EXC if exceptions else 0) | (O.HF_MEM if mem_ranges else 0)
                                    | (O.HF_INVALID if invalid else 0)
                                    | (int(self.ctl[O.C_HOOK_FLAGS]) & O.HF_PROT))
        if (t[:H.MEM_FIRST] != old_code).any():
            self.ctl[O.C_HOOK_DONE] = 0
            if self.pslot is not None:
                self.pslot[:] = -1
                self.slotpage[:] = -1
        if (t[H.MEM_FIRST:] != old_mem).any() or t[H.HOOKS_NMEM] != old_code[H.HOOKS_NMEM]:
            self.tlb[0::2] = INVALID

    def set_irq_line(self, which, level):
        """Drive the PE's IRQ (which=0) or FIQ (which=1) input from the interrupt
        controller.  The run loop takes an unmasked interrupt at the next block
        boundary; a change made inside an MMIO callback is seen after that access."""
        bit = 1 << which
        v = int(self.ctl[O.C_IRQ])
        self.ctl[O.C_IRQ] = (v | bit) if level else (v & ~bit)

    # --- state ---------------------------------------------------------------
    def reset(self):
        self.regs[:] = 0
        self.ctl[O.C_PC] = 0
        self.ctl[O.C_NZCV] = 0
        self.ctl[O.C_EL] = 1
        self.ctl[O.C_SPSEL] = 1
        self.ctl[O.C_DAIF] = 0xF
        self.ctl[O.C_IL] = 0
        self.ctl[O.C_SS] = 0
        self.ctl[O.C_DBG] = O.DBG_ON if self.debug_arch else 0
        self.ctl[O.C_EXCL_ADDR] = 0xFFFFFFFFFFFFFFFF
        self.ctl[O.C_VEC_PC] = 0xFFFFFFFFFFFFFFFF
        self.ctl[O.C_EXC_RUN] = 0          # (exceptions.exc_stuck: a new streak)
        self.ctl[O.C_FEAT] = self.model.feature_mask()
        self.ctl[O.C_DCZVA_LOG2] = 2 + (self.model.id("DCZID_EL0") & 0xF)
        self.ctl[O.C_NS_PER_TICK] = self.ns_per_tick
        self.ctl[O.C_ICOUNT_SHIFT] = self.icount_shift
        self.sysr[:, SR.R_VAL] = self.sysr[:, SR.R_RESET]
        self.invalidate_code()

    @property
    def pc(self):
        return int(self.ctl[O.C_PC])

    @pc.setter
    def pc(self, v):
        self.ctl[O.C_PC] = v & 0xFFFFFFFFFFFFFFFF

    @property
    def icount(self):
        return int(self.ctl[O.C_ICOUNT])

    def _sp_slot(self):
        el, spsel = int(self.ctl[O.C_EL]), int(self.ctl[O.C_SPSEL])
        return SR.S_SP_EL0 if (el == 0 or spsel == 0) else SR.S_SP_EL1

    def reg(self, name):
        """Read a register by name: x0..x30, w0..w30, sp, pc, nzcv, lr, fp, el,
        or any system register in the table (by its Arm ARM name)."""
        n = name.lower()
        if n in ("pc",):
            return self.pc
        if n in ("sp",):
            return int(self.regs[O.SP])
        if n in ("lr",):
            n = "x30"
        if n in ("fp",):
            n = "x29"
        if n in ("xzr", "wzr"):
            return 0
        if n[0] in "xw" and n[1:].isdigit() and int(n[1:]) < 31:
            v = int(self.regs[int(n[1:])])
            return v & 0xFFFFFFFF if n[0] == "w" else v
        if n == "nzcv":
            return int(self.ctl[O.C_NZCV]) << 28
        v = _vreg(n)
        if v is not None:
            lo, hi = int(self.vregs[v[1], 0]), int(self.vregs[v[1], 1])
            return ((hi << 64) | lo) & ((1 << v[0]) - 1)
        if n == "el":
            return int(self.ctl[O.C_EL])
        if n == "cpsr" or n == "pstate":
            return self.pstate()
        row = SR.find(n)
        if row is None or not SR.present(row, self.model):
            raise RegisterError(f"unknown register '{name}'")
        return self._sysreg_value(row)

    def _sysreg_value(self, row):
        slot = SR.SLOT[row.name]
        if slot == SR.S_NZCV:
            return int(self.ctl[O.C_NZCV]) << 28
        if slot == SR.S_DAIF:
            return int(self.ctl[O.C_DAIF]) << 6
        if slot == SR.S_CURRENTEL:
            return int(self.ctl[O.C_EL]) << 2
        if slot == SR.S_SPSEL:
            return int(self.ctl[O.C_SPSEL])
        if slot == SR.S_SP_EL0 or slot == SR.S_SP_EL1:
            return int(self.regs[O.SP]) if slot == self._sp_slot() else int(self.sysr[slot, SR.R_VAL])
        if (row.kind == SR.K_PLAIN and row.handler == SR.H_NONE) or row.rel > 1:
            return int(self.sysr[slot, SR.R_VAL])
        v = self._mrs(row)
        return int(self.sysr[slot, SR.R_VAL]) if v is None else v

    def _mrs(self, row):
        """The value MRS at EL1 reads (computed registers: counters, timer ISTATUS and
        TVAL, CCSIDR, PMU counters, set/clear aliases), by running the executor's own
        MRS code on copies of the state.  None if EL1 may not read it."""
        from pyaarch64.cpu.system import sysreg
        regs, ctl, sysr = self.regs.copy(), self.ctl.copy(), self.sysr.copy()
        ctl[O.C_EL] = 1
        ctl[O.C_PC] = 0
        sysreg(regs, ctl, sysr, self.sysmap, np.uint64(0), SR.key(*row.enc), 0, True)
        if int(ctl[O.C_PC]) != 4:
            return None
        return int(regs[0])

    def sysregs(self):
        """Every system register this CPU has that can be read, by name -> value, in
        table order (what `info registers`-style dumps print): the stored ones and
        the computed ones (CurrentEL, DAIF, NZCV, counters, timer ISTATUS, PMU)."""
        out = {}
        for row in SR.ROWS:
            if not SR.present(row, self.model):
                continue
            if row.rel > 1 and row.name not in ("SP_EL0", "SP_EL1"):
                continue                                  # write-only (OSLAR, PMSWINC)
            if row.handler == SR.H_GIC:
                continue                # the GIC's (a read of ICC_IAR<n> acknowledges)
            out[row.name] = self._sysreg_value(row)
        return out

    def set_reg(self, name, value):
        """Write a register by name: everything reg() reads (x/w, sp, pc, lr, fp,
        nzcv, pstate/cpsr, el, v/q/d/s/h/b, system registers such as SP_EL0, FPCR,
        FPSR).  A value must fit the register's width (a negative one is taken as
        two's complement); RegisterError otherwise, and for unknown or read-only
        registers."""
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise RegisterError(f"register '{name}': the value must be an integer, not {value!r}")
        value = int(value)
        n = name.lower()
        width = _width(n)
        if not -(1 << (width - 1)) <= value < (1 << width):
            raise RegisterError(f"value {value:#x} does not fit in {name} ({width} bits)")
        value &= (1 << width) - 1
        if n in ("pstate", "cpsr"):
            self.set_pstate(value)
            return
        if n == "el":
            if value not in (0, 1):
                raise RegisterError(f"el {value}: this CPU has EL0 and EL1")
            self.set_pstate((self.pstate() & ~0xF) | ((value << 2) | (self.pstate() & 1 if value else 0)))
            return
        value_wide = value if _vreg(n) is not None else None
        value &= 0xFFFFFFFFFFFFFFFF
        if n == "pc":
            self.pc = value
            return
        if n == "sp":
            self.regs[O.SP] = value
            return
        if n == "lr":
            n = "x30"
        if n == "fp":
            n = "x29"
        if n[0] in "xw" and n[1:].isdigit() and int(n[1:]) < 31:
            self.regs[int(n[1:])] = value & 0xFFFFFFFF if n[0] == "w" else value
            return
        if n == "nzcv":
            self.ctl[O.C_NZCV] = (value >> 28) & 0xF
            return
        v = _vreg(n)
        if v is not None:
            # like a load of that width: the rest of the register becomes zero
            full = int(value_wide) & ((1 << v[0]) - 1) if value_wide is not None else value & ((1 << v[0]) - 1)
            self.vregs[v[1], 0] = full & 0xFFFFFFFFFFFFFFFF
            self.vregs[v[1], 1] = full >> 64
            return
        row = SR.find(n)
        if row is None or not SR.present(row, self.model):
            raise RegisterError(f"unknown register '{name}'")
        slot = SR.SLOT[row.name]
        if slot == SR.S_NZCV:
            self.ctl[O.C_NZCV] = (value >> 28) & 0xF
        elif slot == SR.S_DAIF:
            self.ctl[O.C_DAIF] = (value >> 6) & 0xF
        elif slot == self._sp_slot():
            self.regs[O.SP] = value
        elif row.kind == SR.K_CONST or slot == SR.S_CURRENTEL or row.wel > 1:
            raise RegisterError(f"register '{row.name}' is read-only")
        elif row.handler in (SR.H_NONE, SR.H_TIMER) and row.kind == SR.K_PLAIN:
            self.sysr[slot, SR.R_VAL] = value             # raw: every bit, no side effect
        else:
            self._msr(row, value)
        if slot in (SR.S_SCTLR_EL1, SR.S_TCR_EL1, SR.S_TTBR0_EL1, SR.S_TTBR1_EL1):
            self.tlb[0::2] = INVALID          # the soft TLB caches translations
        if slot == SR.S_MDSCR_EL1 or SR.S_OSLAR_EL1 <= slot <= SR.S_DBG_LAST:
            self.debug_refresh()

    def _msr(self, row, value):
        """MSR at EL1 through the executor's code (PMU counters, set/clear pairs, ...)."""
        from pyaarch64.cpu.system import sysreg
        regs, ctl = self.regs.copy(), self.ctl.copy()
        ctl[O.C_EL] = 1
        ctl[O.C_PC] = 0
        regs[0] = value
        sysr = self.sysr.copy()
        sysreg(regs, ctl, sysr, self.sysmap, np.uint64(0), SR.key(*row.enc), 0, False)
        if int(ctl[O.C_PC]) != 4:
            raise RegisterError(f"register '{row.name}' cannot be written")
        self.sysr[:] = sysr

    def set_pstate(self, ps):
        """PSTATE from its SPSR image: NZCV, IL, DAIF, EL and SPSel (EL0t, EL1t, EL1h);
        the stack pointer switches bank as an exception entry or return would."""
        m = ps & 0x1F
        if m not in (0, 4, 5) or ps & ~0xF01003C5 & 0xFFFFFFFFFFFFFFFF:
            raise RegisterError(f"pstate {ps:#x}: mode 0x{m:x} or bits outside NZCV, IL, DAIF "
                                f"and M (EL0t, EL1t, EL1h)")
        old = self._sp_slot()
        self.sysr[old, SR.R_VAL] = self.regs[O.SP]
        self.ctl[O.C_EL] = m >> 2
        self.ctl[O.C_SPSEL] = m & 1
        self.regs[O.SP] = self.sysr[self._sp_slot(), SR.R_VAL]
        self.ctl[O.C_NZCV] = (ps >> 28) & 0xF
        self.ctl[O.C_IL] = (ps >> 20) & 1
        self.ctl[O.C_DAIF] = (ps >> 6) & 0xF

    def pstate(self):
        el = int(self.ctl[O.C_EL])
        m = (el << 2) | (int(self.ctl[O.C_SPSEL]) if el else 0)
        return ((int(self.ctl[O.C_NZCV]) << 28) | (int(self.ctl[O.C_IL]) << 20)
                | (int(self.ctl[O.C_DAIF]) << 6) | m)

    def debug_refresh(self, changed=True):
        """Re-derive the debug architecture's flags (cpu/debug.py) after the host wrote
        its registers (set_reg, a snapshot restore); `changed`: drop the decode cache and
        the soft TLB where breakpoints or watchpoints are or were armed."""
        if not self.debug_arch:
            return
        from pyaarch64.cpu.debug import flags
        old = int(self.ctl[O.C_DBG])
        new = int(flags(self.ctl, self.sysr))
        self.ctl[O.C_DBG] = new
        if changed and (old | new) & (O.DBG_BP | O.DBG_WP):
            self.invalidate_code()

    def invalidate_code(self):
        """Call after writing guest RAM from the host (loaders, DMA).  Plain numpy:
        host-side calls should not pay for loading jitted helpers."""
        self.tlb[0::2] = INVALID
        if self.pslot is not None:
            self.pslot[:] = -1
            self.slotpage[:] = -1

    def new_epoch(self):
        """Start a snapshot epoch: no RAM page counts as written.  The write TLB is
        emptied, so a page the guest writes from now on enters it again through the
        memory slow path, which marks it in `dirty` (as host writes do: mark_written)."""
        self.dirty[:] = 0
        self.tlb[2 * TLB_ENTRIES * T_WRITE:2 * TLB_ENTRIES * (T_WRITE + 1):2] = INVALID

    def set_regions(self, extra):
        """Replace the RAM regions besides the board's RAM ((guest base, size, offset
        in the array), as attach_ram's `extra`) without reallocating anything: a ROM
        device switching between RAM-backed reads and MMIO.  The soft TLB is emptied
        and a running loop stops after this instruction (C_STOP 2: it re-plans), so
        no page of the old mapping is used again."""
        assert len(extra) <= O.XRAM_MAX
        self.ctl[O.C_XRAM_N] = len(extra)
        for k, (b, n, off) in enumerate(extra):
            self.ctl[O.C_XRAM + 3 * k:O.C_XRAM + 3 * k + 3] = (b, n, off)
        self.tlb[0::2] = INVALID
        if not int(self.ctl[O.C_STOP]):
            self.ctl[O.C_STOP] = 2

    def set_rom(self, off, n, rom=True):
        """Make the pages [off, off+n) of the RAM array a ROM device's (hooks.PROT_ROM:
        reads and fetches as RAM, writes to the MMIO callback), or plain RAM again."""
        from pyaarch64.cpu.hooks import PROT_ROM
        pages = self.prot[off >> 12:(off + n + 4095) >> 12]
        pages[:] = (pages | PROT_ROM) if rom else (pages & ~PROT_ROM)
        flags = int(self.ctl[O.C_HOOK_FLAGS]) & ~O.HF_PROT
        self.ctl[O.C_HOOK_FLAGS] = flags | (O.HF_PROT if self.prot.any() else 0)
        self.tlb[0::2] = INVALID

    def forget_code(self, off, n):
        """A device changed [off, off+n) of the RAM array behind the CPU (a flash
        program or erase): decoded code there is forgotten.  Unlike mark_written
        the pages do not count as written RAM (they are not the snapshot's RAM)."""
        if n <= 0:
            return
        slots = self.pslot[off >> 12:((off + n - 1) >> 12) + 1]
        used = slots[slots >= 0]
        if len(used):
            self.slotpage[used] = -1
            slots[slots >= 0] = -1

    def mark_written(self, off, n):
        """The host wrote RAM [off, off+n) (loaders, DMA, the API): the pages count as
        written in this epoch, and decoded code in them is forgotten."""
        if n <= 0:
            return
        p0, p1 = off >> 12, (off + n - 1) >> 12
        self.dirty[p0:p1 + 1] = 1
        slots = self.pslot[p0:p1 + 1]
        used = slots[slots >= 0]
        if len(used):
            self.slotpage[used] = -1
            slots[slots >= 0] = -1

    # --- execution -----------------------------------------------------------
    def bus(self):
        """RAM, soft TLB, decode-slot maps and MMIO callback as the one value the
        jitted core passes around (cpu/bus.py)."""
        return Bus(self.mem, self.tlb, self.pslot, self.slotpage, self.dcache, self.dirty, self.hooks,
                   self.prot)

    def run(self, budget):
        """Run up to `budget` instructions; returns an EXIT_* code (cpu.ops)."""
        from pyaarch64.cpu.executor import run as _run
        from numba import typeof
        args = self._args
        if args is None:                # (attach_ram drops it: the Bus holds its arrays)
            args = self._args = (self.regs, self.ctl, self.sysr, self.sysmap, self.bus())
        self._fill_groups()
        step = self.exec_path == "step"
        budget = int(budget)
        while True:
            ic0 = int(self.ctl[O.C_ICOUNT])
            n = 1 if step else budget         # the test path "step": one instruction per call
            if not _compiled[0] and not compilejobs.dispatcher_cached(
                    _run, tuple(typeof(a) for a in args + (n, self.state))):
                # a cold start compiles the groups in a second process meanwhile
                compilejobs.start(self, groups.COMPILE_ORDER, main_busy=True)
            with groups.compile_progress("the CPU core") if not _compiled[0] else nullcontext():
                ex = _run(*args, n, self.state)
            _compiled[0] = True
            budget -= int(self.ctl[O.C_ICOUNT]) - ic0
            if ex == O.EXIT_GROUP:
                self._load_group(int(self.ctl[O.C_EXIT_A]))
            elif not (step and ex == O.EXIT_BUDGET):
                return ex
            if budget <= 0:
                return O.EXIT_BUDGET

    def protect(self, off, n, forbid):
        """Forbid accesses (hooks.PROT_NO_* bits) to the RAM pages [off, off+n) of the
        RAM array (0: allow everything again); the soft TLB is emptied."""
        from pyaarch64.cpu.hooks import PROT_ROM
        pages = self.prot[off >> 12:(off + n + 4095) >> 12]
        pages[:] = (pages & PROT_ROM) | forbid
        flags = int(self.ctl[O.C_HOOK_FLAGS]) & ~O.HF_PROT
        self.ctl[O.C_HOOK_FLAGS] = flags | (O.HF_PROT if self.prot.any() else 0)
        self.tlb[0::2] = INVALID

    # --- coverage --------------------------------------------------------------
    def set_coverage(self, size):
        """Record AFL-shaped edge coverage into a bitmap of `size` bytes (a power of
        two, 256 .. 1 MiB), or stop recording (size 0 or None).  Returns the bitmap
        (a view: cpu/hotcov.py writes it) or None."""
        from pyaarch64.cpu.memory import COV_MAX
        if not size:
            self.ctl[O.C_COV_ON] = 0
            return None
        if size & (size - 1) or not 256 <= size <= COV_MAX:
            raise ValueError(f"coverage bitmap size {size}: a power of two from 256 to {COV_MAX}")
        self.ctl[O.C_COV_MASK] = size - 1
        self.ctl[O.C_COV_ON] = 1
        self.reset_coverage()
        return self._cov[:size]

    def reset_coverage(self):
        n = int(self.ctl[O.C_COV_MASK]) + 1
        self._cov[:n] = 0
        self.ctl[O.C_COV_PREV] = 0

    def _group_types(self, g=0):
        if g in (groups.G_VEC, groups.G_COV):
            return groups.loop_argtypes_of(self.state, self.ctl, self.pslot, self.mem, self.sysr)
        return groups.argtypes_of(self.regs, self.ctl, self.sysr, self.sysmap, self.bus())

    def _fill_groups(self):
        """Addresses of the groups already compiled for this CPU's argument types into
        ctl, once (the types do not change); 0 loads on first use."""
        if self._groups_key:
            return
        self._groups_key = True
        for g in range(groups.NGROUPS):
            self.ctl[O.C_GROUP + g] = groups._addr.get((g, self._group_types(g)), 0)

    def _load_group(self, g):
        """Compile or load group g (and the groups loaded with it) for this CPU.  A
        group another process is compiling (cpu/compilejobs.py) is waited for, after
        doing the free ones."""
        if not 0 <= g < groups.NGROUPS:
            raise RuntimeError(f"emulator defect: unknown instruction group {g}")
        pending = list(groups.VEC_WITH if g in groups.VEC_WITH else (g,))
        key = (pending[0], self._group_types(pending[0]))
        if key not in groups._addr and not compilejobs.is_cached(*key):
            # a compile ahead: share it and the groups after it with a second process
            later = (groups.COMPILE_ORDER[groups.COMPILE_ORDER.index(g) + 1:]
                     if g in groups.COMPILE_ORDER else ())
            compilejobs.start(self, pending + [h for h in later if h not in pending], main_busy=False)
        while pending:
            for h in list(pending):
                key = (h, self._group_types(h))
                if key not in groups._addr:
                    with compilejobs.claim(h, block=False) as mine:
                        if not mine:
                            continue
                        groups.address(*key)
                self.ctl[O.C_GROUP + h] = groups._addr[key]
                pending.remove(h)
            if pending:                 # every one left is being compiled elsewhere
                h = pending.pop(0)
                key = (h, self._group_types(h))
                with groups.compile_progress(f"the {groups.NAMES[h]} group", elsewhere=True):
                    with compilejobs.claim(h):
                        groups.address(*key)
                self.ctl[O.C_GROUP + h] = groups._addr[key]

    def take_undefined(self):
        """Take the Undefined Instruction exception at the current PC (used by the
        board when it declines an HLT/HVC/SMC).  Returns 0 or EXIT_EXC_LOOP."""
        from pyaarch64.cpu.system import undefined
        return undefined(self.regs, self.ctl, self.sysr, self.ctl[O.C_PC])
