"""The devices of the virt board, each declared once (machine/devices.py).

VIRT_DEVICES is the board's plan, in QEMU's creation order (which is also the
order of the snapshot sections); attach_devices(board) registers each on
board.registry and wires its interrupt lines:

    gic    GICv2 (distributor at memmap["gic_dist"], CPU interface at
           memmap["gic_cpu"]); board.gic.set_irq(intid, level) drives PPIs 16..31
           of CPU 0 and SPIs 32+
    pl011  board.uart at memmap["uart"], SPI irqmap["uart"], receive timeout timer
    pl031  board.rtc at memmap["rtc"], SPI irqmap["rtc"], match timer

Addresses and IRQ numbers come from the machine type (machine/types.py).  Adding a
device is one more Device here (or board.registry.add(...) on a running board).

reset_devices(board) is what a system reset does to them (see its docstring).
"""
import functools

from pyaarch64.machine.devices import Device, Region
from pyaarch64.machine.dtb import SPI, IRQ_LEVEL_HIGH, IRQ_EDGE_RISING
from pyaarch64.machine.fdt import u64
from pyaarch64.machine.gic import GICv2, GICD_SIZE, GICC_SIZE, GIC_INTERNAL
from pyaarch64.machine.pl011 import PL011
from pyaarch64.machine.pl031 import PL031
from pyaarch64.machine.virtio.transport import VirtioMMIO, SLOT_SIZE


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


# --- the GIC -------------------------------------------------------------------------
def _gic(board):
    t = board.type
    gic = GICv2(num_irq=t.gic_num_irqs, num_cpu=1, cpus=[board.cpu])
    gic.guest_error = functools.partial(_guest_error, board)
    board.gic = gic
    dist_base, dist_len = t.memmap["gic_dist"]
    cpu_base, cpu_len = t.memmap["gic_cpu"]
    # QEMU's GICv2 regions are 4 KiB (distributor) and 8 KiB (CPU interface) inside
    # the board's 64 KiB windows; the rest of each window is unassigned.
    return gic, (Region(dist_base, min(dist_len, GICD_SIZE), gic.dist, label="gic_dist"),
                 Region(cpu_base, min(cpu_len, GICC_SIZE), gic.cpuif[0], label="gic_cpu")), ()


def _gic_fdt(ctx):
    dist, cpui = ctx.mtype.memmap["gic_dist"], ctx.mtype.memmap["gic_cpu"]
    gic = ctx.root.add(f"intc@{dist[0]:x}")
    gic.set("phandle", ctx.phandles["intc"])
    gic.set("reg", u64(dist[0], dist[1], cpui[0], cpui[1]))
    gic.set("compatible", "arm,cortex-a15-gic")
    gic.set("ranges")
    gic.set("#size-cells", 2)
    gic.set("#address-cells", 2)
    gic.set("interrupt-controller")
    gic.set("#interrupt-cells", 3)


def _gic_qtree(gic):
    n = gic.num_irq
    return "arm_gic", ["num-cpu = 1 (0x1)", f"num-irq = {n} (0x{n:x})", "revision = 2 (0x2)",
                       'gpio-out "sysbus-irq" 4']


# --- PL011 and PL031 -----------------------------------------------------------------
def _primecell_fdt(ctx, compat, key, clock_names):
    base, size = ctx.mtype.memmap[key]
    n = ctx.root.add(f"{compat}@{base:x}")
    n.set("clock-names", clock_names)
    n.set("clocks", [ctx.phandles["clock"]] * len(clock_names))
    n.set("interrupts", [SPI, ctx.mtype.irqmap[key], IRQ_LEVEL_HIGH])
    n.set("reg", u64(base, size))
    n.set("compatible", [f"arm,{compat}", "arm,primecell"])
    return n


def _uart(board):
    t = board.type
    uart = board.uart = PL011(tx=board._uart_tx)
    intid = GIC_INTERNAL + t.irqmap["uart"]
    uart.irq = IrqLine(board.gic, intid)
    uart.clock = board.virtual_ns            # receive timeout in virtual time
    # the machine type's property: virt-9.2 on has the PL011 TRM's receive interrupts
    # (RX at the IFLS level, receive timeout); older types keep QEMU's
    uart.trm_rx_interrupts = t.props["pl011.trm-rx-interrupts"]
    uart.reset()
    base, length = t.memmap["uart"]
    return uart, (Region(base, length, uart),), (intid,)


