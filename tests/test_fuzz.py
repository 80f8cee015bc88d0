"""Fuzzing as part of the tests (issue 13): hostile snapshot headers and sections,
ELF headers, command lines and random instruction streams at EL0 and EL1.  Each
input must be accepted or refused with a clean, specific error (a refused snapshot
leaving the machine exactly as it was); a random stream must come back from run().
A bounded sample runs in the fast tier, a longer one in the slow tier; the campaign
script (tests/fuzz_campaign.py) runs as long as you like and prints a summary."""
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fuzz
import pyaarch64
from guestbuild import build
from pyaarch64.snapshot import format as F

FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
LONG = settings(max_examples=800, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def snap_case():
    """A machine mid-run and its own snapshot file's bytes and header."""
    import json
    import struct
    m = pyaarch64.Machine(machine="virt-7.2", ram_size=16 << 20)   # (cheap to compare)
    m.load_elf(build("timer.c", extra_sources=("vectors.S",)))
    m.run(max_insns=300_000)
    data = F.encode(m.snapshot())
    hstart = len(F.MAGIC) + 12
    hlen = struct.unpack_from("<Q", data, len(F.MAGIC) + 4)[0]
    return m, data, json.loads(data[hstart:hstart + hlen]), fuzz.fingerprint(m)


def _snapshot_property(snap_case, bad):
    """Refused cleanly (the machine as it was), or loaded and able to run."""
    m, data, header, before = snap_case
    if fuzz.check_snapshot_bytes(m, bad, before, run=20_000) == "ok":
        m.restore(F.decode(data)[0])          # (an accepted mutant: back to the base state)


def _header_mutant(snap_case, seed, n):
    rng = random.Random(seed)
    return fuzz.rebuild(snap_case[1], edit_header=lambda h: fuzz.mutate_header(rng, h, n))


def _value_mutant(snap_case, seed, n):
    rng = random.Random(seed)
    return fuzz.rebuild(snap_case[1], edit_header=lambda h: fuzz.mutate_values(rng, h, n))


def _ram_mutant(snap_case, seed):
    rng = random.Random(seed)
    return fuzz.rebuild(snap_case[1], edit_blobs=lambda h, b: fuzz.mutate_ram(rng, h, b))


@FAST
@given(seed=st.integers(0, 2 ** 32), n=st.integers(1, 4))
def test_snapshot_header_mutants(snap_case, seed, n):
    _snapshot_property(snap_case, _header_mutant(snap_case, seed, n))


@FAST
@given(seed=st.integers(0, 2 ** 32), n=st.integers(1, 3))
def test_snapshot_value_mutants(snap_case, seed, n):
    _snapshot_property(snap_case, _value_mutant(snap_case, seed, n))


@FAST
@given(seed=st.integers(0, 2 ** 32))
def test_snapshot_ram_mutants(snap_case, seed):
    _snapshot_property(snap_case, _ram_mutant(snap_case, seed))


@pytest.mark.slow
@LONG
@given(seed=st.integers(0, 2 ** 32), n=st.integers(1, 6))
def test_snapshot_mutants_long(snap_case, seed, n):
    _snapshot_property(snap_case, fuzz.mutate_snapshot(random.Random(seed * 7 + n), snap_case[1])[1])


def _elf_property(tmp_path, seed):
    good = open(build("cli_timerfar.S"), "rb").read()
    fuzz.check_elf_bytes(str(tmp_path), fuzz.mutate_elf(random.Random(seed), good))


@FAST
@given(seed=st.integers(0, 2 ** 32))
def test_elf_header_mutants(tmp_path, seed):
    _elf_property(tmp_path, seed)


@pytest.mark.slow
@LONG
@given(seed=st.integers(0, 2 ** 32))
def test_elf_header_mutants_long(tmp_path, seed):
    _elf_property(tmp_path, seed)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(argv=st.lists(st.sampled_from(fuzz.WORDS) | st.text(max_size=20), min_size=1, max_size=7))
def test_command_lines(argv):
    fuzz.check_argv(argv)


@pytest.fixture(scope="module")
def stream_machine():
    return fuzz.StreamMachine()


@FAST
@given(words=st.lists(st.integers(0, 2 ** 32 - 1), min_size=1, max_size=64), el0=st.booleans())
def test_random_instruction_streams(stream_machine, words, el0):
    assert isinstance(stream_machine.run(words, el0), str)


@pytest.mark.slow
@LONG
@given(words=st.lists(st.integers(0, 2 ** 32 - 1), min_size=1, max_size=512), el0=st.booleans())
def test_random_instruction_streams_long(stream_machine, words, el0):
    assert isinstance(stream_machine.run(words, el0, max_insns=100_000), str)


def test_the_stream_machine_runs_what_it_is_given(stream_machine):
    """(the property above is only worth something if the words really run)"""
    movz_x1 = 0xD2800001 | (0x2A << 5)          # movz x1, #42
    hvc_off = [0xD2800000 | (0x8 << 5), 0xF2A00000 | (0x8400 << 5), 0xD4000002]  # x0 = 0x84000008; hvc #0
    for el0 in (False, True):
        kind = stream_machine.run([movz_x1] + ([] if el0 else hvc_off), el0, max_insns=1000)
        assert stream_machine.m.reg_read("x1") == 42
        assert kind == ("budget" if el0 else "poweroff")


@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2 ** 32))
def test_whole_command_lines(seed):
    """`pyaarch64 run` with random words (real and hostile files, sizes, devices,
    options): it ends by itself and never prints a traceback."""
    import tempfile
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as d:
        words = fuzz.cli_words(d)
        fuzz.check_cli([rng.choice(words) for _ in range(rng.randrange(1, 8))])
