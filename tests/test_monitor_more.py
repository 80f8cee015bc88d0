"""HMP commands a QEMU user reaches for beyond the basics (issue 15): info cpus,
info mtree, info qtree, print with register expressions (also in x/xp), and log /
logfile switching -d logging on and off while the guest runs."""
import re

from guestbuild import build
from pyaarch64.emu.monitor import Monitor
from pyaarch64.machine.virt import VirtMachine
from pyaarch64.snapshot.store import SnapshotStore


def machine(tmp_path, guest="hello.S"):
    m = VirtMachine(machine="virt-7.2", serial=lambda b: None)
    m.load_kernel(build(guest))
    return m, Monitor(m, SnapshotStore(str(tmp_path / "store")))


def test_info_cpus_mtree_qtree(tmp_path):
    m, mon = machine(tmp_path)
    assert re.fullmatch(r"\* CPU #0: thread_id=\d+\r\n", mon.execute("info cpus"))
    mt = mon.execute("info mtree").split("\r\n")
    assert mt[:3] == ["address-space: cpu-memory-0", "address-space: memory",
                      "  0000000000000000-ffffffffffffffff (prio 0, i/o): system"]
    assert "    0000000009000000-0000000009000fff (prio 0, i/o): pl011" in mt
    assert "    0000000008010000-0000000008011fff (prio 0, i/o): gic_cpu" in mt
    assert "    0000000040000000-0000000047ffffff (prio 0, ram): mach-virt.ram" in mt
    m.map_ram(0x1000_0000, 0x2000)
    assert ("    0000000010000000-0000000010001fff (prio 0, ram): ram@0x10000000"
            in mon.execute("info mtree"))
    qt = mon.execute("info qtree")
    assert qt.startswith("bus: main-system-bus\r\n  type System\r\n")
    assert '  dev: pl011, id ""\r\n    gpio-out "sysbus-irq" 1\r\n    chardev = "serial0"\r\n' \
           "    mmio 0000000009000000/0000000000001000\r\n" in qt
    assert "num-irq = 288 (0x120)" in qt
    # the devices of board version 2, as QEMU 7.2 prints them (newest first; the
    # PL061's region is mapped by the board, so its sysbus address is unassigned)
    assert qt.index('dev: gpio-key') < qt.index('dev: pl061') < qt.index('dev: pl031') \
        < qt.index('dev: pl011') < qt.index('dev: arm-gicv2m') < qt.index('dev: arm_gic')
    assert '  dev: gpio-key, id ""\r\n    gpio-in "" 1\r\n    gpio-out "sysbus-irq" 1\r\n' \
           '  dev: pl061, id ""\r\n    gpio-in "" 8\r\n    gpio-out "" 8\r\n' \
           '    gpio-out "sysbus-irq" 1\r\n    pullups = 0 (0x0)\r\n    pulldowns = 255 (0xff)\r\n' \
           '    mmio ffffffffffffffff/0000000000001000\r\n' in qt
    assert '  dev: arm-gicv2m, id ""\r\n    gpio-out "sysbus-irq" 64\r\n    base-spi = 48 (0x30)\r\n' \
           '    num-spi = 64 (0x40)\r\n    mmio 0000000008020000/0000000000001000\r\n' in qt
    mt = mon.execute("info mtree").split("\r\n")
    assert "    0000000008020000-0000000008020fff (prio 0, i/o): gicv2m" in mt
    assert "    0000000009030000-0000000009030fff (prio 0, i/o): pl061" in mt
    assert "info mtree  -- show memory tree" in mon.execute("info")


def test_print_and_register_expressions(tmp_path):
    m, mon = machine(tmp_path)
    m.run(max_insns=2)
    pc = m.cpu.pc
    cases = {"p $pc": f"{pc}", "print /x $pc + 4*2": f"{pc + 8:#x}", "p 10": "10",
             "p 010": "8", "p /x 0": "0", "p (1+2)*3 - 1": "8", "p /x ~0": "0xffffffffffffffff",
             "p -1": "-1", "p /u -1": "18446744073709551615", "p 0x10 << 4 | 1": "257",
             "p 7 % 4 ^ 1": "2", "p /x $x2": f"{m.cpu.reg('x2'):#x}", "p $sp": f"{m.cpu.reg('sp')}",
             "p /x $sctlr_el1": f"{m.cpu.reg('SCTLR_EL1'):#x}", "p 100 >> 2 & 0xff": "25"}
    for cmd, want in cases.items():
        assert mon.execute(cmd) == want + "\r\n", cmd
    for cmd, err in (("p $x99", "unknown register"), ("p 1/0", "division by zero"),
                     ("p", "missing argument"), ("p 5 5", "invalid expression: '5 5'"),
                     ("p (1", "')' expected"), ("p 1 +", "unexpected end of expression"),
                     ("p /q 1", "invalid char in format: 'q'"), ("p 3 @ 4", "invalid expression")):
        assert mon.execute(cmd).startswith(err), cmd
    # x / xp take expressions too
    assert mon.execute("x /1i $pc").startswith(f"0x{pc:08x}:  ")
    assert mon.execute("xp /1xw $pc - 8") == mon.execute(f"xp /1xw 0x{pc - 8:x}")
    assert mon.execute("x /1xw $nope").startswith("unknown register")


def test_log_and_logfile_switch_logging_at_run_time(tmp_path):
    m, mon = machine(tmp_path, "cli_undef.S")
    log = tmp_path / "log.txt"
    assert mon.execute("log bogus").startswith("Invalid log mask 'bogus'")
    assert m.tracer is None
    assert mon.execute("logfile /nonexistent/dir/x").startswith("could not open log file")
    assert mon.execute(f"logfile {log}") == ""
    assert mon.execute("log in_asm,unimp") == ""
    m.run(max_insns=10)
    m.tracer.finish()
    text = log.read_text()
    assert text.startswith("----------------\nIN: _start\n0x40080000:  00000000  udf      #0\n")
    assert mon.execute("log none") == "" and m.tracer is None
    assert mon.execute("log") .startswith("missing argument")
