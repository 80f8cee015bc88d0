"""The monitor (HMP) and the snapshot store: QEMU's commands and wording, savevm /
loadvm / delvm / info snapshots with no disk, a refused loadvm that changes nothing,
QEMU's readline echo, and the user's path: Ctrl-A c, savevm, Ctrl-A x, then
`pyaarch64 run ... -loadvm` continues the guest to the same output."""
import json
import os
import re
import subprocess
import sys

import pytest

from guestbuild import build, cli
from pyaarch64.emu.monitor import Monitor, LineEditor, MonitorQuit, PROMPT
from pyaarch64.machine.virt import VirtMachine
from pyaarch64.snapshot import format as F
from pyaarch64.snapshot.store import SnapshotStore

TRANSCRIPTS = "/work/shared/reference/qemu-7.2-transcripts/hmp"


def machine(out=None):
    m = VirtMachine("virt-7.2", serial=(out.extend if out is not None else None))
    m.load_kernel(build("snap_count.c"))
    return m


def test_status_stop_cont_and_unknown_commands(tmp_path):
    m = machine()
    mon = Monitor(m, SnapshotStore(str(tmp_path)))
    assert mon.execute("info status") == "VM status: running\r\n"
    assert mon.execute("stop") == "" and m.paused
    assert mon.execute("info status") == "VM status: paused\r\n"
    assert mon.execute("c") == "" and not m.paused
    assert mon.execute("foo") == "unknown command: 'foo'\r\n"
    assert mon.execute("info foo") == "unknown command: 'info foo'\r\n"
    with pytest.raises(MonitorQuit):
        mon.execute("quit")


def test_savevm_loadvm_delvm_and_listing(tmp_path):
    out = bytearray()
    m = machine(out)
    mon = Monitor(m, SnapshotStore(str(tmp_path / "store")))
    assert mon.execute("info snapshots") == "There is no snapshot available.\r\n"
    m.run(max_insns=2_000_000)
    at = len(out)
    assert mon.execute("savevm s1") == ""
    m.run(max_insns=5_000_000)
    assert mon.execute("savevm") == ""                              # vm-<date> tag
    listing = mon.execute("info snapshots").split("\r\n")
    assert listing[:2] == ["List of snapshots present on all disks:",
                           "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT"]
    assert re.fullmatch(r"--        s1 +[\d.]+ [KM]iB \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 00:00:00\.002 {11}",
                        listing[2]), listing[2]
    assert listing[2].index("iB ") == 33                    # QEMU's columns
    assert listing[3].startswith("--        vm-")
    # loadvm goes back: the rest of the run prints what it printed after the save
    m.run(max_insns=3_000_000)
    assert mon.execute("loadvm s1") == ""
    rest = bytearray()
    m.serial = rest.extend
    assert m.run().kind == "poweroff"
    m2_out = bytearray()
    m2 = machine(m2_out)
    m2.run()
    assert out[:at] + rest == m2_out
    assert mon.execute("delvm s1") == ""
    assert "s1 " not in mon.execute("info snapshots")
    assert mon.execute("delvm s1") == "Error: Snapshot 's1' does not exist\r\n"
    assert mon.execute("loadvm nosuch") == \
        "Error: Snapshot 'nosuch' does not exist in one or more devices\r\n"


def test_a_refused_loadvm_leaves_the_machine_running_as_it_was(tmp_path):
    from pyaarch64.snapshot.state import save
    store = SnapshotStore(str(tmp_path))
    other = VirtMachine("virt-7.2", cpu="cortex-a53")
    store.save("a53", save(other))
    m = machine()
    m.run(max_insns=1_000_000)
    mon = Monitor(m, store)
    before = save(m)
    text = mon.execute("loadvm a53")
    assert "Error: snapshot is of CPU model 'cortex-a53'" in text and "MIDR_EL1" in text
    after = save(m)
    assert after.sections == before.sections and bytes(after.ram) == bytes(before.ram)
    assert mon.execute("info status") == "VM status: running\r\n"
    # a damaged file: the same
    with open(os.path.join(str(tmp_path), "a53.snap"), "r+b") as f:
        f.seek(-40, 2)
        f.write(b"\x00\x01")
    assert "checksum mismatch" in mon.execute("loadvm a53")


