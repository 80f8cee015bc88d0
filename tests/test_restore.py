"""Fast restore of in-memory snapshots (issue 14, item 4): a snapshot taken from a
machine, or loaded into it once, is restored without checking it again, and only
the RAM pages written since the machine last matched it are copied back -- the
pages enter the soft TLB's write side once per epoch and are marked there (plain,
pair and vector stores, DC ZVA, stores into decoded code, host writes).  Whatever
the path, the machine must continue exactly as from the snapshot."""
import copy
import hashlib

import numpy as np
import pytest

import pyaarch64
from guestbuild import build
from pyaarch64.snapshot import format as F
from pyaarch64.snapshot import state as S

AT = 40_000          # past dirty.S's fill of zbuf: its loop is running


def machine():
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(build("dirty.S"))
    return m


def fp(m):
    """Everything a run can change (not through snapshot(): that starts an epoch)."""
    s = S.save(m._m, copy_ram=False)
    secs = {k: v for k, v in s.sections.items() if k != "board"}
    return secs, hashlib.sha256(m._m.ram.tobytes()).hexdigest()


def test_restore_puts_back_what_each_run_wrote_and_the_run_repeats():
    ref = machine()
    ref.run(max_insns=AT)
    want = {}
    for n in (1, 300, 5_000, 70_000):            # a fresh run from the snapshot point each
        r = machine()
        r.run(max_insns=AT)
        r.run(max_insns=n)
        want[n] = fp(r)
    m = machine()
    m.run(max_insns=AT)
    snap = m.snapshot()
    at_snap = fp(m)
    for n in (70_000, 1, 5_000, 300, 70_000, 5_000):
        m.run(max_insns=n)
        assert fp(m) == want[n], n
        m.restore(snap)
        assert 0 <= m._m.restore_pages < 40, m._m.restore_pages     # only what was written
        assert fp(m) == at_snap, n
    m.restore(snap)
    assert m._m.restore_pages == 0                     # nothing written since


def test_host_writes_count_and_decoded_code_written_by_the_host_is_forgotten():
    m = machine()
    m.run(max_insns=AT)
    snap = m.snapshot()
    at_snap = fp(m)
    pc = m.pc
    m.run(max_insns=1000)
    # the host patches the loop's `add x2, x2, #1` into `add x2, x2, #2`
    code = m.mem_read(0x40080000, 0x100)
    i = code.find((0x91000442).to_bytes(4, "little"))
    assert i > 0
    m.mem_write(0x40080000 + i, (0x91000842).to_bytes(4, "little"))
    x2 = m.reg_read("x2")
    m.run(max_insns=1000)
    assert m.reg_read("x2") - x2 > 1000 // 20 * 2 - 4          # the patch took effect
    m.restore(snap)
    assert fp(m) == at_snap and m.pc == pc
    m.run(max_insns=1000)
    want = machine()
    want.run(max_insns=AT + 1000)
    assert fp(m) == fp(want)                                     # the original code again


def test_a_snapshot_edited_in_place_is_checked_and_loaded_as_edited():
    m = machine()
    m.run(max_insns=AT)
    snap = m.snapshot()
    m.run(max_insns=1000)
    snap.sections["cpu0"]["x20"] = 0x1234
    m.restore(snap)
    assert m.reg_read("x20") == 0x1234 and m._m.restore_pages == -1
    snap.sections["cpu0"]["pstate"] = 0x3c9                      # invalid: refused
    with pytest.raises(S.SnapshotError, match="cpu0.pstate: mode field 0x9"):
        m.restore(snap)
    with pytest.raises(ValueError, match="read-only"):
        snap.ram[0] = 1                                          # a snapshot is a value


def test_copies_are_new_snapshots_and_two_snapshots_alternate():
    m = machine()
    m.run(max_insns=AT)
    a = m.snapshot()
    fa = fp(m)
    m.run(max_insns=20_000)
    b = m.snapshot()
    fb = fp(m)
    c = copy.deepcopy(a)
    assert c._fast is None and c.ram.flags.writeable
    for snap, want in ((a, fa), (b, fb), (c, fa), (a, fa), (b, fb), (b, fb)):
        m.run(max_insns=3_000)
        m.restore(snap)
        assert fp(m) == want
    assert m._m.restore_pages >= 0                              # (b after b: the fast path)


def test_a_snapshot_restored_into_another_machine_is_checked_there_once(tmp_path):
    m = machine()
    m.run(max_insns=AT)
    snap = m.snapshot()
    other = machine()
    other.restore(snap)                                 # checked (another machine)
    assert other._m.restore_pages == -1 and fp(other) == fp(m)
    other.run(max_insns=5_000)
    other.restore(snap)                                 # now remembered there
    assert 0 < other._m.restore_pages < 40 and fp(other) == fp(m)
    m.restore(snap)
    assert m._m.restore_pages == 0
    # a file's snapshot: loaded once (its RAM adopted), then a snapshot of that state
    path = str(tmp_path / "s.snap")
    F.write(path, snap)
    third = machine()
    third.restore(F.read(path))
    s3 = third.snapshot()
    third.run(max_insns=5_000)
    third.restore(s3)
    assert 0 < third._m.restore_pages < 40 and fp(third) == fp(m)


def test_reset_and_full_copies_start_over():
    m = machine()
    m.run(max_insns=AT)
    snap = m.snapshot()
    at_snap = fp(m)
    m.reset()
    m.restore(snap)
    assert m._m.restore_pages > 0 and fp(m) == at_snap       # reset wrote every page
    assert np.array_equal(m._m.cpu.dirty, np.zeros_like(m._m.cpu.dirty))
