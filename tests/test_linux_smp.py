"""Linux on several CPUs (issue 16 item 1): Debian's kernel with -smp 4 brings up
every CPU through PSCI and answers what QEMU 7.2 answers about them
(/proc/cpuinfo, the online mask, its SMP boot messages); work spread over the
CPUs gives the right results; a shell saved with savevm comes back with
-loadvm, all four CPUs online.

Runs with --linux / PYAARCH64_LINUX=1 (guests from scripts/fetch-guests.sh).
"""
import os
import re
import sys

import pytest

from shellconsole import Console
from test_linux_shell import APPEND, BANNER, TIMEOUT, guests, poweroff   # noqa: F401 (fixture)
from tools import needs

pytestmark = pytest.mark.slow

QEMU = "qemu-system-aarch64"
SMP = "4"
QUESTIONS = (
    "cat /proc/cpuinfo",
    "nproc; cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible",
    r"dmesg | grep -E 'smp:|SMP:|CPU[0-9]+:|psci:|Detected PIPT' | sed 's/^\[[^]]*\] //'",
)
# work on every CPU at once: each job's answer does not depend on where it ran
# (in a non-interactive sh: the interactive shell's job control is not what is measured)
WORK = ("sh -c 'for i in 1 2 3 4; do (seq 1 20000 | md5sum > /tmp/w$i) & done; wait'; "
        "cat /tmp/w1 /tmp/w2 /tmp/w3 /tmp/w4 | uniq -c")


def boot_args(image, initrd, *extra):
    return ["-M", "virt-7.2", "-cpu", "cortex-a57", "-m", "512", "-smp", SMP, "-nographic",
            "-kernel", image, "-initrd", initrd, "-append", APPEND, *extra]


def ask(c):
    c.expect(BANNER, TIMEOUT)
    c.shell_ready(TIMEOUT)
    return {q: c.command(q, TIMEOUT) for q in QUESTIONS}


@needs(QEMU)
def test_smp_boot_answers_like_qemu(guests):
    q = Console([QEMU, *boot_args(*guests)])
    try:
        want = ask(q)
        poweroff(q)
    finally:
        q.close()
    c = Console([sys.executable, "-m", "pyaarch64.emu.cli", "run", *boot_args(*guests)])
    try:
        got = ask(c)
        for question in QUESTIONS:
            assert got[question] == want[question], question
        assert got[QUESTIONS[1]] == "4\n0-3\n0-3\n"
        assert "smp: Brought up 1 node, 4 CPUs" in got[QUESTIONS[2]]
        assert c.command(WORK, TIMEOUT) == "      4 e071f707df7bbeee2a6a1eb48011ddd0  -\n"
        poweroff(c)
    finally:
        c.close()


def test_smp_shell_survives_savevm_and_loadvm(guests, tmp_path):
    store = str(tmp_path / "snaps")
    cmd = [sys.executable, "-m", "pyaarch64.emu.cli", "run", *boot_args(*guests),
           "--snapshot-store", store]
    c = Console(cmd)
    try:
        c.expect(BANNER, TIMEOUT)
        c.shell_ready(TIMEOUT)
        assert c.command("echo saved > /tmp/mark; cat /tmp/mark", TIMEOUT) == "saved\n"
        c.send(b"\x01c")
        c.expect(rb"\(qemu\) ", 60)
        c.send(b"info cpus\r")
        c.expect(rb"CPU #3: thread_id=\d+\r\n\(qemu\) ", 60)
        c.send(b"savevm smp\r")
        c.expect(rb"\(qemu\) ", 120)
        c.send(b"\x01x")
        assert c.wait(60) == 0
    finally:
        c.close()
    c = Console(cmd + ["-loadvm", "smp"])
    try:
        assert c.command("cat /tmp/mark; cat /sys/devices/system/cpu/online", TIMEOUT) == \
            "saved\n0-3\n"
        assert re.search(r"\b4 e071f707df7bbeee2a6a1eb48011ddd0", c.command(WORK, TIMEOUT))
        poweroff(c)
    finally:
        c.close()
