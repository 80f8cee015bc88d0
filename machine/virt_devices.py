"""Interrupt controller and the devices behind it on the virt board.

attach_devices(board) creates them, maps them (board.devices) and wires their
interrupt lines:

    board.gic    GICv2 (distributor at memmap["gic_dist"], CPU interface at
                 memmap["gic_cpu"]); board.gic.set_irq(intid, level) drives
                 PPIs 16..31 of CPU 0 and SPIs 32+
    board.rtc    PL031 at memmap["rtc"], SPI irqmap["rtc"], match timer in board.timers
    board.uart   (created by the board) gets its interrupt output on SPI irqmap["uart"]

reset_devices(board) is what a system reset does to them (see its docstring).
"""
import functools

from pyaarch64.machine.gic import GICv2, GICD_SIZE, GICC_SIZE, GIC_INTERNAL
from pyaarch64.machine.pl031 import PL031

def _guest_error(board, msg):
    tracer = getattr(board, "tracer", None)
    if tracer is not None:
        tracer.guest_error(msg)


class IrqLine:
    """An interrupt output wired to one GIC input (a device calls it with the level)."""

    def __init__(self, gic, intid):
        self.gic = gic
        self.intid = intid

    def __call__(self, level):
        self.gic.set_irq(self.intid, level)


def attach_devices(board):
    """Create and map the board's GIC and interrupt-driven devices."""
    t = board.type
    gic = GICv2(num_irq=t.gic_num_irqs, num_cpu=1, cpus=[board.cpu])
    gic.guest_error = functools.partial(_guest_error, board)
    board.gic = gic
    dist_base, dist_len = t.memmap["gic_dist"]
    cpu_base, cpu_len = t.memmap["gic_cpu"]
    # QEMU's GICv2 regions are 4 KiB (distributor) and 8 KiB (CPU interface) inside
    # the board's 64 KiB windows; the rest of each window is unassigned.
    board.devices.append((dist_base, min(dist_len, GICD_SIZE), gic.dist))
    board.devices.append((cpu_base, min(cpu_len, GICC_SIZE), gic.cpuif[0]))

    uart = board.uart
    uart.irq = IrqLine(gic, GIC_INTERNAL + t.irqmap["uart"])
    uart.clock = board.virtual_ns            # receive timeout in virtual time
    # the machine type's property: virt-9.2 on has the PL011 TRM's receive interrupts
    # (RX at the IFLS level, receive timeout); older types keep QEMU's
    uart.trm_rx_interrupts = t.props["pl011.trm-rx-interrupts"]
    board.timers.append(uart)
    uart.reset()

    # board.start_time is set after attach_devices returns: the RTC asks for it
    rtc = PL031(clock=board.virtual_ns, start_time=functools.partial(getattr, board, "start_time"),
                irq=IrqLine(gic, GIC_INTERNAL + t.irqmap["rtc"]),
                guest_error=gic.guest_error)
    board.rtc = rtc
    base, length = t.memmap["rtc"]
    board.devices.append((base, length, rtc))
    board.timers.append(rtc)


def reset_devices(board):
    """System reset (PSCI SYSTEM_RESET) of the devices attach_devices created, as
    QEMU 7.2 does it: the GIC goes back to its reset state; the PL031 keeps its
    registers and its time (QEMU 7.2 gives it no reset handler: a guest sees MR,
    LR, IMSC, RIS and the loaded time survive the reset; so does the PL011's IMSC,
    but the board owns the UART's reset).  Device reset() methods are the
    power-on state."""
    board.gic.reset()
    # the devices' output wires keep their levels through the GIC's reset
    for dev in (board.uart, board.rtc):
        if getattr(dev, "irq_level", 0) and dev.irq is not None:
            dev.irq(1)
