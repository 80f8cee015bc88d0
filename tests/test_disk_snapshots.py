"""Snapshots that include the disk (issue 16 item 6; machine/blockdev.py).

A snapshot's disk is the image file except where its side map says otherwise; a
write after the snapshot first copies the old content into every watching side map
(copy-on-write), so loading brings the disk back to the instant of the snapshot, in
this process or a later one; a changed image is refused by name before anything
changes.  `-snapshot` keeps the image untouched.
"""
import os
import subprocess
import sys

import pytest

from guestbuild import build
from test_virtio import make_image, blk_args

from pyaarch64.machine.blockdev import Drive, Side, CLUSTER
from pyaarch64.snapshot import state as S
from pyaarch64.snapshot import format as F
from pyaarch64.snapshot.store import SnapshotStore


def pattern(c, fill):
    return bytes([fill]) * CLUSTER


def image(tmp_path, name="d.img", clusters=16):
    p = tmp_path / name
    p.write_bytes(b"".join(bytes([i]) * CLUSTER for i in range(clusters)))
    return str(p)


def content(path):
    with open(path, "rb") as f:
        return f.read()


# --- the drive ---------------------------------------------------------------------
def test_write_through_keeps_the_snapshot_exact(tmp_path):
    img = image(tmp_path)
    d = Drive("d0", img)
    assert d.read(CLUSTER * 2, 4) == b"\x02" * 4
    base = content(img)
    side, ident = d.take()
    d.write(0, b"\xaa" * 10)                     # partial cluster 0
    d.write(5 * CLUSTER - 2, b"\xbb" * 4)        # clusters 4 and 5
    d.write(0, b"\xcc")                          # cluster 0 again: preserved once
    assert sorted(side.clusters()) == [0, 4, 5]
    assert side.get(0) == bytes([0]) * CLUSTER
    now = content(img)
    assert now[:10] == b"\xcc" + b"\xaa" * 9     # written through to the file
    side2, ident2 = d.take()
    d.write(CLUSTER * 7, b"\xdd" * CLUSTER)
    assert d.problems(ident, side) == [] and d.problems(ident2, side2) == []
    d.load(ident, side)
    assert content(img) == base                  # back to the first snapshot's instant
    d.load(ident2, side2)
    assert content(img) == now                   # and to the second's
    d.load(ident, side)
    assert content(img) == base


def test_snapshot_mode_never_writes_the_file(tmp_path):
    img = image(tmp_path)
    base = content(img)
    d = Drive("d0", img, snapshot=True)
    d.write(3 * CLUSTER + 5, b"xyz")
    side, ident = d.take()
    assert d.read(3 * CLUSTER + 4, 5) == b"\x03xyz\x03"
    d.write(9 * CLUSTER, b"later")
    assert content(img) == base
    assert d.problems(ident, side) == []
    d.load(ident, side)
    assert d.read(9 * CLUSTER, 5) == b"\x09" * 5 and d.read(3 * CLUSTER + 5, 3) == b"xyz"


def test_side_map_in_a_file_survives_the_process(tmp_path):
    img = image(tmp_path)
    base = content(img)
    d = Drive("d0", img)
    d.read(0, CLUSTER * 16)
    side, ident = d.take()
    sp = str(tmp_path / "s.snap.disk-d0")
    side.persist(sp, d.path)
    d.write(2 * CLUSTER, b"\x99" * CLUSTER)      # appended to the file
    d.close()
    d2 = Drive("d0", img)                        # "a later process": watches the store
    d2.watch_files([sp, str(tmp_path / "nothing")])
    d2.write(6 * CLUSTER, b"\x77" * 100)
    d2.close()
    d3 = Drive("d0", img)
    s3 = Side.open(sp)
    assert s3.error() is None and sorted(s3.clusters()) == [2, 6]
    assert d3.problems(ident, s3) == []
    d3.load(ident, s3)
    assert content(img) == base


