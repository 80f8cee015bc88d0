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
    from pyaarch64.emu.blockopts import parse_drive, parse_device, plug_devices
    from pyaarch64.machine.virt import VirtMachine
    out = bytearray()
    m = VirtMachine(machine="virt", serial=out.extend)
    drives = [parse_drive(v, i) for i, v in enumerate(args[1::2]) if args[2 * i] == "-drive"]
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
