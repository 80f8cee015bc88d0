"""The PL061 GPIO, the power button on its line 3 and the GICv2m MSI frame of the virt
board (machine/pl061.py, machine/gicv2m.py).

tests/guest/gpio_pl061.c pokes both devices and prints what it sees; its expected
output, and the guest errors QEMU logs for its bad accesses (-d guest_errors), come
from QEMU 7.2.  A snapshot taken anywhere in it resumes to the same output.  The
unit tests drive the input lines (which only the board can: the power button) and
the release timer with an explicit clock.
"""
import os

import pytest

from guestbuild import build
from test_gic import (EXPECTED, QEMU, check_same, guest_matches_expected, maybe_regen, qemu,
                      qemu_matches_expected, run_ours)

from pyaarch64.machine.gicv2m import GICv2m
from pyaarch64.machine.pl061 import PL061, GpioKey
from pyaarch64.machine.virt import VirtMachine
from pyaarch64.snapshot import state as S
from pyaarch64.snapshot.format import encode, decode

GUEST = "gpio_pl061.c"
ERRORS = os.path.join(EXPECTED, "gpio_pl061.guest_errors.txt")


class Errors:
    """A tracer that keeps the guest errors (what -d guest_errors prints)."""
    step_mode = False

    def __init__(self):
        self.text = []

    def guest_error(self, msg):
        self.text.append(msg)

    def undefined(self, vm):
        pass

    def exception(self, vm):
        pass


# --- the guest, against QEMU 7.2 ----------------------------------------------------------
def test_gpio_guest_matches_expected():
    guest_matches_expected(GUEST, b"", 0)


def test_gpio_guest_errors_are_qemus():
    """Bad offsets and sizes are logged as QEMU logs them (and change nothing)."""
    out = bytearray()
    errors = Errors()
    m = VirtMachine(machine="virt-7.2", serial=out.extend, tracer=errors)
    m.load_kernel(build(GUEST))
    assert m.run(max_insns=100_000_000).kind == "poweroff"
    with open(ERRORS, encoding="latin-1") as f:
        check_same("".join(errors.text), f.read(), "guest errors")


@qemu
@pytest.mark.qemu
def test_gpio_guest_qemu_matches_expected():
    qemu_matches_expected(GUEST, b"")


@qemu
@pytest.mark.qemu
def test_gpio_guest_qemu_errors_match_expected(tmp_path):
    import subprocess
    log = tmp_path / "errors.txt"
    r = subprocess.run([QEMU, "-M", "virt", "-cpu", "cortex-a57", "-m", "128M", "-nographic",
                        "-monitor", "none", "-serial", "stdio", "-kernel", build(GUEST),
                        "-d", "guest_errors", "-D", str(log)], capture_output=True, timeout=60)
    assert r.returncode == 0
    text = log.read_text(encoding="latin-1")
    maybe_regen("gpio_pl061.guest_errors", text)
    with open(ERRORS, encoding="latin-1") as f:
        check_same(text, f.read(), "QEMU's guest errors vs the expected file")