def _uart_fdt(ctx):
    n = _primecell_fdt(ctx, "pl011", "uart", ["uartclk", "apb_pclk"])
    ctx.stdout_path = f"/{n.name}"


def _rtc(board):
    t = board.type
    intid = GIC_INTERNAL + t.irqmap["rtc"]
    # board.start_time is set after attach_devices returns: the RTC asks for it
    rtc = board.rtc = PL031(clock=board.virtual_ns,
                            start_time=functools.partial(getattr, board, "start_time"),
                            irq=IrqLine(board.gic, intid), guest_error=board.gic.guest_error)
    base, length = t.memmap["rtc"]
    return rtc, (Region(base, length, rtc),), (intid,)


# --- the 32 virtio-mmio transports ----------------------------------------------------
NUM_VIRTIO = 32


def _virtio(index):
    def create(board):
        t = board.type
        base = t.memmap["virtio"][0] + index * SLOT_SIZE
        intid = GIC_INTERNAL + t.irqmap["virtio"] + index
        dev = VirtioMMIO(board, index, irq=IrqLine(board.gic, intid),
                         guest_error=functools.partial(_guest_error, board))
        return dev, (Region(base, SLOT_SIZE, dev),), (intid,)

    def fdt(ctx):
        base = ctx.mtype.memmap["virtio"][0] + index * SLOT_SIZE
        n = ctx.root.add(f"virtio_mmio@{base:x}")
        n.set("dma-coherent")
        n.set("interrupts", [SPI, ctx.mtype.irqmap["virtio"] + index, IRQ_EDGE_RISING])
        n.set("reg", u64(base, SLOT_SIZE))
        n.set("compatible", "virtio,mmio")

    def qtree(dev):
        props = ['gpio-out "sysbus-irq" 1', "format_transport_address = true",
                 "force-legacy = true", "ioeventfd = false"]
        bus = [f"bus: virtio-mmio-bus.{index}", "  type virtio-mmio-bus"]
        if dev.backend is not None:
            bus.append(f'  dev: {dev.backend.qtree_name}, id "{getattr(dev.backend, "qdev_id", "")}"')
        return "virtio-mmio", props, bus

    # a transport resets with the board (its device goes back to its power-on state)
    return Device(f"virtio-mmio@{0x0a00_0000 + index * SLOT_SIZE:x}", create=create, reset=True,
                  fdt=fdt, qtree=qtree, since=2, identity=("memmap.virtio", "irqmap.virtio"))


VIRT_DEVICES = (
    Device("gic", create=_gic, reset=True, fdt=_gic_fdt, qtree=_gic_qtree),
    Device("pl011", create=_uart, timer=True, hot=True, fdt=_uart_fdt,
           qtree=lambda uart: ("pl011", ['gpio-out "sysbus-irq" 1', 'chardev = "serial0"'])),
    Device("pl031", create=_rtc, timer=True,
           fdt=lambda ctx: _primecell_fdt(ctx, "pl031", "rtc", ["apb_pclk"]),
           qtree=lambda rtc: ("pl031", ['gpio-out "sysbus-irq" 1'])),
    # QEMU creates the transports from the top down (the last one first)
    *(_virtio(i) for i in reversed(range(NUM_VIRTIO))),
)


def plug_virtio(board, backend):
    """Plug a virtio device into the highest free transport, as QEMU's -device does
    (the first at 0x0a003e00); returns the transport."""
    from pyaarch64.errors import MachineError
    free = [d.obj for d in board.registry if isinstance(d.obj, VirtioMMIO) and d.obj.backend is None]
    if not free:
        raise MachineError(f"no free virtio-mmio transport for {backend.qtree_name} "
                           f"(the board has {NUM_VIRTIO})")
    t = max(free, key=lambda o: o.index)
    t.plug(backend)
    return t


def attach_devices(board):
    """Create, map and wire the board's devices (VIRT_DEVICES) on board.registry."""
    for decl in VIRT_DEVICES:
        board.registry.add(decl.on(board))


def reset_devices(board):
    """System reset (PSCI SYSTEM_RESET) of the board's devices, as QEMU 7.2 does it:
    the GIC goes back to its reset state; the PL031 keeps its registers and its
    time (QEMU 7.2 gives it no reset handler: a guest sees MR, LR, IMSC, RIS and the
    loaded time survive the reset; so does the PL011's IMSC, but the board owns the
    UART's reset).  Device reset() methods are the power-on state.  Each device's
    `reset` in its declaration says which it is."""
    board.registry.system_reset()
