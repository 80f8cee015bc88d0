"""In-memory snapshots by name (snapshot/state.py): a guest saved mid-run (timer
interrupts, GIC state, EL0 round trips in flight) resumes to the same output and
instruction count as an uninterrupted run; save -> restore -> save is identical;
values outside a register's writable bits, identity mismatches and malformed
sections are refused with every problem named, and the machine is left untouched."""
import copy
import random

import pytest

import pyaarch64
from guestbuild import build
from pyaarch64.snapshot.state import SnapshotError
from pyaarch64.cpu import sysregs as SR


def timer_elf():
    return build("timer.c", extra_sources=("vectors.S",))


def full_run(elf, machine="virt-7.2"):
    m = pyaarch64.Machine(machine=machine)
    m.load_elf(elf)
    stop = m.run(max_insns=50_000_000)
    assert stop.kind == "poweroff", stop
    return bytes(m.serial_output), m.icount, m.snapshot()


# 3_211_000: the physical timer's interrupt is pending at the GIC and the CPU's IRQ
# line is up (masked by DAIF): post_load must drive it again
@pytest.mark.parametrize("at", [5_000, 60_000, 250_000, 1_000_000, 2_000_000, 3_100_000,
                                3_211_000, 3_215_000])
def test_resume_mid_run_gives_the_same_end(at):
    elf = timer_elf()
    want_out, want_n, want_end = full_run(elf)
    assert want_n > at
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(elf)
    assert m.run(max_insns=at).kind == "budget"
    before = bytes(m.serial_output)
    snap = m.snapshot()
    # a fresh machine of the same type continues from the snapshot
    m2 = pyaarch64.Machine(machine="virt-7.2")
    m2.load_elf(elf)
    m2.restore(snap)
    stop = m2.run(max_insns=50_000_000)
    assert stop.kind == "poweroff", stop
    assert before + bytes(m2.serial_output) == want_out
    assert m2.icount == want_n
    # and the whole machine ends in the same state (virtual time, timers, GIC, RAM)
    # (the board's start time is the host clock when each machine was created: the
    # resumed machine has the snapshot's)
    end = m2.snapshot()
    assert end.sections["board"] == snap.sections["board"]
    for name in ("cpu0", "gic", "pl011", "pl031"):
        assert end.sections[name] == want_end.sections[name], name
    assert bytes(end.ram) == bytes(want_end.ram)


def test_save_restore_save_is_identical():
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(timer_elf())
    m.run(max_insns=200_000)
    s1 = m.snapshot()
    m2 = pyaarch64.Machine(machine="virt-7.2")
    m2.restore(s1)
    s2 = m2.snapshot()
    assert s1.sections == s2.sections and s1.identity == s2.identity and bytes(s1.ram) == bytes(s2.ram)


def test_random_values_within_masks_round_trip():
    rng = random.Random(5)
    m = pyaarch64.Machine(machine="virt-7.2")
    snap = m.snapshot()
    cpu = m._m.cpu
    s = snap.sections["cpu0"]
    for row in SR.ROWS:
        if row.name in s and row.kind == SR.K_PLAIN and row.handler == SR.H_NONE:
            slot = SR.SLOT[row.name]
            wm, reset = int(cpu.sysr[slot, SR.R_WMASK]), int(cpu.sysr[slot, SR.R_RESET])
            s[row.name] = (reset & ~wm) | (rng.getrandbits(64) & wm)
    for i in range(31):
        s[f"x{i}"] = rng.getrandbits(64)
    for i in range(32):
        s[f"v{i}"] = rng.getrandbits(128)
    m2 = pyaarch64.Machine(machine="virt-7.2")
    m2.restore(snap)
    assert m2.snapshot().sections["cpu0"] == s
    assert m2.reg_read("q7") == s["v7"] and m2.reg_read("x3") == s["x3"]


def test_bits_outside_the_writable_mask_are_refused_and_nothing_changes():
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(timer_elf())
    m.run(max_insns=100_000)
    before = m.snapshot()
    bad = copy.deepcopy(before)
    bad.sections["cpu0"]["VBAR_EL1"] |= 0x1F          # bits 4:0 are RES0
    bad.sections["cpu0"]["x5"] = 12345
    with pytest.raises(SnapshotError) as e:
        m.restore(bad)
    msg = str(e.value)
    assert "VBAR_EL1" in msg and "0x1f" in msg
    after = m.snapshot()
    assert after.sections == before.sections and bytes(after.ram) == bytes(before.ram)


