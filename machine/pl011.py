"""Arm PrimeCell UART (PL011), as on QEMU's virt board.

Registers used by guests: DR, RSR/ECR, FR, IBRD/FBRD, LCR_H, CR, IFLS, IMSC,
RIS, MIS, ICR, DMACR and the peripheral/PrimeCell ID registers.  Transmit is
immediate (the FIFO never fills); receive has a 16-entry FIFO with FEN set, a 1-byte holding register without
(the depths QEMU 7.2 models).
"""
from collections import deque

# interrupt bits
INT_RX = 1 << 4
INT_TX = 1 << 5
INT_RT = 1 << 6

FR_RXFE = 1 << 4
FR_TXFF = 1 << 5
FR_RXFF = 1 << 6
FR_TXFE = 1 << 7

ID = (0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1)   # 0xFE0..0xFFC


class PL011:
    name = "pl011"

    def __init__(self, tx=None, irq=None):
        self.tx = tx                 # callable(bytes) or None (output dropped)
        self.irq = irq               # callable(level) or None
        self.reset()

    def reset(self):
        self.rx = deque()
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
        self._update()

    # --- host side -----------------------------------------------------------
    def depth(self):
        return 16 if self.lcr & 0x10 else 1

    def can_receive(self):
        return len(self.rx) < self.depth()

    def push_rx(self, byte):
        """Deliver one received byte (the host checks can_receive first)."""
        self.rx.append(byte & 0xFF)
        self.ris |= INT_RX | INT_RT
        self._update()

    # --- guest side ------------------------------------------------------------
    def _update(self):
        if self.irq is not None:
            self.irq(1 if (self.ris & self.imsc) else 0)

    def read(self, off, size):
        if off == 0x000:
            if not self.rx:
                return 0
            c = self.rx.popleft()
            if not self.rx:
                self.ris &= ~(INT_RX | INT_RT)
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
                # FIFO enable changed: the receive FIFO is flushed
                self.rx.clear()
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
