"""QMP (`-qmp`, `-mon chardev=...,mode=control`) as QEMU 7.2 speaks it, driven the way
users drive it: the real `qemu.qmp` client, and raw bytes compared with QEMU's own
transcript.  The guest (tests/guest/qmp_count.c) sleeps in WFI until a byte comes
on its serial port, then prints "count N C": its state shows in its output, so a
snapshot-load that worked prints the count it had when it was saved."""
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from guestbuild import build, cli
from pyaarch64.emu import qjson
from pyaarch64.emu.chardev import Conn, SEND_LIMIT

REF = "/work/shared/reference/qemu-7.2-transcripts/qmp"
GREETING = (b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, '
            b'"package": " (pyaarch64)"}, "capabilities": ["oob"]}}\r\n')
TS = re.compile(rb'"timestamp": \{"seconds": \d+, "microseconds": \d+\}')


def norm(b):
    return TS.sub(b'"timestamp": {"seconds": S, "microseconds": U}', b)


class Emu:
    """`pyaarch64 run ... qmp_count.elf` with the serial port on pipes."""

    def __init__(self, tmp_path, *args, qmp=True, wait_sock=True, store=None):
        self.sock = str(tmp_path / "qmp.sock")
        self.store = store or str(tmp_path / "store")
        cmd = [sys.executable, "-m", "pyaarch64.emu.cli", "run", "-M", "virt-7.2",
               "--snapshot-store", self.store, *args]
        if qmp:
            cmd += ["-qmp", f"unix:{self.sock},server=on,wait=off"]
        cmd.append(build("qmp_count.c"))
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = bytearray()
        self.err = bytearray()
        self.changed = threading.Condition()
        for f, buf in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            threading.Thread(target=self._read, args=(f, buf), daemon=True).start()
        if qmp and wait_sock:
            self.wait_for(lambda: os.path.exists(self.sock), "the QMP socket")

    def _read(self, f, buf):
        while True:
            d = os.read(f.fileno(), 4096)
            if not d:
                return
            with self.changed:
                buf += d
                self.changed.notify_all()

    def wait_for(self, cond, what, timeout=60):
        end = time.monotonic() + timeout
        with self.changed:
            while not cond():
                assert self.p.poll() is None or cond(), f"emulator ended waiting for {what}: " \
                    f"{bytes(self.err)!r}"
                assert time.monotonic() < end, f"timed out waiting for {what}; out={bytes(self.out)!r}"
                self.changed.wait(0.05)

    def type(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def serial(self, marker):
        self.wait_for(lambda: marker in self.out, repr(marker))

    def finish(self, timeout=30):
        rc = self.p.wait(timeout)
        time.sleep(0.1)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


@pytest.fixture
def emu(tmp_path):
    made = []

    def start(*args, **kw):
        e = Emu(tmp_path, *args, **kw)
        made.append(e)
        return e
    yield start
    for e in made:
        e.kill()


class Raw:
    """Raw bytes over the socket: what a QMP client sees on the wire."""

    def __init__(self, path=None, sock=None):
        self.s = sock or socket.socket(socket.AF_UNIX)
        if path is not None:
            self.s.connect(path)
        self.s.settimeout(30)
        self.buf = b""

    def lines(self, n):
        while self.buf.count(b"\r\n") < n:
            d = self.s.recv(65536)
            assert d, f"connection closed; got {self.buf!r}"
            self.buf += d
        out = []
        for _ in range(n):
            line, self.buf = self.buf.split(b"\r\n", 1)
            out.append(line + b"\r\n")
        return b"".join(out)

    def cmd(self, data, n=1):
        self.s.sendall(data)
        return self.lines(n)

    def ask(self, execute, n=1, **args):
        req = {"execute": execute}
        if args:
            req["arguments"] = {k.replace("_", "-"): v for k, v in args.items()}
        return [json.loads(x) for x in self.cmd(json.dumps(req).encode(), n).splitlines()]


def negotiated(path):
    r = Raw(path)
    assert r.lines(1) == GREETING
    assert r.cmd(b'{"execute":"qmp_capabilities"}') == b'{"return": {}}\r\n'
    return r


def events(msgs):
    return [(m["event"], m.get("data")) if "event" in m else ("return", m.get("return"))
            for m in msgs]


# --- the wire, against QEMU's transcript ------------------------------------------------
# where we differ from QEMU 7.2 on purpose, the bytes we send instead (after norm()):
OURS = {
    # a failed load changes nothing: no STOP, the VM runs on (QEMU: paused in restore-vm)
    "snapshot-load of a missing tag (job)": [
        b'{"timestamp": {"seconds": S, "microseconds": U}, "event": "JOB_STATUS_CHANGE", "data": {"status": "created", "id": "load1"}}\r\n',
        b'{"timestamp": {"seconds": S, "microseconds": U}, "event": "JOB_STATUS_CHANGE", "data": {"status": "running", "id": "load1"}}\r\n',
        b'{"return": {}}\r\n',
        b'{"timestamp": {"seconds": S, "microseconds": U}, "event": "JOB_STATUS_CHANGE", "data": {"status": "aborting", "id": "load1"}}\r\n',
        b'{"timestamp": {"seconds": S, "microseconds": U}, "event": "JOB_STATUS_CHANGE", "data": {"status": "concluded", "id": "load1"}}\r\n'],
    "query-status (after failed load)": [
        b'{"return": {"status": "running", "singlestep": false, "running": true}}\r\n'],
    "cont (failed load left the VM stopped)": [b'{"return": {}}\r\n'],
    # no block nodes here: the snapshot store is the node, and the error says so
    "query-jobs (bad node)": [
        b'{"return": [{"current-progress": 1, "status": "concluded", "total-progress": 1, '
        b'"type": "snapshot-save", "id": "bad0", "error": "No block device node \'nosuchnode\' '
        b'(pyaarch64 has no disks: its snapshots go to the snapshot store, node '
        b'\'snapshot-store\')"}]}\r\n'],
}
NOT_OURS = {"query-named-block-nodes", "query-named-block-nodes flat=true", "query-block"}
SNAPSHOT_ROW = re.compile(rb"(--        \S+) +[\d.]+ [KMG]?i?B \d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
                          rb"\d\d:\d\d:\d\d\.\d{3}")


@pytest.mark.skipif(not os.path.exists(os.path.join(REF, "qmp-raw.json")),
                    reason="QEMU transcripts not available")
def test_the_wire_is_qemus_transcript(emu):
    """Replay QEMU 7.2's whole raw session (qmp-raw.json) and compare every byte, with
    the timestamps, the version, the block node name and a snapshot row's size and
    date normalised; the deliberate differences are listed in OURS."""
    e = emu("-serial", "null")
    raw = Raw(e.sock)
    steps = json.load(open(os.path.join(REF, "qmp-raw.json"), encoding="latin-1"))
    compared = 0
    for st in steps:
        sent = st["sent"].replace("#block181", "snapshot-store").encode("latin-1")
        want = st["received"].encode("latin-1")
        n = want.count(b"\r\n")
        if st["step"].startswith("greeting"):
            assert raw.lines(1) == GREETING
            continue
        if not sent:
            continue                        # a harness note
        got = raw.cmd(sent, 1 if st["step"] in NOT_OURS else n if st["step"] not in OURS
                      else len(OURS[st["step"]]))
        if st["step"] in NOT_OURS:
            name = json.loads(sent)["execute"]
            assert got == (b'{"error": {"class": "CommandNotFound", "desc": "The command '
                           + name.encode() + b' has not been found"}}\r\n')
            continue
        if st["step"] == "query-machines":
            ms = json.loads(got)["return"]
            assert {"hotpluggable-cpus": False, "name": "virt-7.2", "numa-mem-supported": False,
                    "default-cpu-type": "cortex-a57-arm-cpu", "cpu-max": 1, "deprecated": False,
                    "default-ram-id": "mach-virt.ram"} in ms
            from pyaarch64.machine.types import NEWEST
            assert [m["name"] for m in ms if m.get("alias") == "virt"] == [NEWEST]
            assert got.startswith(b'{"return": [{"hotpluggable-cpus": false, "name": "virt-4.1", '
                                  b'"numa-mem-supported": false, "default-cpu-type": ')
            continue
        if st["step"] == "query-version":
            assert got == b'{"return": {"qemu": {"micro": 0, "minor": 1, "major": 0}, ' \
                          b'"package": " (pyaarch64)"}}\r\n'
            continue
        want = b"".join(OURS[st["step"]]) if st["step"] in OURS else norm(want)
        got = SNAPSHOT_ROW.sub(rb"\1 SIZE DATE CLOCK", norm(got))
        want = SNAPSHOT_ROW.sub(rb"\1 SIZE DATE CLOCK", want)
        assert got == want, st["step"]
        compared += 1
    assert compared == 54
    assert e.finish() == 0                  # the last step was quit
    assert not os.path.exists(e.sock)


@pytest.mark.skipif(not os.path.exists(os.path.join(REF, "qmp-prelaunch.json")),
                    reason="QEMU transcripts not available")
def test_prelaunch_transcript_S_reset_powerdown(emu):
    """QEMU's -S session (qmp-prelaunch.json): qemu.qmp's negotiation bytes, prelaunch,
    two commands in one write, cont, system_reset, system_powerdown, quit."""
    e = emu("-serial", "file:" + os.devnull, "-S")
    raw = Raw(e.sock)
    for st in json.load(open(os.path.join(REF, "qmp-prelaunch.json"), encoding="latin-1")):
        want = norm(st["received"].encode("latin-1"))
        if st["step"] == "greeting":
            assert raw.lines(1) == GREETING
            continue
        assert norm(raw.cmd(st["sent"].encode("latin-1"), want.count(b"\r\n"))) == want, st["step"]
    assert e.finish() == 0


# --- the qemu.qmp client -----------------------------------------------------------------
def test_qemu_qmp_client_session(emu):
    """The asyncio QMPClient and the legacy client, as a script uses them."""
    from qemu.qmp import QMPClient, ExecuteError
    from qemu.qmp.legacy import QEMUMonitorProtocol
    e = emu("-serial", "null", "-name", "guest=vm1,debug-threads=on")

    async def session():
        c = QMPClient("test")
        await c.connect(e.sock)
        assert c.greeting._raw["QMP"]["version"]["package"] == " (pyaarch64)"
        assert await c.execute("query-status") == {"status": "running", "singlestep": False,
                                                   "running": True}
        assert await c.execute("human-monitor-command", {"command-line": "info status"}) == \
            "VM status: running\r\n"
        assert await c.execute("human-monitor-command", {"command-line": "info name"}) == "vm1\r\n"
        assert await c.execute("query-name") == {"name": "vm1"}
        with c.listener() as listener:
            await c.execute("stop")
            ev = await asyncio.wait_for(listener.get(), 10)
            assert ev["event"] == "STOP" and set(ev["timestamp"]) == {"seconds", "microseconds"}
            await c.execute("cont")
            assert (await asyncio.wait_for(listener.get(), 10))["event"] == "RESUME"
        with pytest.raises(ExecuteError, match="^The command no-such-command has not been found$"):
            await c.execute("no-such-command")
        with pytest.raises(ExecuteError, match="^Parameter 'command-line' is missing$"):
            await c.execute("human-monitor-command")
        with pytest.raises(ExecuteError, match="^Invalid parameter type for 'command-line', "
                                               "expected: string$"):
            await c.execute("human-monitor-command", {"command-line": 5})
        with pytest.raises(ExecuteError, match="^Parameter 'cpu-index' expects a CPU number$"):
            await c.execute("human-monitor-command", {"command-line": "info status",
                                                      "cpu-index": 1})
        cpus = await c.execute("query-cpus-fast")
        assert len(cpus) == 1 and cpus[0]["cpu-index"] == 0 and cpus[0]["target"] == "aarch64"
        assert cpus[0]["thread-id"] == e.p.pid      # the emulator's main thread
        names = {x["name"] for x in await c.execute("query-commands")}
        assert names == {"qmp_capabilities", "query-status", "stop", "cont", "system_reset",
                         "system_powerdown", "quit", "human-monitor-command", "query-version",
                         "query-machines", "query-cpus-fast", "query-commands", "query-name",
                         "query-jobs", "job-dismiss", "snapshot-save", "snapshot-load",
                         "snapshot-delete"}
        assert (await c.execute("query-version"))["qemu"] == {"major": 0, "minor": 1, "micro": 0}
        await c.disconnect()
    asyncio.run(session())
    legacy = QEMUMonitorProtocol(e.sock)                 # a second client, after the first
    legacy.connect()
    assert legacy.cmd("query-status")["status"] == "running"
    assert legacy.cmd("quit") == {}
    assert [ev["event"] for ev in legacy.get_events()] == ["SHUTDOWN"]
    try:
        legacy.close()
    except EOFError:                    # (QEMU too: it has hung up already)
        pass
    assert e.finish() == 0


def test_snapshot_jobs_resume_the_guest_where_it_was_saved(emu):
    """snapshot-save, more input, snapshot-load: the guest counts on from where it was
    saved; the jobs' events and states are QEMU's; delete, dismiss; the guest powers off
    and a connected client gets SHUTDOWN (guest-shutdown) before the emulator exits 0."""
    from qemu.qmp import QMPClient
    e = emu()                                   # serial on the pipes
    e.serial(b"ready\n")

    async def session():
        c = QMPClient("test")
        await c.connect(e.sock)
        snap = {"vmstate": "snapshot-store", "devices": []}
        with c.listener() as listener:
            def brief(ev):
                return ev["event"], ev.get("data", {}).get("status")

            async def evs():                # the events received so far
                return [brief(ev) for ev in listener.clear()]

            async def take(n):              # the next n events
                return [brief(await asyncio.wait_for(listener.get(), 30)) for _ in range(n)]
            e.type(b"ab")
            e.serial(b"count 2 b\n")
            await c.execute("snapshot-save", dict(snap, **{"job-id": "j1", "tag": "two"}))
            assert await take(7) == [("JOB_STATUS_CHANGE", "created"), ("JOB_STATUS_CHANGE", "running"),
                                   ("STOP", None), ("RESUME", None),
                                   ("JOB_STATUS_CHANGE", "waiting"), ("JOB_STATUS_CHANGE", "pending"),
                                   ("JOB_STATUS_CHANGE", "concluded")]
            e.type(b"cd")
            e.serial(b"count 4 d\n")
            await c.execute("snapshot-load", dict(snap, **{"job-id": "j2", "tag": "two"}))
            e.type(b"e")
            e.serial(b"count 3 e\n")                       # back at two
            assert (await c.execute("query-status"))["status"] == "running"
            assert await c.execute("query-jobs") == [
                {"current-progress": 1, "status": "concluded", "total-progress": 1,
                 "type": "snapshot-save", "id": "j1"},
                {"current-progress": 1, "status": "concluded", "total-progress": 1,
                 "type": "snapshot-load", "id": "j2"}]
            await c.execute("job-dismiss", {"id": "j1"})
            await c.execute("job-dismiss", {"id": "j2"})
            await evs()
            # paused: a save is no STOP/RESUME, and a load leaves it paused
            await c.execute("stop")
            await c.execute("snapshot-save", dict(snap, **{"job-id": "j3", "tag": "three"}))
            await c.execute("snapshot-load", dict(snap, **{"job-id": "j4", "tag": "three"}))
            assert [x for x in await take(11) if x[0] != "JOB_STATUS_CHANGE"] == [("STOP", None)]
            assert (await c.execute("query-status"))["status"] == "paused"
            await c.execute("cont")
            # a bad tag, a snapshot of another CPU: the job fails, nothing changes
            for jid, tag in (("bad1", "no/such"), ("bad2", "a53")):
                await c.execute("snapshot-load", dict(snap, **{"job-id": jid, "tag": tag}))
            from pyaarch64.machine.virt import VirtMachine
            from pyaarch64.snapshot.state import save
            from pyaarch64.snapshot.store import SnapshotStore
            SnapshotStore(e.store).save("a53", save(VirtMachine("virt-7.2", cpu="cortex-a53")))
            await c.execute("snapshot-load", dict(snap, **{"job-id": "bad3", "tag": "a53"}))
            with open(os.path.join(e.store, "junk.snap"), "wb") as f:
                f.write(b"not a snapshot")
            await c.execute("snapshot-load", dict(snap, **{"job-id": "bad4", "tag": "junk"}))
            jobs = {j["id"]: j for j in await c.execute("query-jobs")}
            assert "junk" in jobs["bad4"]["error"] and jobs["bad4"]["status"] == "concluded"
            assert jobs["bad1"]["error"] == "invalid snapshot tag 'no/such'"
            assert jobs["bad2"]["error"] == "Snapshot 'a53' does not exist in one or more devices"
            assert "snapshot is of CPU model 'cortex-a53'" in jobs["bad3"]["error"]
            await c.execute("snapshot-delete", {"job-id": "d1", "tag": "two", "devices": []})
            await c.execute("snapshot-delete", {"job-id": "d2", "tag": "two", "devices": []})
            jobs = {j["id"]: j for j in await c.execute("query-jobs")}
            assert "error" not in jobs["d1"] and "error" not in jobs["d2"]   # missing: fine
            e.type(b"f")
            e.serial(b"count 4 f\n")
            await evs()
            e.type(b"q")                                   # the guest powers off
            ev = await asyncio.wait_for(listener.get(), 30)
            assert (ev["event"], ev["data"]) == ("SHUTDOWN", {"guest": True,
                                                               "reason": "guest-shutdown"})
        try:
            await c.disconnect()
        except EOFError:                # we hung up first (QEMU too)
            pass
    asyncio.run(session())
    assert e.finish() == 0
    assert not os.path.exists(os.path.join(e.store, "two.snap"))
    assert bytes(e.out).startswith(b"ready\ncount 1 a\ncount 2 b\ncount 3 c\ncount 4 d\n"
                                   b"count 3 e\ncount 4 f\n")


def test_no_shutdown_reset_and_prelaunch(emu):
    """-no-shutdown: SHUTDOWN then STOP, status shutdown, cont refused until
    system_reset (prelaunch), then the guest starts again.  -S is prelaunch; stop
    there changes nothing; a reset while paused is prelaunch too.  system_powerdown
    says POWERDOWN and presses the power button, which this guest ignores: it runs
    on (tests/test_power_button.py: Linux powers off).  HMP's view."""
    e = emu("-no-shutdown", "-S")
    r = negotiated(e.sock)

    def hmp(line, n=1):             # the events it caused, then its text
        msgs = r.ask("human-monitor-command", n, command_line=line)
        return events(msgs[:-1]) + [msgs[-1]["return"]]
    assert r.ask("query-status")[0]["return"]["status"] == "prelaunch"
    assert hmp("info status") == ["VM status: paused (prelaunch)\r\n"]
    assert r.ask("stop") == [{"return": {}}]
    assert events(r.ask("cont", 2)) == [("RESUME", None), ("return", {})]
    e.serial(b"ready\n")
    assert events(r.ask("system_powerdown", 2)) == [("POWERDOWN", None), ("return", {})]
    e.type(b"a")
    e.serial(b"count 1 a\n")
    e.type(b"q")
    assert events(json.loads(x) for x in r.lines(2).splitlines()) == [
        ("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"}), ("STOP", None)]
    assert r.ask("query-status")[0]["return"] == {"status": "shutdown", "singlestep": False,
                                                  "running": False}
    assert hmp("info status") == ["VM status: paused (shutdown)\r\n"]
    assert r.ask("cont") == [{"error": {"class": "GenericError",
                                        "desc": "Resetting the Virtual Machine is required"}}]
    assert hmp("cont") == ["Error: Resetting the Virtual Machine is required\r\n"]
    assert events(r.ask("system_reset", 2)) == [
        ("RESET", {"guest": False, "reason": "host-qmp-system-reset"}), ("return", {})]
    assert r.ask("query-status")[0]["return"]["status"] == "prelaunch"
    del e.out[:]
    assert hmp("cont", 2) == [("RESUME", None), ""]
    e.serial(b"ready\n")
    e.type(b"b")
    e.serial(b"count 1 b\n")                    # a fresh guest
    # HMP stop, then a system_reset while paused: prelaunch
    assert hmp("stop", 2) == [("STOP", None), ""]
    assert hmp("system_reset", 2) == [
        ("RESET", {"guest": False, "reason": "host-qmp-system-reset"}), ""]
    assert hmp("info status") == ["VM status: paused (prelaunch)\r\n"]
    assert hmp("system_powerdown", 2) == [("POWERDOWN", None), ""]
    # the guest resets itself (PSCI): RESET, guest-reset, and it starts again
    del e.out[:]
    r.ask("cont", 2)
    e.serial(b"ready\n")
    del e.out[:]
    e.type(b"r")
    assert events([json.loads(r.lines(1))]) == [("RESET", {"guest": True, "reason": "guest-reset"})]
    e.serial(b"ready\n")
    # a snapshot loaded after the guest powered off: paused again, not shutdown
    r.ask("snapshot-save", 8, job_id="s", tag="s", vmstate="snapshot-store", devices=[])
    e.type(b"q")
    r.lines(2)                                  # SHUTDOWN, STOP
    r.ask("snapshot-load", 6, job_id="l", tag="s", vmstate="snapshot-store", devices=[])
    assert r.ask("query-status")[0]["return"]["status"] == "paused"
    assert hmp("quit", 2) == [("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"}), ""]
    assert e.finish() == 0


