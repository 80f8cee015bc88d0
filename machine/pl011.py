"""Arm PrimeCell UART (PL011), as on QEMU's virt board.

Registers used by guests: DR, RSR/ECR, FR, IBRD/FBRD, LCR_H, CR, IFLS, IMSC,
RIS, MIS, ICR, DMACR and the peripheral/PrimeCell ID registers.  Transmit is
immediate (the FIFO never fills); receive has a 16-entry FIFO with FEN set, a 1-byte holding register without
(the depths QEMU 7.2 models).

Interrupts (one combined output, `irq(level)` = any bit of RIS & IMSC):
  TX  set by every write to DR (transmit is instant), cleared only through ICR,
      as QEMU 7.2 does.
  RX  set when the receive FIFO fills up to the trigger level (the count
      becomes equal to it), cleared when reads take it below the level, or
      through ICR.  The trigger level:
        trm_rx_interrupts = 0 (QEMU 7.2's behaviour, the default): always 1
          character; IFLS is stored but ignored.
        trm_rx_interrupts = 1 (the PL011 TRM): 1 with the FIFO disabled, else
          the IFLS RXIFLSEL level (1/8, 1/4, 1/2, 3/4, 7/8 of 16: 2, 4, 8, 12, 14).
  RT  receive timeout, only with trm_rx_interrupts = 1 (QEMU 7.2 has none): the
      FIFO is not empty and no character arrived for 32 bit periods (from
      IBRD/FBRD and the virt board's 24 MHz UARTCLK; 115200 baud when the
      divisor is unprogrammed), measured in virtual time through the board's
      timer list (deadline_ns/expire); cleared when the FIFO empties or through ICR.
trm_rx_interrupts is a device property chosen by the machine type
(machine/virt_devices.py), not guest state.
"""

# interrupt bits
INT_RX = 1 << 4
INT_TX = 1 << 5
INT_RT = 1 << 6

FR_RXFE = 1 << 4
FR_TXFF = 1 << 5
FR_RXFF = 1 << 6
FR_TXFE = 1 << 7

from pyaarch64.snapshot.schema import Field

ID = (0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)   # 0xFE0..0xFFC


UARTCLK = 24_000_000                 # the virt board's apb-pclk
DEFAULT_DIVISOR = 13 * 64 + 1        # 115200 baud at 24 MHz (IBRD 13, FBRD 1)
RX_LEVELS = (2, 4, 8, 12, 14)        # IFLS RXIFLSEL 0..4 for the 16-entry FIFO
FIFO_DEPTH = 16


def _rx_fits(rx, state):
    """Without the FIFO (LCR_H.FEN clear) the receive side is one holding register."""
    lcr = state.get("lcr")
    if isinstance(lcr, int) and not lcr & 0x10 and len(rx) > 1:
        return f"{len(rx)} characters, but with the FIFO disabled (LCR_H.FEN 0) only 1 fits"


