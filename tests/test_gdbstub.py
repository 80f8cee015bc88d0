"""The gdb stub (issue 15, item 1): the real gdb-multiarch in batch mode against
`pyaarch64 run -S -gdb tcp::PORT`, a raw client for the protocol's corners, the
target description against QEMU 7.2's (reference/qemu-7.2-transcripts/gdb/xml/),
and the Linux kernel (slow: PYAARCH64_LINUX=1)."""
import os
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from guestbuild import build, symbols
from tools import need

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(os.path.dirname(ROOT), "shared", "reference", "qemu-7.2-transcripts", "gdb")
if not os.path.isdir(REF):
    REF = "/work/shared/reference/qemu-7.2-transcripts/gdb"
GDB = "gdb-multiarch"


@pytest.fixture(scope="module")
def prog():
    return build("gdb_prog.c", cflags=("-g", "-O1", "-fno-omit-frame-pointer"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _listening(port):
    """Whether something listens on TCP `port` (read from /proc: connecting would be
    the stub's one gdb connection)."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                return True
    return False


class Emu:
    """`pyaarch64 run ARGS` in the background; the serial port in a file."""

    def __init__(self, tmp_path, *args, port=None, wait_port=True):
        self.serial = tmp_path / f"serial{time.monotonic_ns()}.txt"
        self.port = port
        cmd = [sys.executable, "-m", "pyaarch64.emu.cli", "run", "-M", "virt-7.2",
               "-serial", f"file:{self.serial}", *args]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL)
        if port is not None and wait_port:
            t0 = time.monotonic()
            while not _listening(port):
                assert self.p.poll() is None, self.finish()
                assert time.monotonic() - t0 < 30, "the stub did not listen"
                time.sleep(0.05)

    def finish(self, timeout=30):
        try:
            out, err = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
            raise AssertionError(f"emulator did not exit: {err.decode()}")
        return self.p.returncode, out.decode("latin-1"), err.decode("latin-1")

    def output(self):
        return self.serial.read_text() if self.serial.exists() else ""

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.communicate()


def gdb(port, *commands, elf=None, timeout=120):
    need(GDB)
    cmd = [GDB, "-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off",
           "-ex", "set width 0", "-ex", "set architecture aarch64"]
    if elf:
        cmd += ["-ex", f"file {elf}"]
    cmd += ["-ex", f"target remote :{port}"]
    for c in commands:
        cmd += ["-ex", c]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.stdout.decode("latin-1") + r.stderr.decode("latin-1")


# --- gdb-multiarch ------------------------------------------------------------------------

def test_break_bt_step_watch_monitor_and_power_off(tmp_path, prog):
    need(GDB)
    port = free_port()
    emu = Emu(tmp_path, "-S", "-gdb", f"tcp::{port}", prog, port=port)
    try:
        out = gdb(port, "info registers pc cpsr", "break leaf", "continue", "bt", "p $x0",
                  "p $x1", "x/4i $pc", "stepi", "info registers pc", "delete",
                  "watch counter", "continue", "delete", "monitor info status",
                  "p $fpsr", "continue", elf=prog)
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    s = symbols(prog)
    assert f"pc             0x{s['_start']:x}" in out                 # -S: at the entry
    assert "cpsr           0x3c5" in out                             # EL1h, DAIF masked
    assert re.search(r"Breakpoint 1, leaf \(a=a@entry=0, b=b@entry=1\) at .*gdb_prog.c:10", out)
    assert re.search(r"#0  leaf \(a=a@entry=0, b=b@entry=1\)", out)  # bt: three frames
    assert re.search(r"#1  0x[0-9a-f]+ in middle \(x=x@entry=0\)", out)
    assert re.search(r"#2  0x[0-9a-f]+ in main \(\)", out)
    assert "$1 = 0\n$2 = 1\n" in out
    assert re.search(rf"=> 0x{s['leaf']:x} <leaf>:\s+mul\s+x0, x0, x1", out)   # x/4i $pc
    assert f"pc             0x{s['leaf'] + 4:x}" in out              # stepi: one instruction
    assert "Hardware watchpoint 2: counter\n\nOld value = 10\nNew value = 20\n" in out
    assert "VM status: paused (debug)" in out                        # monitor -> HMP
    assert "[Inferior 1 (process 1) exited normally]" in out         # PSCI SYSTEM_OFF: W00
    assert rc == 0, err
    assert "gdb_prog: counter=30 sink=6" in emu.output()


def test_registers_read_watch_access_watch_writes_and_detach(tmp_path, prog):
    port = free_port()
    emu = Emu(tmp_path, "-S", "-gdb", f"tcp::{port}", prog, port=port)
    try:
        out = gdb(port, "info registers", "p $v0", "p/x $MIDR_EL1", "p/x $SCTLR_EL1",
                  "rwatch limit", "continue", "delete", "awatch counter", "continue",
                  "continue", "delete", "break middle", "continue",
                  "set var counter = 1000", "p counter", "set $x0 = 7", "p $x0",
                  "p $v1.d.u[0] = 0x1234", "p/x $v1.q.u", "set $TPIDR_EL1 = 0xabc",
                  "p/x $TPIDR_EL1", "p $MIDR_EL1 = 5", "p/x $MIDR_EL1", "x/2gx &counter",
                  "x/2x 0x10", "detach", elf=prog)
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert re.search(r"^x30 +0x0 +0\n", out, re.M) and "sp             0x0" in out
    assert re.search(r"^fpcr +0x0 +0$", out, re.M)
    assert re.search(r"^MIDR_EL1 +0x411fd070 ", out, re.M)           # system registers
    assert re.search(r"^CurrentEL +0x4 +4$", out, re.M)
    assert "$1 = {d = {f = {0, 0}, u = {0, 0}, s = {0, 0}}, s = {f = {0, 0, 0, 0}" in out
    assert "$2 = 0x411fd070\n$3 = 0xc50838\n" in out
    assert "Hardware read watchpoint 1: limit\n\nValue = 3\n" in out
    assert "Hardware access (read/write) watchpoint 2: counter\n\nValue = 0\n" in out
    assert "Hardware access (read/write) watchpoint 2: counter\n\nOld value = 0\nNew value = 10\n" in out
    assert "$4 = 1000\n$5 = 7\n$6 = 4660\n$7 = {0x1234}\n$8 = 0xabc\n" in out
    assert "Could not write register \"MIDR_EL1\"" in out            # read-only: E14
    assert "$9 = 0x411fd070" in out
    assert re.search(r"<counter>:\s+0x00000000000003e8", out)
    assert "Cannot access memory at address 0x10" in out            # flash: not RAM
    assert "[Inferior 1 (process 1) detached]" in out
    assert rc == 0, err
    assert "gdb_prog: counter=1020 sink=6" in emu.output()           # set var took; detach ran on


def test_kill_ends_the_emulator(tmp_path, prog):
    emu = Emu(tmp_path, "-S", "-s", prog, port=1234) if not _listening(1234) else None
    if emu is None:
        pytest.skip("port 1234 is busy")
    try:
        out = gdb(1234, "stepi", "kill", elf=prog)
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert "[Inferior 1 (process 1) killed]" in out
    assert rc == 0 and err == "pyaarch64: QEMU: Terminated via GDBstub\n"


# --- the protocol, byte by byte ------------------------------------------------------------

class Rsp:
    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(20)
        self.buf = b""
        self.ack = True

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def raw(self, data):
        self.s.sendall(data)

    def send(self, payload, expect_ack=True):
        if isinstance(payload, str):
            payload = payload.encode("latin-1")
        self.raw(b"$" + payload + b"#%02x" % (sum(payload) & 0xFF))
        if self.ack and expect_ack:
            assert self.byte() == b"+"

    def byte(self):
        while not self.buf:
            self._fill()
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def packet(self):
        while True:
            while b"#" not in self.buf or len(self.buf) < self.buf.index(b"#") + 3:
                self._fill()
            start = self.buf.index(b"$")
            assert self.ack or start == 0, self.buf        # no-ack mode: nothing between
            end = self.buf.index(b"#", start)
            body = self.buf[start + 1:end]
            assert int(self.buf[end + 1:end + 3], 16) == sum(body) & 0xFF
            self.buf = self.buf[end + 3:]
            if self.ack:
                try:
                    self.raw(b"+")
                except OSError:
                    pass                   # (the stub closed after its last packet)
            out = bytearray()
            it = iter(body)
            for b in it:
                out.append(next(it) ^ 0x20 if b == 0x7D else b)
            return out.decode("latin-1")

    def ask(self, payload):
        self.send(payload)
        return self.packet()


def connect(port):
    t0 = time.monotonic()
    while True:
        try:
            return Rsp(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            assert time.monotonic() - t0 < 30
            time.sleep(0.05)


def test_raw_protocol(tmp_path, prog):
    port = free_port()
    s = symbols(prog)
    emu = Emu(tmp_path, "-gdb", f"tcp:127.0.0.1:{port}", "-S", prog, port=port)
    try:
        c = connect(port)
        sup = c.ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
        assert sup.split(";") == ["PacketSize=1000", "qXfer:features:read+", "vContSupported+",
                                  "multiprocess+", "QStartNoAckMode+", "swbreak+", "hwbreak+"]
        assert c.ask("vMustReplyEmpty") == ""
        assert c.ask("qTStatus") == ""                             # unknown: empty
        assert c.ask("?") == "T05thread:p01.01;"
        assert c.ask("Hgp0.0") == "OK" and c.ask("Hc-1") == "OK" and c.ask("Hgp2.1") == "E22"
        assert c.ask("qC") == "QCp01.01" and c.ask("qfThreadInfo") == "mp01.01"
        assert c.ask("qsThreadInfo") == "l" and c.ask("qAttached:1") == "1"
        assert c.ask("Tp01.01") == "OK" and c.ask("T5") == "E22"
        assert bytes.fromhex(c.ask("qThreadExtraInfo,p1.1")) == b"CPU#0 [running]"
        assert c.ask("vCont?") == "vCont;c;C;s;S;t"
        # bad checksums are refused with '-', garbage between packets is skipped, a '-'
        # from the client gets the last packet again, a runaway packet is dropped
        c.raw(b"$g#00")
        assert c.byte() == b"-"
        c.raw(b"$g#zz")
        assert c.byte() == b"-"
        c.raw(b"junk\r\n")
        assert c.ask("qC") == "QCp01.01"
        c.raw(b"-")
        assert c.packet() == "QCp01.01"
        c.raw(b"$" + b"a" * 20000)
        assert c.byte() == b"-"
        assert c.ask("") == ""                                      # empty packet
        assert c.ask("p20") == s["_start"].to_bytes(8, "little").hex()
        # malformed packets: an error, never a crash
        for bad in ("m", "mzz,4", "m40080000", "M40080000,4:zz", "p", "pzz", "P21", "Z0,zz",
                    "Z0,1", "qXfer:features:read:target.xml:zz", "qRcmd,zz", "G0", "c zz",
                    "vCont;x", "Hz"):
            r = c.ask(bad)
            assert r.startswith("E") or r == "", (bad, r)
        assert c.ask("m10,4") == "E14"                              # not RAM
        assert c.ask("m40080000,1001") == "E22"                     # more than a packet
        assert c.ask("m40080000,0") == ""
        assert c.ask("p400") == "E14" and c.ask("Pfff=00") == "E14"
        assert c.ask("Z9,0,0") == ""                                # unsupported type
        assert c.ask("Z2,40080000,0") == "E22"
        # registers: p/P and g/G
        assert len(c.ask("g")) == 2 * (33 * 8 + 4)                  # the core registers
        assert c.ask("P5=1122334455667788") == "OK"
        assert c.ask("p5") == "1122334455667788"
        assert c.ask("P22=" + "ab" * 16) == "OK" and c.ask("p22") == "ab" * 16   # v0
        assert c.ask("p42") == "00000000"                           # fpsr: 32 bits
        g = c.ask("g")
        assert c.ask("G" + g) == "OK" and c.ask("g") == g
        assert c.ask("G" + "00" * 12) == "OK" and c.ask("p0") == "00" * 8     # short: x0 only
        assert c.ask("G" + g) == "OK"
        assert c.ask("P42=00000008") == "OK" and c.ask("p42") == "00000008"   # fpsr
        assert c.ask("P43=00000001") == "OK" and c.ask("p43") == "00000001"   # fpcr
        assert c.ask("P42=00000000") == "OK" and c.ask("P43=00000000") == "OK"
        # memory: m/M/X through the translation
        a = s["counter"]
        assert c.ask(f"M{a:x},8:0102030405060708") == "OK"
        assert c.ask(f"m{a:x},8") == "0102030405060708"
        assert c.ask(b"X%x,4:" % a + bytes([0x7D, 0x23 ^ 0x20, 0x24, 0x7D, 0x5D, 0x2A])) == "OK"
        assert c.ask(f"m{a:x},4") == "23247d2a"                     # }-escaped binary
        assert c.ask(f"X{a:x},0:") == "OK"
        assert c.ask(f"X{a:x},4:ab") == "E22"
        assert c.ask(f"M{a:x},8:00") == "E22"
        assert c.ask("M10,4:00000000") == "E14"                    # not RAM
        # target description, in pieces
        x = c.ask("qXfer:features:read:target.xml:0,ffb")
        assert x.startswith("l<?xml") and "<architecture>aarch64</architecture>" in x
        assert c.ask("qXfer:features:read:nope.xml:0,ffb") == "E00"
        first = c.ask("qXfer:features:read:system-registers.xml:0,40")
        assert first[0] == "m" and len(first) == 0x41
        assert c.ask("qXfer:features:read:system-registers.xml:100000,10") == "E00"
        # monitor passthrough: O packets, then OK
        c.send("qRcmd," + b"info status".hex())
        assert bytes.fromhex(c.packet()[1:]) == b"VM status: paused (debug)\r\n"
        assert c.packet() == "OK"
        # no-ack mode
        assert c.ask("QStartNoAckMode") == "OK"
        c.ack = False
        assert c.ask("qC") == "QCp01.01"
        c.raw(b"$qC#00")                                            # bad checksum: ignored
        assert c.ask("qAttached") == "1"
        # breakpoints: a step ignores one at the PC, continue stops at it
        assert c.ask(f"Z0,{s['_start']:x},4") == "OK"
        assert c.ask(f"Z0,{s['main']:x},4") == "OK"
        assert c.ask(f"Z1,{s['leaf']:x},4") == "OK"
        assert c.ask("vAttach;1") == "T05thread:p01.01;"
        assert c.ask("vCont;c:p2.1") == "OK"                        # nothing for our thread
        assert c.ask("vCont;s:p1.1;c:p1.-1") == "T05thread:p01.01;"
        assert c.ask("p20") == (s["_start"] + 4).to_bytes(8, "little").hex()
        assert c.ask(f"z0,{s['_start']:x},4") == "OK"
        assert c.ask("S05") == "T05thread:p01.01;"                  # step, signal ignored
        assert c.ask("p20") == (s["_start"] + 8).to_bytes(8, "little").hex()
        assert c.ask("vCont;c") == "T05swbreak:;thread:p01.01;"
        assert c.ask("p20") == s["main"].to_bytes(8, "little").hex()
        assert c.ask(f"z0,{s['main']:x},4") == "OK"
        assert c.ask("vCont;c") == "T05hwbreak:;thread:p01.01;"
        assert c.ask("p20") == s["leaf"].to_bytes(8, "little").hex()
        assert c.ask("c") == "T05hwbreak:;thread:p01.01;"          # not skipped: again
        assert c.ask(f"z1,{s['leaf']:x},4") == "OK"
        # a write watchpoint stops before the store; resuming does not stop there again
        assert c.ask(f"M{a:x},8:0102030405060708") == "OK"
        assert c.ask(f"Z2,{a:x},8") == "OK"
        assert c.ask(f"Z2,{a + 4:x},4") == "OK"                     # overlapping: one report
        r = c.ask("c")
        assert r == f"T05watch:{a:x};thread:p01.01;", r
        pc = int.from_bytes(bytes.fromhex(c.ask("p20")), "little")
        insn = int.from_bytes(bytes.fromhex(c.ask(f"m{pc:x},4")), "little")
        assert insn & 0xFFC00000 == 0xF9000000                      # STR (immediate): not yet run
        assert c.ask(f"m{a:x},8") == "0102030405060708"
        assert c.ask("s") == "T05thread:p01.01;"
        assert c.ask(f"m{a:x},8") != "0102030405060708"             # the store ran
        assert c.ask(f"z2,{a:x},8") == "OK" and c.ask(f"z2,{a + 4:x},4") == "OK"
        # a read watchpoint, reported at the load; continue past it runs the load
        assert c.ask(f"Z3,{s['limit']:x},8") == "OK"
        assert c.ask("c") == f"T05rwatch:{s['limit']:x};thread:p01.01;"
        before = c.ask(f"m{a:x},8")
        assert c.ask("c") == f"T05rwatch:{s['limit']:x};thread:p01.01;"
        assert c.ask(f"m{a:x},8") != before                         # a loop iteration later
        assert c.ask(f"z3,{s['limit']:x},8") == "OK"
        assert c.ask(f"Z4,{a:x},8") == "OK" and c.ask(f"z4,{a:x},8") == "OK"
        # a packet while running stops the VM (SIGINT), as QEMU
        c.send("c")
        c.send("qC")
        assert c.packet() == "T02thread:p01.01;"
        # detach: the guest runs to its end
        assert c.ask("D;1") == "OK"
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 0, err
    assert "gdb_prog: counter=" in emu.output()


def hmp_client(path):
    m = socket.socket(socket.AF_UNIX)
    t0 = time.monotonic()
    while True:
        try:
            m.connect(path)
            break
        except OSError:
            assert time.monotonic() - t0 < 30
            time.sleep(0.05)
    m.settimeout(10)

    def upto_prompt():
        data = b""
        while not data.endswith(b"(qemu) "):
            data += m.recv(4096)
        return data.decode("latin-1")

    def hmp(line):
        m.sendall(line.encode() + b"\r")
        return upto_prompt().split("\r\n", 1)[1][:-len("(qemu) ")]
    upto_prompt()                                       # the greeting
    return hmp


def test_ctrl_c_interrupts_a_running_guest_and_a_second_gdb_waits(tmp_path):
    spin = build("cli_spin.S")
    port = free_port()
    mon = str(tmp_path / "mon.sock")
    emu = Emu(tmp_path, "-gdb", f"tcp::{port}", "-monitor", f"unix:{mon},server=on", spin,
              port=port)
    try:
        c = connect(port)
        c.ask("qSupported")                            # no multiprocess: plain thread ids
        assert c.ask("?") == "T05thread:01;"           # attaching stopped the VM
        assert c.ask("qC") == "QC01" and c.ask("qfThreadInfo") == "m01"
        other = socket.create_connection(("127.0.0.1", port), timeout=5)
        other.settimeout(5)
        assert other.recv(10) == b""                   # one gdb at a time
        other.close()
        c.send("c")
        time.sleep(0.3)
        c.raw(b"\x03")
        assert c.packet() == "T02thread:01;"
        pc = int.from_bytes(bytes.fromhex(c.ask("p20")), "little")
        assert pc == 0x40080000                        # b . at the entry
        c.send("vCont;c")
        time.sleep(0.2)
        c.raw(b"\x03")
        assert c.packet() == "T02thread:01;"
        c.raw(b"\x03")                                 # stopped already: nothing to say
        assert c.ask("vCont;t") == "OK"
        hmp = hmp_client(mon)
        c.send("c")
        time.sleep(0.2)
        assert hmp("info status") == "VM status: running\r\n"
        assert hmp("stop") == ""                       # the monitor stops it: gdb hears SIGINT
        assert c.packet() == "T02thread:01;"
        assert hmp("info status") == "VM status: paused\r\n"
        c.send("k")
        assert c.packet() == "W00"
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 0 and "Terminated via GDBstub" in err


def test_ctrl_c_wakes_a_guest_in_wfi(tmp_path):
    port = free_port()
    emu = Emu(tmp_path, "-S", "-gdb", f"tcp::{port}", build("gdb_wfi.S"), port=port)
    try:
        c = connect(port)
        c.send("c")
        time.sleep(0.3)
        assert emu.p.poll() is None                    # (no "none can arrive": gdb can)
        c.raw(b"\x03")
        assert c.packet() == "T02thread:01;"
        pc = int.from_bytes(bytes.fromhex(c.ask("p20")), "little")
        assert pc in (0x40080000, 0x40080004)          # at or past the WFI
        c.send("k")
        assert c.packet() == "W00"
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 0


def test_semihosting_exit_status_and_guest_crash_reach_gdb(tmp_path):
    port = free_port()
    emu = Emu(tmp_path, "-S", "-semihosting", "-gdb", f"tcp::{port}", build("cli_exit.S"),
              port=port)
    try:
        c = connect(port)
        assert c.ask("c") == "W2a"                     # exit status 42
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 42
    port = free_port()
    emu = Emu(tmp_path, "-S", "-gdb", f"tcp::{port}", build("cli_undef.S"), port=port)
    try:
        c = connect(port)
        assert c.ask("c") == "T04thread:01;"           # SIGILL: the VM waits for gdb
        assert c.ask("vKill;1") == "OK"
        assert c.packet() == "W00"
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 0
    assert "undefined instruction 0x00000000 at PC 0x40080000" in err
    # --max-insns spent: gdb hears the emulator end (SIGKILL)
    port = free_port()
    emu = Emu(tmp_path, "--max-insns", "10000", "-gdb", f"tcp::{port}", build("cli_spin.S"),
              port=port)
    try:
        c = connect(port)
        assert c.ask("c") == "X09"
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 2 and "within 10000 instructions" in err
    # `monitor quit` through gdb ends the emulator
    port = free_port()
    emu = Emu(tmp_path, "-S", "-gdb", f"tcp::{port}", build("cli_spin.S"), port=port)
    try:
        c = connect(port)
        c.send("qRcmd," + b"quit".hex())
        assert c.packet() == "W00"                     # the emulator ends: gdb hears it
        with pytest.raises((EOFError, OSError)):
            c.packet()
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 0, err


def test_unix_socket_hmp_gdbserver_and_disconnect(tmp_path, prog):
    sock = str(tmp_path / "gdb.sock")
    mon = str(tmp_path / "mon.sock")
    emu = Emu(tmp_path, "-gdb", f"unix:{sock},server=on,wait=off", "-monitor",
              f"unix:{mon},server=on", "-S", prog)
    try:
        t0 = time.monotonic()
        while not (os.path.exists(sock) and os.path.exists(mon)):
            assert emu.p.poll() is None and time.monotonic() - t0 < 30
            time.sleep(0.05)
        assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
        u = socket.socket(socket.AF_UNIX)
        u.connect(sock)
        c = Rsp(u)
        assert c.ask("qSupported:multiprocess+") .startswith("PacketSize=1000;")
        assert c.ask(f"Z0,{symbols(prog)['leaf']:x},4") == "OK"
        assert c.ask(f"Z2,{symbols(prog)['counter']:x},8") == "OK"
        u.close()                                      # gone without detaching
        hmp = hmp_client(mon)
        u = socket.socket(socket.AF_UNIX)
        u.connect(sock)
        c = Rsp(u)
        assert c.ask("?") == "T05thread:01;"
        port = free_port()
        assert hmp(f"gdbserver tcp::{port}") == (f"Waiting for gdb connection on device "
                                                   f"'tcp::{port}'\r\n")
        assert not os.path.exists(sock)                # the old device is closed
        with pytest.raises((EOFError, OSError)):       # and its gdb disconnected
            c.packet()
        assert hmp("gdbserver bogus") == ("use tcp:[HOST]:PORT, unix:PATH,server=on "
                                          "or none\r\nCould not open gdbserver on device "
                                          "'bogus'\r\n")
        assert hmp(f"gdbserver tcp::{port}") .startswith("Waiting")
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        bport = busy.getsockname()[1]
        assert hmp(f"gdbserver tcp::{bport}").endswith(
            f"Could not open gdbserver on device 'tcp::{bport}'\r\n")
        busy.close()
        assert hmp(f"gdbserver tcp::{port}").startswith("Waiting")
        out = gdb(port, "info registers pc", "monitor info status", "continue", elf=prog)
        assert "VM status: paused (debug)" in out
        assert "exited normally" in out                # no breakpoint left from before
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 0, err
    assert not os.path.exists(sock)


def test_disconnect_leaves_no_breakpoints(tmp_path, prog):
    port = free_port()
    mon = str(tmp_path / "mon.sock")
    emu = Emu(tmp_path, "-S", "-gdb", f"tcp::{port}", "-monitor", f"unix:{mon},server=on",
              prog, port=port)
    try:
        c = connect(port)
        assert c.ask(f"Z0,{symbols(prog)['leaf']:x},4") == "OK"
        assert c.ask(f"Z2,{symbols(prog)['counter']:x},8") == "OK"
        c.s.close()                                    # gdb gone without detaching
        hmp = hmp_client(mon)
        time.sleep(0.2)
        assert hmp("info status") == "VM status: paused (debug)\r\n"   # as QEMU: still
        assert hmp("cont") == ""
        rc, _, err = emu.finish(timeout=20)            # (would wait at leaf forever)
    finally:
        emu.kill()
    assert rc == 0, err
    assert "gdb_prog: counter=30 sink=6" in emu.output()


def test_unix_socket_paths(tmp_path):
    from guestbuild import cli
    plain = tmp_path / "plain"
    plain.write_text("x")
    rc, out, err = cli("run", build("cli_spin.S"), "-gdb", f"unix:{plain}")
    assert rc == 1 and err == f"pyaarch64: -gdb unix:{plain}: {plain} exists and is not a " \
                              f"socket (not replaced)\n"
    rc, out, err = cli("run", build("cli_spin.S"), "-gdb", f"unix:{tmp_path}/no/such/sock")
    assert rc == 1 and err == (f"pyaarch64: -gdb unix:{tmp_path}/no/such/sock: Failed to bind "
                               f"socket: No such file or directory\n")
    stale = tmp_path / "stale.sock"
    old = socket.socket(socket.AF_UNIX)
    old.bind(str(stale))
    old.close()                                        # a socket file nobody listens on
    emu = Emu(tmp_path, "-gdb", f"unix:{stale}", build("cli_spin.S"))
    try:
        t0 = time.monotonic()
        while True:
            u = socket.socket(socket.AF_UNIX)
            try:
                u.connect(str(stale))
                break
            except OSError:
                u.close()
                assert emu.p.poll() is None and time.monotonic() - t0 < 30
                time.sleep(0.05)
        c = Rsp(u)
        assert c.ask("?") == "T05thread:01;"            # replaced and listening
        c.send("k")
        assert c.packet() == "W00"
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert rc == 0


def test_parse_device_and_connection_corners():
    from pyaarch64.emu.gdbstub import parse_device, GdbError, _Conn
    assert parse_device("tcp:[::1]:1234") == ("tcp", "::1", 1234)
    assert parse_device("tcp:localhost:99,server=on,wait=off,nowait,nodelay,ipv4=on") == \
        ("tcp", "localhost", 99)
    assert parse_device("tcp::1") == ("tcp", "127.0.0.1", 1)
    assert parse_device("unix:/x,server") == ("unix", "/x")
    assert parse_device("none") is None
    with pytest.raises(GdbError, match="the port after a colon"):
        parse_device("tcp:1234")
    a, b = socket.socketpair()
    c = _Conn(a)
    c.send(b"a$b#c}d*e")                               # the framing characters, escaped
    assert b.recv(100) == b"$a}\x04b}\x03c}]d}\x0ae#%02x" % (
        sum(b"a}\x04b}\x03c}]d}\x0ae") & 0xFF)
    assert c.read() is True and c.buf == b""            # nothing there yet
    b.close()
    assert c.read() is False and c.closed               # the peer went away
    c.send("OK")                                        # (to nobody: ignored)
    a2, b2 = socket.socketpair()
    c2 = _Conn(a2)
    b2.close()
    c2.send("x" * 1000000)                              # a write error closes it
    assert c2.closed
    c.close()
    c2.close()


def test_step_masks_interrupts(prog):
    """A single step runs the instruction, not an interrupt that is pending (QEMU's
    default step mode); the interrupt line comes back from the GIC afterwards."""
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.emu.gdbstub import GdbServer
    from pyaarch64.cpu import ops as O
    m = VirtMachine(machine="virt-7.2")
    m.load_kernel(prog)
    g = GdbServer(m, None)
    m.cpu.set_reg("VBAR_EL1", 0x40100000)
    m.cpu.set_reg("cpsr", 0x5)                          # EL1h, interrupts unmasked
    m.gic.irq_out[0] = 1                                # (as if the GIC raised IRQ)
    m.cpu.set_irq_line(0, 1)
    pc = m.cpu.pc
    assert g._step().kind == "budget"
    assert m.cpu.pc == pc + 4 and int(m.cpu.ctl[O.C_IRQ]) == 1
    m.write_memory(0x40100280, (0x14000000).to_bytes(4, "little"))     # b . at the vector
    assert m.run(max_insns=2).kind == "budget" and m.cpu.pc == 0x40100280   # taken now


def test_a_gdb_that_reconnects_at_once(prog):
    """gdb closes and a new one connects before the stub has seen the close: the new
    one is taken (a second gdb while the first is there is refused)."""
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.emu.gdbstub import GdbServer
    m = VirtMachine(machine="virt-7.2")
    m.load_kernel(prog)
    g = GdbServer(m, None)
    port = free_port()
    g.start(f"tcp::{port}")
    try:
        c1 = socket.create_connection(("127.0.0.1", port), timeout=5)
        g.poll()
        first = g.conn
        assert first is not None
        c1.close()
        c2 = socket.create_connection(("127.0.0.1", port), timeout=5)
        time.sleep(0.1)
        g.poll()
        assert g.conn is not None and g.conn is not first
        c3 = socket.create_connection(("127.0.0.1", port), timeout=5)
        c2.sendall(b"$?#3f")
        time.sleep(0.1)
        g.poll()
        assert c3.recv(10) == b""                        # refused: c2 is there
        assert c2.recv(100) == b"+$T05thread:01;#%02x" % (sum(b"T05thread:01;") & 0xFF)
        c2.close()
        c3.close()
    finally:
        g.close()


def test_stops_that_cross(tmp_path, prog):
    """In-process corners: a Ctrl-C that arrives in the slice where a breakpoint hits
    is answered once; a packet that makes the stub fail inside is an error reply."""
    from pyaarch64.machine.virt import VirtMachine, StopReason
    from pyaarch64.emu.gdbstub import GdbServer, _Conn
    m = VirtMachine(machine="virt-7.2")
    m.load_kernel(prog)
    g = GdbServer(m, None)
    a, b = socket.socketpair()
    g.conn = _Conn(a)
    g.conn.noack = True
    g.sw.add(m.cpu.pc)
    g._interrupt()                                      # Ctrl-C: the stop flag is up...
    r = g._stopped(StopReason("breakpoint", 0, m.cpu.pc))   # ...but a breakpoint came first
    assert r is None and g._want is None and int(m.cpu.ctl[0]) >= 0
    from pyaarch64.cpu import ops as O
    assert int(m.cpu.ctl[O.C_STOP]) == 0 and m.paused == "debug"
    b.settimeout(5)
    assert b.recv(100) == b"$T05thread:01;#%02x" % (sum(b"T05thread:01;") & 0xFF)
    g._handle = None                                    # (a defect inside the stub)
    g._packet(b"qC")
    assert b.recv(100) == b"$E22#a9"
    g.conn.close()
    b.close()


def test_gdbserver_none_and_help(tmp_path):
    from pyaarch64.emu.monitor import Monitor
    from pyaarch64.emu.gdbstub import GdbServer

    class VM:
        paused = False
    mon = Monitor(VM(), store=None)
    assert mon.execute("gdbserver") == "gdbserver: not available here\r\n"
    mon.gdbserver = GdbServer(VM(), mon)
    assert mon.execute("gdbserver none") == "Disabled gdbserver\r\n"
    assert ("gdbserver [device] -- start gdbserver on given device (default 'tcp::1234'), "
            "stop with 'none'\r\n") in mon.execute("help")
    VM.paused = "debug"
    assert mon.execute("info status") == "VM status: paused (debug)\r\n"
    VM.paused = True
    assert mon.execute("info status") == "VM status: paused\r\n"


@pytest.mark.parametrize("args,msg", [
    (["-gdb", "tcp::0"], "-gdb tcp::0: the port must be a number from 1 to 65535"),
    (["-gdb", "1234"], "-gdb 1234: use tcp:[HOST]:PORT, unix:PATH,server=on or none"),
    (["-gdb", "stdio"], "-gdb stdio: use tcp:[HOST]:PORT, unix:PATH,server=on or none"),
    (["-gdb", "tcp::1234,frob=1"], "-gdb tcp::1234,frob=1: unknown "
                                   "property 'frob'"),
    (["-gdb", "tcp::1234,server=off"], "-gdb tcp::1234,server=off: "
                                       "server=off is not available (the stub is always a "
                                       "server that does not wait for gdb)"),
    (["-gdb", "unix:"], "-gdb unix:: no socket path"),
    (["-gdb", "tcp:no.such.host.invalid:1234"], "-gdb tcp:no.such.host.invalid:1234: "
                                                "address resolution failed"),
    (["-gdb"], "-gdb: requires an argument"),
])
def test_bad_devices(args, msg):
    from guestbuild import cli
    rc, out, err = cli("run", build("cli_spin.S"), *args)
    assert rc == 1 and err.startswith(f"pyaarch64: {msg}"), err


def test_busy_port_and_none(tmp_path):
    from guestbuild import cli
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    rc, out, err = cli("run", "-gdb", f"tcp:localhost:{port}", build("cli_spin.S"))
    busy.close()
    assert rc == 1 and err == (f"pyaarch64: -gdb tcp:localhost:{port}: Failed to find an "
                               f"available port: Address already in use\n")
    # -gdb none: no stub; -S then needs a monitor
    rc, out, err = cli("run", "-gdb", "none", "-S", build("cli_spin.S"))
    assert rc == 1 and err == ("pyaarch64: -S: no monitor or gdb stub to continue from (use "
                               "-nographic, -monitor, "
                               "-qmp, -s or -gdb)\n")
    rc, out, err = cli("run", "-gdb", "none", "--max-insns", "1000", build("cli_spin.S"))
    assert rc == 2 and "within 1000 instructions" in err


# --- the target description ------------------------------------------------------------

def _regs(feature):
    return [(r.get("name"), r.get("bitsize"), r.get("type")) for r in feature.iter("reg")]


def test_target_xml_matches_qemu_structure():
    from pyaarch64.cpu.models import get_model
    from pyaarch64.emu.gdbxml import annexes, sysreg_rows, SYS0
    ours = annexes(get_model("cortex-a57"))
    ref = {n: open(os.path.join(REF, "xml", n)).read() for n in ours}
    assert ours["target.xml"] == ref["target.xml"]                  # byte for byte
    for name in ("aarch64-core.xml", "aarch64-fpu.xml"):
        a, b = ET.fromstring(ours[name]), ET.fromstring(ref[name])
        assert a.get("name") == b.get("name")
        assert _regs(a) == _regs(b)
        assert [(v.tag, sorted(v.items())) for v in a if v.tag != "reg"] == \
               [(v.tag, sorted(v.items())) for v in b if v.tag != "reg"]
        assert [[sorted(f.items()) for f in u] for u in a.iter("union")] == \
               [[sorted(f.items()) for f in u] for u in b.iter("union")]
    assert ET.fromstring(ours["aarch64-fpu.xml"]).find("reg").get("regnum") == "34"
    a, b = ET.fromstring(ours["system-registers.xml"]), ET.fromstring(ref["system-registers.xml"])
    assert a.get("name") == b.get("name") == "org.qemu.gdb.arm.sys.regs"
    regs = list(a.iter("reg"))
    assert [int(r.get("regnum")) for r in regs] == list(range(SYS0, SYS0 + len(regs)))
    assert {(r.get("bitsize"), r.get("group")) for r in regs} == {("64", "cp_regs")}
    names = {r.get("name") for r in regs}
    assert names == {r.name for r in sysreg_rows(get_model("cortex-a57"))}
    # the AArch64 registers both have, by their names
    common = names & {r.get("name") for r in b.iter("reg")}
    assert {"ELR_EL1", "ESR_EL1", "FAR_EL1", "SP_EL1", "MAIR_EL1", "TTBR0_EL1", "TCR_EL1"} <= common
    assert not names & {"FPCR", "FPSR"}                              # in the fpu feature


# --- the Linux kernel (slow) -------------------------------------------------------------------
#
# Debian's kernel package ships no real System.map (it points at the -dbg package, ~1 GB),
# so the symbols come from the kernel itself: one boot to the busybox shell reads
# /proc/kallsyms (no KASLR: the virt board passes no seed), cached beside the kernel.

KSYMS = ("start_kernel",)      # (text symbols only: the kernel has no KALLSYMS_ALL)


def kernel_symbols(tmp_path):
    import hashlib
    from shellconsole import Console
    from test_linux_boot import IMAGE, GUESTS, mkinitramfs
    with open(IMAGE, "rb") as f:
        tag = hashlib.sha256(f.read()).hexdigest()[:16]
    cache = os.path.join(GUESTS, f"kallsyms-{tag}.txt")
    if not os.path.exists(cache):
        initrd = str(mkinitramfs(tmp_path / "initramfs.cpio.gz"))
        c = Console([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-M", "virt-7.2", "-m",
                     "512", "-nographic", "-kernel", IMAGE, "-initrd", initrd, "-append",
                     "console=ttyAMA0 cryptomgr.notests pyinit=shell"])
        try:
            c.expect(rb"poweroff to power off\r?\n", 300)
            c.shell_ready(300)
            out = c.command("grep -w -e " + " -e ".join(KSYMS) + " /proc/kallsyms", 120)
            c.send("poweroff\n")
            c.expect(rb"reboot: Power down", 120)
            c.wait(60)
        finally:
            c.close()
        with open(cache + ".tmp", "w") as f:
            f.write(out)
        os.replace(cache + ".tmp", cache)
    syms = {}
    with open(cache) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[2] in KSYMS:
                syms[w[2]] = int(w[0], 16)
    return syms


@pytest.mark.slow
def test_linux_kernel_start_kernel(tmp_path, request):
    from test_linux_boot import IMAGE, BUSYBOX, mkinitramfs
    if not (request.config.getoption("--linux") or os.environ.get("PYAARCH64_LINUX") == "1"):
        pytest.skip("Linux tests run with --linux or PYAARCH64_LINUX=1")
    if not (os.path.exists(IMAGE) and os.path.exists(BUSYBOX)):
        pytest.skip(f"no {IMAGE} or {BUSYBOX}: run scripts/fetch-guests.sh")
    need(GDB)
    t0 = time.monotonic()
    syms = kernel_symbols(tmp_path)
    assert set(syms) == set(KSYMS), syms
    start = syms["start_kernel"]
    assert start >> 48 == 0xFFFF                                     # a kernel address
    initrd = str(mkinitramfs(tmp_path / "quick.cpio.gz"))
    port = free_port()
    emu = Emu(tmp_path, "-m", "512", "-S", "-gdb", f"tcp::{port}", "-kernel", IMAGE,
              "-initrd", initrd, "-append", "console=ttyAMA0 cryptomgr.notests pyinit=quick",
              port=port)
    t1 = time.monotonic()
    try:
        out = gdb(port, "info registers pc", f"break *0x{start:x}", "continue", "bt",
                  "info registers", "x/4i $pc", "stepi", "p $pc", "delete",
                  "p/x $x29", "watch -l *(long *)($sp - 0x70)", "continue", "p $pc",
                  "delete",
                  "monitor info status", "continue", timeout=240)
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    took = time.monotonic() - t1
    assert rc == 0, err
    assert "pc             0x40000000" in out                       # -S: the boot stub
    assert f"Breakpoint 1, 0x{start:016x} in ?? ()" in out, out
    assert re.search(rf"^#0  0x{start:016x} in \?\? \(\)$", out, re.M)   # bt
    assert re.search(rf"^pc +0x{start:x} ", out, re.M)             # info registers
    assert re.search(r"^SCTLR_EL1 +0x[0-9a-f]+", out, re.M)
    assert re.search(r"^TTBR1_EL1 +0x[1-9a-f][0-9a-f]*", out, re.M)  # the MMU is on
    assert re.search(rf"=> 0x{start:x}:\s+\w+", out)                   # x/4i $pc
    assert re.search(rf"\$1 = \(void \(\*\)\(\)\) 0x{start + 4:x}", out), out
    # the watchpoint: the prologue's `stp x29, x30, [sp, #-0x70]!` (start_kernel+0x10)
    x29 = int(re.search(r"^\$2 = 0x([0-9a-f]+)$", out, re.M).group(1), 16)
    m = re.search(r"Hardware watchpoint 2: -location \*\(long \*\)\(\$sp - 0x70\)\n\n"
                  r"Old value = (-?\d+)\nNew value = (-?\d+)\n", out)
    assert m, out
    assert int(m.group(2)) & (2 ** 64 - 1) == x29
    assert re.search(rf"\$3 = \(void \(\*\)\(\)\) 0x{start + 0x14:x}", out), out
    assert "VM status: paused (debug)" in out
    assert "[Inferior 1 (process 1) exited normally]" in out         # pyinit=quick powers off
    assert "PYAARCH64-INIT-OK" in emu.output()
    print(f"symbols {t1 - t0:.1f} s, gdb session on the kernel to power-off {took:.1f} s")


def test_cpus_are_threads(tmp_path):
    """-smp 2: gdb lists each CPU as a thread (as QEMU's stub: `CPU#n [running]`), a
    breakpoint hit by CPU 1 stops in thread 2, `thread N` switches the registers
    shown, and stepi steps the selected CPU."""
    need(GDB)
    elf = build("smp_wfe.c")
    s = symbols(elf)
    port = free_port()
    emu = Emu(tmp_path, "-S", "-smp", "2", "-gdb", f"tcp::{port}", elf, port=port)
    try:
        out = gdb(port, "info threads", "break secondary_main", "continue", "info threads",
                  "p/x $pc", "p/x $x0", "thread 1", "p/x $pc", "stepi", "p/x $pc",
                  "thread 2", "p/x $pc", "stepi", "p/x $pc", "delete", "continue", elf=elf)
        rc, _, err = emu.finish()
    finally:
        emu.kill()
    assert re.search(r"\* 1    Thread 1\.1 \(CPU#0 \[running\]\)", out), out
    assert re.search(r"  2    Thread 1\.2 \(CPU#1 \[halted \]\)", out), out
    assert re.search(r"Thread 2 hit Breakpoint 1, .*secondary_main", out), out
    assert re.search(r"\* 2    Thread 1\.2 \(CPU#1 \[running\]\) .*secondary_main", out), out
    assert f"$1 = 0x{s['secondary_main']:x}\n$2 = 0x1\n" in out
    pc0 = [int(v, 16) for v in re.findall(r"\$[34] = 0x([0-9a-f]+)\n", out)]
    assert len(pc0) == 2 and pc0[0] != s["secondary_main"]            # CPU 0 is elsewhere,
    assert pc0[1] != pc0[0]                                           # and its stepi moved it
    # (gdb first steps thread 2 off its breakpoint, then thread 1: CPU 1 is one on)
    assert f"$5 = 0x{s['secondary_main'] + 4:x}\n" in out
    assert f"$6 = 0x{s['secondary_main'] + 8:x}\n" in out                  # its stepi
    assert "[Inferior 1 (process 1) exited normally]" in out
    assert rc == 0, err
    assert emu.output() == "CPU 1 set the flag: 1\nEXIT 0\n"
