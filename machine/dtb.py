"""The virt board's device tree, built from the machine type's data.

build_virt_fdt(mtype, cpu_model, ram_base, ram_size, bootargs, initrd) returns an
`Fdt` with the nodes QEMU 7.2 writes for the devices we model (each device's node
comes from its declaration: machine/devices.py, virt_devices.py), with the same names,
properties, values and order (so `dtc -O dts` of both lines up).  Phandles are
allocated in QEMU's order, so the numbers of the nodes we share match too.

Nodes of QEMU's tree we leave out, because the board does not model the device
(a node for an absent device would make Linux probe it and fail):
  platform-bus@c000000, pcie@10000000, pmu (no PMU yet).  /chosen's rng-seed and kaslr-seed are written
  only if the machine type says so (default: none, so boots are deterministic and
  the kernel leaves KASLR and with it KPTI off).

patch_user_fdt(...) applies what QEMU's arm_load_dtb does to a `-dtb` blob: every
root /memory node is replaced by one for the RAM, /chosen gets bootargs and the initrd
range, and a /psci node is added when there is none.  The blob is padded as QEMU pads
it, except where that would pass Linux's 2 MiB limit (QEMU's own 1 MiB dumpdtb output
fed back with -dtb does, and Linux then hangs silently on QEMU).
"""
import os

from pyaarch64.machine.fdt import Fdt, FdtError, u64

# What QEMU 7.2 calls each CPU model in the device tree (its dtb_compatible); `max`
# starts from the Cortex-A57 there and keeps its name.
CPU_COMPATIBLE = {
    "cortex-a53": "arm,cortex-a53",
    "cortex-a57": "arm,cortex-a57",
    "cortex-a72": "arm,cortex-a72",
    "max": "arm,cortex-a57",
}

# QEMU builds its tree in a 1 MiB buffer and loads (and dumps) all of it; a user -dtb
# gets (file size + 10000) * 2 bytes.  The size matters for where it fits.
QEMU_FDT_SIZE = 0x10_0000
LINUX_MAX_FDT_SIZE = 0x20_0000      # arm64 Linux maps at most 2 MiB of device tree

# GIC interrupt specifier cells
SPI, PPI = 0, 1
IRQ_EDGE_RISING, IRQ_LEVEL_HIGH = 1, 4

PSCI_0_2_CPU_SUSPEND_64 = 0xC400_0001
PSCI_0_2_CPU_OFF = 0x8400_0002
PSCI_0_2_CPU_ON_64 = 0xC400_0003
PSCI_0_2_MIGRATE_64 = 0xC400_0005


def _psci_node(node, psci_version):
    if psci_version < 0x2:
        raise ValueError("PSCI 0.1 device trees are not supported")
    if psci_version < 0x1_0000:
        compat = ["arm,psci-0.2", "arm,psci"]
    else:
        compat = ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]
    node.set("migrate", PSCI_0_2_MIGRATE_64)
    node.set("cpu_on", PSCI_0_2_CPU_ON_64)
    node.set("cpu_off", PSCI_0_2_CPU_OFF)
    node.set("cpu_suspend", PSCI_0_2_CPU_SUSPEND_64)
    node.set("method", "hvc")
    node.set("compatible", compat)
    return node


def _memory_node(node, ram_base, ram_size):
    node.set("reg", u64(ram_base, ram_size))
    node.set("device_type", "memory")


def set_chosen(chosen, bootargs=None, initrd=None, first=False):
    """bootargs (when non-empty) and linux,initrd-start/end (when an initrd is
    loaded: (start, size)), one u32 cell each, as QEMU writes them."""
    props = []
    if bootargs:
        props.append(("bootargs", bootargs))
    if initrd is not None:
        start, size = initrd
        props += [("linux,initrd-start", start), ("linux,initrd-end", start + size)]
    # libfdt inserts a new property before the others: QEMU's set order, reversed
    for name, value in (props if first else reversed(props)):
        chosen.set(name, value, first=first)