class PL011:
    name = "pl011"
    # guest-visible state for snapshots (Field: attribute, type, values it may hold);
    # everything else on the object is wiring (tx, irq, clock) or derived
    # (irq_level: see post_load)
    STATE_FIELDS = (
        Field("rx", "u8[]", max_len=FIFO_DEPTH, rule=_rx_fits),
        Field("lcr", "u32", mask=0xFF), Field("cr", "u32", mask=0xFFFF),
        # ILPR/IBRD/FBRD/IFLS/IMSC/DMACR keep all 32 bits written (see write())
        Field("ibrd", "u32"), Field("fbrd", "u32"), Field("ifls", "u32"), Field("imsc", "u32"),
        Field("ris", "u32", mask=INT_RX | INT_TX | INT_RT),
        Field("dmacr", "u32"), Field("rsr", "u32", mask=0), Field("ilpr", "u32"),
    )
    # the receive timeout (TRM receive interrupts only) is state only while it runs
    STATE_SUBSECTIONS = (
        ("rx-timeout", (Field("rt_deadline", "i64", 1, -1, lo=-1),), "rx_timeout_needed"),
    )

    def __init__(self, tx=None, irq=None, clock=None, trm_rx_interrupts=0):
        self.tx = tx                 # callable(bytes) or None (output dropped)
        self.irq = irq               # callable(level) or None
        self.clock = clock           # callable() -> virtual ns, for the receive timeout
        self.trm_rx_interrupts = trm_rx_interrupts   # property: see the module doc
        self.reset()

    def reset(self):
        self.rx = []                 # received characters, oldest first
        self.rt_deadline = -1        # virtual ns of the receive timeout (-1: none)
        self.irq_level = 0
        self.lcr = 0
        self.cr = 0x300
        self.ibrd = 0
        self.fbrd = 0
        self.ifls = 0x12
        self.imsc = 0
        self.ris = 0
        self.dmacr = 0
        self.rsr = 0
        self.ilpr = 0
        if self.irq is not None:
            self.irq(0)              # the output goes low with the reset

    # --- host side -----------------------------------------------------------
    def depth(self):
        return FIFO_DEPTH if self.lcr & 0x10 else 1

    def can_receive(self):
        return len(self.rx) < self.depth()

    def rx_trigger(self):
        """Characters in the receive FIFO that raise the RX interrupt."""
        if not self.trm_rx_interrupts or not self.lcr & 0x10:
            return 1
        sel = (self.ifls >> 3) & 7
        return RX_LEVELS[sel] if sel < len(RX_LEVELS) else RX_LEVELS[-1]

    def timeout_ns(self):
        """32 bit periods at the programmed baud rate (16 UARTCLK cycles a bit)."""
        div = ((self.ibrd & 0xFFFF) << 6) | (self.fbrd & 0x3F)
        if div == 0:
            div = DEFAULT_DIVISOR
        # 32 bits * 16 cycles * (div / 64) / UARTCLK seconds
        return (32 * 16 * div * 1_000_000_000) // (64 * UARTCLK)

    def push_rx(self, byte):
        """Deliver one received byte (the host checks can_receive first)."""
        self.rx.append(byte & 0xFF)
        if len(self.rx) == self.rx_trigger():
            self.ris |= INT_RX
        if self.trm_rx_interrupts and self.clock is not None:
            self.rt_deadline = self.clock() + self.timeout_ns()
        self._update()

    def post_load(self):
        """After STATE_FIELDS were restored: drive the interrupt output from them."""
        self.irq_level = 1 if (self.ris & self.imsc) else 0
        if self.irq is not None:
            self.irq(self.irq_level)

    def rx_timeout_needed(self):
        return self.rt_deadline >= 0

    # host-side timer interface (board.timers): the receive timeout
    def deadline_ns(self):
        return None if self.rt_deadline < 0 else self.rt_deadline

    def expire(self, now_ns):
        if 0 <= self.rt_deadline <= now_ns:
            self.rt_deadline = -1
            if self.rx:
                self.ris |= INT_RT
                self._update()

    # --- guest side ------------------------------------------------------------
    def _update(self):
        level = 1 if (self.ris & self.imsc) else 0
        if level != self.irq_level:
            self.irq_level = level
            if self.irq is not None:
                self.irq(level)

    def read(self, off, size):
        if off == 0x000:
            if not self.rx:
                return 0
            c = self.rx.pop(0)
            if len(self.rx) < self.rx_trigger():
                self.ris &= ~INT_RX
            if not self.rx:
                self.ris &= ~INT_RT
                self.rt_deadline = -1
            self._update()
            return c
        if off == 0x004:
            return self.rsr
        if off == 0x018:
            fr = FR_TXFE
            if not self.rx:
                fr |= FR_RXFE
            if len(self.rx) >= self.depth():
                fr |= FR_RXFF
            return fr
        if off == 0x020:
            return self.ilpr
        if off == 0x024:
            return self.ibrd
        if off == 0x028:
            return self.fbrd
        if off == 0x02C:
            return self.lcr
        if off == 0x030:
            return self.cr
        if off == 0x034:
            return self.ifls
        if off == 0x038:
            return self.imsc
        if off == 0x03C:
            return self.ris
        if off == 0x040:
            return self.ris & self.imsc
        if off == 0x048:
            return self.dmacr
        if 0xFE0 <= off < 0x1000:
            return ID[(off - 0xFE0) >> 2]
        return 0

    def write(self, off, size, value):
        if off == 0x000:
            if self.tx is not None:
                self.tx(bytes((value & 0xFF,)))
            self.ris |= INT_TX
            self._update()
        elif off == 0x004:
            self.rsr = 0
        # ILPR/IBRD/FBRD/IFLS/IMSC/DMACR keep all 32 bits written, as QEMU 7.2's
        # PL011 does (the hardware has narrower fields)
        elif off == 0x020:
            self.ilpr = value & 0xFFFFFFFF
        elif off == 0x024:
            self.ibrd = value & 0xFFFFFFFF
        elif off == 0x028:
            self.fbrd = value & 0xFFFFFFFF
        elif off == 0x02C:
            if (self.lcr ^ value) & 0x10:
                # FIFO enable changed: the receive FIFO is flushed (RIS is left
                # as it is, as QEMU 7.2 does)
                self.rx.clear()
                self.rt_deadline = -1
            self.lcr = value & 0xFF
        elif off == 0x030:
            self.cr = value & 0xFFFF
        elif off == 0x034:
            self.ifls = value & 0xFFFFFFFF
        elif off == 0x038:
            self.imsc = value & 0xFFFFFFFF
            self._update()
        elif off == 0x044:
            self.ris &= ~value
            self._update()
        elif off == 0x048:
            self.dmacr = value & 0xFFFFFFFF
