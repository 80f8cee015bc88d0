"""GICv3 of the virt board (-M virt,gic-version=3; machine/gicv3.py).

tests/guest/gicv3.c dumps the distributor, CPU 0's redistributor and the ICC_* system
registers and walks through the interrupt flow (SGIs through ICC_SGI1R_EL1, priorities,
preemption, the binary point, EOImode, group 0 as FIQ, the timer's PPI 27, the
PL011's SPI 33 by GICD_IROUTER).  Its expected output comes from QEMU 7.2 with the same
-M virt-7.2,gic-version=3 (gicv3.txt: 5 priority bits) and virt-7.0 (gicv3_8bit.txt:
QEMU's force-8-bit-prio):
    PYAARCH64_REGEN_EXPECTED=1 pytest tests/test_gicv3.py -m qemu
The unit tests cover what one CPU cannot show: routing and SGI targeting with several
CPUs, the registers' gate on a GICv2 board, snapshots, the command line.
"""
import os
import subprocess

import pytest

from guestbuild import build, cli
from test_gic import QEMU, qemu, check_same, expected, maybe_regen, FakeCpu

from pyaarch64.machine.gicv3 import GICv3, affinity
from pyaarch64.machine.virt import VirtMachine

# expected file -> machine type
GUESTS = {"gicv3": "virt-7.2", "gicv3_8bit": "virt-7.0"}


def run_guest(machine, **kw):
    elf = build("gicv3.c", extra_sources=("vectors.S",))
    out = bytearray()
    m = VirtMachine(machine=machine, serial=out.extend, gic_version=3, **kw)
    m.load_kernel(elf)
    stop = m.run(max_insns=50_000_000)
    return out.decode("latin-1"), stop, m


@pytest.mark.parametrize("base", sorted(GUESTS))
def test_guest_matches_qemu_expected(base):
    out, stop, _ = run_guest(GUESTS[base])
    assert stop.kind == "poweroff", stop
    check_same(out, expected(base), f"gicv3.c on {GUESTS[base]}")


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("base", sorted(GUESTS))
def test_qemu_matches_expected(base):
    elf = build("gicv3.c", extra_sources=("vectors.S",))
    r = subprocess.run([QEMU, "-M", f"{GUESTS[base]},gic-version=3", "-cpu", "cortex-a57",
                        "-m", "128M", "-nographic", "-monitor", "none", "-serial", "stdio",
                        "-kernel", elf], capture_output=True, timeout=60)
    out = r.stdout.decode("latin-1")
    maybe_regen(base, out)
    assert r.returncode == 0
    check_same(out, expected(base), f"gicv3.c on QEMU {GUESTS[base]}")


# --- the board ----------------------------------------------------------------------
def test_icc_registers_exist_only_with_a_gicv3():
    from pyaarch64.errors import RegisterError
    v2 = VirtMachine("virt-7.2")
    assert v2.cpu.reg("ID_AA64PFR0_EL1") >> 24 & 0xF == 0
    with pytest.raises(RegisterError):
        v2.cpu.reg("ICC_PMR_EL1")
    v3 = VirtMachine("virt-7.2", gic_version=3)
    assert v3.cpu.reg("ID_AA64PFR0_EL1") >> 24 & 0xF == 1
    assert v3.cpu.reg("ICC_SRE_EL1") == 7
    with pytest.raises(RegisterError):
        v3.cpu.reg("ICC_AP1R1_EL1")             # 5 priority bits: one APR per group
    assert VirtMachine("virt-7.0", gic_version=3).cpu.reg("ICC_AP1R3_EL1") == 0
    assert "ICC_IAR1_EL1" not in v3.cpu.sysregs()    # (reading it would acknowledge)
    regions = {r.handler: (r.base, r.length) for r in v3.registry.regions()}
    assert regions[v3.gic.dist] == (0x0800_0000, 0x1_0000)
    assert regions[v3.gic.redist] == (0x080A_0000, 0x2_0000)
    assert v3.registry.get("gicv2m") is None and v3.registry.get("gic") is None


