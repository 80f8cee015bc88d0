"""The embedding API's surface (issue 14, item 6): one exception base with specific,
exported subclasses; reg_write takes whatever reg_read reads and refuses values that
do not fit; every documented stop kind can happen; run() after power-off says so;
every public name is documented."""
import inspect

import pytest

import pyaarch64

PSCI = {"off": 0x8400_0008, "reset": 0x8400_0009}


def code_machine(words, **kw):
    m = pyaarch64.Machine(machine="virt-7.2", **kw)
    m.mem_write(0x4000_0000, b"".join(w.to_bytes(4, "little") for w in words))
    m.pc = 0x4000_0000
    return m


def psci(fn):
    """movz w0, #lo; movk w0, #hi, lsl #16; hvc #0"""
    return [0x52800000 | ((fn & 0xFFFF) << 5), 0x72A00000 | ((fn >> 16) << 5), 0xD4000002]


def test_one_base_and_specific_exported_subclasses():
    for name in ("MachineError", "RegisterError", "MemoryAccessError", "KernelError",
                 "SnapshotError", "SnapshotFileError", "UnknownMachineType", "UnknownCpuModel"):
        cls = getattr(pyaarch64, name)
        assert issubclass(cls, pyaarch64.Error), name
    with pytest.raises(pyaarch64.UnknownMachineType):
        pyaarch64.Machine(machine="virt-1.0")
    with pytest.raises(pyaarch64.UnknownCpuModel):
        pyaarch64.Machine(cpu="cortex-m3")
    with pytest.raises(pyaarch64.MachineError):
        pyaarch64.Machine(ram_size=12345)
    m = pyaarch64.Machine()
    with pytest.raises(pyaarch64.RegisterError, match="unknown register 'x99'"):
        m.reg_read("x99")
    with pytest.raises(pyaarch64.MemoryAccessError, match="is not RAM"):
        m.mem_read(0, 4)
    with pytest.raises(pyaarch64.KernelError, match="not an ELF file"):
        m.load_elf("/etc/passwd")
    with pytest.raises(pyaarch64.MachineError, match="size above 0"):
        m.map_mmio(0x0C00_0000, 0)
    with pytest.raises(pyaarch64.MachineError):
        m.set_irq(5000, 1)


NAMES = ["x0", "x30", "w7", "sp", "pc", "lr", "fp", "nzcv", "pstate", "cpsr", "el", "v0", "q1",
         "d2", "s3", "h4", "b5", "v31", "SP_EL0", "SP_EL1", "FPCR", "FPSR", "TPIDR_EL0",
         "SCTLR_EL1", "VBAR_EL1", "ELR_EL1", "SPSR_EL1"]


@pytest.mark.parametrize("name", NAMES)
def test_reg_write_takes_what_reg_read_reads(name):
    m = pyaarch64.Machine()
    v = m.reg_read(name)
    m.reg_write(name, v)
    assert m.reg_read(name) == v


def test_reg_write_values_and_banking():
    m = pyaarch64.Machine()
    m.reg_write("x3", -1)
    assert m.reg_read("x3") == 2**64 - 1
    m.reg_write("v2", 2**128 - 1)
    assert m.reg_read("d2") == 2**64 - 1
    for name, v in (("w0", 2**40), ("x0", 2**64), ("s1", 2**32), ("x0", -(2**63) - 1)):
        with pytest.raises(pyaarch64.RegisterError, match="does not fit"):
            m.reg_write(name, v)
    with pytest.raises(pyaarch64.RegisterError, match="integer"):
        m.reg_write("x0", True)
    with pytest.raises(pyaarch64.RegisterError, match="read-only"):
        m.reg_write("MIDR_EL1", 0)
    with pytest.raises(pyaarch64.RegisterError, match="mode"):
        m.reg_write("pstate", 0x3C9)                  # EL2h: no EL2
    # EL1h -> EL0t: the stack pointer switches to SP_EL0's bank and back
    m.reg_write("sp", 0x1000)
    m.reg_write("SP_EL0", 0x2000)
    m.reg_write("el", 0)
    assert (m.reg_read("sp"), m.reg_read("pstate") & 0xF) == (0x2000, 0)
    m.reg_write("pstate", 0x3C5)
    assert (m.reg_read("sp"), m.reg_read("el"), m.reg_read("SP_EL0")) == (0x1000, 1, 0x2000)


def test_documented_stop_kinds_happen_and_run_after_power_off_says_so():
    m = code_machine(psci(PSCI["reset"]), no_reboot=True)
    r = m.run(max_insns=10)
    assert r.kind == "reset"
    m = code_machine(psci(PSCI["off"]))
    assert m.run(max_insns=10).kind == "poweroff"
    with pytest.raises(pyaarch64.MachineError, match="powered off"):
        m.run(max_insns=10)
    with pytest.raises(pyaarch64.MachineError, match="powered off"):
        m.step()
    snap = None
    m = code_machine([0xD503201F, 0xD503201F] + psci(PSCI["off"]))    # nop; nop; off
    snap = m.snapshot()
    assert m.run().kind == "poweroff"
    m.restore(snap)                                    # a restore makes it runnable again
    assert m.step().kind == "budget" and m.run().kind == "poweroff"
    m.reset()
    m.pc = 0x4000_0000
    assert m.run(max_insns=5).kind in ("budget", "undefined", "poweroff")


