"""Arm PrimeCell GPIO (PL061) and the power button on it, as on QEMU 7.2's virt board.

PL061: eight lines, each an input or an output (DIR).  The data register is seen
through an address mask: an access at offset 0x000-0x3fc uses bits [9:2] of the
offset as the mask of the lines it reads (the others read 0) or writes (only lines
that are outputs change).  Input lines are driven from outside with
set_input(line, level); a change of an input line is an edge, and each line has its
interrupt sense (IS: 0 edge, 1 level), both-edges (IBE) and event (IEV: 1 rising /
high, 0 falling / low) settings; RIS holds what was detected, IE masks it onto the
single interrupt output (the SPI), IC clears it.  A level-sensitive line sets its
RIS bit again as long as its level holds (a write of IC does not clear it then).

Guest-visible details as QEMU 7.2 (its "pl061" with pullups 0, pulldowns 0xff, as
the virt board creates it): the PrimeCell IDs 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0,
0x05, 0xb1 at 0xfe0-0xffc (0xfd0-0xfdc read 0); AFSEL keeps its eight bits and
does nothing else; the Luminary registers (0x500-0x528), writes to RIS/MIS and reads
of IC are bad offsets (a guest error is logged, reads give 0); an input line's level
is the data register's bit (QEMU keeps no other copy): a line that is an output
ignores its input, and a reset forgets the input levels.  Switching a line from
output to input compares the data bit with the inputs' value at their last change
(old_in_data), exactly as QEMU does, so it can count as an edge.  The outputs drive
nothing on the virt board (QEMU's are unconnected there).

GpioKey is QEMU's "gpio-key": a press (system_powerdown) raises its output -- the
PL061's line 3 on the virt board -- and lowers it 100 ms of virtual time later
(the release is a timer the board's run loop expires).  Linux's gpio-keys driver
sees KEY_POWER pressed and released.
"""

from pyaarch64.machine.devices import Registers32
from pyaarch64.snapshot.schema import Field

ID = (0x00, 0x00, 0x00, 0x00, 0x61, 0x10, 0x04, 0x00, 0x0D, 0xF0, 0x05, 0xB1)   # 0xFD0..0xFFC
N_LINES = 8
LINES = (1 << N_LINES) - 1


class PL061(Registers32):
    name = "pl061"
    # guest-visible state (all eight-bit, as the guest can set them): isense is IS;
    # the interrupt output follows from ris & ie (post_load)
    STATE_FIELDS = (
        Field("data", "u32", mask=LINES), Field("old_in_data", "u32", mask=LINES),
        Field("dir", "u32", mask=LINES), Field("isense", "u32", mask=LINES),
        Field("ibe", "u32", mask=LINES), Field("iev", "u32", mask=LINES),
        Field("ie", "u32", mask=LINES), Field("ris", "u32", mask=LINES),
        Field("afsel", "u32", mask=LINES),
    )

    def __init__(self, irq=None, guest_error=None):
        """irq(level) drives the interrupt output; guest_error(msg) logs a bad access."""
        self.irq = irq
        self.guest_error = guest_error
        self.irq_level = 0
        self.reset()

    def reset(self):
        self.data = 0
        self.old_in_data = 0
        self.dir = 0
        self.isense = 0
        self.ibe = 0
        self.iev = 0
        self.ie = 0
        self.ris = 0
        self.afsel = 0
        self.irq_level = 0
        if self.irq is not None:
            self.irq(0)

    def post_load(self):
        """After STATE_FIELDS were restored: drive the interrupt output from them."""
        self.irq_level = 1 if (self.ris & self.ie) else 0
        if self.irq is not None:
            self.irq(self.irq_level)

    def outputs(self):
        """The levels the lines that are outputs drive (bit n: line n)."""
        return self.data & self.dir

    # --- lines ---------------------------------------------------------------------
    def set_input(self, line, level):
        """Drive input line `line` (0..7) to `level`; ignored while the line is an output."""
        if not 0 <= line < N_LINES:
            raise ValueError(f"PL061 has lines 0..{N_LINES - 1}, not {line}")
        bit = 1 << line
        if not self.dir & bit:
            self.data = (self.data & ~bit) | (bit if level else 0)
            self._update()

    def _update(self):
        changed = (self.old_in_data ^ self.data) & ~self.dir & LINES
        if changed:
            self.old_in_data = self.data
            edge = changed & ~self.isense
            # both edges, or the edge IEV selects (rising: the line is now 1)
            self.ris |= (edge & self.ibe) | (edge & ~self.ibe & ~(self.data ^ self.iev))
        # level-sensitive lines: set while at the level IEV selects
        self.ris |= ~(self.data ^ self.iev) & self.isense & LINES
        self.ris &= LINES
        level = 1 if (self.ris & self.ie) else 0
        if level != self.irq_level:
            self.irq_level = level
            if self.irq is not None:
                self.irq(level)

    # --- registers -------------------------------------------------------------------
    def _read(self, off):
        if off < 0x400:
            return self.data & (off >> 2)
        reg = _REGS_R.get(off)
        if reg is not None:
            return getattr(self, reg)
        if off == 0x418:
            return self.ris & self.ie
        if 0xFD0 <= off < 0x1000:
            return ID[(off - 0xFD0) >> 2]
        self._log(f"pl061_read: Bad offset {off:x}\n")
        return 0

    def read_reg(self, off, size):
        return self._read(off) & ((1 << (8 * size)) - 1)

    def write_reg(self, off, size, value):
        value &= (1 << (8 * size)) - 1
        if off < 0x400:
            mask = (off >> 2) & self.dir
            self.data = (self.data & ~mask) | (value & mask)
        elif off in _REGS_W:
            setattr(self, _REGS_W[off], value & LINES)
        elif off == 0x41C:
            self.ris &= ~value & LINES
        else:
            self._log(f"pl061_write: Bad offset {off:x}\n")
            return
        self._update()


# offset -> attribute of the plain read/write registers (RIS reads only, IC writes only)
_REGS_W = {0x400: "dir", 0x404: "isense", 0x408: "ibe", 0x40C: "iev", 0x410: "ie", 0x420: "afsel"}
_REGS_R = {**_REGS_W, 0x414: "ris"}


class GpioKey:
    """QEMU's gpio-key: press() raises `out` and lowers it LATENCY_MS later (virtual
    time, counted from the current millisecond as QEMU's millisecond timer does)."""
    name = "gpio-key"
    LATENCY_MS = 100
    STATE_FIELDS = (Field("release_ns", "i64", lo=-1),)     # -1: not pressed

    def __init__(self, clock, out=None):
        """clock() -> virtual ns; out(level) drives the line (a PL061 input)."""
        self.clock = clock
        self.out = out
        self.release_ns = -1

    def reset(self):
        # as QEMU: the release timer goes; the line is left as it is
        self.release_ns = -1

    def post_load(self):
        """Nothing to derive: the line's level is the PL061's (its data register)."""

    def press(self):
        if self.out is not None:
            self.out(1)
        self.release_ns = (self.clock() // 1_000_000 + self.LATENCY_MS) * 1_000_000

    # host-side timer interface (board.timers)
    def deadline_ns(self):
        return None if self.release_ns < 0 else self.release_ns

    def expire(self, now_ns):
        if 0 <= self.release_ns <= now_ns:
            self.release_ns = -1
            if self.out is not None:
                self.out(0)
