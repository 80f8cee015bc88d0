"""The board's device registry: each device declared once (DESIGN §3).

A `Device` says everything the rest of the emulator needs to know about one device:

    name     its snapshot section ("gic", "pl011", ...); unique on the board
    obj      the device object: its STATE_FIELDS / STATE_SUBSECTIONS / STATE_VERSION
             and post_load() are its state declaration (snapshot/state.py), reset()
             its power-on state, deadline_ns() / expire(now_ns) its timer; None or an
             object without STATE_FIELDS: no state (e.g. the embedding API's map_mmio)
    regions  its MMIO windows: Region(base, length, handler[, name, label, sysbus]);
             the handler has read(offset, size) and write(offset, size, value);
             sysbus=False: QEMU's board maps the region itself (not as the device's
             sysbus MMIO), so `info qtree` shows its base as ffffffffffffffff
    irqs     the interrupt controller inputs (INTIDs) its output drives (obj.irq,
             obj.irq_level): a system reset re-drives a raised line into the reset GIC
    timer    obj has deadline_ns()/expire(now_ns): the run loop stops at its deadline,
             and an MMIO access that moves the deadline re-plans the slice
    reset    True: a system reset calls obj.reset(); False: it keeps its state (QEMU
             7.2 gives the device no reset handler)
    fdt      fdt(ctx) writes its device-tree node(s) (machine/dtb.py: FdtContext)
    phandles the names of the phandles its nodes define (ctx.phandles[name]),
             allocated in registry order after the clock's and the CPUs', as QEMU
             allocates them while it creates the devices
    qtree    qtree(obj) -> (QOM type name, [property lines]) for `info qtree`
    hot      MMIO dispatch tries its regions before the others' (the console)
    create   a declaration in a board's plan: create(board) -> (obj, regions, irqs);
             Device.on(board) is the registered copy
    since    the board section version (snapshot/state.py BOARD_VERSION) from which
             snapshots hold this device: a device added to machine types that already
             existed says the version that added it; a snapshot saved before (an
             older board section) has no section for it and loads with the device at
             its reset state (obj.reset())
    identity the platform-identity entries (snapshot/state.py identity_of) that came
             with it ("memmap.gpio", ...): a snapshot older than `since` lacks them

MMIO dispatch (`Registry.mmio`: (base, length, handler) triples, hot devices first,
then in registry order), the host-side timers (`Registry.timers`), system reset,
`regions()`, the snapshot sections, the device tree (written newest first, as
QEMU's libfdt does) and `info qtree` (newest first, as QEMU's bus lists its
children) all iterate the registry; none of them names a device.
"""
from dataclasses import dataclass, replace

from pyaarch64.errors import MachineError


@dataclass(frozen=True)
class Region:
    base: int
    length: int
    handler: object
    name: str = None        # regions() / mem_regions(): handler.name by default
    label: str = None       # `info mtree` (QEMU's MemoryRegion name): name by default
    sysbus: bool = True     # False: `info qtree` shows the base as unassigned (see Device)

    @property
    def end(self):
        return self.base + self.length

    @property
    def region_name(self):
        return self.name or getattr(self.handler, "name", type(self.handler).__name__)


@dataclass(eq=False)
class Device:
    name: str
    obj: object = None
    regions: tuple = ()
    irqs: tuple = ()
    timer: bool = False
    reset: bool = False
    fdt: object = None
    phandles: tuple = ()
    qtree: object = None
    hot: bool = False
    create: object = None
    since: int = 1
    identity: tuple = ()

    def on(self, board):
        """This declaration's device on `board` (create(board) makes it)."""
        obj, regions, irqs = self.create(board)
        return replace(self, obj=obj, regions=tuple(regions), irqs=tuple(irqs), create=None)

    @property
    def has_state(self):
        return hasattr(self.obj, "STATE_FIELDS")


class Registers32:
    """Base of a device whose registers are 32 bits wide, as QEMU's models of them: a
    64-bit access is two 32-bit ones (low word first); read_reg(off, size) and
    write_reg(off, size, value) of the device handle 1..4 bytes; _log reports a guest
    error to guest_error (msg), when wired."""
    guest_error = None

    def _log(self, msg):
        if self.guest_error is not None:
            self.guest_error(msg)

    def read(self, off, size):
        if size == 8:
            return self.read(off, 4) | (self.read(off + 4, 4) << 32)
        return self.read_reg(off, size)

    def write(self, off, size, value):
        if size == 8:
            self.write(off, 4, value & 0xFFFF_FFFF)
            self.write(off + 4, 4, value >> 32)
            return
        self.write_reg(off, size, value)


class Registry:
    """The board's devices in declaration order, with the views the run loop uses
    (kept up to date by add(): the lists are the same objects throughout)."""

    def __init__(self):
        self.entries = []
        self.mmio = []          # (base, length, handler): MMIO dispatch order
        self.timers = []        # device objects with deadlines, in registry order
        self.timed = []         # handlers whose accesses may move a deadline

    def add(self, dev):
        """Register `dev` (a Device with obj and regions); returns it."""
        if any(d.name == dev.name for d in self.entries):
            raise MachineError(f"a device named '{dev.name}' is already on the board")
        self.entries.append(dev)
        order = [d for d in self.entries if d.hot] + [d for d in self.entries if not d.hot]
        self.mmio[:] = [(r.base, r.length, r.handler) for d in order for r in d.regions]
        self.timers[:] = [d.obj for d in self.entries if d.timer]
        self.timed[:] = [r.handler for d in self.entries if d.timer for r in d.regions]
        return dev

    def __iter__(self):
        return iter(self.entries)

    def __len__(self):
        return len(self.entries)

    def get(self, name):
        for d in self.entries:
            if d.name == name:
                return d
        return None

    def regions(self):
        """Every Region, in registry order."""
        return [r for d in self.entries for r in d.regions]

    def system_reset(self):
        """What a system reset does to the devices: those declared reset=True go back
        to their power-on state; then every raised output line is driven again (the
        wires keep their levels through the interrupt controller's reset)."""
        for d in self.entries:
            if d.reset:
                d.obj.reset()
        for d in self.entries:
            obj = d.obj
            if d.irqs and getattr(obj, "irq_level", 0) and obj.irq is not None:
                obj.irq(1)