def test_every_public_name_is_documented():
    undocumented = []
    for name, member in inspect.getmembers(pyaarch64.Machine):
        if name.startswith("_"):
            continue
        doc = member.__doc__ if not isinstance(member, property) else member.fget.__doc__
        if not doc or not doc.strip():
            undocumented.append(name)
    assert undocumented == []
    assert pyaarch64.Machine.__init__.__doc__ and pyaarch64.StopReason.__doc__


def test_memory_through_the_current_translation_and_the_region_list():
    """A level-1 block maps VA 0 .. 1 GiB to RAM at 0x4000_0000: virtual reads and
    writes go there; an unmapped VA is a MemoryAccessError naming it."""
    m = pyaarch64.Machine()
    table = 0x4010_0000
    m.mem_write(table, (0x4000_0000 | (1 << 10) | 0b01).to_bytes(8, "little"))   # block, AF
    m.reg_write("TTBR0_EL1", table)
    m.reg_write("TCR_EL1", 25 | (1 << 23) | (2 << 32))      # T0SZ 25, EPD1, IPS 40 bits
    m.reg_write("MAIR_EL1", 0)
    m.reg_write("SCTLR_EL1", m.reg_read("SCTLR_EL1") | 1)
    m.mem_write(0x4000_1FFC, b"abcdefgh")                 # across a page boundary
    assert m.mem_read(0x1FFC, 8, virtual=True) == b"abcdefgh"
    m.mem_write(0x2000, b"XY", virtual=True)
    assert m.mem_read(0x4000_2000, 2) == b"XY"
    with pytest.raises(pyaarch64.MemoryAccessError, match="virtual address 0x40000000 does not translate"):
        m.mem_read(0x4000_0000, 4, virtual=True)
    m.map_mmio(0x0C00_0000, 0x1000, lambda o, s: 0, None)
    regions = m.mem_regions()
    assert (0x4000_0000, 0x4800_0000, "ram", "ram") in regions
    assert (0x0900_0000, 0x0900_1000, "mmio", "pl011") in regions
    assert (0x0C00_0000, 0x0C00_1000, "mmio", "map_mmio") in regions
    assert [r[2:] for r in regions if r[3].startswith("gic")] == [("mmio", "gic-distributor"),
                                                                  ("mmio", "gic-cpu-interface"),
                                                                  ("mmio", "gicv2m")]
    assert (0x0903_0000, 0x0903_1000, "mmio", "pl061") in regions


def _code(*words):
    return b"".join(w.to_bytes(4, "little") for w in words)


def test_ram_where_the_program_needs_it():
    """Code at address 0 (Unicorn's mem_map): it runs, its stores are restored by a
    fast restore, snapshots carry the region and a machine without it refuses them."""
    from pyaarch64.snapshot import format as F
    m = pyaarch64.Machine()
    m.map_ram(0, 0x10000)
    # movz x1, #0x100; mov x0, #5; str x0, [x1]; add x0, x0, #1; b .
    m.mem_write(0, _code(0xD2802001, 0xD28000A0, 0xF9000020, 0x91000400, 0x14000000))
    m.pc = 0
    snap = m.snapshot()
    m.run(max_insns=10)
    assert m.reg_read("x0") == 6 and m.mem_read(0x100, 8) == (5).to_bytes(8, "little")
    m.restore(snap)
    assert m._m.restore_pages == 1 and m.mem_read(0x100, 8) == bytes(8) and m.pc == 0
    other = pyaarch64.Machine()
    with pytest.raises(pyaarch64.SnapshotError, match="ram.regions"):
        other.restore(snap)
    other.map_ram(0, 0x10000)
    other.restore(F.decode(F.encode(snap))[0])
    assert other.mem_read(0, 4) == _code(0xD2802001)
    assert (0, 0x10000, "ram", "ram@0x0") in m.mem_regions()
    for base, size, what in ((0x4000_0000, 0x1000, "collides with ram"),
                             (0x0900_0000, 0x1000, "collides with pl011"),
                             (0x8000, 0x1000, "collides with ram@0x0"),
                             (0x123, 0x1000, "multiples of 4 KiB")):
        with pytest.raises(pyaarch64.MachineError, match=what):
            m.map_ram(base, size)


def test_an_elf_linked_at_zero_loads_into_ram_mapped_there():
    from guestbuild import build
    path = build("at_zero.S", ldscript="link0.ld")
    m = pyaarch64.Machine()
    with pytest.raises(pyaarch64.KernelError, match="outside RAM"):
        m.load_elf(path)
    m.map_ram(0, 0x10000)
    m.load_elf(path)
    assert m.pc == 0 and m.run(max_insns=10_000).kind == "poweroff"
    assert m.serial_output == b"Hello from pyaarch64!\n"
