"""The devices of the virt board, each declared once (machine/devices.py).

VIRT_DEVICES (virt_devices(gic_version)) is the board's plan, in QEMU's creation order (which is also the
order of the snapshot sections); attach_devices(board) registers each on
board.registry and wires its interrupt lines:

    pflash0, pflash1
             the CFI flash banks (machine/pflash.py) at memmap["flash"], 64 MiB each:
             board.pflash[unit]; their bytes are board.flash_storage(unit), a ROM device
             in read-array mode (board.flash_romd)
    gic      GICv2 (distributor at memmap["gic_dist"], CPU interface at
             memmap["gic_cpu"]); board.gic.set_irq(intid, level) drives PPIs 16..31
             of CPU 0 and SPIs 32+
    gicv2m   the GICv2m MSI frame at memmap["gic_v2m"]: 64 SPIs from irqmap["gic_v2m"]
    gicv3    instead of both with gic-version=3 (virt_devices(3)): GICv3 distributor at
             memmap["gic_dist"], redistributors at type.gicv3_redist (machine/gicv3.py);
             board.gic the same way
    pl011    board.uart at memmap["uart"], SPI irqmap["uart"], receive timeout timer
    pl031    board.rtc at memmap["rtc"], SPI irqmap["rtc"], match timer
    pl061    board.gpio at memmap["gpio"], SPI irqmap["gpio"]
    gpio-key board.power_button: the power button on the PL061's line 3
             (board.power_button.press(): QEMU's system_powerdown), release timer
    virtio-mmio@...
             the 32 virtio-mmio transports (machine/virtio/)
    fw_cfg   board.fw_cfg at memmap["fw_cfg"] (machine/fwcfg.py), DMA into RAM

The devices QEMU's virt gained in machine types we had before (QEMU's virt-4.1 already
has them all) say since=2 with their identity entries: a snapshot of board version 1
loads them at their reset state.

Addresses and IRQ numbers come from the machine type (machine/types.py).  Adding a
device is one more Device here (or board.registry.add(...) on a running board).

reset_devices(board) is what a system reset does to them (see its docstring).
"""
import functools

from pyaarch64.machine.devices import Device, Region
from pyaarch64.machine.dtb import SPI, IRQ_LEVEL_HIGH, IRQ_EDGE_RISING
from pyaarch64.machine.fdt import u64
from pyaarch64.machine.gic import GICv2, GICD_SIZE, GICC_SIZE, GIC_INTERNAL
from pyaarch64.machine.gicv2m import GICv2m
from pyaarch64.machine.gicv3 import GICv3
from pyaarch64.machine.gicv3_mmio import GICD_SIZE as GICV3D_SIZE, GICR_SIZE
from pyaarch64.machine.pl011 import PL011
from pyaarch64.machine.pl031 import PL031
from pyaarch64.machine.pl061 import PL061, GpioKey
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
    gic = GICv2(num_irq=t.gic_num_irqs, num_cpu=len(board.cpus), cpus=board.cpus)
    gic.guest_error = functools.partial(_guest_error, board)
    gic.accessing_cpu = lambda: board.cpu_index       # (banked registers: who accesses)
    board.gic = gic
    dist_base, dist_len = t.memmap["gic_dist"]
    cpu_base, cpu_len = t.memmap["gic_cpu"]
    # QEMU's GICv2 regions are 4 KiB (distributor) and 8 KiB (CPU interface) inside
    # the board's 64 KiB windows; the rest of each window is unassigned.
    return gic, (Region(dist_base, min(dist_len, GICD_SIZE), gic.dist, label="gic_dist"),
                 Region(cpu_base, min(cpu_len, GICC_SIZE),
                        gic.cpuif[0] if gic.num_cpu == 1 else gic.cpuif_banked,
                        label="gic_cpu")), ()


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


def _gicv3(board):
    t = board.type
    cpus = getattr(board, "cpus", [board.cpu])
    gic = GICv3(num_irq=t.gic_num_irqs, num_cpu=len(cpus), cpus=cpus,
                priority_bits=t.gicv3_priority_bits)
    gic.guest_error = functools.partial(_guest_error, board)
    board.gic = gic
    dist_base, dist_len = t.memmap["gic_dist"]
    redist_base, _ = t.gicv3_redist
    # QEMU maps the redistributors of the CPUs there are (two 64 KiB frames each) at
    # the start of the board's window; the rest of the window is unassigned
    return gic, (Region(dist_base, min(dist_len, GICV3D_SIZE), gic.dist, label="gicv3_dist"),
                 Region(redist_base, gic.num_cpu * GICR_SIZE, gic.redist,
                        label="gicv3_redist_region[0]")), ()