def test_ctrl_c_is_a_shutdown_event(emu):
    e = emu("-serial", "null")
    r = negotiated(e.sock)
    assert r.ask("query-status")[0]["return"]["status"] == "running"
    e.p.send_signal(2)
    assert events([json.loads(r.lines(1))]) == [("SHUTDOWN", {"guest": False,
                                                              "reason": "host-signal"})]
    assert e.finish() == 1 and bytes(e.err).endswith(b"pyaarch64: terminating on signal 2\n")


def test_no_reboot_guest_reset_is_a_shutdown(emu, tmp_path):
    """-no-reboot: a guest reset is SHUTDOWN (guest-reset).  Also: a store that cannot
    be written fails the job and the VM runs on; no -name: `info name` says nothing."""
    (tmp_path / "file").write_text("")
    e = emu("-no-reboot", store=str(tmp_path / "file"))
    r = negotiated(e.sock)
    e.serial(b"ready\n")
    msgs = r.ask("snapshot-save", 7, job_id="s", tag="s", vmstate="snapshot-store", devices=[])
    assert [x for x in events(msgs) if x[0] != "JOB_STATUS_CHANGE"] == [
        ("STOP", None), ("RESUME", None), ("return", {})]
    assert r.ask("query-jobs")[0]["return"][0]["error"] == \
        f"cannot write the snapshot: File exists (snapshot store {tmp_path / 'file'})"
    assert r.ask("query-status")[0]["return"]["status"] == "running"
    assert r.ask("human-monitor-command", command_line="info name") == [{"return": ""}]
    e.type(b"r")
    assert events([json.loads(r.lines(1))]) == [("SHUTDOWN", {"guest": True, "reason": "guest-reset"})]
    assert e.finish() == 0


