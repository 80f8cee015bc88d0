"""GICv2 of the virt board (machine/gic.py).

Guest programs tests/guest/gic_*.c dump the distributor and CPU interface as a
guest sees them and walk through the interrupt flow (SGIs, acknowledge/EOI,
priorities, preemption, groups, level/edge SPIs from the PL011), polling with
interrupts masked at the CPU.  Their expected output comes from QEMU 7.2:
    PYAARCH64_REGEN_EXPECTED=1 pytest tests/test_gic.py -m qemu
The unit tests below cover what a guest cannot reach without the CPU taking the
interrupt: the IRQ/FIQ outputs, PPI inputs, reset, MMIO region sizes, logging.
"""
import os
import subprocess

import pytest

from guestbuild import GUEST, build
from tools import needs

EXPECTED = os.path.join(GUEST, "expected")
QEMU = "qemu-system-aarch64"
MACHINE = "virt-7.2"
qemu = needs(QEMU)

# guest -> (input typed on the serial console, icount shift for pyaarch64)
GIC_GUESTS = {
    "gic_regs.c": (b"", 0),
    "gic_flow.c": (b"", 0),
}
# guests that need the CPU to take IRQ/FIQ exceptions (vectors.S linked in)
GIC_IRQ_GUESTS = {
    "gic_irq.c": (b"", 0),
}


# --- helpers shared by test_pl031.py and test_pl011_irq.py ----------------------------
def run_ours(elf, serial_input=b"", icount_shift=0, max_insns=100_000_000, machine=MACHINE):
    from pyaarch64.machine.virt import VirtMachine
    out = bytearray()
    m = VirtMachine(machine=machine, serial=out.extend, icount_shift=icount_shift)
    m.load_kernel(elf)
    if serial_input:
        m.feed_input(serial_input)
    stop = m.run(max_insns=max_insns)
    return out.decode("latin-1"), stop, m


def run_qemu(elf, serial_input=b"", timeout=60):
    cmd = [QEMU, "-M", MACHINE, "-cpu", "cortex-a57", "-m", "128M", "-nographic",
           "-monitor", "none", "-serial", "stdio", "-kernel", elf]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout, input=serial_input)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("latin-1")
        pytest.fail(f"QEMU timed out after {timeout} s; output so far:\n{out[-2000:]}")
    return r.stdout.decode("latin-1"), r.returncode


def expected(base):
    path = os.path.join(EXPECTED, base + ".txt")
    if not os.path.exists(path):
        pytest.fail(f"missing {path}: generate it with PYAARCH64_REGEN_EXPECTED=1 pytest -m qemu")
    with open(path, encoding="latin-1", newline="") as f:
        return f.read()


def maybe_regen(base, text):
    if os.environ.get("PYAARCH64_REGEN_EXPECTED"):
        with open(os.path.join(EXPECTED, base + ".txt"), "w", encoding="latin-1", newline="") as f:
            f.write(text)


def check_same(got, want, what):
    if got == want:
        return
    g, w = got.splitlines(), want.splitlines()
    for i, (a, b) in enumerate(zip(g, w)):
        if a != b:
            pytest.fail(f"{what}: first difference at line {i + 1}:\n  expected: {b}\n  got:      {a}")
    pytest.fail(f"{what}: {len(g)} lines, expected {len(w)}; "
                f"first extra/missing line: {(g[len(w):] or w[len(g):])[0]!r}")


def guest_matches_expected(name, serial_input, shift, extra_sources=()):
    elf = build(name, extra_sources=extra_sources)
    out, stop, _ = run_ours(elf, serial_input, shift)
    assert stop.kind == "poweroff", stop
    assert out.endswith("EXIT 0\n"), out[-500:]
    check_same(out, expected(os.path.splitext(name)[0]), name)


def qemu_matches_expected(name, serial_input, timeout=60, extra_sources=()):
    elf = build(name, extra_sources=extra_sources)
    out, status = run_qemu(elf, serial_input, timeout)
    base = os.path.splitext(name)[0]
    maybe_regen(base, out)
    assert status == 0
    check_same(out, expected(base), f"{name} on QEMU vs expected file")