def _gicv3_fdt(ctx):
    dist, redist = ctx.mtype.memmap["gic_dist"], ctx.mtype.gicv3_redist
    gic = ctx.root.add(f"intc@{dist[0]:x}")
    gic.set("phandle", ctx.phandles["intc"])
    gic.set("reg", u64(dist[0], dist[1], redist[0], redist[1]))
    gic.set("#redistributor-regions", 1)
    gic.set("compatible", "arm,gic-v3")
    gic.set("ranges")
    gic.set("#size-cells", 2)
    gic.set("#address-cells", 2)
    gic.set("interrupt-controller")
    gic.set("#interrupt-cells", 3)
    ctx.ppi_cpu_mask = False        # GICv3 PPI specifiers carry no CPU mask


def _gicv3_qtree(gic):
    n, nc = gic.num_irq, gic.num_cpu
    # has-lpi as QEMU's board sets it (GICD_TYPER.LPIS reads 1; there is no ITS)
    return "arm-gicv3", [f'gpio-out "sysbus-irq" {4 * nc}', f'gpio-in "" {n}',
                         f"num-cpu = {nc} (0x{nc:x})", f"num-irq = {n} (0x{n:x})",
                         "revision = 3 (0x3)", "has-lpi = true",
                         "has-security-extensions = false",
                         f"force-8-bit-prio = {'true' if gic.pribits == 8 else 'false'}",
                         "len-redist-region-count = 1 (0x1)"]


def _gic_qtree(gic):
    n = gic.num_irq
    c = gic.num_cpu
    return "arm_gic", [f"num-cpu = {c} (0x{c:x})", f"num-irq = {n} (0x{n:x})", "revision = 2 (0x2)",
                       'gpio-out "sysbus-irq" 4']


# --- the GICv2m MSI frame ----------------------------------------------------------------
def _gicv2m(board):
    t = board.type
    gic = board.gic

    def pulse(intid):
        gic.set_irq(intid, 1)
        gic.set_irq(intid, 0)

    v2m = GICv2m(t.irqmap["gic_v2m"], 64, pulse, gic.guest_error)
    base, length = t.memmap["gic_v2m"]
    first = GIC_INTERNAL + v2m.base_spi
    return v2m, (Region(base, length, v2m, label="gicv2m"),), tuple(range(first, first + 64))


def _gicv2m_fdt(ctx):
    base, size = ctx.mtype.memmap["gic_v2m"]
    dist = ctx.mtype.memmap["gic_dist"][0]

    def write():                # (inside the GIC's node, which is written after this)
        n = ctx.root.child(f"intc@{dist:x}").add(f"v2m@{base:x}")
        n.set("phandle", ctx.phandles["msi"])
        n.set("reg", u64(base, size))
        n.set("msi-controller")
        n.set("compatible", "arm,gic-v2m-frame")
    ctx.after(write)


def _gicv2m_qtree(v2m):
    return "arm-gicv2m", [f'gpio-out "sysbus-irq" {v2m.num_spi}',
                          f"base-spi = {v2m.base_spi} (0x{v2m.base_spi:x})",
                          f"num-spi = {v2m.num_spi} (0x{v2m.num_spi:x})"]


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


# --- PL061 and the power button on it -----------------------------------------------------
POWER_BUTTON_LINE = 3
KEY_POWER = 116                 # Linux's input event code


def _gpio(board):
    t = board.type
    intid = GIC_INTERNAL + t.irqmap["gpio"]
    gpio = board.gpio = PL061(irq=IrqLine(board.gic, intid), guest_error=board.gic.guest_error)
    base, length = t.memmap["gpio"]
    # QEMU's virt maps the PL061's region itself (memory_region_add_subregion)
    return gpio, (Region(base, length, gpio, sysbus=False),), (intid,)


