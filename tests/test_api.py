"""The embedding API, used as a harness author would."""
import pytest

import pyaarch64
from guestbuild import build

HELLO_TEXT = b"Hello from pyaarch64!\n"


def hello():
    import os
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "hello.elf")


def test_run_hello_and_stop_reason():
    m = pyaarch64.Machine(cpu="cortex-a57")
    assert m.machine_type == "virt-10.0"         # the alias is resolved at creation
    m.load_elf(hello())
    assert m.pc == 0x40080000
    assert m.reg_read("CurrentEL") == 1 << 2 and m.reg_read("DAIF") == 0x3C0
    r = m.run(max_insns=10_000)
    assert r.kind == "poweroff" and r.code == 0
    assert bytes(m.serial_output) == HELLO_TEXT
    assert m.icount > 20


def test_budget_stop_and_resume():
    m = pyaarch64.Machine()
    m.load_elf(hello())
    r = m.run(max_insns=10)
    assert (r.kind, m.icount) == ("budget", 10)
    pc = m.pc
    assert pc != 0x40080000
    r = m.run()
    assert r.kind == "poweroff" and bytes(m.serial_output) == HELLO_TEXT


def test_registers_and_memory_by_name():
    m = pyaarch64.Machine()
    base = 0x40000000
    # mov x0, #5 ; add x1, x0, x2 ; str x1, [x3] ; brk #0 (no vectors: stops)
    code = bytes.fromhex("a00080d2" "0100028b" "610000f9" "000020d4")
    m.mem_write(base, code)
    m.pc = base
    m.reg_write("x2", 0x1234_5678_9ABC_DEF0)
    m.reg_write("x3", base + 0x100)
    m.reg_write("TPIDR_EL0", 77)
    m.reg_write("sp", base + 0x8000)
    r = m.run(max_insns=100)
    assert r.kind == "exception-loop" and r.pc == base + 12
    assert m.reg_read("x1") == 0x1234_5678_9ABC_DEF5
    assert m.reg_read("w1") == 0x9ABC_DEF5
    assert m.mem_read(base + 0x100, 8) == (0x1234_5678_9ABC_DEF5).to_bytes(8, "little")
    assert m.reg_read("tpidr_el0") == 77 and m.reg_read("sp") == base + 0x8000
    with pytest.raises(KeyError, match="unknown register 'x99'"):
        m.reg_read("x99")
    with pytest.raises(KeyError, match="read-only"):
        m.reg_write("MIDR_EL1", 0)
    assert m.reg_read("MIDR_EL1") == 0x411FD070
    with pytest.raises(ValueError, match="not RAM"):
        m.mem_read(0x1000, 4)


def test_undefined_and_abort_stop_reasons():
    m = pyaarch64.Machine()
    base = 0x40000000
    m.mem_write(base, (0).to_bytes(4, "little"))           # UDF #0, no vectors
    m.pc = base
    r = m.run(max_insns=10)
    assert (r.kind, r.pc, r.insn) == ("undefined", base, 0)
    # ldr x0, [x1] from an address with no device behind it
    m.mem_write(base, bytes.fromhex("200040f9"))
    m.pc = base
    m.reg_write("x1", 0x0A00_0000 + 0x1000_0000)
    r = m.run(max_insns=10)
    assert r.kind == "data-abort" and r.address == 0x1A00_0000 and r.pc == base
    # branch to unmapped memory
    m.mem_write(base, bytes.fromhex("00001fd6"))            # br x0
    m.pc = base
    m.reg_write("x0", 0x2000_0000)
    r = m.run(max_insns=10)
    assert (r.kind, r.address) == ("fetch-abort", 0x2000_0000)


def test_map_mmio_callbacks_and_stop():
    m = pyaarch64.Machine()
    base = 0x40000000
    seen = []

    def rd(off, size):
        return 0xAB00 + off

    def wr(off, size, value):
        seen.append((off, size, value))
        if value == 3:
            m.stop()
    m.map_mmio(0x0C00_0000, 0x1000, rd, wr)
    # ldr w0, [x1, #8]; str w0, [x1]; mov w2, #3; str w2, [x1, #4]; b .
    code = bytes.fromhex("200840b9" "200000b9" "62008052" "220400b9" "00000014")
    m.mem_write(base, code)
    m.pc = base
    m.reg_write("x1", 0x0C00_0000)
    r = m.run(max_insns=1000)
    assert r.kind == "stopped" and m.pc == base + 16
    assert m.reg_read("x0") == 0xAB08
    assert seen == [(0, 4, 0xAB08), (4, 4, 3)]
    with pytest.raises(ValueError, match="overlaps"):
        m.map_mmio(0x0900_0000, 0x100)


def test_device_callback_error_is_reported():
    m = pyaarch64.Machine()

    def rd(off, size):
        raise ZeroDivisionError("boom")
    m.map_mmio(0x0C00_0000, 0x1000, rd, None)
    m.mem_write(0x40000000, bytes.fromhex("200040b9"))     # ldr w0, [x1]
    m.pc = 0x40000000
    m.reg_write("x1", 0x0C00_0000)
    r = m.run(max_insns=10)
    assert r.kind == "callback-error" and r.pc == 0x40000000 and isinstance(r.error, ZeroDivisionError)
    assert "a callback raised at PC 0x40000000" in r.message and "boom" in r.message
    assert m.run(max_insns=10).kind == "callback-error"     # (the load runs again: raises again)