def test_icc_write_takes_effect_before_the_next_instruction():
    """An SGI sent through ICC_SGI1R_EL1 with interrupts unmasked is taken before the
    instruction after the MSR runs (the IRQ line is raised inside the access)."""
    m = VirtMachine("virt-7.2", gic_version=3)
    g = m.gic
    g.gicd_ctlr = 2
    g.gicr_waker[0] = 0
    g.gicr_igroupr0[0] = 0xFFFF
    g.gicr_ienabler0[0] = 1 << 5
    g.icc_pmr[0] = 0xF0
    g.icc_igrpen1[0] = 1
    base = m.ram_base
    words = [0xD2800021,                     # mov x1, #1 (target list: CPU 0)
             0xF2A0A001,                     # movk x1, #0x500, lsl #16 (SGI 5: bits 27:24)
             0xD518CBA1,                     # msr icc_sgi1r_el1, x1
             0xD2800542,                     # mov x2, #42  (must not run before the IRQ)
             0x14000000]                     # b .
    m.write_memory(base, b"".join(w.to_bytes(4, "little") for w in words))
    m.write_memory(base + 0x280, (0x14000000).to_bytes(4, "little"))   # IRQ vector: b .
    m.cpu.pc = base
    m.cpu.set_reg("VBAR_EL1", base)
    m.cpu.set_pstate(0x5)                     # EL1h, DAIF clear
    m.cpu.set_reg("x1", 0)
    m.run(max_insns=10)
    assert m.cpu.reg("x1") == (5 << 24) | 1
    assert m.cpu.pc == base + 0x280 and m.cpu.reg("ELR_EL1") == base + 12
    assert m.cpu.reg("x2") == 0
    assert m.cpu.reg("ICC_HPPIR1_EL1") == 5


def cpus(n):
    return [FakeCpu() for _ in range(n)]


def enabled_gic(n, pribits=5):
    cs = cpus(n)
    g = GICv3(num_cpu=n, cpus=cs, priority_bits=pribits)
    g.dist_write(0, 4, 3)
    for c in range(n):
        g.redist_write(c * 0x20000 + 0x14, 4, 0)
        g.redist_write(c * 0x20000 + 0x10080, 4, 0xFFFF_FFFF)     # group 1
        g.redist_write(c * 0x20000 + 0x10100, 4, 0xFFFF_FFFF)     # enabled
        g.icc_write(c, "ICC_PMR_EL1", 0xFF)
        g.icc_write(c, "ICC_IGRPEN1_EL1", 1)
    return g, cs


def test_redistributor_typer_affinity_and_last():
    g, _ = enabled_gic(4)
    for c in range(4):
        t = g.redist_read(c * 0x20000 + 8, 8)
        assert t >> 32 == affinity(c) == c
        assert (t >> 8) & 0xFFFF == c
        assert (t >> 4) & 1 == (c == 3)
    assert g.redist_read(4 * 0x20000, 4) == 0        # (the region has 4 frames pairs)


def test_spi_routing_by_irouter():
    g, cs = enabled_gic(4)
    g.dist_write(0x84, 4, 1 << 8)                    # SPI 40: group 1
    g.dist_write(0x104, 4, 1 << 8)
    g.dist_write(0x6000 + 40 * 8, 8, 2)              # Aff0 = 2: CPU 2
    g.set_irq(40, 1)
    assert [c.lines[0] for c in cs] == [0, 0, 1, 0]
    assert g.icc_read(2, "ICC_IAR1_EL1") == 40
    assert g.icc_read(0, "ICC_IAR1_EL1") == 1023
    g.icc_write(2, "ICC_EOIR1_EL1", 40)
    g.set_irq(40, 0)
    # IRM = 1 routes by the affinity fields all the same (QEMU 7.2: no 1-of-N)
    g.dist_write(0x6000 + 40 * 8, 8, (1 << 31) | 3)
    assert g.dist_read(0x6000 + 40 * 8, 8) == (1 << 31) | 3
    g.set_irq(40, 1)
    assert [c.lines[0] for c in cs] == [0, 0, 0, 1]
    g.dist_write(0x6000 + 40 * 8, 8, 1 << 8)         # Aff1 = 1: no such CPU
    assert [c.lines[0] for c in cs] == [0, 0, 0, 0]


