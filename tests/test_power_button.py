"""Issue 16 item 5's user scenario: Linux at its busybox shell, `system_powerdown` in
the monitor (HMP) or over QMP, and the guest shuts down cleanly -- its gpio-keys
driver sees KEY_POWER on the PL061's line 3, busybox acpid runs `poweroff`, init
says "The system is going down NOW!", unmounts and powers off -- and the emulator
exits as on `poweroff`.  The same initramfs does the same on QEMU 7.2.

Runs with --linux / PYAARCH64_LINUX=1 (kernel, busybox and the kernel's modules from
scripts/fetch-guests.sh: gpio-keys and evdev are modules in Debian's kernel).
"""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from shellconsole import Console
from test_linux_boot import IMAGE, BUSYBOX, GUESTS, ROOT, linux_enabled
from tools import have

pytestmark = pytest.mark.slow          # Linux boots: not in the fast tier

MODULES = os.path.join(GUESTS, "modules")
APPEND = "console=ttyAMA0 cryptomgr.notests pyinit=shell,acpid"
BANNER = rb"poweroff to power off\r?\n"
TIMEOUT = int(os.environ.get("PYAARCH64_LINUX_TIMEOUT", "600"))
QEMU = "qemu-system-aarch64"

# what the guest prints from the button press to the end, in order
SHUTDOWN = (rb"acpid: PWRF/00000080", rb"PYAARCH64-POWER-BUTTON",
            rb"The system is going down NOW!", rb"Sent SIGTERM to all processes",
            rb"Requesting system poweroff", rb"reboot: Power down")


@pytest.fixture(scope="module")
def guests(request, tmp_path_factory):
    if not linux_enabled(request.config):
        pytest.skip("Linux boots run with --linux or PYAARCH64_LINUX=1")
    if not (os.path.exists(IMAGE) and os.path.exists(BUSYBOX)
            and os.path.exists(os.path.join(MODULES, "modules.load"))):
        pytest.skip(f"no kernel/busybox/modules in {GUESTS}: run scripts/fetch-guests.sh")
    out = tmp_path_factory.mktemp("pb") / "initramfs.cpio.gz"
    r = subprocess.run([os.path.join(ROOT, "scripts", "mkinitramfs.sh"), BUSYBOX, str(out),
                        MODULES], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return IMAGE, str(out)


def start(emulator, guests, machine, *extra):
    image, initrd = guests
    args = ["-M", machine, "-cpu", "cortex-a57", "-m", "512", "-nographic",
            "-kernel", image, "-initrd", initrd, "-append", APPEND, *extra]
    if emulator == "qemu":
        return Console([QEMU, *args])
    return Console([sys.executable, "-m", "pyaarch64.emu.cli", "run", *args])


def at_the_shell(c):
    c.expect(BANNER, TIMEOUT)
    c.shell_ready(TIMEOUT)
    # the driver found the button (PL061 line 3) and acpid is listening
    assert c.command("cat /sys/class/input/input0/name; pidof acpid >/dev/null && echo acpid",
                     TIMEOUT) == "gpio-keys\nacpid\n"


def shuts_down(c):
    for pattern in SHUTDOWN:
        c.expect(pattern, TIMEOUT)
    assert c.wait(60) == 0


class Qmp:
    """A QMP client on a unix socket: just enough for system_powerdown."""

    def __init__(self, path, timeout=60):
        end = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
        self.s.settimeout(TIMEOUT)
        self.buf = b""
        assert "QMP" in self.next()
        self.s.sendall(b'{"execute": "qmp_capabilities"}')
        assert self.next() == {"return": {}}

    def next(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError(f"QMP connection closed; got {self.buf!r}")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def messages(self, n):
        return [self.next() for _ in range(n)]


def brief(msgs):
    return [(m["event"], m.get("data")) if "event" in m else ("return", m["return"])
            for m in msgs]


EMULATORS = ["ours", pytest.param("qemu", marks=pytest.mark.skipif(
    not have(QEMU), reason="QEMU 7.2 not installed"))]


@pytest.mark.parametrize("emulator", EMULATORS)
def test_hmp_system_powerdown_powers_linux_off(guests, emulator):
    """Ctrl-A c, system_powerdown: the guest shuts down and the emulator exits 0."""
    c = start(emulator, guests, "virt")
    try:
        at_the_shell(c)
        c.send(b"\x01c")
        c.expect(rb"\(qemu\) ", 60)
        c.send(b"system_powerdown\r")
        shuts_down(c)
    finally:
        c.close()


@pytest.mark.parametrize("emulator", EMULATORS)
def test_qmp_system_powerdown_powers_linux_off(guests, emulator, tmp_path):
    """QMP system_powerdown: POWERDOWN and its return, then the guest shuts down
    (SHUTDOWN, guest-shutdown) and the emulator exits 0.  On virt-4.1, the oldest
    type, which has had the button all along in QEMU."""
    sock = str(tmp_path / "qmp.sock")
    c = start(emulator, guests, "virt-4.1", "-qmp", f"unix:{sock},server=on,wait=off")
    try:
        at_the_shell(c)
        q = Qmp(sock)
        q.s.sendall(b'{"execute": "system_powerdown"}')
        got = brief(q.messages(2))
        assert sorted(got, key=str) == sorted([("POWERDOWN", None), ("return", {})], key=str)
        shuts_down(c)
        assert brief([q.next()]) == [("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})]
    finally:
        c.close()
