"""PL011 interrupts (machine/pl011.py) and their line to the GIC (SPI 1).

tests/guest/uartirq_rx.c (FIFO disabled: RX per character, TX per write, ICR,
IMSC/MIS, the GIC line) prints the same on QEMU 7.2 and pyaarch64 with "abc"
typed on the console; its expected output comes from QEMU.
tests/guest/uartirq_fifo.c (FIFO enabled, IFLS level, receive timeout) is
checked here only, on virt-7.2 (QEMU 7.2's rules: RX at the first character,
IFLS ignored, no receive timeout) and on the newest type (the PL011 TRM's: RX at
the IFLS level, receive timeout); see the guest for why not against QEMU.
"""
import pytest

from guestbuild import build
from test_gic import guest_matches_expected, qemu, qemu_matches_expected, run_ours

from pyaarch64.machine.pl011 import PL011, INT_RX, INT_TX, INT_RT

RX_INPUT = b"abc"


def test_uartirq_rx_guest_matches_expected():
    guest_matches_expected("uartirq_rx.c", RX_INPUT, 0)


@qemu
@pytest.mark.qemu
def test_uartirq_rx_guest_qemu_matches_expected():
    qemu_matches_expected("uartirq_rx.c", RX_INPUT)


FIFO_INPUT = b"XABCDEFGHIJKLMNOP"


def test_uartirq_fifo_guest_qemu_7_2_rules():
    elf = build("uartirq_fifo.c")
    out, stop, m = run_ours(elf, FIFO_INPUT, max_insns=20_000_000, machine="virt-7.2")
    assert m.uart.trm_rx_interrupts == 0
    assert stop.kind == "poweroff", (stop, out[-500:])
    assert out == ("16 waiting: ris=10 mis=10 gic pending=1\n"
                   "8 waiting: ris=10 mis=10 gic pending=1\n"
                   "7 waiting: ris=10 mis=10 gic pending=1\n"
                   "receive timeout seen: 0\n"
                   "7 waiting, later: ris=10 mis=10 gic pending=1\n"
                   "after icr: ris=0 mis=0 gic pending=0\n"
                   "1 waiting: ris=0 mis=0 gic pending=0\n"
                   "empty: ris=0 mis=0 gic pending=0\n"
                   "got ABCDEFGHIJKLMNOP (16)\n"
                   "EXIT 0\n")


def test_uartirq_fifo_guest_trm_rules_in_newest_type():
    """Needs the board's run loop to expire host-side timers (board.timers)."""
    elf = build("uartirq_fifo.c")
    out, stop, m = run_ours(elf, FIFO_INPUT, max_insns=20_000_000, machine="virt")
    assert m.uart.trm_rx_interrupts == 1
    assert stop.kind == "poweroff", (stop, out[-500:])
    assert out == ("16 waiting: ris=10 mis=10 gic pending=1\n"
                   "8 waiting: ris=10 mis=10 gic pending=1\n"
                   "7 waiting: ris=0 mis=0 gic pending=0\n"
                   "receive timeout seen: 1\n"
                   "7 waiting, later: ris=40 mis=40 gic pending=1\n"
                   "after icr: ris=0 mis=0 gic pending=0\n"
                   "1 waiting: ris=0 mis=0 gic pending=0\n"
                   "empty: ris=0 mis=0 gic pending=0\n"
                   "got ABCDEFGHIJKLMNOP (16)\n"
                   "EXIT 0\n")


def test_machine_types_choose_pl011_rx_rules():
    from pyaarch64.machine.virt import VirtMachine
    assert VirtMachine(machine="virt-9.1").uart.trm_rx_interrupts == 0
    assert VirtMachine(machine="virt-9.2").uart.trm_rx_interrupts == 1


# --- unit tests ----------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.ns = 0

    def __call__(self):
        return self.ns


class Line:
    def __init__(self):
        self.level = 0
        self.changes = []

    def __call__(self, level):
        self.level = level
        self.changes.append(level)


def make(fifo=True, ifls_rx=2, trm=1):
    clock, line = Clock(), Line()
    u = PL011(irq=line, clock=clock, trm_rx_interrupts=trm)
    if fifo:
        u.write(0x02C, 4, 0x70)
    u.write(0x034, 4, ifls_rx << 3)
    return u, clock, line


def expire_due(u, clock):
    d = u.deadline_ns()
    if d is not None and d <= clock.ns:
        u.expire(clock.ns)


@pytest.mark.parametrize("sel,level", [(0, 2), (1, 4), (2, 8), (3, 12), (4, 14)])
def test_rx_interrupt_at_ifls_level(sel, level):
    u, clock, line = make(ifls_rx=sel)
    u.write(0x038, 4, INT_RX)
    for i in range(level - 1):
        u.push_rx(0x41 + i)
    assert u.read(0x03C, 4) & INT_RX == 0 and line.level == 0
    u.push_rx(0x5A)
    assert u.read(0x03C, 4) & INT_RX and u.read(0x040, 4) == INT_RX and line.level == 1
    u.read(0x000, 4)                            # below the level again
    assert u.read(0x03C, 4) & INT_RX == 0 and line.level == 0


