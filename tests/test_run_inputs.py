"""Machine.run_inputs (issue 14, item 4): a fuzzer's loop -- restore, write the input,
run -- in one call.  Whatever path each run takes (the jitted batch loop, or back to
the host for a device access, a fault, a stop, a hook, a timer due), the results,
the serial output and the machine's final state must be exactly those of the same
loop written in Python with restore(), mem_write() and run()."""
import hashlib

import numpy as np
import pytest

import pyaarch64
from guestbuild import build, symbols
from pyaarch64.snapshot import state as S

INPUT = 0x4020_0000


def machine(**kw):
    path = build("batch.S")
    m = pyaarch64.Machine(machine="virt-7.2", **kw)
    m.load_elf(path)
    r = m.run(until=symbols(path)["entry"])
    assert r.kind == "until", r
    return m


def final(m):
    """Everything a run can change, and the serial output so far."""
    s = S.save(m._m, copy_ram=False)
    secs = {k: v for k, v in s.sections.items() if k != "board"}
    return secs, hashlib.sha256(m._m.ram.tobytes()).hexdigest(), m.serial_output


def loop_in_python(m, snap, inputs, max_insns, virtual=False):
    out = []
    for d in inputs:
        m.restore(snap)
        m.mem_write(INPUT, d, virtual)
        out.append(m.run(max_insns=max_insns))
    return out


INPUTS = [b"hash me", b"W\x11", b"hash me too" * 5, b"Phello\0", b"L", b"W\x22", b"R1",
          b"X", b"", b"W\x33", b"P\0", bytes(range(1, 65)), b"Pbye\0", b"L", b"x" * 64]


def same(got, want):
    assert [(r.kind, r.code, r.pc, r.address, r.insn, r.message) for r in got] == \
           [(r.kind, r.code, r.pc, r.address, r.insn, r.message) for r in want]


@pytest.mark.parametrize("max_insns", [10_000, 200, 1])
def test_results_output_and_final_state_are_those_of_the_loop_in_python(max_insns):
    ref = machine()
    snap = ref.snapshot()
    want = loop_in_python(ref, snap, INPUTS, max_insns)
    m = machine()
    snap = m.snapshot()
    got = m.run_inputs(snap, INPUTS, INPUT, max_insns=max_insns)
    same(got, want)
    assert final(m) == final(ref)
    kinds = {r.kind for r in got}
    if max_insns == 10_000:
        assert kinds == {"poweroff", "budget", "undefined"}
        assert m.serial_output == b"hellobye"
    # and again from the state the batch left (a second batch, the same snapshot)
    got = m.run_inputs(snap, INPUTS[::-1], INPUT, max_insns=max_insns)
    same(got, loop_in_python(ref, snap, INPUTS[::-1], max_insns))
    assert final(m) == final(ref)


def test_new_edges_are_those_the_loop_in_python_sees_whatever_path_each_run_took():
    ref, m = machine(), machine()
    snaps = ref.snapshot(), m.snapshot()
    cov = ref.enable_coverage(4096)
    m.enable_coverage(4096)
    seen = np.zeros(len(cov), bool)
    want = []
    for d in INPUTS + INPUTS:
        ref.restore(snaps[0])
        ref.mem_write(INPUT, d)
        r = ref.run(max_insns=10_000)
        hit = cov != 0
        want.append((r.kind, int((hit & ~seen).sum())))
        seen |= hit
    got = m.run_inputs(snaps[1], INPUTS + INPUTS, INPUT, max_insns=10_000)
    assert [(r.kind, r.new_edges) for r in got] == want
    assert sum(n for _, n in want[:len(INPUTS)]) > 0 and all(n == 0 for _, n in want[len(INPUTS):])
    assert np.array_equal(m.coverage, cov)           # the last run's bitmap
    assert np.array_equal(m.coverage_seen != 0, seen)


def test_inputs_longer_than_a_page_and_across_pages_virtual():
    inputs = [bytes([65 + k]) * (5000 + k) for k in range(4)] + [b"W\x44", bytes(9000)]
    ref = machine()
    snap = ref.snapshot()
    want = loop_in_python(ref, snap, inputs, 10_000, virtual=True)
    m = machine()
    snap = m.snapshot()
    same(m.run_inputs(snap, inputs, INPUT, 10_000, virtual=True), want)
    assert final(m) == final(ref)


