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

from pyaarch64.cpu.hooks import HA_GO, HA_JUMP, HA_STOP, HK_BLOCK

ALL = (1, 0)                     # Unicorn's "every address"
M64 = (1 << 64) - 1


@dataclass
class CodeHook:
    kind: str                    # "code" or "block"
    callback: object
    begin: int
    end: int                     # inclusive
    user_data: object = None
    has_user_data: bool = False

    def covers(self, pc):
        return self.begin > self.end or self.begin <= pc <= self.end

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
        self._next = 1
        self._spans = ()
        vm.cpu.attach_hooks(self.dispatch)

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
        spans = sorted({h.span() for h in self.code.values()}
                       | {(a, a + 4) for a in self.breakpoints | self.untils})
        merged = []
        for b, e in spans:
            if merged and b <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((b, e))
        if tuple(merged) != self._spans:
            self._spans = tuple(merged)
            self.vm.cpu.set_hooks(merged)

    # --- the core's callback -----------------------------------------------------------
    def dispatch(self, pc, size, kind, value):
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