# --- what clients send that they should not ----------------------------------------------
def test_bad_input_never_ends_the_server(emu):
    e = emu("-serial", "null")
    r = Raw(e.sock)
    assert r.lines(1) == GREETING
    err = lambda d, c="GenericError": b'{"error": {"class": "' + c.encode() + \
        b'", "desc": "' + d.encode() + b'"}}\r\n'
    # before negotiation: QMP input errors pass; every command is "Expecting ..."
    assert r.cmd(b'{"execute": "stop", "id": [1]}') == b'{"id": [1], "error": {"class": ' \
        b'"CommandNotFound", "desc": "Expecting capabilities negotiation with \'qmp_capabilities\'"}}\r\n'
    assert r.cmd(b'{"execute": "nope"}') == err("Expecting capabilities negotiation with "
                                                "'qmp_capabilities'", "CommandNotFound")
    assert r.cmd(b'{"execute": "qmp_capabilities", "arguments": {"enable": ["x"]}}') == \
        err("Parameter 'enable[0]' does not accept value 'x'")
    assert r.cmd(b'{"execute": "qmp_capabilities", "arguments": {"enable": "oob"}}') == \
        err("Invalid parameter type for 'enable', expected: array")
    assert r.cmd(b'{"execute": "qmp_capabilities", "arguments": {"enable": [1]}}') == \
        err("Invalid parameter type for 'enable[0]', expected: string")
    assert r.cmd(b'{"exec-oob": "qmp_capabilities"}') == err("QMP input member 'exec-oob' is unexpected")
    # one object a byte at a time, then the oob capability
    for b in b'{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}':
        r.s.sendall(bytes([b]))
    assert r.lines(1) == b'{"return": {}}\r\n'
    cases = [
        (b'{"execute": }', err("JSON parse error, expecting value")),
        (b'}', err("JSON parse error, expecting value")),
        (b'{"a" 1}', err("JSON parse error, missing : in object")),
        (b'{1: 2}', err("JSON parse error, key is not a string in object")),
        (b'{"a": 1 "b": 2}', err("JSON parse error, expected separator in dict")),
        (b'[1 2]', err("JSON parse error, expected separator in list")),
        (b'{"execute": nope}', err("JSON parse error, invalid keyword 'nope'")),
        (b'{"execute": NaN}', err("JSON parse error, expecting value")),
        (b'{"execute": "\xff"}', err("JSON parse error, invalid UTF-8 sequence in string")),
        (b'{"execute": "\x01"}', err("JSON parse error, invalid control character in string")),
        (b'{"execute": "\\q"}', err("JSON parse error, invalid escape sequence in string")),
        (b'{"execute": "\\u12"}', err("JSON parse error, invalid escape sequence in string")),
        (b'42 ', err("QMP input must be a JSON object")),
        (b'"str"', err("QMP input must be a JSON object")),
        (b'[' * 1025, err("JSON nesting depth limit exceeded")),
        (b'{"execute": 1}', err("QMP input member 'execute' must be a string")),
        (b'{"execute": "stop", "exec-oob": "stop"}', err("QMP input member 'exec-oob' clashes with 'execute'")),
        (b'{"exec-oob": "query-status"}', err("The command query-status does not support OOB")),
        (b'{"arguments": {}}', err("QMP input lacks member 'execute'")),
        (b'{"execute": "stop", "arguments": []}', err("QMP input member 'arguments' must be an object")),
        (b'{"execute": "job-dismiss", "arguments": {"id": 1}}',
         err("Invalid parameter type for 'id', expected: string")),
        (b'{"execute": "snapshot-save", "arguments": {"job-id": "j", "tag": "t", "vmstate": "v", "devices": "d"}}',
         err("Invalid parameter type for 'devices', expected: array")),
        (b'{"execute": "snapshot-save", "arguments": {"job-id": "j", "tag": "t", "vmstate": "v", "devices": [1]}}',
         err("Invalid parameter type for 'devices[0]', expected: string")),
        (b'{"execute": "snapshot-save", "arguments": {"job-id": "1j", "tag": "t", "vmstate": "v", "devices": []}}',
         err("Invalid job ID '1j'")),
        (b'{"execute": "human-monitor-command", "arguments": {"command-line": "x", "cpu-index": true}}',
         err("Invalid parameter type for 'cpu-index', expected: integer")),
        (b'{"execute": "qmp_capabilities", "id": {"a": [null]}}', b'{"id": {"a": [null]}, "error": '
         b'{"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}\r\n'),
    ]
    for sent, want in cases:
        assert r.cmd(sent) == want, sent
    # two objects and a half in one write, the rest later
    r.s.sendall(b' {"execute":"query-status","id":1}\n{"execute":"query-name","id":2}{"execute":')
    assert r.lines(2) == (b'{"return": {"status": "running", "singlestep": false, "running": true}, '
                          b'"id": 1}\r\n{"return": {}, "id": 2}\r\n')
    assert r.cmd(b'"query-name"}') == b'{"return": {}}\r\n'
    # HMP errors come back as text, an unknown HMP command too
    assert r.ask("human-monitor-command", command_line="foo")[0] == {"return": "unknown command: 'foo'\r\n"}
    # a client that leaves mid-object: the next one starts clean
    r.s.sendall(b'{"execute": "stop", "argu')
    r.s.close()
    r = negotiated(e.sock)
    assert r.ask("query-status")[0]["return"]["status"] == "running"
    assert r.ask("job-dismiss", id="x") == [{"error": {"class": "GenericError", "desc": "Job not found"}}]
    r.s.sendall(b'{"execute": "human-monitor-command", "arguments": {"command-line": "quit"}}')
    assert events(json.loads(x) for x in r.lines(2).splitlines()) == [
        ("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"}), ("return", "")]
    assert e.finish() == 0


