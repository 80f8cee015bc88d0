"""Debian's kernel with the virtio-mmio devices (issue 16 item 3): the drivers are
modules (the initramfs from scripts/mkinitramfs.sh MODULES_DIR loads them).

virtio-rng is the guest's hwrng (with the deterministic stream and with host
entropy), as under QEMU 7.2.

Runs with --linux / PYAARCH64_LINUX=1 (guests from scripts/fetch-guests.sh).
"""
import os
import sys

import pytest

from shellconsole import Console
from test_linux_boot import guest_files
from tools import have

pytestmark = pytest.mark.slow

APPEND = "console=ttyAMA0 cryptomgr.notests pyinit=shell"
BANNER = rb"poweroff to power off\r?\n"
TIMEOUT = int(os.environ.get("PYAARCH64_LINUX_TIMEOUT", "600"))
RNG_INFO = "cat /sys/class/misc/hw_random/rng_available /sys/class/misc/hw_random/rng_current"
READ_RNG = "dd if=/dev/hwrng bs=32 count=1 2>/dev/null | md5sum"


@pytest.fixture(scope="module")
def guests(request, tmp_path_factory):
    return guest_files(request, tmp_path_factory, modules=True)


def args(image, initrd, *extra):
    return ["-M", "virt", "-cpu", "cortex-a57", "-m", "512", "-nographic", "-kernel", image,
            "-initrd", initrd, "-append", APPEND, *extra]


def session(argv, cmds):
    """Boot to the shell, run `cmds` (a list of commands: their outputs; or a callable
    of the Console: what it returns), power off."""
    c = Console(argv)
    try:
        c.expect(BANNER, TIMEOUT)
        c.shell_ready(TIMEOUT)
        out = cmds(c) if callable(cmds) else [c.command(cmd, TIMEOUT) for cmd in cmds]
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


def console_session(argv, sockdir):
    """virtconsole (hvc0) and a named virtserialport on unix sockets: what the guest
    sees and what crosses each port in both directions."""
    import socket

    def body(c):
        out = {}
        socks = []
        for name in ("c0", "c1"):
            s = socket.socket(socket.AF_UNIX)
            s.connect(os.path.join(sockdir, name))
            s.settimeout(TIMEOUT)
            socks.append(s)
        for cmd in ("ls /dev/hvc0 /dev/vport*", "cat /sys/class/virtio-ports/*/name",
                    "cat /sys/bus/virtio/devices/virtio0/features"):
            out[cmd] = c.command(cmd, TIMEOUT)
        # host to guest first: once the guest has read what a client sent, the emulator
        # has seen that client connect (a port writes to nobody before that, as QEMU's)
        socks[1].sendall(b"from-host\n")
        out["-> vport0p1"] = c.command("head -c 10 /dev/vport0p1", TIMEOUT)
        socks[0].sendall(b"hvcin\n")
        out["-> hvc0"] = c.command("head -c 6 /dev/hvc0", TIMEOUT)
        c.command("echo to-hvc > /dev/hvc0; echo to-port > /dev/vport0p1", TIMEOUT)
        # (hvc0 is a tty: it echoed what it was sent)
        out["hvc0 ->"] = recv_until(socks[0], b"to-hvc\r\n")
        out["vport0p1 ->"] = recv_until(socks[1], b"to-port\n")
        return out
    return session(argv, body)


def recv_until(s, end):
    got = b""
    while not got.endswith(end):
        data = s.recv(100)
        if not data:
            break
        got += data
    return got


def console_args(guests, sockdir):
    return args(*guests, "-chardev", f"socket,id=c0,path={sockdir}/c0,server=on,wait=off",
                "-chardev", f"socket,id=c1,path={sockdir}/c1,server=on,wait=off",
                "-device", "virtio-serial-device", "-device", "virtconsole,chardev=c0",
                "-device", "virtserialport,chardev=c1,name=org.test.port")


def test_virtio_console_ports_like_qemu(guests, tmp_path):
    got = console_session(ours(*console_args(guests, tmp_path)), tmp_path)
    assert got["ls /dev/hvc0 /dev/vport*"] == "/dev/hvc0      /dev/vport0p0  /dev/vport0p1\n"
    assert got["cat /sys/class/virtio-ports/*/name"] == "org.test.port\n"
    assert got["hvc0 ->"] == b"hvcin\r\nto-hvc\r\n" and got["vport0p1 ->"] == b"to-port\n"
    assert got["-> vport0p1"] == "from-host\n" and got["-> hvc0"] == "hvcin\n"
    if have("qemu-system-aarch64"):
        q = tmp_path / "q"
        q.mkdir()
        assert console_session(["qemu-system-aarch64", *console_args(guests, q)], q) == got