@pytest.mark.parametrize("machine", ["virt-4.1", "virt"])
def test_snapshot_anywhere_in_the_guest_resumes_to_the_same_end(machine):
    """Cut the run at several points, save (through the file format), load into a new
    machine and run on: the output is the uninterrupted one."""
    elf = build(GUEST)
    whole, stop, m = run_ours(elf, machine=machine)
    assert stop.kind == "poweroff" and whole.endswith("EXIT 0\n")
    total = m.cpu.icount
    for cut in (total // 7, total // 3, total // 2, 3 * total // 4, total - 2000):
        out = bytearray()
        a = VirtMachine(machine=machine, serial=out.extend)
        a.load_kernel(elf)
        assert a.run(max_insns=cut).kind == "budget"
        snap = decode(encode(S.save(a)))[0]
        head = bytes(out)
        out2 = bytearray()
        b = VirtMachine(machine=machine, serial=out2.extend)
        b.load_kernel(elf)
        S.restore(b, snap)
        assert b.run(max_insns=100_000_000).kind == "poweroff"
        assert (head + bytes(out2)).decode("latin-1") == whole, cut


# --- the PL061 model ---------------------------------------------------------------------
class Line:
    def __init__(self):
        self.level = 0
        self.calls = []

    def __call__(self, level):
        self.level = level
        self.calls.append(level)


def gpio():
    line, errors = Line(), []
    return PL061(irq=line, guest_error=errors.append), line, errors


def test_input_edges_and_levels():
    g, line, _ = gpio()
    g.write(0x410, 4, 0xff)                    # IE: all
    g.write(0x40C, 4, 0x02)                    # IEV: line 1 rising, line 0 falling
    g.write(0x408, 4, 0x04)                    # IBE: line 2 both edges
    g.set_input(0, 1)                          # rising on a falling-edge line: nothing
    g.set_input(1, 1)                          # rising: detected
    assert (g.read(0x414, 4), line.level) == (0x02, 1)
    assert g.read(0x3FC, 4) == 0x03 and g.read(0x01 << 2, 4) == 0x01
    g.write(0x41C, 4, 0x02)
    assert (g.read(0x414, 4), line.level) == (0, 0)
    g.set_input(0, 0)                          # falling: detected
    g.set_input(2, 1)
    g.set_input(2, 0)                          # both edges: one RIS bit
    assert g.read(0x414, 4) == 0x05 and g.read(0x418, 4) == 0x05
    g.write(0x410, 4, 0)
    assert line.level == 0 and g.read(0x418, 4) == 0
    # level: RIS stays set while the level holds, even through IC
    g.write(0x41C, 4, 0xff)
    g.write(0x404, 4, 0x10)                    # line 4 level-sensitive, IEV 0: low
    assert g.read(0x414, 4) == 0x10
    g.write(0x40C, 4, 0x12)                    # high now
    g.write(0x41C, 4, 0x10)
    assert g.read(0x414, 4) == 0
    g.set_input(4, 1)
    g.write(0x41C, 4, 0x10)
    assert g.read(0x414, 4) == 0x10
    # an output ignores its input; the line's level is the data register's bit
    g.write(0x400, 4, 0x80)
    g.set_input(7, 1)
    assert g.read(0x3FC, 4) & 0x80 == 0
    with pytest.raises(ValueError, match="lines 0..7"):
        g.set_input(8, 1)


def test_bad_accesses_log_as_qemu_and_change_nothing():
    g, line, errors = gpio()
    before = {f.name: getattr(g, f.name) for f in g.STATE_FIELDS}
    assert g.read(0x41C, 4) == 0 and g.read(0x500, 4) == 0
    g.write(0x414, 4, 0xff)
    g.write(0x528, 4, 0xff)
    assert errors == ["pl061_read: Bad offset 41c\n", "pl061_read: Bad offset 500\n",
                      "pl061_write: Bad offset 414\n", "pl061_write: Bad offset 528\n"]
    assert {f.name: getattr(g, f.name) for f in g.STATE_FIELDS} == before


def test_reset_is_the_power_on_state():
    g, line, _ = gpio()
    for off in (0x400, 0x404, 0x408, 0x40C, 0x410, 0x420):
        g.write(off, 4, 0x5a)
    g.write(0x3FC, 4, 0xff)
    assert line.level == 1
    g.reset()
    assert line.level == 0
    assert all(getattr(g, f.name) == 0 for f in g.STATE_FIELDS)


# --- the power button ---------------------------------------------------------------------
def test_power_button_pulses_line_3_for_100_ms():
    t = [1_234_567_890]
    levels = Line()
    key = GpioKey(lambda: t[0], levels)
    assert key.deadline_ns() is None
    key.press()
    # QEMU's millisecond timer: 100 ms from the current millisecond
    assert levels.calls == [1] and key.deadline_ns() == 1_334_000_000
    key.expire(1_333_999_999)
    assert levels.calls == [1]
    key.expire(1_334_000_000)
    assert levels.calls == [1, 0] and key.deadline_ns() is None
    key.press()
    key.reset()                                # the timer goes, the line stays (as QEMU)
    assert key.deadline_ns() is None and levels.calls == [1, 0, 1]


def test_powerdown_on_the_board_and_through_a_snapshot():
    """The board's button drives PL061 line 3 into the GIC (SPI 7 = INTID 39) and is
    released by the run loop's timer; a snapshot taken while it is held keeps the
    press and its release."""
    m = VirtMachine(machine="virt-7.2")
    m.gpio.write(0x408, 4, 0x08)               # line 3: both edges
    m.gpio.write(0x410, 4, 0x08)
    assert m.powerdown() is True
    assert m.gpio.read(0x08 << 2, 4) == 0x08 and m.gpio.read(0x414, 4) == 0x08
    assert m.gic.level[39] and m.gpio.irq_level == 1
    deadline = m.power_button.deadline_ns()
    assert deadline == (m.virtual_ns() // 1_000_000 + 100) * 1_000_000
    snap = decode(encode(S.save(m)))[0]
    assert snap.sections["gpio-key"] == {"release_ns": deadline}
    assert snap.sections["pl061"]["data"] == 0x08
    n = VirtMachine(machine="virt-7.2")
    S.restore(n, snap)
    assert n.power_button.deadline_ns() == deadline and n.gpio.read(0x3FC, 4) == 0x08
    assert n.gic.level[39]
    # the run loop releases it (an idle guest's WFI sleeps until the deadline)
    n.write_memory(0x4000_0000, (0xD503207F).to_bytes(4, "little") * 2)   # wfi; wfi
    n.cpu.pc = 0x4000_0000
    n.run(max_insns=1)
    n._sync_timers()
    assert n.timer.now_ns() >= deadline
    assert n.gpio.read(0x3FC, 4) == 0 and n.gpio.read(0x414, 4) == 0x08
    # a system reset: the PL061 and the button's timer at their reset state
    m.reset()
    assert m.gpio.read(0x3FC, 4) == 0 and m.power_button.deadline_ns() is None
    assert not m.gic.level[39]


def test_impossible_values_are_refused_by_name():
    m = VirtMachine(machine="virt-7.2")
    snap = S.save(m)
    snap.sections["pl061"]["dir"] = 0x1ff
    snap.sections["pl061"]["ris"] = -1
    snap.sections["gpio-key"]["release_ns"] = -5
    with pytest.raises(S.SnapshotError) as e:
        S.restore(VirtMachine(machine="virt-7.2"), snap)
    assert e.value.problems == ["pl061.dir: 0x1ff has bits 0x100 set outside 0xff",
                                "pl061.ris: -1 does not fit in u32",
                                "gpio-key.release_ns: -5 is below -1"]


def test_every_value_a_guest_can_write_round_trips():
    m = VirtMachine(machine="virt-7.2")
    for v in (0, 0x5a, 0xa5, 0xff):
        for off in (0x400, 0x404, 0x408, 0x40C, 0x410, 0x420):
            m.gpio.write(off, 4, v)
        m.gpio.write(0x3FC, 4, v)
        m.gpio.set_input(3, v & 1)
        snap = decode(encode(S.save(m)))[0]
        n = VirtMachine(machine="virt-7.2")
        S.restore(n, snap)
        assert {f.name: getattr(n.gpio, f.name) for f in n.gpio.STATE_FIELDS} == \
            {f.name: getattr(m.gpio, f.name) for f in m.gpio.STATE_FIELDS}
        assert n.gpio.irq_level == m.gpio.irq_level


# --- the GICv2m frame ---------------------------------------------------------------------
def test_gicv2m_registers_and_msis():
    pulses, errors = [], []
    v = GICv2m(48, 64, pulses.append, errors.append)
    assert v.read(0x008, 4) == 0x0050_0040 and v.read(0xFCC, 4) == 0x0510_0000
    assert v.read(0xFD0, 4) == 0 and v.read(0x008, 2) == 0
    for intid in (79, 80, 143, 144, 0x400 | 100):
        v.write(0x040, 4, intid)
    v.write(0x040, 2, 81)
    v.write(0x040, 1, 82)
    v.write(0x044, 4, 83)
    assert pulses == [80, 143, 100, 81]
    assert errors == ["gicv2m_read: bad size 2\n", "gicv2m_write: bad size 1\n",
                      "gicv2m_write: Bad offset 44\n"]


@pytest.mark.parametrize("golden", ["virt-4.1.snap", "virt-7.2.snap"])
def test_a_board_v1_golden_loads_the_new_devices_at_reset(golden):
    """Snapshots saved before the board had them (board version 1: no pl061 or
    gpio-key section, no gpio/gic_v2m identity entries) load with the PL061 and the
    button at their reset state."""
    from pyaarch64.snapshot.format import read
    snap = read(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", golden))
    assert snap.versions.get("board", 1) == 1 and "pl061" not in snap.sections
    m = VirtMachine(machine=snap.machine_type, cpu=snap.cpu_model)
    for off in (0x400, 0x404, 0x410):
        m.gpio.write(off, 4, 0xff)
    m.powerdown()
    S.restore(m, snap)
    assert all(getattr(m.gpio, f.name) == 0 for f in m.gpio.STATE_FIELDS)
    assert m.power_button.deadline_ns() is None and not m.gic.level[39]
