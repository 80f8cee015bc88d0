"""Time both ways (issue 15, item 4) and the QEMU user's rough edges around it: the
command line paces virtual time to the host clock (a guest timer of 2 s ticks every
2 s of wall-clock time, an idle guest costs no CPU, a busy-wait of 2 s takes about
2 s with shift=auto), `-icount shift=N,sleep=off` keeps runs fully deterministic,
`-rtc` sets the RTC's start and clock, and `-d int` / `-d in_asm` log what QEMU 7.2
logs for the same guest (tests/reference/qemu-7.2: its logs and guest)."""
import os
import socket
import subprocess
import sys
import time

import pytest

from guestbuild import build, cli
from pyaarch64 import SnapshotError
from pyaarch64.machine.virt import VirtMachine
from pyaarch64.snapshot import state as S

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference", "qemu-7.2")
DETERMINISTIC = ("-icount", "shift=0,sleep=off")


def ref_guest():
    """QEMU's transcript guest: SVC once, then a virtual-timer tick every 2 s."""
    return build(os.path.join(REF, "prog.S"), ldscript=os.path.join(REF, "link.ld"))


def spawn(*args):
    return subprocess.Popen([sys.executable, "-m", "pyaarch64.emu.cli", "run", *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- -d int / -d in_asm as QEMU 7.2 ---------------------------------------------------

@pytest.mark.parametrize("items", ["int", "in_asm", "int,in_asm"])
def test_d_logs_match_qemus(items, tmp_path):
    log = tmp_path / "log.txt"
    rc, out, err = cli("run", "-M", "virt-7.2", *DETERMINISTIC, "--max-insns", "3000000",
                       "-d", items, "-D", str(log), ref_guest(), timeout=300)
    assert rc == 2 and "tick 2" in out, err
    want = open(os.path.join(REF, f"d-{items.replace(',', '_')}.log")).read().splitlines()
    # (QEMU's capture ended on a signal mid-line: compare all but its last line)
    assert log.read_text().splitlines()[:len(want) - 1] == want[:-1]


def test_d_int_names_exceptions_as_qemu(tmp_path):
    """QEMU 7.2 names EXCP_UDEF "Undefined Instruction" (checked: qemu-system-aarch64
    -d int on cli_excloop.S prints `Taking exception 1 [Undefined Instruction]`)."""
    log = tmp_path / "log.txt"
    cli("run", "-M", "virt-7.2", *DETERMINISTIC, "--max-insns", "1000", "-d", "int", "-D",
        str(log), build("cli_excloop.S"), timeout=300)
    first = log.read_text().splitlines()[0]
    assert first == "Taking exception 1 [Undefined Instruction] on CPU 0"


# --- pacing ---------------------------------------------------------------------------

def test_the_command_line_paces_an_idle_guest_to_the_host_clock():
    """The default: each 2 s tick comes after 2 s of wall-clock time, and waiting for
    it costs (almost) no CPU."""
    p = spawn("-M", "virt-7.2", "-nographic", ref_guest())
    try:
        seen = {}
        while len(seen) < 3:
            line = p.stdout.readline().decode()
            assert line, p.stderr.read().decode()
            if "starting timer" in line or "tick" in line:
                seen[line.split()[-1]] = (time.monotonic(), cpu_seconds(p.pid))
        (t0, c0), (t1, c1), (t2, c2) = seen["timer"], seen["1"], seen["2"]
        assert 1.9 <= t1 - t0 and 1.9 <= t2 - t1       # not ahead of the wall clock
        assert t2 - t0 < 30                              # (and it does get there)
        assert c2 - c1 < 0.5                             # 2 s idle: next to no CPU
    finally:
        p.kill()
        p.wait()


def test_sleep_off_is_deterministic_and_does_not_wait():
    args = ("-M", "virt-7.2", *DETERMINISTIC, "--max-insns", "2000000", ref_guest())
    t = time.monotonic()
    a, b = cli("run", *args, timeout=300), cli("run", *args, timeout=300)
    assert a == b and a[1].count("tick") >= 5              # 10 s of guest time at once
    assert time.monotonic() - t < 60


def test_shift_auto_keeps_a_busy_wait_near_the_host_clock():
    t = time.monotonic()
    rc, out, err = cli("run", "-M", "virt-7.2", "-icount", "shift=auto",
                       build("cli_busywait.S"), timeout=300)
    took = time.monotonic() - t
    assert (rc, out) == (0, "waited\n"), err
    assert 1.9 <= took < 60       # (shift 0 would be 2*10^9 instructions: minutes)


def test_changing_the_shift_does_not_move_the_clock_and_snapshots_follow_it():
    m = VirtMachine(machine="virt-7.2", icount_auto=True)
    m.load_kernel(build("loops.S"))
    m.run(max_insns=50_000)
    before = m.virtual_ns()
    for shift in (3, 0, 7):
        m.set_icount_shift(shift)
        assert m.virtual_ns() == before
    m.run(max_insns=1000)
    assert m.virtual_ns() == before + (1000 << 7)
    snap = S.save(m)
    fixed = VirtMachine(machine="virt-7.2", icount_shift=0)
    with pytest.raises(SnapshotError, match="taken with -icount shift=7, this machine runs "
                                            "with shift=0"):
        S.restore(fixed, snap)
    auto = VirtMachine(machine="virt-7.2", icount_auto=True)
    S.restore(auto, snap)                        # auto adopts the snapshot's shift
    assert auto.virtual_ns() == m.virtual_ns() and int(auto.cpu.ctl[31]) == 7
    auto.set_icount_shift(2)
    S.restore(auto, snap)                        # (the fast path too)
    assert auto.virtual_ns() == m.virtual_ns()


def test_sleeping_after_the_shift_went_up_reaches_the_deadline():
    """A larger shift folds a "negative" difference into the idle term (modulo 2**64);
    WFI's jump to a deadline must add modulo 2**64 too.  (It clamped: after Linux's
    boot raised the shift, virtual time stopped at the first WFI and the shell hung.)"""
    m = VirtMachine(machine="virt-7.2", icount_auto=True)
    m.load_kernel(ref_guest())
    out = bytearray()
    m.serial = out.extend
    m.run(max_insns=20)                              # (busy so far: no idle time yet)
    m.set_icount_shift(7)
    assert int(m.cpu.ctl[33]) > 1 << 63              # (the idle term wrapped)
    now = m.virtual_ns()
    m.timer.sleep_until(now + 12345)
    assert m.virtual_ns() == now + 12345
    r = m.run(max_insns=1_000_000)                   # (sleep off: WFIs jump to each tick)
    assert r.kind == "budget" and out.count(b"tick") >= 3, (r, out)


def test_icount_and_rtc_options_are_checked():
    hello = build("hello.S")
    for args, msg in ((("-icount", "shift=11"), "shift must be a number from 0 to 10 or auto"),
                      (("-icount", "sleep=maybe"), "sleep must be on or off"),
                      (("-icount", "shift=1,bogus=1"), "unknown property 'bogus'"),
                      (("-rtc", "base=yesterday"), "invalid date format"),
                      (("-rtc", "clock=wall"), "clock must be vm, host or rt"),
                      (("-rtc", "foo=1"), "unknown property 'foo'")):
        rc, out, err = cli("run", *args, hello)
        assert rc == 1 and msg in err, (args, err)
    for args in (("-icount", "3"), ("-icount", "shift=auto,sleep=off"),
                 ("-icount", "shift=2,sleep=on,align=off"),
                 ("-rtc", "base=localtime,clock=host"), ("-rtc", "base=2006-06-17")):
        assert cli("run", *args, hello)[:2] == (0, "Hello from pyaarch64!\n"), args


def test_rtc_base_and_host_clock():
    from pyaarch64.emu.cli import parse_rtc_base
    base = parse_rtc_base("2006-06-17T16:01:21", "-rtc")
    assert base == 1150560081 and parse_rtc_base("2006-06-17", "-rtc") == 1150502400
    m = VirtMachine(machine="virt-7.2", rtc_base=base)
    assert m.rtc.count() == base
    h = VirtMachine(machine="virt-7.2", rtc_base=base, rtc_clock="host")
    h.rtc.write(0x04, 4, base + 1)              # match one host second from now
    d = h.rtc.deadline_ns()
    assert 0.5e9 < d - h.virtual_ns() <= 1e9    # told to the board in virtual ns
    time.sleep(1.05)
    assert h.rtc.count() == base + 1 and h.virtual_ns() == 0   # host time, not virtual
    h.rtc.expire(h.virtual_ns())
    assert h.rtc.ris == 1


# --- bugs -----------------------------------------------------------------------------

def test_system_reset_while_the_guest_sleeps_in_wfi(tmp_path):
    """It used to kill the emulator ("none can arrive": the old WFI exit was applied
    to the freshly reset CPU), and with no console input a WFI nothing can end halted
    the machine although the monitor could still act."""
    path = str(tmp_path / "mon.sock")
    p = spawn("-M", "virt-7.2", "-serial", "null", "-monitor", f"unix:{path},server=on,wait=off",
              build("cli_timerfar.S"))
    try:
        for _ in range(600):
            if os.path.exists(path):
                break
            time.sleep(0.1)
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.settimeout(30)

        def cmd(line):
            s.sendall(line.encode() + b"\r")
            buf = b""
            while not buf.endswith(b"(qemu) "):
                buf += s.recv(4096)
            return buf.decode("latin-1")

        buf = b""
        while not buf.endswith(b"(qemu) "):     # the greeting
            buf += s.recv(4096)
        time.sleep(0.5)                          # (the guest is asleep in its WFI)
        for _ in range(3):
            assert "Error" not in cmd("system_reset")
            time.sleep(0.3)
            assert "VM status: running" in cmd("info status")
        assert p.poll() is None
        s.sendall(b"quit\r")
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def test_an_exit_is_not_applied_to_a_state_a_front_end_replaced():
    """The board polls its front ends after a slice: when one of them resets the
    machine there, the slice's exit (here the WFI) belonged to the old state."""
    m = VirtMachine(machine="virt-7.2")
    m.load_kernel(build("cli_timerfar.S"))
    wfi = m.entry + 0x18                         # (cli_timerfar.S: its 7th instruction)
    assert m._insn_at(wfi) == 0xD503207F
    resets = []

    def poll():
        if not resets and m.cpu.pc == wfi + 4:   # asleep in the WFI: reset it there
            resets.append(m.cpu.icount)
            m.reset()                            # (as the monitor's system_reset)
    m.poll = poll
    r = m.run(max_insns=10**6)
    assert resets and r.kind == "halted" and r.pc == wfi + 4, r   # the fresh CPU got there too
    assert "WFI at PC 0x%x" % wfi in r.message


# --- friction -------------------------------------------------------------------------

def test_machine_properties_as_qemu():
    hello = build("hello.S")
    rc, out, err = cli("run", "-M", "virt,gic-version=2,secure=off,virtualization=off,highmem=off",
                       hello)
    assert (rc, out) == (0, "Hello from pyaarch64!\n"), err
    for prop, msg in (("gic-version=host", "gic-version=host requires KVM"),
                      ("secure=on", "there is no EL3"), ("virtualization=on", "there is no EL2"),
                      ("highmem=maybe", "on or off"), ("its=maybe", "'on' or 'off'"),
                      ("nosuch=1", "unknown machine property 'nosuch'")):
        rc, out, err = cli("run", "-M", f"virt,{prop}", hello)
        assert rc == 1 and msg in err, (prop, err)
    rc, out, _ = cli("run", "-M", "virt,help")
    assert rc == 0 and "gic-version=<string>" in out and "secure=<bool>" in out


def test_machine_help_lists_the_alias_first_as_qemu():
    from pyaarch64.machine.types import NEWEST, TYPES
    rc, out, _ = cli("run", "-M", "help")
    lines = out.splitlines()
    v = TYPES[NEWEST].qemu_version
    assert lines[0] == "Supported machines are:"
    assert lines[1] == f"virt                 QEMU {v} ARM Virtual Machine (alias of {NEWEST})"
    assert lines[2] == f"{NEWEST:<20} QEMU {v} ARM Virtual Machine"
    assert "virt-4.1             QEMU 4.1 ARM Virtual Machine" in lines


def test_nodefaults_pidfile_echr_snapshot(tmp_path):
    hello = build("hello.S")
    assert cli("run", "-nodefaults", hello)[:2] == (0, "")         # no default serial
    assert cli("run", "-nodefaults", "-serial", "stdio", hello)[:2] == (0, "Hello from pyaarch64!\n")
    pid = tmp_path / "pid"
    assert cli("run", "-pidfile", str(pid), "-snapshot", hello)[0] == 0
    assert pid.read_text().strip().isdigit()
    rc, _, err = cli("run", "-pidfile", str(tmp_path / "no" / "pid"), hello)
    assert rc == 1 and "cannot create pid file" in err
    # -echr 0x14: Ctrl-T h helps (naming C-t), Ctrl-T x quits; Ctrl-A is an ordinary byte
    rc, out, err = cli("run", "-nographic", "-echr", "0x14", build("cli_echo.S"),
                       input=b"\x01h\x14h\x14x")
    assert rc == 0 and out.count("C-t h    print this help") == 1 and "C-a" not in out
    assert out.endswith("QEMU: Terminated\n\r"), (out, err)
    rc, _, err = cli("run", "-echr", "300", hello)
    assert rc == 1 and "-echr 300" in err


def test_the_embedding_api_is_deterministic_unless_asked():
    import pyaarch64
    runs = []
    for _ in range(2):
        m = pyaarch64.Machine(machine="virt-7.2", icount_shift=3)
        m.load_elf(ref_guest())
        m.run(max_insns=2_000_000)                 # ticks every 2 guest seconds: jumps
        runs.append((bytes(m.serial_output), m._m.virtual_ns()))
    assert runs[0] == runs[1] and runs[0][0].count(b"tick") >= 5
    with pytest.raises(pyaarch64.MachineError, match="icount_shift 11"):
        pyaarch64.Machine(icount_shift=11)
    m = pyaarch64.Machine(machine="virt-7.2", realtime=True)
    m.load_elf(ref_guest())
    t = time.monotonic()
    m.run(until=None, timeout=2.5)
    assert 2.4 <= time.monotonic() - t and bytes(m.serial_output).count(b"tick") <= 1