def test_info_registers_and_memory_dumps(tmp_path):
    m = machine()
    m.run(max_insns=1000)
    mon = Monitor(m, SnapshotStore(str(tmp_path)))
    regs = mon.execute("info registers").split("\r\n")
    assert regs[:2] == ["", "CPU#0"] and regs[2].startswith(" PC=") and "X00=" in regs[2]
    assert re.match(r"PSTATE=[0-9a-f]{8} [-NZCV]{4} EL1h     FPCR=00000000 FPSR=00000000$", regs[13]), regs[13]
    assert regs[14].startswith("Q00=") and len(regs) == 14 + 16 + 1
    m.write_memory(0x40001000, bytes.fromhex("d00dfeed00001000"))
    assert mon.execute("xp /2xw 0x40001000") == "0000000040001000: 0xedfe0dd0 0x00100000\r\n"
    assert mon.execute("xp /4xb 0x40001000") == "0000000040001000: 0xd0 0x0d 0xfe 0xed\r\n"
    assert mon.execute("x /1xg 0x40001000") == "0000000040001000: 0x00100000edfe0dd0\r\n"
    assert mon.execute("xp /4s 0x40001000") == \
        "invalid char in format: 's'\r\nTry \"help x\" for more information\r\n"
    m.write_memory(0x40002000, bytes.fromhex("00800058" "1f000091"))
    assert mon.execute("xp /2i 0x40002000") == \
        "0x40002000:  58008000  ldr      x0, #0x40003000\r\n0x40002004:  9100001f  mov      sp, x0\r\n"


@pytest.mark.skipif(not os.path.exists(os.path.join(TRANSCRIPTS, "hmp-unix-main.json")),
                    reason="QEMU transcripts not available")
def test_readline_echo_is_qemus():
    """The echo bytes of every typed line in QEMU's transcript, regenerated."""
    steps = json.load(open(os.path.join(TRANSCRIPTS, "hmp-unix-main.json"), encoding="latin-1"))
    steps = steps if isinstance(steps, list) else steps["steps"]
    checked = 0
    for st in steps:
        sent, got = st.get("sent", ""), st.get("received", "")
        if not sent.endswith("\n") or not sent[:-1].isprintable() or not sent[:-1]:
            continue
        ed = LineEditor()
        echo = "".join(ed.feed(ord(c))[0] for c in sent)
        assert got.startswith(echo), sent
        checked += 1
    assert checked > 20


def test_savevm_from_the_console_then_loadvm_at_start(tmp_path):
    """Ctrl-A c, savevm s1, Ctrl-A x; then `-loadvm s1` continues to the same end."""
    elf = build("snap_count.c")
    store = str(tmp_path / "snaps")
    rc, full, _ = cli("run", "-M", "virt-7.2", "-nographic", elf)
    assert rc == 0 and "checksum" in full
    rc, out1, err = cli("run", "-M", "virt-7.2", "-nographic", "--snapshot-store", store, elf,
                        input=b"\x01csavevm s1\r\x01x")
    assert rc == 0, err
    banner = out1.index("pyaarch64 ")
    guest1 = out1[:banner]
    assert "monitor - type 'help' for more information\r\n(qemu) " in out1
    assert out1.endswith("QEMU: Terminated\n\r")
    assert os.path.exists(os.path.join(store, "s1.snap"))
    rc, out2, err = cli("run", "-M", "virt-7.2", "-nographic", "--snapshot-store", store,
                        "-loadvm", "s1", elf)
    assert rc == 0, err
    assert guest1 + out2 == full
    rc, _, err = cli("run", "-M", "virt-7.2", "--snapshot-store", store, "-loadvm", "nope", elf)
    assert rc == 1 and "-loadvm nope: Snapshot 'nope' does not exist" in err
    rc, _, err = cli("run", "-M", "virt-6.2", "--snapshot-store", store, "-loadvm", "s1", elf)
    assert rc == 1 and "machine type 'virt-7.2', this machine is 'virt-6.2'" in err


