"""GICv2m MSI frame, as QEMU 7.2's virt board has it beside its GICv2 (arm-gicv2m).

One non-secure frame (SBSA's GICv2m): a device's MSI is a write of an SPI number to
MSI_SETSPI_NS (0x040), which pulses that SPI (an edge: the GIC latches it pending
when the SPI is configured edge-triggered, as Linux configures MSIs).  MSI_TYPER
(0x008) says which SPIs the frame owns: the first in bits [25:16], how many in
[9:0] -- on virt SPIs 80..143 (irqmap 48 + 32, 64 of them: 0x00500040).

Guest-visible details as QEMU 7.2: reads must be 32 bits wide (others log "bad
size" and read 0), writes 16 or 32 bits; MSI_IIDR (0xfcc) reads 0x05100000 (product
ID 'Q', no implementer); the identification registers 0xfd0-0xffc read 0; a write
of an SPI number outside the frame's range does nothing; other offsets are bad
offsets (logged, reads 0).  The frame has no state of its own.
"""

from pyaarch64.machine.devices import Registers32

GIC_INTERNAL = 32
MSI_TYPER, MSI_SETSPI_NS, MSI_IIDR = 0x008, 0x040, 0xFCC
PRODUCT_ID_QEMU = 0x51


class GICv2m(Registers32):
    name = "gicv2m"

    def __init__(self, base_spi, num_spi=64, pulse=None, guest_error=None):
        """base_spi: the first SPI's number (irqmap: INTID - 32); pulse(intid) raises
        and lowers that GIC input; guest_error(msg) logs a bad access."""
        self.base_spi = base_spi
        self.num_spi = num_spi
        self.pulse = pulse
        self.guest_error = guest_error

    def read_reg(self, off, size):
        if size != 4:
            self._log(f"gicv2m_read: bad size {size}\n")
            return 0
        if off == MSI_TYPER:
            return ((self.base_spi + GIC_INTERNAL) << 16) | self.num_spi
        if off == MSI_IIDR:
            return PRODUCT_ID_QEMU << 20
        if 0xFD0 <= off <= 0xFFC:
            return 0
        self._log(f"gicv2m_read: Bad offset {off:x}\n")
        return 0

    def write_reg(self, off, size, value):
        if size not in (2, 4):
            self._log(f"gicv2m_write: bad size {size}\n")
            return
        if off == MSI_SETSPI_NS:
            spi = (value & 0x3FF) - (self.base_spi + GIC_INTERNAL)
            if 0 <= spi < self.num_spi and self.pulse is not None:
                self.pulse(self.base_spi + GIC_INTERNAL + spi)
            return
        self._log(f"gicv2m_write: Bad offset {off:x}\n")