def test_identity_and_structure_problems_are_all_named():
    m = pyaarch64.Machine(machine="virt-7.2")
    good = m.snapshot()
    bad = copy.deepcopy(good)
    bad.identity["MIDR_EL1"] = 0x410FD034
    bad.sections["cpu0"]["NOT_A_REG"] = 1
    del bad.sections["cpu0"]["TTBR0_EL1"]
    del bad.sections["pl031"]
    bad.sections["gic"]["priority"] = bad.sections["gic"]["priority"][:10]
    with pytest.raises(SnapshotError) as e:
        m.restore(bad)
    p = "\n".join(e.value.problems)
    assert "MIDR_EL1: snapshot 0x410fd034, this machine 0x411fd070" in p
    assert "Variant: 0x0 vs 0x1" in p and "PartNum: 0xd03 vs 0xd07" in p
    assert "unknown field 'NOT_A_REG'" in p and "missing field 'TTBR0_EL1'" in p
    assert "missing section 'pl031'" in p and "gic.priority: 10 entries" in p


def test_other_machine_type_or_cpu_is_refused():
    snap = pyaarch64.Machine(machine="virt-9.1").snapshot()
    m = pyaarch64.Machine(machine="virt-7.2")
    with pytest.raises(SnapshotError) as e:
        m.restore(snap)
    p = "\n".join(e.value.problems)
    assert "machine type 'virt-9.1'" in p and "CNTFRQ_EL0.reset" in p
    snap = pyaarch64.Machine(machine="virt-7.2", cpu="cortex-a53").snapshot()
    with pytest.raises(SnapshotError) as e:
        m.restore(snap)
    assert "CPU model 'cortex-a53'" in str(e.value) and "MIDR_EL1" in str(e.value)


def test_a_different_icount_shift_is_refused():
    snap = pyaarch64.Machine(machine="virt-7.2").snapshot()
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot.state import restore
    vm = VirtMachine("virt-7.2", icount_shift=3)
    with pytest.raises(SnapshotError, match="taken with -icount shift=0, this machine runs with shift=3"):
        restore(vm, snap)


# --- declarations: subsections with `needed`, fields with since= defaults -----------------
def test_subsection_written_only_when_needed_and_defaulted_when_absent():
    m = pyaarch64.Machine(machine="virt-9.2")       # PL011 with the TRM's receive timeout
    vm = m._m
    assert "pl011/rx-timeout" not in m.snapshot().sections
    vm.uart.lcr = 0x10                              # FIFO enabled
    vm.uart.rx = [0x41, 0x42]
    vm.uart.rt_deadline = 123_456
    snap = m.snapshot()
    assert snap.sections["pl011/rx-timeout"] == {"rt_deadline": 123_456}
    assert snap.sections["pl011"]["rx"] == [0x41, 0x42]
    m2 = pyaarch64.Machine(machine="virt-9.2")
    m2._m.uart.rt_deadline = 99
    m2.restore(snap)
    assert m2._m.uart.rt_deadline == 123_456 and m2._m.uart.rx == [0x41, 0x42]
    del snap.sections["pl011/rx-timeout"]           # absent: the declared default
    m2.restore(snap)
    assert m2._m.uart.rt_deadline == -1
    bad = copy.deepcopy(snap)
    bad.sections["pl031/nonsense"] = {}
    with pytest.raises(SnapshotError, match="unknown section 'pl031/nonsense'"):
        m2.restore(bad)