def test_sgi_target_list_irm_and_groups():
    g, cs = enabled_gic(4)
    g.icc_write(1, "ICC_SGI1R_EL1", (3 << 24) | 0b1001)      # CPUs 0 and 3
    assert [g.gicr_ipendr0[c] for c in range(4)] == [8, 0, 0, 8]
    g.icc_write(1, "ICC_SGI1R_EL1", (4 << 24) | (1 << 40))   # all but CPU 1
    assert [g.gicr_ipendr0[c] >> 4 & 1 for c in range(4)] == [1, 0, 1, 1]
    g.icc_write(0, "ICC_SGI1R_EL1", (6 << 24) | (1 << 16) | 0xF)   # Aff1 = 1: nobody
    g.icc_write(0, "ICC_SGI0R_EL1", (7 << 24) | 0xF)         # group 0 SGI 7 is group 1
    assert not any(g.gicr_ipendr0[c] >> 6 & 3 for c in range(4))
    assert g.icc_read(3, "ICC_IAR1_EL1") == 3
    assert g.icc_read(3, "ICC_IAR1_EL1") == 1023     # same priority: no preemption
    g.icc_write(3, "ICC_EOIR1_EL1", 3)
    assert g.icc_read(3, "ICC_IAR1_EL1") == 4


def test_priority_drop_and_running_priority():
    g, cs = enabled_gic(1)
    for irq, prio in ((1, 0x80), (2, 0x40)):
        g.redist_write(0x10400 + irq, 1, prio)
    g.icc_write(0, "ICC_SGI1R_EL1", (1 << 24) | 1)
    assert g.icc_read(0, "ICC_IAR1_EL1") == 1
    assert g.icc_read(0, "ICC_RPR_EL1") == 0x80 and cs[0].lines[0] == 0
    g.icc_write(0, "ICC_SGI1R_EL1", (2 << 24) | 1)
    assert cs[0].lines[0] == 1                       # 0x40 preempts 0x80
    assert g.icc_read(0, "ICC_IAR1_EL1") == 2
    assert g.icc_read(0, "ICC_AP1R0_EL1") == (1 << 16) | (1 << 8)
    g.icc_write(0, "ICC_EOIR1_EL1", 2)
    assert g.icc_read(0, "ICC_RPR_EL1") == 0x80
    g.icc_write(0, "ICC_EOIR0_EL1", 1)              # wrong group: ignored
    assert g.icc_read(0, "ICC_RPR_EL1") == 0x80
    g.icc_write(0, "ICC_EOIR1_EL1", 1)
    assert g.icc_read(0, "ICC_RPR_EL1") == 0xFF and g.gicr_iactiver0[0] == 0


def test_group0_goes_to_fiq_and_reset_lowers_lines():
    g, cs = enabled_gic(2)
    g.redist_write(0x20000 + 0x10080, 4, 0)          # CPU 1: SGIs group 0
    g.icc_write(1, "ICC_IGRPEN0_EL1", 1)
    g.icc_write(0, "ICC_SGI0R_EL1", (9 << 24) | 2)
    assert cs[1].lines == [0, 1] and cs[0].lines == [0, 0]
    assert g.icc_read(1, "ICC_IAR1_EL1") == 1023 and g.icc_read(1, "ICC_HPPIR0_EL1") == 9
    g.reset()
    assert cs[1].lines == [0, 0] and g.gicr_waker == [6, 6]


def test_ppis_are_per_cpu_and_level_sensitive():
    g, cs = enabled_gic(2)
    g.set_irq(27, 1, cpu=1)
    assert [c.lines[0] for c in cs] == [0, 1]
    assert g.icc_read(1, "ICC_IAR1_EL1") == 27
    g.icc_write(1, "ICC_EOIR1_EL1", 27)
    assert cs[1].lines[0] == 1                       # the line is still high
    g.set_irq(27, 0, cpu=1)
    assert cs[1].lines[0] == 0
    with pytest.raises(ValueError):
        g.set_irq(5, 1)


