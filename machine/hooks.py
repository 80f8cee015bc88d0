"""The board's code hooks, block hooks, breakpoints and run(until=) stops.

Every address any of them covers is in the CPU's hook table (cpu/hooks.py): it
decodes to OP_HOOK, and the jitted core calls `dispatch` through a ctypes callback
before the instruction runs -- with the registers, PC and instruction count
committed, so a callback may read and write registers and memory, stop the run
(`stop()`), or move the PC (the instruction then does not run).  Addresses are
virtual.  A page of code reached through two virtual addresses is decoded once:
a hook on one alias is seen through the other only if the page was decoded
through the hooked one (hooks on aliases of the same code are not supported).

Ranges are Unicorn's: `begin`..`end` inclusive, and begin > end means every address.
"""
from dataclasses import dataclass

from pyaarch64.cpu import ops as O
from pyaarch64.cpu.hooks import (HA_GO, HA_JUMP, HA_STOP, HK_BLOCK, HK_EXC, HK_INVALID, HK_PROT,
                                 HK_READ, HK_WRITE, MEM_R, MEM_W)

ALL = (1, 0)                     # Unicorn's "every address"


class _Retry(Exception):
    """cpu.callback_error's value when an invalid-memory hook asks for the access to
    be tried again (the instruction stops without effect and runs again)."""


RETRY = _Retry()


class ProtectionFault(Exception):
    """cpu.callback_error's value when an access mem_protect forbids is not retried:
    the run stops with StopReason 'protection'."""

    def __init__(self, access, address, size):
        super().__init__(f"{access} of {size} bytes at 0x{address:x}, which mem_protect forbids")
        self.access, self.address, self.size = access, address, size
M64 = (1 << 64) - 1


# exception classes (ESR_EL1.EC) by name, and QEMU's EXCP_* numbers (Unicorn's intno)
EC_NAMES = {0x00: "undefined", 0x01: "wfi-trap", 0x07: "fp-access", 0x0E: "illegal-state",
            0x15: "svc", 0x18: "sysreg-trap", 0x20: "insn-abort", 0x21: "insn-abort",
            0x22: "pc-alignment", 0x24: "data-abort", 0x25: "data-abort", 0x26: "sp-alignment",
            0x30: "breakpoint", 0x31: "breakpoint", 0x32: "software-step",
            0x33: "software-step", 0x34: "watchpoint", 0x35: "watchpoint", 0x3C: "brk"}
INTNO = {"undefined": 1, "svc": 2, "insn-abort": 3, "data-abort": 4, "irq": 5, "fiq": 6,
         "brk": 7, "serror": 21, "hvc": 11, "smc": 13,
         "breakpoint": 3, "software-step": 1, "watchpoint": 4}      # (QEMU raises them as these)


@dataclass
class ExceptionInfo:
    """An exception entry, as exception hooks see it (after the entry: the PC is at
    the vector, ESR/ELR/SPSR/FAR_EL1 are written)."""
    kind: str                    # svc, brk, undefined, data-abort, insn-abort, irq, fiq, ...
    ec: int                      # ESR_EL1.EC (0 for interrupts)
    esr: int
    far: int
    return_address: int          # ELR_EL1
    vector: int                  # where it continues
    target_el: int = 1

    @property
    def intno(self):
        """QEMU's exception number (Unicorn's UC_HOOK_INTR intno)."""
        return INTNO.get(self.kind, 0)


@dataclass
class CodeHook:
    kind: str                    # code, block, mem_read, mem_write, exception, intr
    callback: object
    begin: int
    end: int                     # inclusive
    user_data: object = None
    has_user_data: bool = False

    def covers(self, pc, size=1):
        """Whether [pc, pc+size) meets the range."""
        return self.begin > self.end or (self.begin < pc + size and pc <= self.end)

    def span(self):
        """[begin, end) for the CPU's table."""
        if self.begin > self.end:
            return 0, M64
        return self.begin, min(self.end + 1, M64)


