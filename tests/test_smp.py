"""Several CPUs (-smp N, machine/smp.py).

Guests tests/guest/smp*.c bring CPUs up with PSCI, count with load/store-exclusive
on every CPU, send SGIs, use each CPU's own timer, and check that code and
mappings one CPU changes are what another then runs and reads; their expected
output comes from QEMU 7.2 (PYAARCH64_REGEN_EXPECTED=1 pytest tests/test_smp.py -m
qemu).  The rest: the schedule is a function of the state (a snapshot taken
mid-run resumes exactly as the run would have gone on), a snapshot of N CPUs is
refused by a board of M, the command line and the monitors.
"""
import json
import os
import re
import subprocess

import pytest

from guestbuild import GUEST, build, cli
from tools import needs

QEMU = "qemu-system-aarch64"
MACHINE = "virt-7.2"
EXPECTED = os.path.join(GUEST, "expected")
qemu = needs(QEMU)

# guest -> number of CPUs
GUESTS = {"smp.c": 4, "smp_coherence.c": 2}


def run_ours(elf, smp, max_insns=400_000_000):
    from pyaarch64.machine.virt import VirtMachine
    out = bytearray()
    m = VirtMachine(MACHINE, serial=out.extend, smp=smp)
    m.load_kernel(elf)
    stop = m.run(max_insns=max_insns)
    return out.decode("latin-1"), stop, m


def expected(name):
    with open(os.path.join(EXPECTED, os.path.splitext(name)[0] + ".txt"), encoding="latin-1") as f:
        return f.read()


@pytest.mark.parametrize("name", sorted(GUESTS))
def test_guest_prints_what_qemu_prints(name):
    out, stop, _ = run_ours(build(name), GUESTS[name])
    assert stop.kind == "poweroff", stop
    assert out == expected(name)


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(GUESTS))
def test_guest_on_qemu_matches_expected(name):
    elf = build(name)
    r = subprocess.run([QEMU, "-M", MACHINE, "-cpu", "cortex-a57", "-m", "128M", "-smp",
                        str(GUESTS[name]), "-nographic", "-monitor", "none", "-serial", "stdio",
                        "-kernel", elf], capture_output=True, timeout=120)
    out = r.stdout.decode("latin-1")
    if os.environ.get("PYAARCH64_REGEN_EXPECTED"):
        with open(os.path.join(EXPECTED, os.path.splitext(name)[0] + ".txt"), "w",
                  encoding="latin-1", newline="") as f:
            f.write(out)
    assert r.returncode == 0 and out == expected(name)


def _state(m):
    return ([c.icount for c in m.cpus], [c.pc for c in m.cpus], m.virtual_ns(),
            [int(c.reg("x0")) for c in m.cpus], list(m.smp.power))


def test_runs_are_deterministic_and_a_snapshot_resumes_the_same_schedule(tmp_path):
    """The same guest twice: the same instruction counts on every CPU; cut by a
    snapshot at an arbitrary instruction (mid-turn, CPUs up and counting) and
    resumed in another machine from its file, it ends exactly the same."""
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot import format as F
    from pyaarch64.snapshot.state import save, restore
    elf = build("smp.c")
    out1, stop1, m1 = run_ours(elf, 4)
    out2, stop2, m2 = run_ours(elf, 4)
    assert (out1, stop1.kind, _state(m1)) == (out2, stop2.kind, _state(m2))

    out = bytearray()
    m = VirtMachine(MACHINE, serial=out.extend, smp=4)
    m.load_kernel(elf)
    assert m.run(max_insns=456_789).kind == "budget"
    assert m.smp.power == [0, 0, 0, 0] and 0 < m.cpus[m.smp.current].icount < m.smp.turn_end
    F.write(str(tmp_path / "mid.snap"), save(m))
    head = bytes(out)
    rest = bytearray()
    m3 = VirtMachine(MACHINE, serial=rest.extend, smp=4)
    restore(m3, F.read(str(tmp_path / "mid.snap")))
    assert m3.run(max_insns=400_000_000).kind == "poweroff"
    assert head.decode("latin-1") + rest.decode("latin-1") == out1
    assert _state(m3) == _state(m1)


