"""Issue 5's user scenario: Debian 12's kernel with the busybox initramfs boots to an
interactive shell on the PL011 console; typed commands answer exactly as under QEMU 7.2;
`poweroff` ends the emulator cleanly; and a shell saved with Ctrl-A c / savevm comes back
with `-loadvm` and answers the next command.

Runs with --linux / PYAARCH64_LINUX=1 (guests from scripts/fetch-guests.sh).
"""
import os
import re
import sys

import pytest

from shellconsole import Console
from test_linux_boot import IMAGE, BUSYBOX, GUESTS, linux_enabled, mkinitramfs
from tools import have

pytestmark = pytest.mark.slow          # Linux boots: not in the fast tier

APPEND = "console=ttyAMA0 cryptomgr.notests pyinit=shell"
BANNER = rb"poweroff to power off\r?\n"
TIMEOUT = int(os.environ.get("PYAARCH64_LINUX_TIMEOUT", "600"))

COMMANDS = (
    "uname -a",
    "cat /proc/cpuinfo",
    "ls /",
    "echo $((6*7))",
    "awk 'BEGIN { x = 355/113; printf \"%.10f %g %e %d\\n\", x, x*1e10, 1/3, x*x*1e6 }'",
    "echo hello pyaarch64 | md5sum",
    "seq 1 3000 > /tmp/s; gzip -9 -c /tmp/s > /tmp/s.gz; gunzip -c /tmp/s.gz | md5sum; md5sum < /tmp/s",
)
# QEMU 7.2's answers (-M virt -cpu cortex-a57 -m 512), used when QEMU is not installed
QEMU_7_2 = {
    "uname -a": "Linux (none) 6.1.0-56-arm64 #1 SMP Debian 6.1.192-2 (2026-11-16) aarch64 GNU/Linux\n",
    "ls /": "bin      dev      etc      init     linuxrc  mnt      proc     root     sbin     sys      tmp      usr\n",
    "echo $((6*7))": "42\n",
    "echo hello pyaarch64 | md5sum": "360b46092c5d3e398016738dc385b9db  -\n",
}


def kernel_versions():
    """(ABI such as 6.1.0-56, package version such as 6.1.192-2) of the fetched kernel."""
    with open(os.path.join(GUESTS, "VERSIONS")) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "kernel":
                return w[1][len("linux-image-"):-len("-arm64")], w[2]
    raise AssertionError(f"no kernel line in {GUESTS}/VERSIONS")


@pytest.fixture(scope="module")
def guests(request, tmp_path_factory):
    if not linux_enabled(request.config):
        pytest.skip("Linux boots run with --linux or PYAARCH64_LINUX=1")
    if not (os.path.exists(IMAGE) and os.path.exists(BUSYBOX)):
        pytest.skip(f"no kernel/busybox in {GUESTS}: run scripts/fetch-guests.sh")
    return IMAGE, str(mkinitramfs(tmp_path_factory.mktemp("shell") / "initramfs.cpio.gz"))


def boot_args(image, initrd, machine):
    return ["-M", machine, "-cpu", "cortex-a57", "-m", "512", "-nographic",
            "-kernel", image, "-initrd", initrd, "-append", APPEND]


def ours(image, initrd, machine, *extra):
    return Console([sys.executable, "-m", "pyaarch64.emu.cli", "run",
                    *boot_args(image, initrd, machine), *extra])


def answers(c):
    c.expect(BANNER, TIMEOUT)
    c.shell_ready(TIMEOUT)
    return {cmd: c.command(cmd, TIMEOUT) for cmd in COMMANDS}


def poweroff(c):
    c.send("poweroff\n")
    c.expect(rb"reboot: Power down", TIMEOUT)
    assert c.wait(60) == 0


@pytest.fixture(scope="module")
def qemu_answers(guests):
    if not have("qemu-system-aarch64"):
        ans = dict(QEMU_7_2)
        if kernel_versions() != ("6.1.0-56", "6.1.192-2"):
            ans.pop("uname -a")           # recorded with that kernel; Debian has moved on
        return ans
    c = Console(["qemu-system-aarch64", *boot_args(*guests, "virt")])
    try:
        got = answers(c)
        poweroff(c)
    finally:
        c.close()
    return got