def test_a_powered_off_machine_refuses_run_and_a_budget_end_does_not():
    m = machine()
    snap = m.snapshot()
    assert m.run_inputs(snap, [b"L", b"ok"], INPUT)[-1].kind == "poweroff"
    with pytest.raises(pyaarch64.MachineError, match="powered off"):
        m.run(max_insns=10)
    assert m.run_inputs(snap, [b"ok", b"L"], INPUT, max_insns=50)[-1].kind == "budget"
    assert m.run(max_insns=10).kind == "budget"
    assert m.run_inputs(snap, [], INPUT) == []


def test_hooks_see_every_run_and_their_runs_are_finished_by_the_host():
    ref, m = machine(), machine()
    snaps = ref.snapshot(), m.snapshot()
    calls = ([], [])
    for mm, c in zip((ref, m), calls):
        mm.hook_add("mem_write", lambda mach, kind, a, size, v, c=c: c.append((a, v)),
                    0x4030_0000, 0x4030_0000 + 64 * 4096)
    inputs = [b"W\x01", b"hash", b"W\x02", b"L"]
    want = loop_in_python(ref, snaps[0], inputs, 5000)
    same(m.run_inputs(snaps[1], inputs, INPUT, 5000), want)
    assert calls[0] == calls[1] and len(calls[1]) == 128
    assert final(m) == final(ref)


def test_a_timer_due_within_the_budget_runs_as_run_does():
    ref, m = machine(), machine()
    for mm in (ref, m):                 # the virtual timer fires 50 ticks from the snapshot
        now = mm.reg_read("CNTVCT_EL0")
        mm.reg_write("CNTV_CVAL_EL0", now + 50)
        mm.reg_write("CNTV_CTL_EL0", 1)
    snaps = ref.snapshot(), m.snapshot()
    inputs = [b"L", b"hash", b"L"]
    want = loop_in_python(ref, snaps[0], inputs, 5000)
    same(m.run_inputs(snaps[1], inputs, INPUT, 5000), want)
    assert final(m) == final(ref)


def test_new_edges_count_what_no_earlier_run_reached():
    path = build("parser.S")
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(path)
    snap = m.snapshot()
    m.enable_coverage()
    rs = m.run_inputs(snap, [b"A", b"A", b"B", b"BU", b"BUX", b"BU", b"BUG", b"BUG!", b"A"], INPUT)
    new = [r.new_edges for r in rs]
    assert new[0] > 0 and new[2] > 0 and new[3] > 0 and new[6] > 0   # a byte more right each
    assert new[1] == new[4] == new[5] == new[8] == 0                 # the same paths again
    assert (rs[7].kind, rs[7].pc) == ("data-abort", symbols(path)["bug"] + 4)
    seen = m.coverage_seen
    assert seen.sum() == sum(new)
    # the bitmap is the last run's, as after run()
    m.restore(snap)
    m.mem_write(INPUT, b"A")
    m.run(max_insns=10_000)
    last = m.coverage.copy()
    m.run_inputs(snap, [b"BUG", b"A"], INPUT)
    assert np.array_equal(m.coverage, last)
    assert sum(r.new_edges for r in m.run_inputs(snap, [b"BUG", b"A"], INPUT)) == 0
    m.coverage_seen[:] = 0                    # start over
    assert m.run_inputs(snap, [b"A"], INPUT)[0].new_edges == new[0]
    m.disable_coverage()
    assert m.coverage_seen is None
    assert m.run_inputs(snap, [b"A"], INPUT)[0].new_edges == 0


def test_bad_arguments_are_refused_and_change_nothing():
    m = machine()
    snap = m.snapshot()
    with pytest.raises(pyaarch64.MachineError, match="max_insns"):
        m.run_inputs(snap, [b"a"], INPUT, max_insns=0)
    with pytest.raises(pyaarch64.MemoryAccessError, match="not RAM"):
        m.run_inputs(snap, [b"a"], 0x1000)
    other = pyaarch64.Machine(machine="virt-4.1")
    with pytest.raises(pyaarch64.SnapshotError):
        other.run_inputs(snap, [b"a"], INPUT)
    assert m.run_inputs(snap, [b"ok"], INPUT)[0].kind == "poweroff"
