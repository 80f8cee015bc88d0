"""Devices are declared once (issue 16 item 7, DESIGN §3): one Device in the board's
registry (machine/devices.py) puts a device on the MMIO bus, in snapshots (save,
checked and fast restore, files), in the system reset, in the device tree and in
`info mtree`/`info qtree` -- no other module names it.  And the virt board's own
devices come from the registry in the orders the files and the guest saw before."""
import pytest

from pyaarch64.machine.devices import Device, Region
from pyaarch64.machine.fdt import Fdt, u64
from pyaarch64.machine.virt import VirtMachine
from pyaarch64.machine import dtb as D, loader
from pyaarch64.snapshot import state as S
from pyaarch64.snapshot.format import encode, decode
from pyaarch64.snapshot.schema import Field
from pyaarch64.emu.monitor import Monitor
from pyaarch64.errors import MachineError

BASE = 0x0904_0000          # unassigned on the virt board (between PL061 and the UART's)
RAM = 0x4000_0000


class Scratch:
    """A scratch register: one 32-bit value, reset to 0."""
    name = "scratch"
    STATE_FIELDS = (Field("value", "u32"),)

    def __init__(self):
        self.reset()

    def reset(self):
        self.value = 0

    def read(self, offset, size):
        return self.value

    def write(self, offset, size, value):
        self.value = value & 0xFFFF_FFFF

    def post_load(self):
        pass


def scratch_node(ctx):
    n = ctx.root.add(f"scratch@{BASE:x}")
    n.set("reg", u64(BASE, 0x1000))
    n.set("compatible", "test,scratch")


def board_with_scratch():
    m = VirtMachine(machine="virt-7.2")
    s = Scratch()
    # the one declaration
    m.registry.add(Device("scratch", s, (Region(BASE, 0x1000, s),), reset=True,
                          fdt=scratch_node, qtree=lambda o: ("scratch", [])))
    return m, s


# movz x1, #0x0904, lsl #16; movz w2, #0x1234; str w2, [x1]; ldr w3, [x1]
CODE = b"".join(i.to_bytes(4, "little") for i in (0xD2A12081, 0x52824682, 0xB9000022, 0xB9400023))


def test_one_declaration_puts_a_device_everywhere():
    m, s = board_with_scratch()
    # MMIO: the guest's store and load reach it
    m.write_memory(RAM, CODE)
    m.cpu.pc = RAM
    assert m.run(max_insns=4).kind == "budget"
    assert s.value == 0x1234 and m.cpu.reg("x3") == 0x1234
    # snapshots: its section, saved and restored (checked, then fast)
    snap = S.save(m)
    assert list(snap.sections) == ["cpu0", "pflash0", "pflash1", "gic", "pl011", "pl031",
                                   "pl061", "gpio-key", "fw_cfg", "scratch", "board"]
    assert snap.sections["scratch"] == {"value": 0x1234}
    assert snap.schema["scratch"] == {"value": "u32"}
    for _ in range(2):
        s.value = 7
        S.restore(m, snap)
        assert s.value == 0x1234
    # a file of it loads into another board with the same declaration, and is
    # refused (by section name) by a board without it
    loaded, _ = decode(encode(snap))
    m2, s2 = board_with_scratch()
    S.restore(m2, loaded)
    assert s2.value == 0x1234
    with pytest.raises(S.SnapshotError, match="unknown section 'scratch'"):
        S.restore(VirtMachine(machine="virt-7.2"), decode(encode(snap))[0])
    # system reset: declared reset=True
    m.reset()
    assert s.value == 0
    # device tree: its node, first of the devices' (newest first); the rest as before
    info = loader.boot(m, None)
    tree = Fdt.from_blob(info.dtb)
    names = [c.name for c in tree.root.children]
    # (written newest first: before the board's last declared device)
    assert names.index(f"scratch@{BASE:x}") == names.index("fw-cfg@9020000") - 1
    assert tree.root.find(f"/scratch@{BASE:x}").get("compatible") is not None
    tree.root.remove_child(tree.root.child(f"scratch@{BASE:x}"))
    assert tree.to_blob(min_size=D.QEMU_FDT_SIZE) == loader.boot(VirtMachine(machine="virt-7.2"), None).dtb
    # the monitor: info mtree and info qtree
    mon = Monitor(m, None)
    assert f"    {BASE:016x}-{BASE + 0xfff:016x} (prio 0, i/o): scratch\r\n" in mon.execute("info mtree")
    assert mon.execute("info qtree").startswith(
        'bus: main-system-bus\r\n  type System\r\n  dev: scratch, id ""\r\n'
        f"    mmio {BASE:016x}/0000000000001000\r\n")
    assert (BASE, BASE + 0x1000, "mmio", "scratch") in m.regions()


def test_names_are_unique():
    m, _ = board_with_scratch()
    with pytest.raises(MachineError, match="already on the board"):
        m.registry.add(Device("scratch", Scratch(), ()))