class FdtContext:
    """What a device's fdt(ctx) writer gets: the tree, its root, the machine type,
    the phandles by name: the clock's ("clock") and those the devices declare
    (Device.phandles: "intc", ...); the console's writer sets stdout_path (/chosen's
    stdout-path).  A writer whose node goes inside another device's node (written
    after it: the devices' writers run newest first) hands that part to after(fn),
    which runs once every device's writer has."""

    def __init__(self, tree, root, mtype, phandles, firmware=False):
        self.tree, self.root, self.mtype, self.phandles = tree, root, mtype, phandles
        self.stdout_path = None
        self._after = []
        # a firmware boot (-bios): QEMU 7.2 turns ACPI on, which from virt-4.2 on
        # (virt-4.1 has no GED) replaces the PL061 and its gpio-keys by an ACPI GED
        # device (no node): a device QEMU leaves out then looks here
        self.firmware = firmware
        # PPI specifiers carry a CPU mask (GICv2); the GICv3's writer clears it
        self.ppi_cpu_mask = True

    def after(self, fn):
        self._after.append(fn)


def build_virt_fdt(mtype, cpu_model, ram_base, ram_size, bootargs=None, initrd=None,
                   ncpus=1, devices=None, firmware=False, topology=None, gic_version=2):
    """The virt tree for machine type `mtype` (a MachineType), CPU model name, RAM,
    kernel command line and initrd (start, size) or None.  devices: the board's
    registry (machine/devices.py), whose entries write their own nodes; None: the
    virt board's declarations for gic_version (machine/virt_devices.py: the tree
    without a board)."""
    if devices is None:
        from pyaarch64.machine.virt_devices import virt_devices
        devices = virt_devices(gic_version)
    if topology is None:
        from pyaarch64.emu.smpopts import default
        topology = default(ncpus)
    ncpus = topology.cpus
    tree = Fdt()
    root = tree.root
    devices = list(devices)
    # phandles in QEMU's allocation order: clock, cpus (with a cpu-map), then the
    # devices' as they are created (GIC, GICv2m, PL061)
    clk_ph = tree.alloc_phandle(0x8000)
    # (QEMU allocates the CPUs' from the last CPU down)
    cpu_ph = [tree.alloc_phandle() for _ in range(ncpus)][::-1] if mtype.dtb_cpu_map else []
    phandles = {"clock": clk_ph}
    for dev in devices:
        for name in dev.phandles:
            phandles[name] = tree.alloc_phandle()
    if "intc" not in phandles:          # (a registry without an interrupt controller)
        phandles["intc"] = tree.alloc_phandle()
    gic_ph = phandles["intc"]

    root.set("interrupt-parent", gic_ph)
    root.set("model", "linux,dummy-virt")
    root.set("#size-cells", 2)
    root.set("#address-cells", 2)
    root.set("compatible", "linux,dummy-virt")

    _psci_node(root.add("psci"), mtype.psci_version)
    _memory_node(root.add(f"memory@{ram_base:x}"), ram_base, ram_size)

    # the devices' nodes, newest first (QEMU's libfdt puts a new node before its
    # siblings: the virt board's creation order gic, pl011, pl031 comes out reversed)
    ctx = FdtContext(tree, root, mtype, phandles, firmware)
    for dev in reversed(devices):
        if dev.fdt is not None:
            dev.fdt(ctx)
    for fn in ctx._after:
        fn()

    cpus = root.add("cpus")
    cpus.set("#size-cells", 0)
    cpus.set("#address-cells", 1)
    if mtype.dtb_cpu_map:
        cpu_map = cpus.add("cpu-map")
        for i in range(ncpus):          # (QEMU's -smp topology: socketS/clusterC/coreK[/threadT])
            node = cpu_map
            for part in topology.path(i):
                node = node.child(part) or node.add(part)
            node.set("cpu", cpu_ph[i])
    compat = CPU_COMPATIBLE.get(cpu_model, f"arm,{cpu_model}")
    for i in range(ncpus):
        c = cpus.add(f"cpu@{i}")
        if cpu_ph:
            c.set("phandle", cpu_ph[i])
        c.set("reg", i)
        if ncpus > 1:
            c.set("enable-method", "psci")      # QEMU writes it only with -smp > 1
        c.set("compatible", compat)
        c.set("device_type", "cpu")

    # PPIs: level-high, routed to every CPU (GICv2 CPU mask in bits 8..15)
    flags = IRQ_LEVEL_HIGH | ((((1 << ncpus) - 1) << 8) if ctx.ppi_cpu_mask else 0)
    timer = root.add("timer")
    timer.set("interrupts", [v for ppi in mtype.timer_ppis for v in (PPI, ppi, flags)])
    timer.set("always-on")
    timer.set("compatible", ["arm,armv8-timer", "arm,armv7-timer"])

    clk = root.add("apb-pclk")
    clk.set("phandle", clk_ph)
    clk.set("clock-output-names", "clk24mhz")
    clk.set("clock-frequency", 24_000_000)
    clk.set("#clock-cells", 0)
    clk.set("compatible", "fixed-clock")

    chosen = root.add("chosen")
    set_chosen(chosen, bootargs, initrd)
    if ctx.stdout_path is not None:
        chosen.set("stdout-path", ctx.stdout_path)
    if mtype.dtb_randomness:
        chosen.set("rng-seed", os.urandom(32))
        chosen.set("kaslr-seed", os.urandom(8))
    return tree