# --- guests --------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(GIC_GUESTS))
def test_gic_guest_matches_expected(name):
    guest_matches_expected(name, *GIC_GUESTS[name])


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(GIC_GUESTS))
def test_gic_guest_qemu_matches_expected(name):
    qemu_matches_expected(name, GIC_GUESTS[name][0])


@pytest.mark.parametrize("name", sorted(GIC_IRQ_GUESTS))
def test_gic_irq_guest_matches_expected(name):
    """NEEDS THE CPU TO TAKE IRQ/FIQ EXCEPTIONS (the CPU core's part): an SGI taken
    on unmasking, nested preemption, the PL011's SPI, FIQ with FIQEn, WFI wake."""
    guest_matches_expected(name, *GIC_IRQ_GUESTS[name], extra_sources=("vectors.S",))


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(GIC_IRQ_GUESTS))
def test_gic_irq_guest_qemu_matches_expected(name):
    qemu_matches_expected(name, GIC_IRQ_GUESTS[name][0], extra_sources=("vectors.S",))


# --- unit tests ----------------------------------------------------------------------
class FakeCpu:
    def __init__(self):
        self.lines = [0, 0]
        self.changes = []

    def set_irq_line(self, which, level):
        self.lines[which] = level
        self.changes.append((which, level))


def make(num_irq=288):
    from pyaarch64.machine.gic import GICv2
    cpu = FakeCpu()
    return GICv2(num_irq=num_irq, cpus=[cpu]), cpu


