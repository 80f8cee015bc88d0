"""Debian's kernel with the virtio-mmio devices (issue 16 item 3): the drivers are
modules (the initramfs from scripts/mkinitramfs.sh MODULES_DIR loads them).

virtio-rng is the guest's hwrng (with the deterministic stream and with host
entropy), as under QEMU 7.2.

Runs with --linux / PYAARCH64_LINUX=1 (guests from scripts/fetch-guests.sh).
"""
import os
import subprocess
import sys

import pytest

from shellconsole import Console
from test_linux_boot import IMAGE, BUSYBOX, GUESTS, ROOT, linux_enabled
from tools import have

pytestmark = pytest.mark.slow

MODULES = os.path.join(GUESTS, "modules")
APPEND = "console=ttyAMA0 cryptomgr.notests pyinit=shell"
BANNER = rb"poweroff to power off\r?\n"
TIMEOUT = int(os.environ.get("PYAARCH64_LINUX_TIMEOUT", "600"))
RNG_INFO = "cat /sys/class/misc/hw_random/rng_available /sys/class/misc/hw_random/rng_current"
READ_RNG = "dd if=/dev/hwrng bs=32 count=1 2>/dev/null | md5sum"


@pytest.fixture(scope="module")
def guests(request, tmp_path_factory):
    if not linux_enabled(request.config):
        pytest.skip("Linux boots run with --linux or PYAARCH64_LINUX=1")
    if not (os.path.exists(IMAGE) and os.path.exists(BUSYBOX)):
        pytest.skip(f"no kernel/busybox in {GUESTS}: run scripts/fetch-guests.sh")
    d = tmp_path_factory.mktemp("virtio")
    initrd = str(d / "initramfs-mods.cpio.gz")
    r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "mkinitramfs.sh"), BUSYBOX, initrd,
                        MODULES], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return IMAGE, initrd


def args(image, initrd, *extra):
    return ["-M", "virt", "-cpu", "cortex-a57", "-m", "512", "-nographic", "-kernel", image,
            "-initrd", initrd, "-append", APPEND, *extra]


def session(argv, cmds):
    c = Console(argv)
    try:
        c.expect(BANNER, TIMEOUT)
        c.shell_ready(TIMEOUT)
        out = [c.command(cmd, TIMEOUT) for cmd in cmds]
        c.send("poweroff\n")
        c.expect(rb"reboot: Power down", TIMEOUT)
        assert c.wait(60) == 0
        return out
    finally:
        c.close()


def ours(*a):
    return [sys.executable, "-m", "pyaarch64.emu.cli", "run", *a]


def test_virtio_rng_is_the_hwrng(guests):
    """(The kernel's hwrng thread reads the device in the background, as much as the
    timing allows, so which bytes /dev/hwrng gives is not pinned here: the stream
    itself is, in test_virtio.py.)"""
    one = session(ours(*args(*guests, "-device", "virtio-rng-device")), [RNG_INFO, READ_RNG])
    assert one[0] == "virtio_rng.0 \nvirtio_rng.0\n"      # (the list ends in a space)
    assert one[1] != "d41d8cd98f00b204e9800998ecf8427e  -\n"  # (md5 of nothing)
    host = session(ours(*args(*guests, "-object", "rng-random,id=r0,filename=/dev/urandom",
                                "-device", "virtio-rng-device,rng=r0")), [RNG_INFO, READ_RNG])
    assert host[0] == one[0]
    if have("qemu-system-aarch64"):
        q = session(["qemu-system-aarch64", *args(*guests, "-device", "virtio-rng-device")],
                    [RNG_INFO])
        assert q[0] == one[0]
