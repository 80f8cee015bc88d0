"""Edge coverage for fuzzers (issue 14, item 3): an AFL-shaped byte bitmap, cleared
at each run(), that tells inputs which reach more of the program apart; off, the
normal loop runs (the coverage loop is a separately compiled variant)."""
import numpy as np
import pytest

import pyaarch64
from guestbuild import build

INPUT = 0x40200000


def parser():
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(build("parser.S"))
    return m, m.snapshot()


def edges(m, snap, data):
    m.restore(snap)
    m.mem_write(INPUT, data.ljust(64, b"\0"))
    r = m.run(max_insns=10_000)
    return r, frozenset(np.flatnonzero(m.coverage).tolist())


def test_each_byte_the_input_gets_right_shows_as_new_edges():
    m, snap = parser()
    cov = m.enable_coverage()
    assert cov.dtype == np.uint8 and len(cov) == 65536
    seen = []
    for data in (b"xxxx", b"Bxxx", b"BUxx", b"BUGx"):
        r, e = edges(m, snap, data)
        assert r.kind == "poweroff"
        seen.append(e)
    for a, b in zip(seen, seen[1:]):
        assert b - a, "a longer right prefix must reach a new edge"
    r, e = edges(m, snap, b"BUG!")
    assert r.kind == "data-abort" and r.address == 0xDEAD0000
    assert edges(m, snap, b"Bxxx")[1] == seen[1]         # the same input, the same edges


def test_the_bitmap_counts_and_is_cleared_per_run_and_sizes():
    m, snap = parser()
    m.enable_coverage(256)
    assert len(m.coverage) == 256
    m.restore(snap)
    m.mem_write(INPUT, b"xxxx")
    m.run(max_insns=10_000)
    first = m.coverage.copy()
    assert first.sum() > 0
    m.restore(snap)
    m.mem_write(INPUT, b"xxxx")
    m.run(max_insns=10_000)
    assert np.array_equal(m.coverage, first)           # not accumulated
    for bad in (100, 3000, 1 << 21):
        with pytest.raises(ValueError, match="power of two"):
            m.enable_coverage(bad)
    m.disable_coverage()
    assert m.coverage is None
    m.restore(snap)
    assert m.run(max_insns=10_000).kind == "poweroff"


def test_coverage_of_a_loop_counts_its_back_edge():
    """hooks.S runs its loop body 10 times, the b.ne back to it is taken 9 times: the
    first from the entry's block, then 8 times the loop's own edge."""
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(build("hooks.S"))
    cov = m.enable_coverage()
    assert m.run(max_insns=1000).kind == "poweroff"
    assert cov.max() == 8 and int(cov.sum()) == 8 + 4       # + entry, the exit, bl, ret