def enable_all(g, intid, prio=0x80):
    g.dist_write(0, 0x000, 4, 3)                 # GICD_CTLR: both groups
    g.cpu_write(0, 0x00, 4, 3)                   # GICC_CTLR
    g.cpu_write(0, 0x04, 4, 0xFF)                # GICC_PMR
    g.dist_write(0, 0x100 + 4 * (intid // 32), 4, 1 << (intid % 32))
    g.dist_write(0, 0x400 + intid, 1, prio)


def test_virtual_timer_ppi_raises_and_lowers_irq_line():
    g, cpu = make()
    enable_all(g, 27)
    assert cpu.lines == [0, 0]
    g.set_irq(27, 1)                             # level-sensitive PPI (reset config)
    assert cpu.lines == [1, 0]
    assert g.cpu_read(0, 0x18, 4) == 27          # HPPIR
    assert g.cpu_read(0, 0x0C, 4) == 27          # IAR: active now, line drops
    assert cpu.lines == [0, 0]
    g.set_irq(27, 0)                             # timer handler cleared the condition
    g.cpu_write(0, 0x10, 4, 27)                  # EOIR
    assert cpu.lines == [0, 0]
    assert g.dist_read(0, 0x300, 4) == 0         # nothing active
    g.set_irq(27, 1)
    assert cpu.lines == [1, 0]


def test_level_line_still_high_after_eoi_signals_again():
    g, cpu = make()
    enable_all(g, 33)
    g.set_irq(33, 1)
    assert g.cpu_read(0, 0x0C, 4) == 33
    assert cpu.lines[0] == 0
    g.cpu_write(0, 0x10, 4, 33)                  # EOI while the device still asserts
    assert cpu.lines[0] == 1
    assert g.dist_read(0, 0x204, 4) & 2          # pending by level


def test_edge_input_latches_and_redundant_levels_are_ignored():
    g, cpu = make()
    enable_all(g, 40)
    g.dist_write(0, 0xC08, 4, 2 << 16)           # INTID 40 edge-triggered
    g.set_irq(40, 1)
    g.set_irq(40, 1)                             # no new edge
    g.set_irq(40, 0)
    assert cpu.lines[0] == 1                     # latched
    assert g.cpu_read(0, 0x0C, 4) == 40
    g.cpu_write(0, 0x10, 4, 40)
    assert g.cpu_read(0, 0x0C, 4) == 1023        # one edge, one interrupt
    assert cpu.lines[0] == 0


def test_group0_with_fiqen_drives_fiq_not_irq():
    g, cpu = make()
    enable_all(g, 27)
    g.cpu_write(0, 0x00, 4, 0xB)                 # EnableGrp0|EnableGrp1|FIQEn
    g.set_irq(27, 1)
    assert cpu.lines == [0, 1]
    g.dist_write(0, 0x080, 4, 1 << 27)           # move it to group 1: IRQ
    assert cpu.lines == [1, 0]


def test_priority_mask_and_running_priority_gate_the_line():
    g, cpu = make()
    enable_all(g, 27, prio=0x80)
    g.cpu_write(0, 0x04, 4, 0x80)                # PMR equal to the priority: masked
    g.set_irq(27, 1)
    assert cpu.lines[0] == 0
    g.cpu_write(0, 0x04, 4, 0x90)
    assert cpu.lines[0] == 1
    enable_all(g, 33, prio=0x80)
    g.cpu_write(0, 0x04, 4, 0xF0)
    assert g.cpu_read(0, 0x0C, 4) == 27          # lower INTID wins a priority tie
    g.set_irq(33, 1)                             # same priority: no preemption
    assert cpu.lines[0] == 0
    g.dist_write(0, 0x400 + 33, 1, 0x40)         # higher priority: preempts
    assert cpu.lines[0] == 1
    assert g.cpu_read(0, 0x14, 4) == 0x80        # RPR


def test_sgi_to_self_and_source_cpu_in_iar():
    g, cpu = make()
    enable_all(g, 3)
    g.dist_write(0, 0xF00, 4, (2 << 24) | 3)
    assert cpu.lines[0] == 1
    assert g.cpu_read(0, 0x0C, 4) == 3           # source CPU 0 in bits 12:10
    g.cpu_write(0, 0x10, 4, 3)
    assert g.cpu_read(0, 0x0C, 4) == 1023


def test_reset_returns_to_power_on_state_and_lowers_outputs():
    g, cpu = make()
    enable_all(g, 27)
    g.set_irq(27, 1)
    assert cpu.lines[0] == 1
    g.reset()
    assert cpu.lines == [0, 0]
    assert g.dist_read(0, 0x000, 4) == 0
    assert g.dist_read(0, 0x100, 4) == 0xFFFF    # SGIs always enabled
    assert g.cpu_read(0, 0x14, 4) == 0xFF
    assert g.cpu_read(0, 0x1C, 4) == 1           # ABPR
    assert g.dist_read(0, 0xC00, 4) == 0xAAAAAAAA


def test_typer_follows_num_irq():
    g, _ = make(num_irq=96)
    assert g.dist_read(0, 0x004, 4) == 2
    g, _ = make(num_irq=288)
    assert g.dist_read(0, 0x004, 4) == 8


def test_set_irq_rejects_sgis_and_out_of_range():
    g, _ = make()
    with pytest.raises(ValueError):
        g.set_irq(5, 1)
    with pytest.raises(ValueError):
        g.set_irq(288, 1)


def test_state_is_plain_named_fields():
    g, _ = make()
    for name in ("ctlr", "cpu_ctlr", "pmr", "bpr", "abpr", "apr", "nsapr", "enabled", "pending",
                 "active", "level", "edge", "group", "target", "priority", "sgi_pending"):
        v = getattr(g, name)
        assert isinstance(v, int) or (isinstance(v, list) and all(type(x) is int for x in v)), name


def test_board_maps_gic_regions_and_wires_devices():
    from pyaarch64.machine.virt import VirtMachine
    m = VirtMachine(machine=MACHINE)
    regions = {dev: (base, length) for base, length, dev in m.devices}
    assert regions[m.gic.dist] == (0x0800_0000, 0x1000)
    assert regions[m.gic.cpuif[0]] == (0x0801_0000, 0x2000)
    assert regions[m.rtc] == (0x0901_0000, 0x1000)
    assert m.rtc in m.timers
    # the PL011's output reaches SPI 1, the PL031's SPI 2
    m.uart.write(0x038, 4, 1 << 5)
    m.uart.write(0x000, 4, ord("x"))
    assert m.gic.level[33]
    m.rtc.write(0x010, 4, 1)
    m.rtc.write(0x004, 4, m.rtc.read(0x000, 4))  # MR = DR: match now
    assert m.gic.level[34]
    # the CPU interface drives the CPU's IRQ input
    m.gic.dist_write(0, 0x000, 4, 1)
    m.gic.cpu_write(0, 0x000, 4, 1)
    m.gic.cpu_write(0, 0x004, 4, 0xFF)
    m.gic.dist_write(0, 0x104, 4, 1 << 2)
    from pyaarch64.cpu import ops as O
    assert int(m.cpu.ctl[O.C_IRQ]) & 1
    m.rtc.write(0x01C, 4, 1)
    assert not int(m.cpu.ctl[O.C_IRQ]) & 1


def test_bad_offsets_are_logged_and_read_zero():
    g, _ = make()
    log = []
    g.guest_error = log.append
    assert g.dist_read(0, 0x00C, 4) == 0
    g.dist_write(0, 0xF80, 4, 1)
    assert g.cpu_read(0, 0x030, 4) == 0
    assert len(log) >= 3


def test_system_reset_resets_gic_but_keeps_rtc_as_qemu_7_2():
    """QEMU 7.2 (checked with a guest doing PSCI SYSTEM_RESET): GICD_CTLR and
    GICC_PMR are back to 0 after the reset, the PL031's MR/LR/IMSC/RIS and its
    loaded time are not."""
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.machine.virt_devices import reset_devices
    m = VirtMachine(machine=MACHINE)
    m.gic.dist_write(0, 0x000, 4, 1)
    m.gic.cpu_write(0, 0x004, 4, 0x80)
    m.rtc.write(0x008, 4, 1000)
    m.rtc.write(0x004, 4, 1000)
    m.rtc.write(0x010, 4, 1)
    reset_devices(m)
    assert m.gic.dist_read(0, 0x000, 4) == 0
    assert m.gic.cpu_read(0, 0x004, 4) == 0
    assert [m.rtc.read(o, 4) for o in (0x004, 0x008, 0x010, 0x014)] == [1000, 1000, 1, 1]
    assert m.rtc.read(0x000, 4) == 1000
    assert m.gic.level[34]            # the RTC's line is still high: the GIC sees it again


def test_post_load_rebuilds_from_restored_lists():
    g, cpu = make()
    enable_all(g, 40)
    g.set_irq(40, 1)
    saved = {k: (list(v) if isinstance(v, list) else v) for k, v in vars(g).items()
             if not k.startswith("_") and isinstance(v, (int, list)) and k != "cpus"}
    h, cpu2 = make()
    for k, v in saved.items():
        setattr(h, k, v)
    h.post_load()
    assert cpu2.lines == [1, 0]
    assert h.cpu_read(0, 0x0C, 4) == 40


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("name", ["gic_regs.c", "gic_flow.c"])
def test_gic_guest_errors_match_qemu(name, tmp_path):
    """-d guest_errors: the GIC logs the same bad accesses as QEMU 7.2 (QEMU's
    GICC_DIR message lacks its newline; ours has it)."""
    from pyaarch64.machine.virt import VirtMachine
    elf = build(name)
    log = tmp_path / "qemu.log"
    subprocess.run([QEMU, "-M", MACHINE, "-cpu", "cortex-a57", "-m", "128M", "-nographic",
                    "-monitor", "none", "-serial", "null", "-d", "guest_errors", "-D", str(log),
                    "-kernel", elf], timeout=60, check=True, stdin=subprocess.DEVNULL)
    want = log.read_text().replace("EOIMode clear", "EOIMode clear\n")
    got = []
    m = VirtMachine(machine=MACHINE)
    m.gic.guest_error = got.append
    m.load_kernel(elf)
    assert m.run(max_insns=50_000_000).kind == "poweroff"
    check_same("".join(got), want, f"{name}: guest_errors log vs QEMU")


def test_gic_guest_errors_reach_the_board_tracer():
    from pyaarch64.machine.virt import VirtMachine

    class Tracer:
        def __init__(self):
            self.msgs = []

        def guest_error(self, msg):
            self.msgs.append(msg)

    m = VirtMachine(machine=MACHINE)
    m.tracer = Tracer()
    m.gic.dist.read(0x00C, 4)
    assert m.tracer.msgs[0] == "gic_dist_readb: Bad offset c\n"


@pytest.mark.parametrize("which", ["gic", "rtc", "uart", "smp"])
def test_declared_state_fields_cover_all_state(which):
    """Every attribute a device keeps is a declared state field or known wiring/
    derived data, and every declared field is a plain int or list of ints: no
    hidden state for snapshots to miss."""
    from pyaarch64.machine.virt import VirtMachine
    m = VirtMachine(machine=MACHINE, smp=2 if which == "smp" else 1)
    dev = getattr(m, which)
    wiring = {"gic": {"num_irq", "num_cpu", "cpus", "guest_error", "dist", "cpuif",
                      "cpuif_banked", "accessing_cpu", "irq_out", "fiq_out", "_hot"},
              "smp": {"board", "cpus", "affinity", "_tlbi", "pin"},
              "rtc": {"clock", "start_time", "irq", "guest_error", "irq_level"},
              "uart": {"tx", "irq", "clock", "irq_level", "trm_rx_interrupts"}}[which]
    from pyaarch64.snapshot.state import fields_of
    decl = fields_of(dev.STATE_FIELDS)
    for _, sub, _ in getattr(dev, "STATE_SUBSECTIONS", ()):
        decl += fields_of(sub)
    names = [f.name for f in decl]
    views = {n for n in names if isinstance(getattr(type(dev), n, None), property)}
    assert set(vars(dev)) | views == set(names) | wiring
    for f in decl:
        v = getattr(dev, f.name)
        if f.is_list:
            assert type(v) is list and all(type(x) is int for x in v), f.name
        else:
            assert type(v) is int, f.name


def test_device_post_load_drives_lines_from_restored_state():
    from pyaarch64.machine.virt import VirtMachine
    m = VirtMachine(machine=MACHINE)
    m.uart.ris, m.uart.imsc = 0x20, 0x20
    m.rtc.ris, m.rtc.imsc = 1, 1
    m.uart.post_load()
    m.rtc.post_load()
    assert m.gic.level[33] and m.gic.level[34]


def test_two_cpu_shape_banking_targets_and_sgi_sources():
    """The model is shaped for more CPUs (the board has one today): banked
    SGI/PPI state per CPU, ITARGETSR routing, SGI source CPU in IAR."""
    from pyaarch64.machine.gic import GICv2
    c0, c1 = FakeCpu(), FakeCpu()
    g = GICv2(num_irq=64, num_cpu=2, cpus=[c0, c1])
    assert g.dist_read(0, 0x004, 4) == 1 | (1 << 5)          # TYPER: 64 IRQs, 2 CPUs
    assert g.dist_read(1, 0x800, 4) == 0x02020202             # ITARGETSR0: own mask
    for cpu in (0, 1):
        g.cpu_write(cpu, 0x00, 4, 1)
        g.cpu_write(cpu, 0x04, 4, 0xFF)
    g.dist_write(0, 0x000, 4, 1)
    g.dist_write(0, 0xF00, 4, (0 << 24) | (2 << 16) | 7)     # cpu0 -> SGI 7 on cpu1
    assert (c0.lines[0], c1.lines[0]) == (0, 1)
    assert g.cpu_read(1, 0x0C, 4) == 7                        # from CPU 0
    g.cpu_write(1, 0x10, 4, 7)
    g.dist_write(1, 0xF00, 4, (1 << 24) | 3)                  # cpu1 -> all others
    assert g.cpu_read(0, 0x0C, 4) == 3 | (1 << 10)            # source CPU 1
    g.dist_write(1, 0x100, 4, 1 << 27)                        # cpu1's own PPI 27
    g.set_irq(27, 1, cpu=1)
    assert c1.lines[0] == 1 and g.cpu_read(0, 0x18, 4) != 27
    g.dist_write(0, 0x104, 4, 1 << 8)                         # SPI 40 -> cpu1 only
    g.dist_write(0, 0x828, 1, 2)
    assert g.dist_read(0, 0x828, 1) == 2
    g.cpu_read(1, 0x0C, 4)                                    # take PPI 27 out of the way
    g.set_irq(40, 1)
    assert g.cpu_read(1, 0x18, 4) == 40                       # HPPIR: routed to cpu1
    assert g.cpu_read(0, 0x18, 4) == 1023                     # not to cpu0