def test_a_changed_image_is_refused_by_name(tmp_path):
    img = image(tmp_path)
    d = Drive("d0", img)
    d.read(CLUSTER * 3, 10)
    side, ident = d.take()
    with open(img, "r+b") as f:                  # someone else edits what the guest read
        f.seek(CLUSTER * 3)
        f.write(b"\x00")
    (p,) = d.problems(ident, side)
    assert f"drive 'd0': image {d.path} changed since the snapshot was taken" in p
    with open(img, "ab") as f:
        f.write(b"\x00" * 512)
    d.close()
    d2 = Drive("d0", img)
    (p,) = d2.problems(ident, side)
    assert f"is {16 * CLUSTER + 512} bytes, the snapshot's was {16 * CLUSTER} bytes" in p
    bad = Side.open(str(tmp_path / "missing.disk-d0"))
    (p,) = d2.problems(ident, bad)
    assert "cannot be read" in p
    (tmp_path / "junk").write_bytes(b"nonsense")
    assert "not one (bad magic)" in d2.problems(ident, Side.open(str(tmp_path / "junk")))[0]


# --- whole machines -----------------------------------------------------------------
def machine(img, snapshot=False):
    from pyaarch64.emu.deviceopts import parse_drive, parse_device, plug_devices
    from pyaarch64.machine.virt import VirtMachine
    out = bytearray()
    m = VirtMachine(machine="virt", serial=out.extend)
    a = blk_args(img)
    plug_devices(m, [parse_drive(a[1], 0)], [parse_device(a[3])], snapshot=snapshot)
    return m, out


def run_until(m, out, text, limit=20_000_000):
    n = 0
    while text not in out:
        assert m.run(max_insns=2000).kind == "budget"
        n += 2000
        assert n < limit


@pytest.mark.parametrize("via_file", [False, True])
def test_machine_snapshot_brings_the_disk_back(tmp_path, via_file):
    """The virtio-blk guest is snapshotted before it writes sector 3; it runs to its
    end (the write is in the image); loading the snapshot -- in memory, or from a
    file into a new machine -- puts the disk back and the guest runs to the same end."""
    elf = build("virtio_blk.c")
    img = make_image(tmp_path / "d.img")
    base = content(img)
    m, out = machine(img)
    m.load_kernel(elf)
    run_until(m, out, b"== requests\n")
    at = len(out)
    snap = S.save(m)
    path = str(tmp_path / "s.snap")
    if via_file:
        F.write(path, snap)
    assert m.run(max_insns=50_000_000).kind == "poweroff"
    end, final = bytes(out[at:]), content(img)
    assert final != base
    if via_file:
        m.drives["d0"].close()
        m, out = machine(img)
        m.drives["d0"].watch_files([path + ".disk-d0"])
        snap = F.read(path)
    S.restore(m, snap)
    assert content(img) == base
    del out[:]
    assert m.run(max_insns=50_000_000).kind == "poweroff"
    assert bytes(out) == end and content(img) == final


def test_loading_into_a_machine_without_the_drive_is_refused(tmp_path):
    from pyaarch64.machine.virt import VirtMachine
    img = make_image(tmp_path / "d.img")
    m, _ = machine(img)
    snap = S.save(m)
    with pytest.raises(S.SnapshotError) as e:
        S.restore(VirtMachine(machine="virt"), snap)
    assert "device.virtio-mmio.31 = 'virtio-blk-device'" in str(e.value)
    assert "unknown section 'drives'" in str(e.value)


def test_store_deletes_a_snapshots_disk_with_it(tmp_path):
    img = make_image(tmp_path / "d.img")
    m, _ = machine(img)
    store = SnapshotStore(str(tmp_path / "store"))
    store.save("one", S.save(m, copy_ram=False))
    assert [os.path.basename(p) for p in store.disk_files()] == ["one.snap.disk-d0"]
    m.drives["d0"].write(0, b"y" * 512)         # (the side map grows: info snapshots counts it)
    (tag, size, _, _), = store.list()
    assert tag == "one" and size == sum(os.path.getsize(os.path.join(store.path, n))
                                        for n in ("one.snap", "one.snap.disk-d0"))
    assert os.path.getsize(os.path.join(store.path, "one.snap.disk-d0")) > 4096
    store.delete("one")
    assert store.disk_files() == []
    m.drives["d0"].write(0, b"x" * 512)         # a deleted side map is not recreated
    assert store.disk_files() == []