def test_virt_board_orders_are_as_before():
    """Sections in the order files have them (the devices of board version 2 among
    those of version 1, in QEMU's creation order), MMIO dispatch with the UART first,
    timers UART, RTC, power button, and the GIC, the PL061, the power button and the
    virtio-mmio transports reset by a system reset (QEMU 7.2 gives the PL011 and PL031
    no reset handler)."""
    m = VirtMachine(machine="virt-7.2")
    # (board version 2 added the flash banks -- QEMU creates them first --, the
    # virtio-mmio transports and fw_cfg)
    virtio = [f"virtio-mmio@{0xa000000 + 0x200 * i:x}" for i in reversed(range(32))]
    assert [d.name for d in m.registry] == ["pflash0", "pflash1", "gic", "gicv2m", "pl011",
                                            "pl031", "pl061", "gpio-key", *virtio, "fw_cfg"]
    v2m = m.registry.get("gicv2m").obj
    assert [dev for _, _, dev in m.devices][:8] == [m.uart, m.pflash[0], m.pflash[1], m.gic.dist,
                                                    m.gic.cpuif[0], v2m, m.rtc, m.gpio]
    fw = [r.handler for r in m.registry.get("fw_cfg").regions]
    assert [dev for _, _, dev in m.devices][-3:] == fw
    assert m.timers == [m.uart, m.rtc, m.power_button]
    assert [d.name for d in m.registry if d.reset] == ["pflash0", "pflash1", "gic", "pl061",
                                                       "gpio-key", *virtio, "fw_cfg"]
    # (an empty virtio-mmio transport has no state: no section)
    assert [s.name for s in S.sections_of(m)] == ["cpu0", "pflash0", "pflash0/blk-write",
                                                   "pflash1", "pflash1/blk-write", "gic",
                                                   "pl011", "pl011/rx-timeout", "pl031", "pl061",
                                                   "gpio-key", "fw_cfg", "board"]
    assert [(d.name, d.since, d.identity) for d in m.registry if d.since > 1][2:5] == [
        ("gicv2m", 2, ("memmap.gic_v2m", "irqmap.gic_v2m")),
        ("pl061", 2, ("memmap.gpio", "irqmap.gpio")), ("gpio-key", 2, ())]


# --- a device that joined machine types that already existed (issue 16 item 8) --------
def _aged(snap):
    """`snap` as a release before board version 2 wrote it: no section or identity
    entry of devices that came with version 2, board section version 1."""
    old = S.Snapshot(snap.machine_type, snap.cpu_model, dict(snap.identity),
                     {k: v for k, v in snap.sections.items() if k != "scratch"}, snap.ram)
    old.identity.pop("memmap.scratch", None)
    old.schema = {k: v for k, v in snap.schema.items() if k != "scratch"}
    old.versions = dict(snap.versions, board=1)
    return old


def board_with_late_scratch():
    m = VirtMachine(machine="virt-7.2")
    s = Scratch()
    m.registry.add(Device("scratch", s, (Region(BASE, 0x1000, s),), reset=True,
                          since=2, identity=("memmap.scratch",)))
    return m, s


def test_a_snapshot_from_before_a_device_existed_loads_it_at_reset(monkeypatch):
    ident = S.identity_of
    monkeypatch.setattr(S, "identity_of", lambda vm: dict(ident(vm), **(
        {"memmap.scratch": [BASE, 0x1000]} if vm.registry.get("scratch") else {})))
    m, s = board_with_late_scratch()
    s.value = 0x55
    snap = S.save(m)
    assert snap.versions["board"] == S.BOARD_VERSION == 2
    old = _aged(snap)
    s.value = 0x77
    m2, s2 = board_with_late_scratch()
    s2.value = 0x99
    S.restore(m2, old)                   # board v1: no 'scratch' section, no identity entry
    assert s2.value == 0                 # the device at its power-on state
    # and through a file
    m3, s3 = board_with_late_scratch()
    s3.value = 0x42
    S.restore(m3, decode(encode(old))[0])
    assert s3.value == 0
    # a current file must have it: the same omission at board version 2 is refused
    bad = _aged(snap)
    bad.versions["board"] = 2
    with pytest.raises(S.SnapshotError) as e:
        S.restore(m2, bad)
    text = str(e.value)
    assert "missing section 'scratch'" in text
    assert "memmap.scratch" in text and "did not have" in text
    # a device present from the start (since=1) is never optional
    m4, _ = board_with_scratch()
    with pytest.raises(S.SnapshotError, match="missing section 'scratch'"):
        S.restore(m4, _aged(S.save(m4)))


def test_a_dropped_machine_is_freed():
    """Nothing global keeps a board alive (its MMIO/hook callbacks' closures once did,
    through cpu/mmio.py's address table: a test run grew by gigabytes)."""
    import gc
    import weakref
    m = VirtMachine(machine="virt")
    from pyaarch64.emu.api import Machine
    api = Machine()
    refs = [weakref.ref(m), weakref.ref(api), weakref.ref(api._m)]
    del m, api
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
