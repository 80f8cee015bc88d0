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