def test_qemu_rules_rx_at_first_character_no_timeout():
    u, clock, line = make(ifls_rx=4, trm=0)
    u.write(0x038, 4, INT_RX | INT_RT)
    u.push_rx(1)
    assert line.level == 1 and u.deadline_ns() is None
    u.write(0x044, 4, INT_RX)
    u.push_rx(2)                                # count 2: not the trigger (1)
    assert line.level == 0
    u.read(0x000, 4)
    u.read(0x000, 4)
    u.push_rx(3)
    assert line.level == 1
    clock.ns = 10**9
    assert u.deadline_ns() is None and u.read(0x03C, 4) & INT_RT == 0


def test_rx_without_fifo_each_character():
    u, clock, line = make(fifo=False)
    u.write(0x038, 4, INT_RX)
    assert u.rx_trigger() == 1
    u.push_rx(0x61)
    assert line.level == 1
    assert not u.can_receive()
    assert u.read(0x000, 4) == 0x61
    assert line.level == 0


def test_receive_timeout_after_32_bit_periods():
    u, clock, line = make(ifls_rx=2)
    u.write(0x024, 4, 13)                       # 115200 baud at 24 MHz
    u.write(0x028, 4, 1)
    u.write(0x038, 4, INT_RT | INT_RX)
    period = u.timeout_ns()
    assert period == 32 * 16 * (13 * 64 + 1) * 10**9 // (64 * 24_000_000)   # ~278 us
    clock.ns = 1000
    u.push_rx(0x31)
    assert u.deadline_ns() == 1000 + period
    clock.ns = 1000 + period // 2
    u.push_rx(0x32)                             # a new character restarts the timer
    clock.ns = 1000 + period
    expire_due(u, clock)
    assert u.read(0x03C, 4) & INT_RT == 0 and line.level == 0
    clock.ns = 1000 + period // 2 + period
    expire_due(u, clock)
    assert u.read(0x03C, 4) & INT_RT and line.level == 1
    assert u.deadline_ns() is None
    u.read(0x000, 4)
    assert line.level == 1                      # still one character waiting
    u.read(0x000, 4)
    assert u.read(0x03C, 4) & INT_RT == 0 and line.level == 0


def test_timeout_follows_the_baud_rate_and_defaults_to_115200():
    u, _, _ = make()
    default = u.timeout_ns()
    u.write(0x024, 4, 13)
    u.write(0x028, 4, 1)
    assert u.timeout_ns() == default
    u.write(0x024, 4, 26)                       # half the baud rate: twice as long
    u.write(0x028, 4, 2)
    assert abs(u.timeout_ns() - 2 * default) <= 1


def test_icr_clears_rx_and_rt_while_data_waits():
    u, clock, line = make(ifls_rx=0)
    u.write(0x038, 4, INT_RX | INT_RT)
    u.push_rx(1)
    u.push_rx(2)
    clock.ns = u.deadline_ns()
    expire_due(u, clock)
    assert u.read(0x03C, 4) & (INT_RX | INT_RT) == INT_RX | INT_RT
    u.write(0x044, 4, INT_RX | INT_RT)
    assert u.read(0x03C, 4) & (INT_RX | INT_RT) == 0 and line.level == 0
    assert u.read(0x018, 4) & 0x10 == 0          # data still there


def test_tx_on_every_write_cleared_only_by_icr():
    u, clock, line = make()
    u.write(0x038, 4, INT_TX)
    assert line.level == 0
    u.write(0x000, 4, 0x41)
    assert u.read(0x03C, 4) == INT_TX and line.level == 1
    u.write(0x044, 4, INT_TX)
    assert line.level == 0
    u.write(0x000, 4, 0x42)
    assert line.level == 1


def test_irq_output_called_only_on_change():
    u, clock, line = make()
    line.changes.clear()
    u.write(0x038, 4, INT_TX)
    for _ in range(5):
        u.write(0x000, 4, 0x41)
    assert line.changes == [1]


def test_fen_change_flushes_fifo_and_timer():
    u, clock, line = make(ifls_rx=4)
    u.push_rx(1)
    assert u.deadline_ns() is not None
    u.write(0x02C, 4, 0x60)                     # FIFO off: flushed
    assert u.rx == [] and u.deadline_ns() is None


def test_reset_lowers_line_and_state_is_plain():
    u, clock, line = make()
    u.write(0x038, 4, INT_TX)
    u.write(0x000, 4, 0x41)
    assert line.level == 1
    u.reset()
    assert line.level == 0
    for name in ("rx", "rt_deadline", "lcr", "cr", "ibrd", "fbrd", "ifls", "imsc", "ris",
                 "dmacr", "rsr", "ilpr"):
        v = getattr(u, name)
        assert type(v) is int or (type(v) is list and all(type(x) is int for x in v)), name
