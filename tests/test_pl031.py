"""PL031 real-time clock of the virt board (machine/pl031.py).

tests/guest/rtc_pl031.c checks register behaviour, DR's progression and the
match interrupt through the GIC; its expected output comes from QEMU 7.2 (where
it takes ~6 s of real time; on pyaarch64 it runs with -icount shift=12 so a
guest second is 244k instructions).  The unit tests drive the device with an
explicit virtual clock.
"""
import pytest

from test_gic import guest_matches_expected, qemu, qemu_matches_expected

from pyaarch64.machine.pl031 import PL031

NS = 1_000_000_000
START = 1_700_000_000


class Clock:
    def __init__(self):
        self.ns = 0

    def __call__(self):
        return self.ns


class Line:
    def __init__(self):
        self.level = 0
        self.calls = 0

    def __call__(self, level):
        self.level = level
        self.calls += 1


def make():
    clock, line = Clock(), Line()
    return PL031(clock=clock, start_time=START, irq=line), clock, line


def expire_due(rtc, clock):
    d = rtc.deadline_ns()
    if d is not None and d <= clock.ns:
        rtc.expire(clock.ns)


def test_rtc_guest_matches_expected():
    guest_matches_expected("rtc_pl031.c", b"", 12)


def test_rtc_guest_matches_expected_with_exact_time(monkeypatch):
    """The same guest with the board's run slices cut to 200 instructions, so the
    virtual time an MMIO callback sees is (nearly) exact: what the PL031 does
    once the CPU keeps the count exact inside MMIO callbacks."""
    import pyaarch64.machine.virt as virt
    monkeypatch.setattr(virt, "SLICE", 200)
    guest_matches_expected("rtc_pl031.c", b"", 12)


@qemu
@pytest.mark.qemu
@pytest.mark.slow      # ~6 s of real time on QEMU
def test_rtc_guest_qemu_matches_expected():
    qemu_matches_expected("rtc_pl031.c", b"", timeout=60)


def test_dr_counts_virtual_seconds_from_start_time():
    rtc, clock, _ = make()
    assert rtc.read(0x000, 4) == START
    clock.ns = NS - 1
    assert rtc.read(0x000, 4) == START
    clock.ns = NS
    assert rtc.read(0x000, 4) == START + 1
    clock.ns = 10 * NS + 5
    assert rtc.read(0x000, 4) == START + 10


def test_start_time_may_be_a_callable():
    rtc = PL031(clock=lambda: 3 * NS, start_time=lambda: 100)
    assert rtc.read(0, 4) == 103


def test_load_register_sets_the_count_and_reads_back():
    rtc, clock, _ = make()
    clock.ns = 2 * NS + 300
    rtc.write(0x008, 4, 1000)
    assert rtc.read(0x008, 4) == 1000
    assert rtc.read(0x000, 4) == 1000
    clock.ns = 3 * NS
    assert rtc.read(0x000, 4) == 1001
    rtc.write(0x008, 4, 0xFFFFFFFF)              # the count wraps at 32 bits
    clock.ns = 4 * NS
    assert rtc.read(0x000, 4) == 0


def test_match_interrupt_at_the_second_boundary():
    rtc, clock, line = make()
    rtc.write(0x010, 4, 1)                       # IMSC
    clock.ns = NS // 2
    rtc.write(0x004, 4, START + 3)               # MR
    assert rtc.deadline_ns() == 3 * NS
    clock.ns = 3 * NS - 1
    expire_due(rtc, clock)
    assert rtc.read(0x014, 4) == 0 and line.level == 0
    clock.ns = 3 * NS
    expire_due(rtc, clock)
    assert rtc.read(0x000, 4) == START + 3
    assert rtc.read(0x014, 4) == 1 and rtc.read(0x018, 4) == 1 and line.level == 1
    assert rtc.deadline_ns() is None
    rtc.write(0x01C, 4, 1)                       # ICR
    assert rtc.read(0x014, 4) == 0 and line.level == 0


def test_match_masked_sets_ris_only_and_imsc_raises_line_later():
    rtc, clock, line = make()
    rtc.write(0x004, 4, START)                   # MR == DR: matches at once
    assert rtc.read(0x014, 4) == 1 and rtc.read(0x018, 4) == 0 and line.level == 0
    rtc.write(0x010, 4, 0xFFFFFFFF)
    assert rtc.read(0x010, 4) == 1 and line.level == 1


def test_match_in_the_past_waits_for_wraparound_and_load_reschedules():
    rtc, clock, _ = make()
    rtc.write(0x004, 4, START - 5)
    assert rtc.deadline_ns() == ((START - 5 - START) & 0xFFFFFFFF) * NS
    rtc.write(0x008, 4, START - 7)               # time moved back: 2 s to the match
    assert rtc.deadline_ns() == 2 * NS


def test_read_only_and_ignored_registers():
    rtc, clock, _ = make()
    rtc.write(0x000, 4, 5)
    rtc.write(0x00C, 4, 0)
    rtc.write(0x014, 4, 1)
    assert rtc.read(0x000, 4) == START
    assert rtc.read(0x00C, 4) == 1
    assert rtc.read(0x014, 4) == 0
    assert [rtc.read(0xFE0 + 4 * i, 4) for i in range(8)] == [0x31, 0x10, 0x14, 0, 0x0D, 0xF0, 0x05, 0xB1]
    assert rtc.read(0xFE0, 1) == 0x31


def test_reset_clears_state_and_lowers_line():
    rtc, clock, line = make()
    rtc.write(0x010, 4, 1)
    rtc.write(0x008, 4, 42)
    rtc.write(0x004, 4, 42)
    assert line.level == 1
    rtc.reset()
    assert line.level == 0
    assert (rtc.mr, rtc.lr, rtc.imsc, rtc.ris, rtc.tick_offset) == (0, 0, 0, 0, 0)
    assert rtc.deadline_ns() is None
    assert rtc.read(0, 4) == START


def test_board_rtc_uses_start_time_and_virtual_time():
    from pyaarch64.machine.virt import VirtMachine
    m = VirtMachine(machine="virt-7.2")
    assert m.rtc.read(0, 4) == m.start_time & 0xFFFFFFFF
    assert m.rtc in m.timers


@qemu
@pytest.mark.qemu
@pytest.mark.slow      # ~6 s of real time on QEMU
def test_rtc_guest_errors_match_qemu(tmp_path, monkeypatch):
    """-d guest_errors: the PL031 logs the same accesses as QEMU 7.2."""
    import subprocess
    import pyaarch64.machine.virt as virt
    from guestbuild import build
    from test_gic import QEMU, MACHINE, check_same
    elf = build("rtc_pl031.c")
    log = tmp_path / "qemu.log"
    subprocess.run([QEMU, "-M", MACHINE, "-cpu", "cortex-a57", "-m", "128M", "-nographic",
                    "-monitor", "none", "-serial", "null", "-d", "guest_errors", "-D", str(log),
                    "-kernel", elf], timeout=60, check=True, stdin=subprocess.DEVNULL)
    monkeypatch.setattr(virt, "SLICE", 200)      # exact time (see above)
    got = []
    m = virt.VirtMachine(machine=MACHINE, icount_shift=12)
    m.rtc.guest_error = got.append
    m.load_kernel(elf)
    assert m.run(max_insns=100_000_000).kind == "poweroff"
    check_same("".join(got), log.read_text(), "rtc_pl031.c: guest_errors log vs QEMU")
