"""Arm PrimeCell real-time clock (PL031), as on QEMU 7.2's virt board.

The counter (DR) counts seconds: the board's start time (host epoch seconds
captured when the machine was created, or -rtc base=) plus elapsed *virtual*
seconds, plus the offset the guest set by writing LR.  So a run is deterministic
for a given start time.  With -rtc clock=host it counts host seconds instead.  The match interrupt (DR == MR) is scheduled as a host-side timer
(deadline_ns/expire, polled by the board's run loop).

Guest-visible details as QEMU 7.2: LR reads back the last value written (0 at
reset), CR reads 1 and ignores writes (the counter always runs), IMSC keeps bit 0,
DR and RIS/MIS are read-only, a write of MR equal to the current count raises the
interrupt at once.
"""

from pyaarch64.machine.devices import Registers32
from pyaarch64.snapshot.schema import Field

ID = (0x31, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)    # 0xFE0..0xFFC
NS_PER_SEC = 1_000_000_000
MASK32 = 0xFFFFFFFF


class PL031(Registers32):
    name = "pl031"
    # guest-visible state for snapshots (Field: attribute, type, values it may hold);
    # everything else on the object is wiring (clock, start_time, irq, guest_error)
    # or derived (irq_level)
    STATE_FIELDS = (
        Field("tick_offset", "i64"), Field("mr", "u32"), Field("lr", "u32"),
        Field("imsc", "u32", mask=1), Field("ris", "u32", mask=1),
        Field("alarm_ns", "i64", lo=-1),
    )

    def __init__(self, clock, start_time, irq=None, guest_error=None):
        """clock() -> virtual ns; start_time() -> host epoch seconds at machine
        creation (or an int); irq(level) drives the interrupt line."""
        self.clock = clock
        self.start_time = start_time
        self.irq = irq
        self.guest_error = guest_error
        self.reset()

    def reset(self):
        self.tick_offset = 0        # seconds added by LR writes
        self.mr = 0
        self.lr = 0
        self.imsc = 0
        self.ris = 0
        self.alarm_ns = -1          # virtual ns at which DR reaches MR (-1: none)
        self.irq_level = 0
        if self.irq is not None:
            self.irq(0)

    def post_load(self):
        """After STATE_FIELDS were restored: drive the interrupt output from them."""
        self.irq_level = 1 if (self.ris & self.imsc) else 0
        if self.irq is not None:
            self.irq(self.irq_level)

    # --- time ------------------------------------------------------------------
    def _base(self):
        st = self.start_time
        return st() if callable(st) else st

    def count(self, now_ns=None):
        now = self.clock() if now_ns is None else now_ns
        return (self._base() + self.tick_offset + now // NS_PER_SEC) & MASK32

    def _set_alarm(self):
        now = self.clock()
        ticks = (self.mr - self.count(now)) & MASK32
        if ticks == 0:
            self.alarm_ns = -1
            self._match()
        else:
            # the second boundary at which the count becomes MR
            self.alarm_ns = (now // NS_PER_SEC + ticks) * NS_PER_SEC

    def _match(self):
        self.ris = 1
        self._update()

    def use_host_clock(self, virtual_ns):
        """-rtc clock=host: count host time from now (the board's start time is the
        count now) instead of virtual time.  The match interrupt is then due at a
        host time; the board, which plans in virtual time, is told the virtual time
        as far ahead as that (virtual_ns() -> the board's virtual time)."""
        import time
        t0 = time.monotonic_ns()
        self.clock = lambda: time.monotonic_ns() - t0
        self._virtual_ns = virtual_ns

    # host-side timer interface (board.timers): deadlines in the board's virtual ns
    def deadline_ns(self):
        if self.alarm_ns < 0:
            return None
        if hasattr(self, "_virtual_ns"):          # (-rtc clock=host)
            return self._virtual_ns() + max(0, self.alarm_ns - self.clock())
        return self.alarm_ns

    def expire(self, now_ns):
        if hasattr(self, "_virtual_ns"):
            now_ns = self.clock()
        if 0 <= self.alarm_ns <= now_ns:
            self.alarm_ns = -1
            self._match()

    # --- registers ---------------------------------------------------------------
    def _update(self):
        level = 1 if (self.ris & self.imsc) else 0
        if level != self.irq_level:
            self.irq_level = level
            if self.irq is not None:
                self.irq(level)

    def _read32(self, off):
        if off == 0x00:
            return self.count()
        if off == 0x04:
            return self.mr
        if off == 0x08:
            return self.lr
        if off == 0x0C:
            return 1
        if off == 0x10:
            return self.imsc
        if off == 0x14:
            return self.ris
        if off == 0x18:
            return self.ris & self.imsc
        if 0xFE0 <= off < 0x1000:
            return ID[(off - 0xFE0) >> 2]
        if off == 0x1C:
            self._log(f"pl031: read of write-only register at offset 0x{off:x}\n")
        else:
            self._log(f"pl031_read: Bad offset 0x{off:x}\n")
        return 0

    def read_reg(self, off, size):
        # narrower accesses address the register at exactly that offset (as QEMU)
        return self._read32(off) & ((1 << (8 * size)) - 1)

    def write_reg(self, off, size, value):
        value &= (1 << (8 * size)) - 1
        if off == 0x04:
            self.mr = value
            self._set_alarm()
        elif off == 0x08:
            self.tick_offset += value - self.count()
            self.lr = value
            self._set_alarm()
        elif off == 0x0C:
            pass                                 # the counter always runs
        elif off == 0x10:
            self.imsc = value & 1
            self._update()
        elif off == 0x1C:
            self.ris &= ~value & 1
            self._update()
        elif off in (0x00, 0x14, 0x18):
            self._log(f"pl031: write to read-only register at offset 0x{off:x}\n")
        else:
            self._log(f"pl031_write: Bad offset 0x{off:x}\n")