def test_an_internal_error_is_reported_not_fatal():
    """A defect in a command handler: an error reply, and the VM goes on (in-process)."""
    from pyaarch64.emu.monitor import Monitor
    from pyaarch64.emu.qmp import Qmp
    from pyaarch64.machine.virt import VirtMachine

    class Boom:
        def status(self):
            raise ZeroDivisionError("boom")
    mon = Monitor(VirtMachine("virt-7.2"), None)
    q = Qmp(mon, "virt-7.2")
    sess = type("S", (), {"negotiated": True, "oob": False})()
    q.mon = Boom()
    rsp, after = q.dispatch({"execute": "query-status", "id": 3}, sess)
    assert rsp == {"error": {"class": "GenericError", "desc": "internal error in 'query-status': "
                             "ZeroDivisionError: boom (the VM goes on; please report this)"},
                   "id": 3} and after is None


def test_a_client_that_stops_reading_is_dropped():
    """Replies queue for a writer thread; past SEND_LIMIT the client is dropped instead
    of blocking the emulator."""
    gate = threading.Event()
    hung = []
    c = Conn(lambda b: gate.wait(), lambda: hung.append(1))
    for _ in range(SEND_LIMIT // (1 << 20) + 2):
        c.send(b"x" * (1 << 20))
    assert c.dead
    gate.set()
    c.t.join(5)
    assert hung == [1]
    c.send(b"more")                     # ignored, no error


# --- transports and options ----------------------------------------------------------------
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_tcp_chardev_mon_and_stdio(emu, tmp_path):
    """-qmp tcp:, -mon on a socket chardev (control and readline), events reach every
    QMP session; -qmp stdio."""
    p1, p2 = free_port(), free_port()
    hsock = str(tmp_path / "hmp.sock")
    e = emu("-serial", "null", "-qmp", f"tcp:127.0.0.1:{p1},server=on,wait=off",
            "-chardev", f"socket,id=q2,host=localhost,port={p2},server=on,nowait",
            "-mon", "chardev=q2,mode=control",
            "-chardev", f"socket,id=h,path={hsock},server=on,wait=off", "-mon", "chardev=h",
            qmp=False)
    e.wait_for(lambda: os.path.exists(hsock), "the HMP socket")
    tcp = []
    for port in (p1, p2):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        r = Raw(sock=s)
        assert r.lines(1) == GREETING
        r.cmd(b'{"execute": "qmp_capabilities"}')
        tcp.append(r)
    h = socket.socket(socket.AF_UNIX)
    h.connect(hsock)
    h.settimeout(30)
    buf = b""
    while not buf.endswith(b"(qemu) "):
        buf += h.recv(4096)
    assert b"monitor - type 'help' for more information\r\n" in buf
    h.close()                                   # leave, come back: a new banner
    h = socket.socket(socket.AF_UNIX)
    h.connect(hsock)
    h.settimeout(30)
    buf = b""
    while not buf.endswith(b"(qemu) "):
        buf += h.recv(4096)
    assert b"monitor - type 'help' for more information\r\n" in buf
    h.sendall(b"stop\n")
    for r in tcp:
        assert events([json.loads(r.lines(1))]) == [("STOP", None)]
    assert tcp[1].ask("query-status")[0]["return"]["status"] == "paused"
    h.sendall(b"quit\n")
    for r in tcp:
        assert events([json.loads(r.lines(1))]) == [("SHUTDOWN", {"guest": False,
                                                                  "reason": "host-qmp-quit"})]
    assert e.finish() == 0
    # stdio
    p = subprocess.run([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-M", "virt-7.2",
                        "-serial", "file:" + str(tmp_path / "s.txt"), "-qmp", "stdio",
                        build("qmp_count.c")],
                       input=b'{"execute":"qmp_capabilities"}{"execute":"query-status"}'
                             b'{"execute":"quit"}', capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert norm(p.stdout) == GREETING + b'{"return": {}}\r\n{"return": {"status": "running", ' \
        b'"singlestep": false, "running": true}}\r\n{"timestamp": {"seconds": S, "microseconds": U}, ' \
        b'"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}\r\n{"return": {}}\r\n'


def test_wait_on_waits_for_the_client(emu, tmp_path):
    """server=on without wait=off: as QEMU, nothing runs until a client connects."""
    serial = tmp_path / "serial.txt"
    stale = socket.socket(socket.AF_UNIX)            # left by an emulator that was killed
    stale.bind(str(tmp_path / "w.sock"))
    stale.close()
    e = emu("-serial", f"file:{serial}", "-qmp", f"unix:{tmp_path / 'w.sock'},server=on", qmp=False)
    e.wait_for(lambda: b"waiting for connection" in e.err, "the waiting message")
    assert bytes(e.err) == (f"pyaarch64: -qmp unix:{tmp_path / 'w.sock'},server=on: info: waiting "
                            f"for connection on: disconnected:unix:{tmp_path / 'w.sock'},server=on\n").encode()
    time.sleep(0.5)
    assert not serial.exists() or serial.read_bytes() == b""
    r = negotiated(str(tmp_path / "w.sock"))
    for _ in range(300):
        if serial.exists() and serial.read_bytes() == b"ready\n":
            break
        time.sleep(0.1)
    assert serial.read_bytes() == b"ready\n"
    r.ask("quit", 2)
    assert e.finish() == 0
    # Ctrl-C while waiting
    e = emu("-serial", "null", "-qmp", f"unix:{tmp_path / 'w2.sock'},server,wait=on", qmp=False)
    e.wait_for(lambda: b"waiting for connection" in e.err, "the waiting message")
    e.p.send_signal(2)
    assert e.finish() == 1
    assert bytes(e.err).endswith(f"pyaarch64: -qmp unix:{tmp_path / 'w2.sock'},server,wait=on: "
                                 f"interrupted while waiting for a connection\n".encode())
    assert not os.path.exists(tmp_path / "w2.sock")


@pytest.mark.parametrize("args, msg", [
    (["-qmp", "tcp:0.0.0.0:4444,server=on,wait=off"], "-qmp tcp:0.0.0.0:4444,server=on,wait=off: only "
     "loopback addresses (127.0.0.1, localhost, ::1) are allowed: a QMP or monitor socket controls the whole VM"),
    (["-qmp", "tcp:127.0.0.1,server=on"], "-qmp tcp:127.0.0.1,server=on: give the address as tcp:HOST:PORT"),
    (["-qmp", "tcp:127.0.0.1:99999,server=on"], "-qmp tcp:127.0.0.1:99999,server=on: port must be a number from 0 to 65535"),
    (["-qmp", "unix:/tmp/x.sock"], "-qmp unix:/tmp/x.sock: only server=on sockets are available (we listen, "
     "the client connects)"),
    (["-qmp", "unix:,server=on"], "-qmp unix:,server=on: no socket path"),
    (["-qmp", "unix:/tmp/x,server=on,telnet=on"], "-qmp unix:/tmp/x,server=on,telnet=on: unknown property 'telnet'"),
    (["-qmp", "unix:/tmp/x,server,wait=maybe"], "-qmp unix:/tmp/x,server,wait=maybe: wait must be on or off"),
    (["-qmp", "unix:/tmp/x,server=on,"], "-qmp unix:/tmp/x,server=on,: empty property (a stray ',')"),
    (["-qmp", "pty"], "-qmp pty: only unix:PATH,server=on, tcp:127.0.0.1:PORT,server=on and stdio are available"),
    (["-qmp", "stdio"], "-qmp stdio: stdio is already used by the serial port (use -serial null or "
     "-serial file:PATH)"),
    (["-serial", "null", "-monitor", "stdio", "-qmp", "stdio"], "-qmp stdio: stdio is already used by "
     "-monitor stdio (use -serial null or -serial file:PATH)"),
    (["-chardev", "file,id=f,path=x"], "-chardev file,id=f,path=x: only the socket and stdio back ends are available"),
    (["-chardev", "socket,path=x,server=on"], "-chardev socket,path=x,server=on: no id (give id=NAME)"),
    (["-chardev", "socket,id=a,path=x,port=1,server=on"], "-chardev socket,id=a,path=x,port=1,server=on: give "
     "path= or host=,port=, not both"),
    (["-chardev", "socket,id=a,server=on"], "-chardev socket,id=a,server=on: give path=PATH or host=HOST,port=PORT"),
    (["-chardev", "socket,id=a,path=x,server=on", "-chardev", "stdio,id=a"], "-chardev stdio,id=a: duplicate "
     "chardev id 'a'"),
    (["-chardev", "socket,id=a,path=x,server=on"], "-chardev socket,id=a,path=x,server=on: chardev 'a' is not "
     "used by any -mon or virtio-serial port"),
    (["-mon", "chardev=nope"], "-mon chardev=nope: chardev 'nope' not found"),
    (["-mon", "mode=control"], "-mon mode=control: no chardev (give chardev=ID)"),
    (["-mon", "chardev=a,mode=json"], "-mon chardev=a,mode=json: mode must be control (QMP) or readline (HMP)"),
    (["-mon", "chardev=a,pretty=on"], "-mon chardev=a,pretty=on: pretty=on is not supported (replies are one line each)"),
    (["-chardev", "stdio,id=a", "-mon", "chardev=a", "-mon", "chardev=a,mode=control"],
     "-mon chardev=a,mode=control: chardev 'a' is already in use"),
    (["-name", "x,colour=red"], "-name x,colour=red: unknown property 'colour'"),
])
def test_option_errors(args, msg, capsys):
    from pyaarch64.emu.cli import main
    if "stdio" in args and "-chardev" not in args:      # found when the VM is built
        rc, _, err = cli("run", *args, build("qmp_count.c"))
    else:
        rc, err = main(["run", *args, build("qmp_count.c")]), capsys.readouterr().err
    assert (rc, err) == (1, f"pyaarch64: {msg}\n")


def test_socket_errors(tmp_path):
    f = tmp_path / "plain"
    f.write_text("x")
    rc, _, err = cli("run", "-serial", "null", "-qmp", f"unix:{f},server=on,wait=off", build("qmp_count.c"))
    assert (rc, err) == (1, f"pyaarch64: -qmp unix:{f},server=on,wait=off: Failed to bind socket: "
                            f"'{f}' exists and is not a socket (not replaced)\n")
    rc, _, err = cli("run", "-serial", "null", "-qmp", f"unix:{tmp_path}/no/q.sock,server=on,wait=off",
                     build("qmp_count.c"))
    assert (rc, err) == (1, f"pyaarch64: -qmp unix:{tmp_path}/no/q.sock,server=on,wait=off: Failed to "
                            f"bind socket: No such file or directory\n")
    long = "/tmp/" + "x" * 120
    rc, _, err = cli("run", "-serial", "null", "-qmp", f"unix:{long},server=on,wait=off", build("qmp_count.c"))
    assert (rc, err) == (1, f"pyaarch64: -qmp unix:{long},server=on,wait=off: Failed to bind socket: "
                            f"AF_UNIX path too long\n")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    rc, _, err = cli("run", "-serial", "null", "-chardev", f"socket,id=q,host=127.0.0.1,port={port},"
                     f"server=on,wait=off", "-mon", "chardev=q,mode=control",
                     "-qmp", f"unix:{tmp_path / 'ok.sock'},server=on,wait=off",
                     "-monitor", f"unix:{tmp_path / 'hmp.sock'},server=on,wait=off", build("qmp_count.c"))
    busy.close()
    assert rc == 1 and "Failed to bind socket: Address already in use" in err
    assert not (tmp_path / "ok.sock").exists()          # the ones opened first were closed
    assert not (tmp_path / "hmp.sock").exists()


def test_json_writer():
    """qjson: QEMU's key order (QDict buckets), escapes."""
    assert qjson.dumps({"running": True, "singlestep": False, "status": "x"}) == \
        '{"status": "x", "singlestep": false, "running": true}'
    assert qjson.dumps({"a": "\u00e9\x1b\"\\/\n\U0001F600", "b": [None, 1.5, -2]}) == \
        '{"a": "\\u00E9\\u001B\\"\\\\/\\n\\uD83D\\uDE00", "b": [null, 1.5, -2]}'
    assert qjson.Splitter().feed(b'{"a"') == []


def test_ports_in_process(tmp_path):
    """The transport's edges: a client's data and leaving as queued events, a read that
    fails ends the connection, closing twice, hanging up on a socket already gone, a
    write that fails marks the connection dead."""
    from pyaarch64.emu import chardev
    spec = chardev.parse_legacy("-qmp", f"unix:{tmp_path / 'p.sock'},server=on,wait=off")
    port = chardev.open_port(spec)
    c = socket.socket(socket.AF_UNIX)
    c.connect(str(tmp_path / "p.sock"))
    c.sendall(b"hi")
    c.close()
    evs = []
    for _ in range(100):
        evs += list(port.events())
        if evs and evs[-1][0] == "close":
            break
        time.sleep(0.05)
    assert [e[0] for e in evs] == ["open", "data", "close"] and evs[1][2] == b"hi"
    port.close()
    port.close()                        # (the socket file is gone already: fine)
    assert not os.path.exists(tmp_path / "p.sock")

    def broken(n):
        raise OSError(5, "I/O error")
    port._pump("conn", broken)
    assert list(port.events()) == [("close", "conn")]
    chardev._hangup(socket.socket())        # not connected (ENOTCONN): no error
    died = []
    conn = Conn(broken, lambda: died.append(1))
    conn.send(b"x")
    conn.t.join(5)
    assert conn.dead and died == [1]


def test_splitter_limits_and_messages(monkeypatch):
    monkeypatch.setattr(qjson, "MAX_SIZE", 100)
    sp = qjson.Splitter()
    assert sp.feed(b'{"a": "' + b"x" * 200) == [("error", "JSON token size limit exceeded")]
    assert qjson.parse(b"[" * 100000 + b"]" * 100000) == ("error", "JSON nesting depth limit exceeded")
    assert qjson.parse(b"42abc") == ("error", "JSON parse error, extra data")
    assert qjson.parse(b'{"a": "x\\"]", "b": [1] "c": 2}') == \
        ("error", "JSON parse error, expected separator in dict")


def test_no_shutdown_without_qmp():
    """-no-shutdown with only an HMP monitor on stdio: the guest powers off (PSCI), the
    emulator stays, paused, in "shutdown"; `quit` ends it."""
    hello = os.path.join(os.path.dirname(__file__), "guest", "hello.elf")
    p = subprocess.Popen([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-serial", "null",
                          "-monitor", "stdio", "-no-shutdown", hello], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    def reply():
        out = b""
        while not out.endswith(b"(qemu) "):
            d = os.read(p.stdout.fileno(), 4096)
            assert d, out
            out += d
        return out
    try:
        reply()                                     # the banner
        for _ in range(300):                        # until the guest is off
            p.stdin.write(b"info status\n")
            p.stdin.flush()
            if b"VM status: paused (shutdown)\r\n" in reply():
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the VM never reached status shutdown")
        p.stdin.write(b"quit\n")
        p.stdin.flush()
        assert p.wait(30) == 0
    finally:
        p.kill()