def test_field_added_in_a_later_section_version_takes_its_default(monkeypatch):
    from pyaarch64.machine.pl031 import PL031
    old = pyaarch64.Machine(machine="virt-7.2").snapshot()       # pl031 version 1
    assert old.versions["pl031"] == 1
    monkeypatch.setattr(PL031, "STATE_VERSION", 2, raising=False)
    monkeypatch.setattr(PL031, "STATE_FIELDS", PL031.STATE_FIELDS + (("future", "u32", 2, 7),))
    m = pyaarch64.Machine(machine="virt-7.2")
    m._m.rtc.future = 0
    m.restore(old)
    assert m._m.rtc.future == 7
    new = m.snapshot()
    assert new.versions["pl031"] == 2 and new.sections["pl031"]["future"] == 7
    # a field of the file's own version must be there
    bad = copy.deepcopy(new)
    del bad.sections["pl031"]["future"]
    with pytest.raises(SnapshotError, match="pl031: missing field 'future'"):
        m.restore(bad)
    # a section newer than this release reads
    bad = copy.deepcopy(new)
    bad.versions["pl031"] = 3
    with pytest.raises(SnapshotError, match="section 'pl031' is version 3: this pyaarch64 "
                                            "reads up to version 2"):
        m.restore(bad)


def test_id_register_rows_added_later_load_only_when_they_read_as_zero():
    m = pyaarch64.Machine(machine="virt-7.2")
    snap = m.snapshot()
    zero = [k for k, v in snap.identity.items() if v == 0 and k.startswith("ID_AA64")]
    assert "ID_AA64ZFR0_EL1" in zero or zero
    older = copy.deepcopy(snap)
    del older.identity[zero[0]]                # a file from before that row existed
    m.restore(older)
    older = copy.deepcopy(snap)
    del older.identity["ID_AA64ISAR0_EL1"]      # not RAZ: the platform really differs
    del older.identity["prop.pl011.trm-rx-interrupts"]
    with pytest.raises(SnapshotError) as e:
        m.restore(older)
    p = "\n".join(e.value.problems)
    assert "this machine has ID_AA64ISAR0_EL1 = 0x11120, which the snapshot's platform did not have" in p
    assert "this machine has prop.pl011.trm-rx-interrupts = 0x0" in p


def test_unknown_machine_type_lists_the_known_ones():
    m = pyaarch64.Machine(machine="virt-9.2")
    snap = m.snapshot()
    snap.machine_type = "virt-12.0"
    with pytest.raises(SnapshotError) as e:
        m.restore(snap)
    assert ("snapshot is of machine type 'virt-12.0', which this pyaarch64 does not know "
            "(it has virt-4.1, virt-4.2,") in str(e.value) and "virt-10.0)" in str(e.value)


def _unchanged(m, before):
    after = m.snapshot()
    return after.sections == before.sections and bytes(after.ram) == bytes(before.ram)