def test_semihosting_through_the_api():
    m = pyaarch64.Machine(semihosting=True)
    m.load_elf(build("cli_exit.S"))
    r = m.run(max_insns=10_000)
    assert (r.kind, r.code) == ("semihosting-exit", 42)
    assert bytes(m.serial_output) == b"exiting with 42\n"


def test_runs_are_deterministic():
    def one():
        m = pyaarch64.Machine()
        m.load_elf(build("c_smoke.c"))
        r = m.run(max_insns=5_000_000)
        return r.kind, m.icount, bytes(m.serial_output), m.reg_read("x19")
    assert one() == one()


def test_host_raises_an_interrupt_line():
    """Machine.set_irq drives a GIC input: a level SPI held high is taken once the
    guest enables it; with the line low the guest sleeps and the run says so."""
    elf = build("api_irq.c", extra_sources=("vectors.S",))
    m = pyaarch64.Machine()
    m.load_elf(elf)
    m.set_irq(40, 1)
    stop = m.run(max_insns=1_000_000)
    assert stop.kind == "poweroff", stop
    assert bytes(m.serial_output) == b"irq 40 taken\nEXIT 0\n"
    m = pyaarch64.Machine()
    m.load_elf(elf)
    stop = m.run(max_insns=1_000_000)
    assert stop.kind == "halted" and b"irq" not in bytes(m.serial_output), stop


def test_load_linux_style_kernel_with_initrd_and_cmdline(tmp_path):
    """load_kernel takes -initrd/-append like the CLI: an arm64 Image goes to RAM+2 MiB,
    the initrd to RAM+128 MiB, and the DTB's /chosen holds the command line."""
    import struct
    hdr = struct.pack("<IIQQQQQQII", 0x14000010, 0, 0, 0x10000, 0xA, 0, 0, 0, 0x644D5241, 0)
    image = tmp_path / "Image"
    image.write_bytes(hdr + struct.pack("<I", 0x14000000))        # b .
    rd = tmp_path / "rd.bin"
    rd.write_bytes(bytes(range(256)) * 16)
    m = pyaarch64.Machine(ram_size=256 << 20)
    m.load_kernel(str(image), initrd=str(rd), append="console=ttyAMA0 quiet")
    assert m.pc == 0x40000000                                     # the boot stub
    assert m.mem_read(0x40200000, 64) == hdr
    assert m.mem_read(0x48000000, 4096) == rd.read_bytes()
    assert b"console=ttyAMA0 quiet" in m.dtb
    m.run(max_insns=100)
    assert m.pc == 0x40200040 and m.reg_read("x0") != 0            # in the kernel, x0 = DTB


def test_mmu_unmapped_vector_stops():
    """With the MMU on, an exception whose vector does not translate stops the run
    (it would otherwise fault on its own vector forever)."""
    import struct
    m = pyaarch64.Machine()
    base = 0x40000000
    l0, l1 = base + 0x10000, base + 0x11000
    m.mem_write(l0, struct.pack("<Q", l1 | 3))
    m.mem_write(l1 + 8, struct.pack("<Q", base | (1 << 10) | 1))    # 1 GiB block, AF
    m.mem_write(base, bytes.fromhex("200040f9"))                      # ldr x0, [x1]
    m.reg_write("MAIR_EL1", 0xff)
    m.reg_write("TCR_EL1", 16 | (16 << 16) | (2 << 30) | (5 << 32))
    m.reg_write("TTBR0_EL1", l0)
    m.reg_write("VBAR_EL1", 0x80000000)                               # L1[2]: not mapped
    m.reg_write("SCTLR_EL1", m.reg_read("SCTLR_EL1") | 1)
    m.reg_write("x1", 0x1000)                                         # L1[0]: not mapped
    m.pc = base
    r = m.run(max_insns=1000)
    assert r.kind == "fetch-abort" and r.pc == 0x80000200, r
    assert m.reg_read("ESR_EL1") == 0x96000005           # translation fault, level 1
    assert m.reg_read("FAR_EL1") == 0x1000 and m.reg_read("ELR_EL1") == base


def test_a_stuck_guest_comes_back_at_its_vector():
    """An exception loop (vectors of UDF) ends run() with kind 'exception-loop' and the
    machine where the guest is: at the vector, the exception taken (ELR, ESR set)."""
    m = pyaarch64.Machine()
    m.load_elf(build("cli_excloop.S"))
    stop = m.run(max_insns=1000)
    assert stop.kind == "exception-loop" and stop.pc == 0x40080A00
    assert m.reg_read("pc") == 0x40080A00
    assert (m.reg_read("ELR_EL1"), m.reg_read("ESR_EL1")) == (0x40080A00, 0x2000000)