def _acpi_ged(ctx):
    """A firmware boot on a type with QEMU's ACPI GED (virt-4.2 on): QEMU turns ACPI on
    and creates the GED instead of the PL061 and its key, so their nodes are absent."""
    return ctx.firmware and ctx.mtype.qemu_version != "4.1"


def _gpio_fdt(ctx):
    if _acpi_ged(ctx):
        return
    base, size = ctx.mtype.memmap["gpio"]
    n = ctx.root.add(f"pl061@{base:x}")
    n.set("phandle", ctx.phandles["gpio"])
    n.set("clock-names", "apb_pclk")
    n.set("clocks", ctx.phandles["clock"])
    n.set("interrupts", [SPI, ctx.mtype.irqmap["gpio"], IRQ_LEVEL_HIGH])
    n.set("gpio-controller")
    n.set("#gpio-cells", 2)
    n.set("compatible", ["arm,pl061", "arm,primecell"])
    n.set("reg", u64(base, size))


def _power_button(board):
    key = board.power_button = GpioKey(board.virtual_ns, functools.partial(
        board.gpio.set_input, POWER_BUTTON_LINE))
    return key, (), ()


def _power_button_fdt(ctx):
    if _acpi_ged(ctx):
        return
    keys = ctx.root.add("gpio-keys")
    keys.set("compatible", "gpio-keys")
    off = keys.add("poweroff")
    off.set("gpios", [ctx.phandles["gpio"], POWER_BUTTON_LINE, 0])
    off.set("linux,code", KEY_POWER)
    off.set("label", "GPIO Key Poweroff")


# --- the CFI flash banks (QEMU creates them first) and fw_cfg (last) -----------------
def _pflash(unit):
    def create(board):
        from pyaarch64.machine.pflash import PFlash, BANK_SIZE
        base = board.type.memmap["flash"][0] + unit * BANK_SIZE
        dev = PFlash(f"pflash{unit}", board.flash_storage(unit),
                     romd=functools.partial(board.flash_romd, unit),
                     changed=functools.partial(board.flash_changed, unit))
        board.pflash[unit] = dev
        return dev, (Region(base, BANK_SIZE, dev, name=f"virt.flash{unit}",
                            label=f"virt.flash{unit}"),), ()
    return create