class Hooks:
    def __init__(self, vm):
        self.vm = vm
        self.owner = vm                 # what callbacks get as their first argument
        self.code = {}                  # handle -> CodeHook
        self.breakpoints = set()
        self.untils = set()             # run(until=) addresses (kept: re-decoding costs)
        self.until = None               # the current run's
        self.stop_reason = None         # set when a hook stops the run
        self.invalid = []               # mem_invalid hooks (CodeHook), called from the board
        self._next = 1
        self._spans = ()
        for cpu in getattr(vm, "cpus", [vm.cpu]):      # (every CPU: the one running calls)
            cpu.attach_hooks(self.dispatch)

    # --- registry ------------------------------------------------------------------
    def add(self, kind, callback, begin, end, user_data=None, has_user_data=False):
        h = self._next
        self._next += 1
        self.code[h] = CodeHook(kind, callback, begin, end, user_data, has_user_data)
        self._sync()
        return h

    def remove(self, handle):
        if handle not in self.code:
            return False
        del self.code[handle]
        self._sync()
        return True

    def invalid_access(self, access, addr, size, value):
        """An access to a physical address with nothing behind it: the mem_invalid
        hooks decide.  True: one of them returned True (it mapped memory): the
        instruction stops without effect and runs again (cpu.callback_error = RETRY,
        which ends the jitted loop)."""
        retry = False
        for h in list(self.invalid):
            if h.covers(addr, size):
                if h.has_user_data:
                    r = h.callback(self.owner, access, addr, size, value, h.user_data)
                else:
                    r = h.callback(self.owner, access, addr, size, value)
                retry = retry or bool(r)
        if retry:
            cpu = self.vm.cpu
            cpu.callback_error = RETRY
            cpu.ctl[O.C_CB_ERR] = 1
            cpu.ctl[O.C_STOP] = 1
        return retry

    def add_breakpoint(self, addr):
        if addr not in self.breakpoints:
            self.breakpoints.add(addr)
            self._sync()

    def remove_breakpoint(self, addr):
        if addr not in self.breakpoints:
            return False
        self.breakpoints.discard(addr)
        self._sync()
        return True

    def set_until(self, addr):
        self.until = addr
        if addr is not None and addr not in self.untils:
            if len(self.untils) >= 16:
                self.untils.clear()
            self.untils.add(addr)
            self._sync()

    def _sync(self):
        hs = list(self.code.values())
        self.invalid = [h for h in hs if h.kind == "mem_invalid"]
        spans = sorted({h.span() for h in hs if h.kind in ("code", "block")}
                       | {(a, a + 4) for a in self.breakpoints | self.untils})
        merged = []
        for b, e in spans:
            if merged and b <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((b, e))
        mem = tuple(sorted({h.span() + (MEM_R if h.kind == "mem_read" else MEM_W,)
                            for h in hs if h.kind in ("mem_read", "mem_write")}))
        exc = any(h.kind in ("exception", "intr") for h in hs)
        key = (tuple(merged), mem, exc, bool(self.invalid))
        if key != self._spans:
            self._spans = key
            for cpu in getattr(self.vm, "cpus", [self.vm.cpu]):
                cpu.set_hooks(merged, mem, exc, bool(self.invalid))

    # --- the core's callback -----------------------------------------------------------
    def dispatch(self, pc, size, kind, value):
        if kind & HK_PROT:
            access = ("read", "write", "fetch")[value]
            if not self.invalid_access(f"{access}-prot", pc, size, 0):
                cpu = self.vm.cpu
                cpu.callback_error = ProtectionFault(access, pc, size)
                cpu.ctl[O.C_CB_ERR] = 1
                cpu.ctl[O.C_STOP] = 1
            return HA_GO
        if kind & HK_INVALID:
            self.invalid_access("fetch", pc, size, 0)
            return HA_GO
        if kind & (HK_READ | HK_WRITE):
            return self._memory(pc, size, kind, value)
        if kind & HK_EXC:
            return self._exception(pc, size, value)
        cpu = self.vm.cpu
        for h in list(self.code.values()):
            if not h.covers(pc):
                continue
            if h.kind == "code":
                args = (self.owner, pc, 4)
            elif kind & HK_BLOCK:
                args = (self.owner, pc, size)
            else:
                continue
            if h.has_user_data:
                h.callback(*args, h.user_data)
            else:
                h.callback(*args)
            if cpu.pc != pc:
                return HA_JUMP
        from pyaarch64.machine.virt import StopReason
        if pc in self.breakpoints:
            self.stop_reason = StopReason("breakpoint", 0, pc, address=pc,
                                          message=f"breakpoint at 0x{pc:x}")
            return HA_STOP
        if pc == self.until:
            self.stop_reason = StopReason("until", 0, pc, address=pc,
                                          message=f"reached 0x{pc:x} (run until)")
            return HA_STOP
        return HA_GO

    def _call(self, h, *args):
        if h.has_user_data:
            h.callback(self.owner, *args, h.user_data)
        else:
            h.callback(self.owner, *args)

    def _memory(self, va, size, kind, value):
        want = "mem_read" if kind & HK_READ else "mem_write"
        access = "read" if kind & HK_READ else "write"
        for h in list(self.code.values()):
            if h.kind == want and h.covers(va, size):
                self._call(h, access, va, size, value)
        return HA_GO

    def _exception(self, elr, ec, vec):
        cpu = self.vm.cpu
        if vec == 0:
            kind = EC_NAMES.get(ec, f"ec-0x{ec:02x}")
        else:
            kind = {0x80: "irq", 0x100: "fiq", 0x180: "serror"}.get(vec, "exception")
        info = ExceptionInfo(kind, ec if vec == 0 else 0, cpu.reg("ESR_EL1") if vec == 0 else 0,
                             cpu.reg("FAR_EL1") if kind in ("data-abort", "insn-abort") else 0,
                             elr, cpu.pc)
        for h in list(self.code.values()):
            if h.kind == "exception":
                self._call(h, info)
            elif h.kind == "intr":
                self._call(h, info.intno)
        return HA_GO