# --- the command line ---------------------------------------------------------------
def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "pyaarch64.emu.cli", "run", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_cli_snapshot_option_leaves_the_image_untouched(tmp_path):
    elf = build("virtio_blk.c")
    img = make_image(tmp_path / "d.img")
    base = content(img)
    r = cli("-M", "virt", "-nographic", "-kernel", elf, "-snapshot", *blk_args(img))
    assert r.returncode == 0, r.stderr
    assert "read back ff 0" in r.stdout and "zeroed 1" in r.stdout
    assert content(img) == base
    r = cli("-M", "virt", "-nographic", "-kernel", elf, *blk_args(img))
    assert r.returncode == 0 and content(img) != base


@pytest.mark.parametrize("args,message", [
    (["-drive", "file=NOPE,format=raw,if=none,id=d0", "-device", "virtio-blk-device,drive=d0"],
     "-drive file={tmp}/NOPE,format=raw,if=none,id=d0: Could not open '{tmp}/NOPE': No such "
     "file or directory"),
    (["-drive", "file=IMG,format=raw,if=none,id=d0", "-device", "virtio-blk-device,drive=d0",
      "-drive", "file=IMG,format=raw,if=none,id=d1", "-device", "virtio-blk-device,drive=d1"],
     "-device virtio-blk-device,drive=d1: Failed to get \"write\" lock\nIs another process "
     "using the image [{tmp}/IMG]?"),
    (["-drive", "file=IMG,format=qcow2,if=none,id=d0"], "format 'qcow2' is not supported"),
    (["-drive", "file=IMG,format=raw"], "if=virtio (the virt board's default) is a virtio-blk PCI"),
    (["-drive", "file=IMG,if=none,id=d0,bogus=1"], "Invalid parameter 'bogus'"),
    (["-drive", "file=IMG,if=none,id=d0,readonly=maybe"], "Parameter 'readonly' expects 'on' or 'off'"),
    (["-device", "virtio-blk-device,drive=d9"], "Property 'virtio-blk-device.drive' can't find value 'd9'"),
    (["-device", "virtio-blk-device"], "drive property not set"),
    (["-device", "e1000"], "'e1000' is not a valid device model name"),
    (["-drive", "file=IMG,format=raw,if=none,id=d0", "-device", "virtio-blk-device,drive=d0",
      "-device", "virtio-blk-device,drive=d0"], "Drive 'd0' is already in use by another device"),
])
def test_cli_drive_errors(tmp_path, args, message):
    elf = build("virtio_blk.c")
    img = make_image(tmp_path / "IMG")
    args = [a.replace("IMG", img).replace("NOPE", str(tmp_path / "NOPE")) for a in args]
    r = cli("-M", "virt", "-nographic", "-kernel", elf, *args)
    assert r.returncode == 1
    assert message.format(tmp=tmp_path) in r.stderr, r.stderr


def test_an_image_has_one_writer(tmp_path):
    """As QEMU's image locking: a writer has the image to itself, readers share it."""
    from pyaarch64.machine.blockdev import DriveLocked
    img = image(tmp_path)
    w = Drive("d0", img)
    with pytest.raises(DriveLocked, match='Failed to get "write" lock'):
        Drive("d1", img)
    with pytest.raises(DriveLocked, match='Failed to get shared "write" lock'):
        Drive("d1", img, readonly=True)
    w.close()
    r1, r2 = Drive("d1", img, readonly=True), Drive("d2", img, snapshot=True)
    with pytest.raises(DriveLocked):
        Drive("d3", img)
    r1.close()
    r2.close()
    Drive("d3", img).close()