def test_a_snapshot_needs_the_same_number_of_cpus():
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot.state import save, restore, SnapshotError
    two = VirtMachine(MACHINE, smp=2)
    two.load_kernel(build("smp_coherence.c"))
    two.run(max_insns=100_000)
    snap = save(two)
    for n in (1, 4):
        other = VirtMachine(MACHINE, smp=n)
        with pytest.raises(SnapshotError) as e:
            restore(other, snap)
        assert "smp.cpus" in str(e.value), str(e.value)
    one = VirtMachine(MACHINE)
    with pytest.raises(SnapshotError) as e:
        restore(two, save(one))
    assert "smp.cpus" in str(e.value)


def test_a_cpu_off_everywhere_halts_with_a_message():
    """Every CPU powered off (PSCI CPU_OFF on each): nothing can run any more."""
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.cpu import ops as O
    m = VirtMachine(MACHINE, smp=2)
    # CPU 0: x0 = CPU_OFF; hvc #0
    code = (0xD2800040).to_bytes(4, "little") + (0xF2B08000).to_bytes(4, "little") + \
        (0xD4000002).to_bytes(4, "little")
    m.write_memory(0x4000_0000, code)
    m.cpu.pc = 0x4000_0000
    r = m.run(max_insns=1000)
    assert r.kind == "halted" and "every CPU is powered off" in r.message
    assert m.smp.power == [1, 1] and int(m.cpu.ctl[O.C_PC]) == 0x4000_000c


# --- the command line and the monitors ---------------------------------------------------
@pytest.mark.parametrize("arg, message", [
    ("9", "Number of SMP CPUs requested (9) exceeds max CPUs supported by machine 'mach-virt' (8)"),
    ("cpus=4,maxcpus=2", "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
                         "sockets (1) * clusters (1) * cores (2) * threads (1) == maxcpus (2) "
                         "< smp_cpus (4)"),
    ("4,foo=1", "Parameter 'smp.foo' is unexpected"),
    ("x", "Parameter 'smp.cpus' expects integer"),
    ("sockets=2,cores=3,maxcpus=4", "Invalid CPU topology: product of the hierarchy must match "
                                    "maxcpus: sockets (2) * clusters (1) * cores (3) * threads (0) "
                                    "!= maxcpus (4)"),
])
def test_bad_smp_arguments_say_what_qemu_says(arg, message):
    rc, out, err = cli("run", "-smp", arg, "-M", "virt,dumpdtb=/dev/null")
    assert rc == 1 and err == f"pyaarch64: -smp {arg}: {message}\n"
    if subprocess.run(["which", QEMU], capture_output=True).returncode == 0:
        r = subprocess.run([QEMU, "-M", "virt", "-smp", arg, "-display", "none", "-S",
                            "-monitor", "none", "-serial", "none"], capture_output=True, timeout=30)
        assert message in r.stderr.decode(), r.stderr


def test_topologies_qemu_accepts():
    from pyaarch64.emu.smpopts import parse_smp
    t = parse_smp("cores=2,threads=2,maxcpus=8")
    assert (t.cpus, t.maxcpus, t.sockets, t.cores, t.threads) == (8, 8, 2, 2, 2)
    t = parse_smp("2,maxcpus=4")
    assert (t.cpus, t.maxcpus, t.sockets, t.cores) == (2, 4, 1, 4)
    assert parse_smp("2,cpus=3").cpus == 3            # (the last value counts)
    assert parse_smp("sockets=2,cores=2").cpus == 4


def test_monitor_lists_and_selects_cpus(tmp_path):
    from pyaarch64.emu.monitor import Monitor
    from pyaarch64.emu.qmp import Qmp
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot.store import SnapshotStore
    from pyaarch64.emu.smpopts import parse_smp
    m = VirtMachine(MACHINE, smp=4, topology=parse_smp("sockets=2,cores=2"))
    m.load_kernel(build("smp.c"))
    m.run(max_insns=2_000_000)
    mon = Monitor(m, SnapshotStore(str(tmp_path)))
    assert re.fullmatch(r"\* CPU #0: thread_id=(\d+)\r\n  CPU #1: thread_id=\1\r\n"
                        r"  CPU #2: thread_id=\1\r\n  CPU #3: thread_id=\1\r\n",
                        mon.execute("info cpus"))
    assert mon.execute("cpu 2") == ""
    assert mon.execute("info cpus").split("\r\n")[2].startswith("* CPU #2")
    assert f"PC={m.cpus[2].pc:016x}" in mon.execute("info registers")
    assert mon.execute("p $pc") == f"{m.cpus[2].pc}\r\n"
    assert mon.execute("cpu 4") == "invalid CPU index\r\n"
    q = Qmp(mon, MACHINE)
    cpus = q.q_cpus({})
    assert [c["cpu-index"] for c in cpus] == [0, 1, 2, 3]
    assert [c["props"] for c in cpus][3] == {"socket-id": 1, "cluster-id": 0, "core-id": 1,
                                              "thread-id": 0}
    assert json.dumps(cpus)