def test_shell_answers_like_qemu(guests, qemu_answers):
    """virt-7.2 is the machine QEMU 7.2 calls `virt`: every answer is the same."""
    c = ours(*guests, "virt-7.2")
    try:
        got = answers(c)
        for cmd, want in qemu_answers.items():
            assert got[cmd] == want, cmd
        assert got["echo $((6*7))"] == "42\n"
        assert "3.1415929204 3.14159e+10 3.333333e-01 9869606" in got[COMMANDS[4]]
        poweroff(c)
    finally:
        c.close()


def test_shell_on_gicv3(guests):
    """-M virt,gic-version=3: Linux drives the GICv3 through its system registers (the
    timer ticks, the UART's interrupt) to the shell, and says so."""
    c = ours(*guests, "virt,gic-version=3")
    try:
        c.expect(BANNER, TIMEOUT)
        c.shell_ready(TIMEOUT)
        log = c.command("dmesg | grep -E 'GICv3|GIC system register|ITS'", TIMEOUT)
        assert "GICv3: 224 SPIs implemented" in log
        assert "GICv3: CPU0: found redistributor 0 region 0:0x00000000080a0000" in log
        assert "detected: GIC system register CPU interface" in log
        irqs = c.command("cat /proc/interrupts", TIMEOUT).splitlines()
        timer = [l for l in irqs if "arch_timer" in l]
        assert timer and "GICv3  27 Level" in timer[0] and int(timer[0].split()[1]) > 10
        assert any("GICv3  33 Level" in l and "uart-pl011" in l for l in irqs), irqs
        assert c.command("echo $((6*7))", TIMEOUT) == "42\n"
        poweroff(c)
    finally:
        c.close()


@pytest.mark.parametrize("machine", ["virt", "virt-4.1", "virt,gic-version=3"])
def test_shell_survives_savevm_and_loadvm(guests, machine, tmp_path):
    """In the shell: Ctrl-A c, savevm shell, Ctrl-A x.  `-loadvm shell` brings the same
    shell back: it answers the next command and powers off cleanly."""
    store = str(tmp_path / "snaps")
    c = ours(*guests, machine, "--snapshot-store", store)
    try:
        c.expect(BANNER, TIMEOUT)
        c.shell_ready(TIMEOUT)
        assert c.command("cd /tmp; echo saved-$((6*7)) > mark; cat mark", TIMEOUT) == "saved-42\n"
        c.send(b"\x01c")
        c.expect(rb"\(qemu\) ", 60)
        c.send(b"savevm shell\r")
        c.expect(rb"\(qemu\) ", 120)
        c.send(b"\x01x")
        assert c.wait(60) == 0
    finally:
        c.close()
    assert os.path.exists(os.path.join(store, "shell.snap"))
    c = ours(*guests, machine, "--snapshot-store", store, "-loadvm", "shell")
    try:
        assert c.command("pwd; cat mark; echo $((6*7))", TIMEOUT) == "/tmp\nsaved-42\n42\n"
        assert c.command("uname -m", TIMEOUT) == "aarch64\n"
        poweroff(c)
    finally:
        c.close()


def test_qemu_reaches_the_shell_and_powers_off(guests, qemu_answers):
    """The reference itself: QEMU 7.2 gives the answers the tests compare with."""
    assert qemu_answers["echo $((6*7))"] == "42\n"
    # the kernel is Debian's current one (scripts/fetch-guests.sh): its release and
    # package version come from the VERSIONS file written when it was fetched
    abi, ver = kernel_versions()
    assert re.fullmatch(rf"Linux \(none\) {re.escape(abi)}-arm64 #1 SMP Debian {re.escape(ver)} "
                        rf"\(\d{{4}}-\d\d-\d\d\) aarch64 GNU/Linux\n", qemu_answers["uname -a"]), \
        qemu_answers["uname -a"]