def test_cli_device_help():
    r = subprocess.run([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-device", "help"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and 'name "virtio-blk-device", bus virtio-bus' in r.stdout


def test_info_block(tmp_path):
    from pyaarch64.emu.monitor import Monitor
    from pyaarch64.emu.deviceopts import parse_drive, parse_device, plug_devices
    from pyaarch64.machine.virt import VirtMachine
    a, b = make_image(tmp_path / "a.img"), make_image(tmp_path / "b.img")
    m = VirtMachine(machine="virt")
    plug_devices(m, [parse_drive(f"file={a},format=raw,if=none,id=d0", 0),
                     parse_drive(f"file={b},format=raw,if=none,id=d1,readonly=on", 1)],
                 [parse_device("virtio-rng-device"), parse_device("virtio-blk-device,drive=d0"),
                  parse_device("virtio-blk-device,drive=d1")])
    mon = Monitor(m, None)
    # as QEMU 7.2 prints it (its node names #blockNNN are its own)
    assert mon.execute("info block") == (
        f"d0 (#block0): {a} (raw)\r\n    Attached to:      /machine/peripheral-anon/device[1]\r\n"
        f"    Cache mode:       writeback\r\n\r\n"
        f"d1 (#block1): {b} (raw, read-only)\r\n    Attached to:      /machine/peripheral-anon/device[2]\r\n"
        f"    Cache mode:       writeback\r\n")
    assert mon.execute("info block d1").startswith("d1 (#block1)")
    assert mon.execute("info block nope") == "Error: Device 'nope' not found\r\n"


def test_embedding_api_add_device(tmp_path):
    """Machine.add_device: the virtio-blk guest runs as on the command line; a disk
    comes back with restore(); bad requests are MachineErrors."""
    import pyaarch64
    from test_gic import expected
    img = make_image(tmp_path / "d.img")
    base = content(img)
    m = pyaarch64.Machine()
    m.add_device("virtio-blk-device", file=img)
    m.load_elf(build("virtio_blk.c"))
    snap = m.snapshot()
    assert m.run(max_insns=50_000_000).kind == "poweroff"
    assert m.serial_output.decode() == expected("virtio_blk")
    assert content(img) != base
    m.restore(snap)
    assert content(img) == base
    r = pyaarch64.Machine()
    r.add_device("virtio-rng-device", seed=7)
    r.load_elf(build("virtio_rng.c"))
    assert r.run(max_insns=50_000_000).kind == "poweroff"
    for driver, props, msg in (("e1000", {}, "'e1000' is not available"),
                               ("virtio-blk-device", {"path": img}, "give file="),
                               ("virtio-rng-device", {"x": 1}, "seed= or host="),
                               ("virtio-blk-device", {"file": img}, 'Failed to get "write" lock')):
        with pytest.raises(pyaarch64.MachineError, match=msg):
            m.add_device(driver, **props)


def test_default_store(tmp_path, monkeypatch):
    """Without --snapshot-store: beside a writable disk first (its snapshots hold the
    disk), else beside the kernel or firmware, never in a system directory (Debian's
    U-Boot is /usr/lib/u-boot/...): then in the user's own data directory."""
    from pyaarch64.snapshot.store import default_store_for
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    disk, kernel = str(tmp_path / "root.ext4"), str(tmp_path / "Image")
    assert default_store_for(disk, kernel) == disk + ".snapshots"
    assert default_store_for(kernel) == kernel + ".snapshots"
    uboot = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
    got = default_store_for(uboot)
    assert got.startswith(str(tmp_path / "data" / "pyaarch64" / "snapshots" / "u-boot.bin-"))
    assert got.endswith(".snapshots") and got == default_store_for(uboot)
    assert default_store_for("/usr/share/x.img", uboot) == default_store_for("/usr/share/x.img")