def test_a_store_exclusive_fails_after_another_cpus_aba_writes():
    """The exclusive monitor is lost when another CPU runs (machine/smp.py): a
    load/store-exclusive pair never succeeds over another CPU's writes, even ones
    that put the value back (QEMU 7.2 compares values and lets it succeed)."""
    out, stop, _ = run_ours(build("smp_aba.c"), 2)
    assert stop.kind == "poweroff", stop
    assert out == "stxr after another CPU's A-B-A: failed, word 0\nEXIT 0\n"


def test_wfe_lets_the_cpu_waited_for_run():
    """A spin-wait with WFE (Linux's) ends the waiting CPU's turn when another CPU
    can run: CPU 0 retires far fewer instructions than a quantum before CPU 1 has
    answered (the same guest prints the same on QEMU)."""
    from pyaarch64.machine.smp import QUANTUM
    out, stop, m = run_ours(build("smp_wfe.c"), 2)
    assert stop.kind == "poweroff" and out == "CPU 1 set the flag: 1\nEXIT 0\n"
    assert m.cpus[0].icount < QUANTUM // 10, m.cpus[0].icount


def test_api_machine_with_cpus():
    from pyaarch64.emu.api import Machine
    from pyaarch64.errors import MachineError
    mach = Machine(MACHINE, smp=2)
    assert mach.cpu_count == 2
    mach.load_kernel(build("smp_wfe.c"))
    r = mach.run(max_insns=10_000_000)
    assert r.kind == "poweroff" and mach.serial_output == b"CPU 1 set the flag: 1\nEXIT 0\n"
    assert mach.reg_read("MPIDR_EL1", cpu=1) == 0x8000_0001
    assert mach.icount == sum(c.icount for c in mach._m.cpus)
    with pytest.raises(MachineError):
        mach.reg_read("x0", cpu=2)


def test_sevl_then_wfe_does_not_wait():
    """SEVL sets the event register and the next WFE consumes it without ending
    the CPU's turn; a WFE with no event hands the turn to the busy CPU 1."""
    out, stop, _ = run_ours(build("smp_sevl.c"), 2)
    assert stop.kind == "poweroff", stop
    assert out == "across sevl;wfe: same; across wfe: moved\nEXIT 0\n"


@pytest.mark.parametrize("field, value, message", [
    ("current", 2, "smp.current: 0x2 is above 0x1"),
    ("power", [0, 3], "smp.power: entry 1: 0x3 is above 0x2"),
    ("waiting", [0, 0, 0], "smp.waiting: 3 entries, this machine has 2"),
])
def test_a_damaged_smp_section_is_refused_and_changes_nothing(field, value, message):
    import copy
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot.state import save, restore, SnapshotError
    m = VirtMachine(MACHINE, smp=2)
    m.load_kernel(build("smp_wfe.c"))
    m.run(max_insns=50_000)
    snap = copy.deepcopy(save(m))
    snap.sections["smp"][field] = value
    before = (save(m).sections, m.cpu_index)
    with pytest.raises(SnapshotError) as e:
        restore(m, snap)
    assert message in str(e.value), str(e.value)
    assert (save(m).sections, m.cpu_index) == before


def test_gdb_thread_ids_name_cpus_or_are_refused():
    from pyaarch64.emu.gdbstub import GdbServer
    from pyaarch64.machine.virt import VirtMachine
    m = VirtMachine(MACHINE, smp=2)
    g = GdbServer(m, None)
    assert g._handle("qfThreadInfo", b"") == "m01,02"
    assert g._handle("Hg2", b"") == "OK" and g._cpu() is m.cpus[1]
    assert g._handle("Hg0", b"") == "OK" and g._cpu() is m.cpu
    for bad in ("Hg3", "Hgzz", "T3", "qThreadExtraInfo,3", "Hx1"):
        assert g._handle(bad, b"") == "E22", bad
    assert bytes.fromhex(g._handle("qThreadExtraInfo,2", b"")) == b"CPU#1 [halted ]"