@pytest.mark.parametrize("edit, problem", [
    (lambda s: s.sections.__setitem__("pl011", None), "section 'pl011' is not an object of fields"),
    (lambda s: s.sections.__setitem__("cpu0", [1, 2]), "section 'cpu0' is not an object of fields"),
    (lambda s: s.versions.__setitem__("cpu0", 0), "section 'cpu0' has version 0: versions are integers from 1"),
    (lambda s: s.versions.__setitem__("gic", -1), "section 'gic' has version -1: versions are integers from 1"),
    (lambda s: s.versions.__setitem__("gic", True), "section 'gic' has version True: versions are integers from 1"),
    (lambda s: s.versions.__setitem__("nope", 1), "version given for unknown section 'nope'"),
    (lambda s: s.sections["pl011"].__setitem__("rx", [65] * 100_000), "pl011.rx: 100000 entries, at most 16 fit"),
    (lambda s: s.sections["gic"]["enabled"].__setitem__(3, True), "gic.enabled: not a list of u8 values (an entry is True)"),
    (lambda s: s.sections["cpu0"].__setitem__("x3", True), "cpu0.x3: not an integer (True)"),
    (lambda s: setattr(s, "ram", None), "ram: not bytes (NoneType)"),
    (lambda s: setattr(s, "ram", bytes(100)), "ram: 100 bytes, this machine has 134217728"),
    (lambda s: setattr(s, "schema", {"cpu0": 5}), "schema: not an object of object values ('cpu0': 5)"),
    (lambda s: setattr(s, "identity", None), "identity: not an object (None)"),
    (lambda s: setattr(s, "machine_type", 7.2), "machine_type: not a string (7.2)"),
    (lambda s: setattr(s, "versions", [1]), "versions: not an object ([1])"),
    # values beyond what the declarations let the device or CPU hold
    (lambda s: s.sections["pl011"].update(rx=[65, 66]),
     "pl011.rx: 2 characters, but with the FIFO disabled (LCR_H.FEN 0) only 1 fits"),
    (lambda s: s.sections["pl011"].update(lcr=0x100), "pl011.lcr: 0x100 has bits 0x100 set outside 0xff"),
    (lambda s: s.sections["pl011"].update(ris=0x80), "pl011.ris: 0x80 has bits 0x80 set outside 0x70"),
    (lambda s: s.sections["gic"]["level"].__setitem__(40, 2),
     "gic.level: entry 40: 0x2 has bits 0x2 set outside 0x1"),
    (lambda s: s.sections["gic"]["abpr"].__setitem__(0, 0), "gic.abpr: entry 0: 0x0 is below 0x1"),
    (lambda s: s.sections["gic"].update(ctlr=4), "gic.ctlr: 0x4 has bits 0x4 set outside 0x3"),
    (lambda s: s.sections["pl031"].update(alarm_ns=-5), "pl031.alarm_ns: -5 is below -1"),
    (lambda s: s.sections["pl031"].update(alarm_ns=1 << 63), "pl031.alarm_ns: 0x8000000000000000 does not fit in i64"),
    (lambda s: s.sections["cpu0"].update({"exclusive.size": 3}),
     "cpu0.exclusive.size: 0x3 is not one of 0x0, 0x1, 0x2, 0x4, 0x8, 0x10"),
    (lambda s: s.sections["cpu0"].update(pstate=0x3c9), "cpu0.pstate: mode field 0x9 is not EL0t, EL1t or EL1h"),
    (lambda s: s.sections["cpu0"].update(v3=1 << 128), "cpu0.v3: 0x100000000000000000000000000000000 does not fit in u128"),
    (lambda s: s.sections["board"].update(start_time="now"), "board.start_time: not an integer ('now')"),
])
def test_hostile_sections_are_refused_and_nothing_changes(edit, problem):
    """The examples of issue 13: a section set to null, a section version of 0 or -1
    (it switched the missing-field check off), a PL011 receive FIFO of 100,000 bytes,
    True inside GIC lists, ...: refused, with the section and field named, and the
    machine exactly as before."""
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(timer_elf())
    m.run(max_insns=100_000)
    before = m.snapshot()
    bad = copy.deepcopy(before)
    edit(bad)
    with pytest.raises(SnapshotError) as e:
        m.restore(bad)
    assert problem in e.value.problems, e.value.problems
    assert _unchanged(m, before)


def test_a_load_that_fails_while_writing_is_undone(monkeypatch):
    """All or nothing by construction: should writing the state fail after the checks
    passed (here a device's post_load), what was written is put back."""
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(timer_elf())
    m.run(max_insns=100_000)
    before = m.snapshot()
    other = pyaarch64.Machine(machine="virt-7.2")
    other.load_elf(timer_elf())
    other.run(max_insns=300_000)
    snap = other.snapshot()
    rtc = m._m.rtc
    calls = []

    def post_load():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("device refused")
    monkeypatch.setattr(rtc, "post_load", post_load)
    with pytest.raises(SnapshotError) as e:
        m.restore(snap)
    assert e.value.problems == ["loading failed and was undone (RuntimeError: device refused)"]
    assert _unchanged(m, before)
    m.restore(snap)                                  # the machine still works
    assert m.icount == other.icount


def test_the_platform_identity_does_not_depend_on_state():
    """CCSIDR_EL1 reads the cache CSSELR_EL1 selects, DCZID_EL0.DZP follows SCTLR_EL1.DZE
    at EL0: a guest that selected the L2 cache, or a snapshot taken at EL0, is still the
    same platform (found by the fuzz campaign: a snapshot of such a state made every
    later restore of the machine fail with 'platform identity differs in CCSIDR_EL1')."""
    m = pyaarch64.Machine(machine="virt-7.2")
    base = m.snapshot()
    m.reg_write("CSSELR_EL1", 2)                  # L2
    assert m.reg_read("CCSIDR_EL1") != base.identity["CCSIDR_EL1"]
    other = m.snapshot()
    assert other.identity == base.identity
    m.restore(copy.deepcopy(base))               # (a copy: the checked path)
    m.restore(copy.deepcopy(other))
    assert m.reg_read("CSSELR_EL1") == 2
