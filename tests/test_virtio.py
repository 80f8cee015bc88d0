"""virtio-mmio and the devices behind it (issue 16 item 3; machine/virtio/).

tests/guest/virtio_blk.c drives the transports and virtio-blk as a legacy driver
would; its output under QEMU 7.2 is the expected file (tests/guest/expected/).
"""
import os
import subprocess

import pytest

from guestbuild import build
from test_gic import QEMU, qemu, check_same, expected, maybe_regen

IMAGE_SIZE = 64 * 1024
BLK_ARGS = ("-drive", "file={img},format=raw,if=none,id=d0",
            "-device", "virtio-blk-device,drive=d0")


def make_image(path, size=IMAGE_SIZE):
    """Byte i is (i*7 + i//512) & 0xff: every sector differs."""
    path.write_bytes(bytes((i * 7 + i // 512) & 0xFF for i in range(size)))
    return str(path)


def run_ours(elf, *args, max_insns=50_000_000):
    from pyaarch64.emu.deviceopts import parse_drive, parse_device, plug_devices
    from pyaarch64.machine.virt import VirtMachine
    out = bytearray()
    m = VirtMachine(machine="virt", serial=out.extend)
    drives = [parse_drive(args[i + 1], i) for i in range(0, len(args), 2) if args[i] == "-drive"]
    devices = [parse_device(args[i + 1]) for i in range(0, len(args), 2) if args[i] == "-device"]
    plug_devices(m, drives, devices)
    m.load_kernel(elf)
    stop = m.run(max_insns=max_insns)
    return out.decode("latin-1"), stop, m


def blk_args(img):
    return [a.format(img=img) for a in BLK_ARGS]


def test_virtio_blk_guest_matches_qemu(tmp_path):
    elf = build("virtio_blk.c")
    img = make_image(tmp_path / "d.img")
    out, stop, m = run_ours(elf, *blk_args(img))
    assert stop.kind == "poweroff", (stop, out[-800:])
    check_same(out, expected("virtio_blk"), "virtio_blk.c")
    data = open(img, "rb").read()
    assert data[3 * 512:4 * 512] == bytes(512)          # written, then zeroed: in the file
    assert data[4 * 512:5 * 512] == bytes((i * 7 + i // 512) & 0xFF
                                          for i in range(4 * 512, 5 * 512))  # discard: kept


@qemu
@pytest.mark.qemu
def test_virtio_blk_guest_on_qemu(tmp_path):
    elf = build("virtio_blk.c")
    img = make_image(tmp_path / "d.img")
    cmd = [QEMU, "-M", "virt", "-cpu", "cortex-a57", "-m", "128M", "-nographic",
           "-monitor", "none", "-serial", "stdio", "-kernel", elf, *blk_args(img)]
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    out = r.stdout.decode("latin-1")
    maybe_regen("virtio_blk", out)
    check_same(out, expected("virtio_blk"), "virtio_blk.c on QEMU vs expected file")


# --- virtio-rng ------------------------------------------------------------------------
def _mask_bytes(text):
    return "\n".join(l.split(" bytes ")[0] if " bytes " in l else l for l in text.splitlines())


def test_virtio_rng_guest(tmp_path):
    """Deterministic: the same bytes every run, other bytes with another seed; the
    rest as QEMU 7.2 (the expected file; QEMU's bytes are random and not compared)."""
    elf = build("virtio_rng.c")
    a, stop, _ = run_ours(elf, "-device", "virtio-rng-device")
    assert stop.kind == "poweroff", a
    b, _, _ = run_ours(elf, "-device", "virtio-rng-device,seed=0")
    c, _, _ = run_ours(elf, "-device", "virtio-rng-device,seed=7")
    assert a == b and a != c
    assert _mask_bytes(a) == _mask_bytes(c) == _mask_bytes(expected("virtio_rng"))
    lines = a.splitlines()
    first = lines[2].split(" bytes ")[1].split()
    second = lines[3].split(" bytes ")[1].split()
    from pyaarch64.machine.virtio.rng import VirtioRng
    r = VirtioRng()
    assert [int(x, 16) for x in first] == list(r.stream(16))
    assert [int(x, 16) for x in second] == list(r.stream(8))


def test_virtio_rng_stream_position_is_snapshot_state():
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.machine.virtio.rng import VirtioRng
    from pyaarch64.machine.virt_devices import plug_virtio
    from pyaarch64.snapshot import state as S
    m = VirtMachine(machine="virt")
    rng = VirtioRng()
    plug_virtio(m, rng)
    rng.stream(5)
    snap = S.save(m)
    later = rng.stream(16)
    S.restore(m, snap)
    assert rng.pos == 5 and rng.stream(16) == later
    m2 = VirtMachine(machine="virt")
    rng2 = VirtioRng()
    plug_virtio(m2, rng2)
    from pyaarch64.snapshot.format import encode, decode
    S.restore(m2, decode(encode(snap))[0])
    assert rng2.stream(16) == later


@qemu
@pytest.mark.qemu
def test_virtio_rng_guest_on_qemu():
    elf = build("virtio_rng.c")
    cmd = [QEMU, "-M", "virt", "-cpu", "cortex-a57", "-m", "128M", "-nographic",
           "-monitor", "none", "-serial", "stdio", "-kernel", elf, "-device", "virtio-rng-device"]
    out = subprocess.run(cmd, capture_output=True, timeout=60).stdout.decode("latin-1")
    if os.environ.get("PYAARCH64_REGEN_EXPECTED"):
        # the expected file holds our bytes (QEMU's are random): the rest is QEMU's
        ours, _, _ = run_ours(build("virtio_rng.c"), "-device", "virtio-rng-device")
        assert _mask_bytes(ours) == _mask_bytes(out), (ours, out)
        maybe_regen("virtio_rng", ours)
    assert _mask_bytes(out) == _mask_bytes(expected("virtio_rng"))


# --- virtio-console ----------------------------------------------------------------------
def test_virtio_serial_waiting_messages_and_input_are_snapshot_state():
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.machine.virtio.console import VirtioSerial, Port, DEVICE_READY, PORT_READY
    from pyaarch64.machine.virt_devices import plug_virtio
    from pyaarch64.snapshot import state as S
    from pyaarch64.snapshot.format import encode, decode

    def board():
        m = VirtMachine(machine="virt")
        dev = VirtioSerial()
        plug_virtio(m, dev)
        dev.add_port(Port(0, console=True))
        dev.add_port(Port(1, name="org.test"))
        return m, dev
    m, dev = board()
    dev._control(0, DEVICE_READY, 1)          # as if the driver said so (no buffers yet)
    dev._control(1, PORT_READY, 1)
    dev.input(1, b"typed")
    snap = S.save(m)
    assert dev.pending_ctrl and dev.pending_rx
    want = (dev.pending_ctrl, dev.pending_rx, dev.ready)
    dev.reset()
    S.restore(m, snap)
    assert (dev.pending_ctrl, dev.pending_rx, dev.ready) == want
    m2, dev2 = board()
    S.restore(m2, decode(encode(snap))[0])
    assert (dev2.pending_ctrl, dev2.pending_rx, dev2.ready) == want
    # a machine with other ports is another platform
    m3 = VirtMachine(machine="virt")
    d3 = VirtioSerial()
    plug_virtio(m3, d3)
    d3.add_port(Port(0, console=True))
    with pytest.raises(S.SnapshotError, match="device.virtio-mmio.31.port1"):
        S.restore(m3, snap)


# --- a hostile driver ----------------------------------------------------------------------
def test_hostile_driver_never_reaches_the_host(tmp_path):
    """Random register writes and random ring memory (loops, indices past the table,
    huge or absurd lengths, indirect tables in indirect tables, buffers outside RAM)
    against virtio-blk, virtio-rng and virtio-serial: no exception escapes the device,
    no request runs long, and a device reset always brings it back."""
    import time
    from hypothesis import given, settings, strategies as st, HealthCheck
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.machine.virt_devices import plug_virtio
    from pyaarch64.machine.virtio.blk import VirtioBlk
    from pyaarch64.machine.virtio.rng import VirtioRng
    from pyaarch64.machine.virtio.console import VirtioSerial, Port
    from pyaarch64.machine.blockdev import Drive
    from pyaarch64.machine.virtio.transport import VirtioMMIO

    img = make_image(tmp_path / "d.img")
    m = VirtMachine(machine="virt", ram_size=16 << 20)
    blk = VirtioBlk(Drive("d0", img, snapshot=True))
    ts = [plug_virtio(m, blk), plug_virtio(m, VirtioRng())]
    ser = VirtioSerial()
    ts.append(plug_virtio(m, ser))
    ser.add_port(Port(0, console=True, output=lambda b: None))
    ser.add_port(Port(1, name="p", output=lambda b: None))
    RING = 0x4010_0000
    regs = [0x014, 0x020, 0x024, 0x028, 0x030, 0x038, 0x03C, 0x040, 0x050, 0x064, 0x070, 0x100,
            0x108, 0x120, 0x0FC, 0x1F8]
    value = st.one_of(st.integers(0, 0xFFFF_FFFF), st.sampled_from(
        [0, 1, 3, 4, 7, 0x1000, RING >> 12, (RING >> 12) + 1, 0xFFFF_FFFF, 1024, 1025]))

    import struct
    addr = st.sampled_from([0, RING, RING + 0x2000, RING + 0x1000, 0x4000_0000 + (16 << 20) - 8,
                            0x0a00_0000, 1 << 47, 0xFFFF_FFFF_FFFF_FFF0])
    length = st.sampled_from([0, 1, 15, 16, 17, 512, 4096, 1 << 20, 0x7FFF_FFFF, 0xFFFF_FFFF])
    desc = st.tuples(addr, length, st.integers(0, 7), st.integers(0, 20))

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(desc, min_size=16, max_size=16),
           st.tuples(st.integers(0, 3), st.integers(0, 4),
                     st.lists(st.integers(0, 20), min_size=16, max_size=16)),
           st.lists(st.tuples(st.integers(0, 2), st.sampled_from(regs), value), max_size=40))
    def run(descs, avail, writes):
        table = b"".join(struct.pack("<QIHH", a, n, f, nx) for a, n, f, nx in descs)
        m.write_memory(RING, table)                           # 16 entries at the queue
        m.write_memory(RING + 0x2000, table)                  # (and as an indirect table)
        flags, idx, ring = avail
        m.write_memory(RING + 16 * 16, struct.pack("<18H", flags, idx, *ring))
        for t in ts:                          # a plausible set-up first, then chaos
            for off, v in ((0x070, 0), (0x070, 3), (0x028, 4096), (0x030, 0), (0x038, 16),
                           (0x03C, 4096), (0x040, RING >> 12), (0x070, 7)):
                t.write(off, 4, v)
        for which, off, v in writes:
            t0 = time.perf_counter()
            ts[which].write(off, 4, v)
            ts[which].read(off, 4)
            assert time.perf_counter() - t0 < 2.0, (which, hex(off), v)
        for t in ts:
            t.write(0x050, 4, 0)
            t.write(0x070, 4, 0)              # a device reset: working again
            assert t.broken == 0 and t.status == 0
        # ... as a well-formed request on the rng shows (a fresh ring, one buffer)
        rng, fresh = ts[1], RING + 0x4000
        m.write_memory(fresh, bytes(0x2000))
        m.write_memory(fresh, struct.pack("<QIHH", RING + 0x3000, 16, 2, 0))
        m.write_memory(fresh + 16 * 4, struct.pack("<HHH", 0, 1, 0))
        for off, v in ((0x070, 3), (0x028, 4096), (0x030, 0), (0x038, 4), (0x03C, 4096),
                       (0x040, fresh >> 12), (0x070, 7), (0x050, 0)):
            rng.write(off, 4, v)
        assert m.read_memory(fresh + 0x1000 + 2, 2) == b"\x01\x00"   # used idx 1
        rng.write(0x070, 4, 0)
    seen = {"done": 0, "broken": 0}
    complete = VirtioMMIO.complete
    device_error = VirtioMMIO.device_error

    def counting_complete(self, n, chains):
        seen["done"] += len(chains)
        return complete(self, n, chains)

    def counting_error(self, msg):
        seen["broken"] += 1
        return device_error(self, msg)
    from unittest import mock
    with mock.patch.object(VirtioMMIO, "complete", counting_complete), \
            mock.patch.object(VirtioMMIO, "device_error", counting_error):
        run()
    assert seen["done"] > 3 and seen["broken"] > 20, seen     # (both kinds were exercised)