def test_state_fields_cover_all_state_and_post_load_drives_lines():
    g, cs = enabled_gic(2)
    g.dist_write(0x6000 + 33 * 8, 8, 1)
    g.dist_write(0x84, 4, 2)                        # SPI 33: group 1
    g.set_irq(33, 1)
    saved = {f.name: (list(getattr(g, f.name)) if f.is_list else getattr(g, f.name))
             for f in GICv3.STATE_FIELDS}
    g2, cs2 = enabled_gic(2)
    for k, v in saved.items():
        setattr(g2, k, v)
    g2.post_load()
    assert g2._target[33] == 1 and [c.lines[0] for c in cs2] == [0, 0]
    g2.dist_write(0x104, 4, 2)                      # enable SPI 33
    assert [c.lines[0] for c in cs2] == [0, 1]
    attrs = {k for k in vars(g) if not k.startswith("_")}
    config = {"num_irq", "num_cpu", "cpus", "pribits", "prebits", "min_bpr", "num_aprs",
              "guest_error", "dist", "redist", "irq_out", "fiq_out"}
    assert attrs - config == {f.name for f in GICv3.STATE_FIELDS}


# --- snapshots -------------------------------------------------------------------------
def test_savevm_loadvm_round_trip(tmp_path):
    from pyaarch64.snapshot.format import write as save_file, read as load_file
    from pyaarch64.snapshot.state import save as capture, restore
    out, stop, _ = run_guest("virt-7.2")
    elf = build("gicv3.c", extra_sources=("vectors.S",))
    buf = bytearray()
    m = VirtMachine("virt-7.2", serial=buf.extend, gic_version=3)
    m.load_kernel(elf)
    while b"spi33 enabled" not in buf:          # mid-flow: the UART's SPI pending
        assert m.run(max_insns=500).kind == "budget"
    path = tmp_path / "s.snap"
    save_file(str(path), capture(m))
    first = bytes(buf)
    assert m.run(max_insns=50_000_000).kind == "poweroff"
    snap = load_file(str(path))
    assert snap.identity["gic_version"] == 3 and "gicv3" in snap.sections
    buf2 = bytearray()
    n = VirtMachine("virt-7.2", serial=buf2.extend, gic_version=3)
    restore(n, snap)
    assert n.run(max_insns=50_000_000).kind == "poweroff"
    assert (first + bytes(buf2)).decode("latin-1") == out
    # a GICv3 snapshot on a GICv2 board, and the other way round: refused by name
    from pyaarch64.snapshot.state import SnapshotError
    with pytest.raises(SnapshotError, match=r"GICv3 \(-M virt-7.2,gic-version=3\), this "
                                            r"machine has a GICv2"):
        restore(VirtMachine("virt-7.2"), load_file(str(path)))
    v2 = capture(VirtMachine("virt-7.2"))
    with pytest.raises(SnapshotError, match="taken on a board with a GICv2"):
        restore(VirtMachine("virt-7.2", gic_version=3), v2)


def test_gicv2_identity_and_schema_unchanged():
    from pyaarch64.snapshot.state import identity_of
    ident = identity_of(VirtMachine("virt-7.2"))
    assert "gic_version" not in ident and "memmap.gic_redist" not in ident
    ident3 = identity_of(VirtMachine("virt-7.2", gic_version=3))
    assert ident3["gic_version"] == 3 and ident3["gicv3.priority_bits"] == 5
    assert identity_of(VirtMachine("virt-7.0", gic_version=3))["gicv3.priority_bits"] == 8


# --- command line --------------------------------------------------------------------
def test_cli_gic_version_values():
    hello = build("hello.S")
    for v in ("2", "3", "max"):
        rc, out, err = cli("run", "-M", f"virt,gic-version={v}", hello)
        assert (rc, out) == (0, "Hello from pyaarch64!\n"), (v, err)
    for v, msg in (("host", "gic-version=host requires KVM"),
                   ("4", "gic-version=4 requires virtualization enabled"),
                   ("5", "Invalid gic-version value")):
        rc, out, err = cli("run", "-M", f"virt,gic-version={v}", hello)
        assert rc == 1 and msg in err, (v, err)
    rc, out, _ = cli("run", "-M", "virt,help")
    assert rc == 0 and "gic-version=<string>" in out and "ITS is not implemented" in out