def virt_dtb(mtype, cpu_model, ram_base, ram_size, bootargs=None, initrd=None, devices=None,
             firmware=False, topology=None, gic_version=2):
    """The virt DTB bytes, padded to QEMU's size (firmware: a -bios boot's tree)."""
    return build_virt_fdt(mtype, cpu_model, ram_base, ram_size, bootargs,
                          initrd, devices=devices, firmware=firmware,
                          topology=topology, gic_version=gic_version).to_blob(
                              min_size=QEMU_FDT_SIZE)


class DtbFileError(ValueError):
    pass


def patch_user_fdt(blob, mtype, ram_base, ram_size, bootargs=None, initrd=None, name="dtb"):
    """A -dtb file's blob with QEMU's changes applied; returns the new blob."""
    try:
        tree = Fdt.from_blob(blob)
    except FdtError as e:
        raise DtbFileError(f"could not load device tree '{name}': {e}") from None
    root = tree.root
    acells, scells = root.get_u32("#address-cells"), root.get_u32("#size-cells")
    if acells is None or scells is None:
        raise DtbFileError(f"device tree '{name}' has no #address-cells/#size-cells at its root")
    if acells == 0 or scells == 0 or acells > 2 or scells > 2:
        raise DtbFileError(f"device tree '{name}' is invalid for this board "
                           f"(#address-cells {acells}, #size-cells {scells})")
    if scells < 2 and ram_size >= 1 << 32:
        raise DtbFileError(f"device tree '{name}' is not compatible with RAM > 4GB")
    for c in list(root.children):
        if c.name == "memory" or c.name.startswith("memory@"):
            root.remove_child(c)
    mem = root.add(f"memory@{ram_base:x}", first=True)
    mem.set("device_type", "memory")
    reg = b""
    for v, n in ((ram_base, acells), (ram_size, scells)):
        reg += v.to_bytes(8, "big")[-4 * n:]
    mem.set("reg", reg, first=True)
    chosen = root.child("chosen")
    if chosen is None:
        chosen = root.add("chosen", first=True)
    set_chosen(chosen, bootargs, initrd, first=True)
    if root.child("psci") is None:
        _psci_node(root.add("psci", first=True), mtype.psci_version)
    # QEMU's room for patching; but Linux refuses a DTB over 2 MiB (and hangs before
    # its console is up), which is what QEMU's own dumpdtb output becomes here: we
    # differ on purpose and leave such a blob unpadded
    qemu_size = (len(blob) + 10000) * 2
    return tree.to_blob(min_size=qemu_size if qemu_size <= LINUX_MAX_FDT_SIZE else 0)