def test_monitor_on_a_unix_socket_with_S(tmp_path):
    """-monitor unix:PATH,server=on,wait=off -S: the guest waits for `cont`; savevm over
    the socket; `quit` ends the emulator."""
    import socket
    import time
    elf = build("snap_count.c")
    sock = str(tmp_path / "mon.sock")
    p = subprocess.Popen([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-M", "virt-7.2",
                          "-serial", "file:" + str(tmp_path / "serial.txt"), "-S",
                          "-monitor", f"unix:{sock},server=on,wait=off",
                          "--snapshot-store", str(tmp_path / "st"), elf],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        c = socket.socket(socket.AF_UNIX)
        c.connect(sock)
        c.settimeout(60)

        def until(marker):
            buf = b""
            while marker not in buf:
                d = c.recv(4096)
                assert d, buf
                buf += d
            return buf.decode("latin-1")
        assert until(b"(qemu) ").endswith("monitor - type 'help' for more information\r\n(qemu) ")
        c.sendall(b"info status\n")
        assert "VM status: paused (prelaunch)\r\n(qemu) " in until(b"paused (prelaunch)\r\n(qemu) ")
        time.sleep(0.3)
        assert not (tmp_path / "serial.txt").read_bytes()              # -S: nothing ran
        c.sendall(b"cont\n")
        until(b"\r\n(qemu) ")
        c.sendall(b"savevm s1\n")
        until(b"\r\n(qemu) ")
        c.sendall(b"info snapshots\n")
        assert "--        s1 " in until(b"ICOUNT\r\n")
        c.sendall(b"quit\n")
        assert p.wait(timeout=60) == 0
    finally:
        p.kill()
    assert (tmp_path / "st" / "s1.snap").exists()
    assert not os.path.exists(sock)                 # the monitor removed its socket file


def test_S_needs_a_monitor():
    rc, _, err = cli("run", "-S", "-serial", "null", build("snap_count.c"))
    assert rc == 1 and "-S: no monitor" in err


def test_loadvm_while_the_guest_sleeps_in_wfi(tmp_path):
    """A monitor command run while the CPU waits in WFI for console input (no timer
    armed): loadvm replaces the state and the sleeping WFI must not carry on for it."""
    from pyaarch64.snapshot.state import save
    out = bytearray()
    m = machine(out)
    m.run(max_insns=1_000_000)
    store = SnapshotStore(str(tmp_path))
    store.save("s", save(m))
    want = bytearray()
    ref = machine(want)
    ref.run()
    # a guest parked in WFI with nothing armed: the board waits for input
    m2 = VirtMachine("virt-7.2", serial=out.extend)
    m2.load_kernel(build("api_irq.c", extra_sources=("vectors.S",)))
    mon = Monitor(m2, store)
    calls = []

    def wait_input(timeout):
        calls.append(1)
        return len(calls) < 50
    m2.wait_input = wait_input
    done = []

    def poll():
        if len(calls) == 3 and not done:          # once, from inside the WFI wait
            done.append(mon.execute("loadvm s"))
    m2.poll = poll
    del out[:]
    stop = m2.run(max_insns=100_000_000)
    assert stop.kind == "poweroff", stop
    assert bytes(out) == bytes(want[len(want) - len(out):]) and b"checksum" in out


def test_damaged_and_foreign_files_do_not_end_the_vm(tmp_path):
    """One damaged or foreign .snap in the store used to end the running VM with a
    traceback from `info snapshots` or `loadvm`: now they are listed as such, loadvm
    says why, and the VM runs on.  No command ends the VM (a final catch-all)."""
    import hashlib
    import struct
    out = bytearray()
    m = machine(out)
    m.run(max_insns=200_000)
    store = SnapshotStore(str(tmp_path))
    mon = Monitor(m, store)
    assert mon.execute("savevm good") == ""
    (tmp_path / "foreign.snap").write_bytes(b"QEVM" + bytes(100))
    (tmp_path / "truncated.snap").write_bytes((tmp_path / "good.snap").read_bytes()[:40])
    data = (tmp_path / "good.snap").read_bytes()
    hstart = len(F.MAGIC) + 12
    hlen = struct.unpack_from("<Q", data, len(F.MAGIC) + 4)[0]
    header = json.loads(data[hstart:hstart + hlen])
    header["sections"]["cpu0"] = None                # valid checksum, damaged content
    hb = json.dumps(header).encode()
    body = data[:len(F.MAGIC)] + struct.pack("<IQ", 1, len(hb)) + hb + data[hstart + hlen:-32]
    (tmp_path / "nocpu.snap").write_bytes(body + hashlib.sha256(body).digest())
    listing = mon.execute("info snapshots").split("\r\n")
    assert listing[2].startswith("--        good ")
    assert listing[3:] == ["Snapshot files that cannot be loaded:",
                           "  foreign: not a pyaarch64 snapshot",
                           "  nocpu: damaged header (no VM clock)",
                           "  truncated: truncated", ""]
    before = m.cpu.icount
    assert mon.execute("loadvm foreign") == (f"Error: snapshot '{tmp_path / 'foreign.snap'}': not a "
                                             f"pyaarch64 snapshot (bad magic)\r\n")
    assert mon.execute("loadvm nocpu") == (f"Error: snapshot '{tmp_path / 'nocpu.snap'}': header."
                                           f"sections: not an object of object values ('cpu0': "
                                           f"None)\r\n")
    assert m.cpu.icount == before                    # nothing changed
    mon.cmd_info = lambda rest: 1 // 0               # any defect in a command
    assert mon.execute("info status") == ("Error: internal error in 'info': ZeroDivisionError: "
                                          "integer division or modulo by zero (the VM goes on; "
                                          "please report this)\r\n")
    m.run(max_insns=100_000)
    assert m.cpu.icount > before