def _flash_fdt(ctx):
    from pyaarch64.machine.pflash import BANK_SIZE
    base, size = ctx.mtype.memmap["flash"]
    n = ctx.root.add(f"flash@{base:x}")
    n.set("bank-width", 4)
    n.set("reg", u64(*[v for k in range(size // BANK_SIZE)
                       for v in (base + k * BANK_SIZE, BANK_SIZE)]))
    n.set("compatible", "cfi-flash")


def _pflash_qtree(dev):
    return "cfi.pflash01", [f'drive = "{dev.drive or ""}"',
                            "num-blocks = 256 (0x100)", "sector-length = 262144 (0x40000)",
                            "width = 4 (0x4)", "device-width = 2 (0x2)",
                            "max-device-width = 2 (0x2)", "big-endian = false",
                            "secure = false", "id0 = 137 (0x89)", "id1 = 24 (0x18)",
                            "id2 = 0 (0x0)", "id3 = 0 (0x0)", f'name = "virt.{dev.name[1:]}"',
                            "old-multiple-chip-handling = false"]


def _fw_cfg(board):
    from pyaarch64.machine.fwcfg import FwCfg
    fw = board.fw_cfg = FwCfg(board.read_memory, board.dma_write,
                              nographic=getattr(board, "nographic", False))
    fw.on_invalid = board.mmio_error
    base, _ = board.type.memmap["fw_cfg"]
    # QEMU's three regions (data, selector, DMA), listed as its qtree lists them
    return fw, tuple(Region(base + off, n, _Window(fw, off, f"fwcfg.{what}"))
                     for off, n, what in ((8, 2, "ctl"), (0, 8, "data"), (16, 8, "dma"))), ()


class _Window:
    """One register window of a device whose registers span several regions: the
    offset inside the region plus `delta` is the device's."""

    def __init__(self, dev, delta, name):
        self.dev, self.delta, self.name = dev, delta, name

    def read(self, offset, size):
        return self.dev.read(offset + self.delta, size)

    def write(self, offset, size, value):
        self.dev.write(offset + self.delta, size, value)


def _fw_cfg_fdt(ctx):
    base, size = ctx.mtype.memmap["fw_cfg"]
    n = ctx.root.add(f"fw-cfg@{base:x}")
    n.set("dma-coherent")
    n.set("reg", u64(base, size))
    n.set("compatible", "qemu,fw-cfg-mmio")


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


_PFLASH = (
    # board version 2 (since=2): QEMU's virt had them in every machine type (issue 16 item 8)
    Device("pflash0", create=_pflash(0), reset=True, fdt=_flash_fdt, qtree=_pflash_qtree,
           since=2, identity=("memmap.flash", "pflash0.image")),
    Device("pflash1", create=_pflash(1), reset=True, qtree=_pflash_qtree,
           since=2, identity=("pflash1.image",)),
)
# the interrupt controller by gic-version: a GICv2 with its GICv2m MSI frame, or a
# GICv3 (QEMU's has an ITS there, which is not modelled: QEMU's its=off)
_GICS = {
    2: (Device("gic", create=_gic, reset=True, fdt=_gic_fdt, phandles=("intc",),
               qtree=_gic_qtree),
        Device("gicv2m", create=_gicv2m, fdt=_gicv2m_fdt, phandles=("msi",),
               qtree=_gicv2m_qtree, since=2, identity=("memmap.gic_v2m", "irqmap.gic_v2m"))),
    3: (Device("gicv3", create=_gicv3, reset=True, fdt=_gicv3_fdt, phandles=("intc",),
               qtree=_gicv3_qtree),),
}
_REST = (
    Device("pl011", create=_uart, timer=True, hot=True, fdt=_uart_fdt,
           qtree=lambda uart: ("pl011", ['gpio-out "sysbus-irq" 1', 'chardev = "serial0"'])),
    Device("pl031", create=_rtc, timer=True,
           fdt=lambda ctx: _primecell_fdt(ctx, "pl031", "rtc", ["apb_pclk"]),
           qtree=lambda rtc: ("pl031", ['gpio-out "sysbus-irq" 1'])),
    Device("pl061", create=_gpio, reset=True, fdt=_gpio_fdt, phandles=("gpio",),
           qtree=lambda gpio: ("pl061", ['gpio-in "" 8', 'gpio-out "" 8', 'gpio-out "sysbus-irq" 1',
                                         "pullups = 0 (0x0)", "pulldowns = 255 (0xff)"]),
           since=2, identity=("memmap.gpio", "irqmap.gpio")),
    Device("gpio-key", create=_power_button, timer=True, reset=True, fdt=_power_button_fdt,
           qtree=lambda key: ("gpio-key", ['gpio-in "" 1', 'gpio-out "sysbus-irq" 1']), since=2),
    # QEMU creates the transports from the top down (the last one first)
    *(_virtio(i) for i in reversed(range(NUM_VIRTIO))),
    Device("fw_cfg", create=_fw_cfg, reset=True, fdt=_fw_cfg_fdt,
           qtree=lambda fw: ("fw_cfg_mem", ["data_width = 8 (0x8)", "dma_enabled = true",
                                            "x-file-slots = 32 (0x20)",
                                            "acpi-mr-restore = true"]),
           since=2, identity=("memmap.fw_cfg", "fw_cfg.items")),
)


def virt_devices(gic_version=2):
    """The board's plan for a GIC version (2 or 3)."""
    return _PFLASH + _GICS[gic_version] + _REST


VIRT_DEVICES = virt_devices(2)


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
    for decl in virt_devices(getattr(board, "gic_version", 2)):
        board.registry.add(decl.on(board))
    if len(board.cpus) > 1:
        from pyaarch64.machine.smp import Smp
        board.smp = Smp(board)
        board.registry.add(Device("smp", obj=board.smp, reset=True))


def reset_devices(board):
    """System reset (PSCI SYSTEM_RESET) of the board's devices, as QEMU 7.2 does it:
    the GIC, the PL061 and the power button (its release timer) go back to their
    reset state; the PL031 keeps its registers and its
    time (QEMU 7.2 gives it no reset handler: a guest sees MR, LR, IMSC, RIS and the
    loaded time survive the reset; so does the PL011's IMSC, but the board owns the
    UART's reset).  Device reset() methods are the power-on state.  Each device's
    `reset` in its declaration says which it is."""
    board.registry.system_reset()
