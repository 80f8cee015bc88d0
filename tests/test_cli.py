"""The `pyaarch64` command line as a user runs it (subprocesses)."""
import os
import sys

import pytest

from guestbuild import build, cli
from tools import need

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELLO = os.path.join(ROOT, "tests", "guest", "hello.elf")


def test_demo_guest_from_readme():
    rc, out, err = cli("run", "-M", "virt", "-cpu", "cortex-a57", "-nographic", HELLO)
    assert (rc, out, err) == (0, "Hello from pyaarch64!\n", "")


def test_kernel_option_and_positional_are_the_same():
    assert cli("run", "-kernel", HELLO)[:2] == (0, "Hello from pyaarch64!\n")


def test_semihosting_exit_status():
    elf = build("cli_exit.S")
    rc, out, err = cli("run", "-semihosting-config", "enable=on,target=native", "-kernel", elf)
    assert rc == 42 and out == "exiting with 42\n"
    # without semihosting the HLT is an undefined instruction and nothing handles it
    rc, out, err = cli("run", elf)
    assert rc == 1 and "undefined instruction 0xd45e0000 at PC 0x4008" in err


def test_unmapped_execution_names_the_pc():
    rc, out, err = cli("run", build("cli_unmapped.S"))
    assert rc == 1
    assert err.strip() == "pyaarch64: guest is executing from unmapped memory at PC 0x10000000"


def test_undefined_instruction_without_vectors():
    rc, out, err = cli("run", build("cli_undef.S"))
    assert rc == 1
    assert "undefined instruction 0x00000000 at PC 0x40080000" in err


def test_max_insns_budget():
    rc, out, err = cli("run", "--max-insns", "100000", build("cli_spin.S"))
    assert rc == 2
    assert err.strip() == ("pyaarch64: guest did not finish within 100000 instructions "
                           "(PC 0x40080000); stopping (--max-insns)")


def test_serial_input_reaches_the_guest():
    rc, out, err = cli("run", "-nographic", build("cli_echo.S"), input=b"abcq")
    assert (rc, out) == (0, "bcd")


def test_ctrl_a_x_quits_and_ctrl_a_h_helps():
    # Ctrl-A Ctrl-A sends one Ctrl-A to the guest (echoed as 0x02); all input arrives
    # at once, so the escapes may act before the guest echoes anything
    rc, out, err = cli("run", "-nographic", build("cli_echo.S"), input=b"\x01\x01\x01h\x01x")
    assert rc == 0
    assert out.lstrip("\x02").startswith("\n\rC-a h    print this help\n")
    assert out.endswith("QEMU: Terminated\n\r")


def test_serial_to_file(tmp_path):
    f = tmp_path / "serial.txt"
    rc, out, err = cli("run", "-serial", f"file:{f}", HELLO)
    assert rc == 0 and out == "" and f.read_text() == "Hello from pyaarch64!\n"
    rc, out, err = cli("run", "-serial", "null", HELLO)
    assert rc == 0 and out == ""


@pytest.mark.parametrize("args, message", [
    (["-M", "virt-1.0"], "pyaarch64: -M virt-1.0: unsupported machine type 'virt-1.0' (valid: virt-4.1,"),
    (["-M", "virt,frob=on"], "pyaarch64: -M virt,frob=on: unknown machine property 'frob'"),
    (["-cpu", "cortex-a99"], "pyaarch64: -cpu cortex-a99: unknown CPU model 'cortex-a99' "
                             "(valid: cortex-a53, cortex-a57, cortex-a72, max)"),
    (["-cpu", "cortex-a15"], "pyaarch64: -cpu cortex-a15: AArch32 CPUs are not supported"),
    (["-frobnicate"], "pyaarch64: -frobnicate: invalid option"),
    (["-m", "lots"], "pyaarch64: -m lots: invalid RAM size"),
    (["-d", "in_asm,bogus"], "pyaarch64: -d in_asm,bogus: unknown log item 'bogus'"),
    (["-serial", "tcp:1.2.3.4:5"], "pyaarch64: -serial tcp:1.2.3.4:5: unsupported character device"),
    (["-bios", "x"], "pyaarch64: -bios: not supported yet"),
    (["-initrd", "x"], "pyaarch64: could not load initrd 'x': the kernel is an ELF file"),
    (["-kernel"], "pyaarch64: -kernel: requires an argument"),
])
def test_bad_options_get_one_clear_line(args, message):
    rc, out, err = cli("run", HELLO, *args)
    assert rc != 0
    assert err.startswith(message), err
    assert err.count("\n") == 1 and out == ""


def test_bad_kernel_files(tmp_path):
    rc, out, err = cli("run", str(tmp_path / "missing.elf"))
    assert (rc, err) == (1, f"pyaarch64: could not load kernel '{tmp_path / 'missing.elf'}': "
                            f"No such file or directory\n")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    rc, out, err = cli("run", str(empty))
    assert rc == 1 and "file is empty" in err
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 20)
    rc, out, err = cli("run", str(bad))
    assert rc == 1 and err.startswith(f"pyaarch64: could not load kernel '{bad}': malformed ELF")
    x86 = tmp_path / "x86.elf"
    x86.write_bytes(open(sys.executable, "rb").read(4096))
    rc, out, err = cli("run", str(x86))
    assert rc == 1 and ("not AArch64" in err or "malformed ELF" in err)
    assert err.count("\n") == 1


def test_raw_binary_loads_at_start_of_ram(tmp_path):
    # the hello guest is position independent: its text works as a raw image
    import subprocess as sp
    raw = tmp_path / "hello.bin"
    need("aarch64-linux-gnu-objcopy")
    sp.run(["aarch64-linux-gnu-objcopy", "-O", "binary", HELLO, str(raw)], check=True)
    rc, out, err = cli("run", str(raw))
    assert (rc, out) == (0, "Hello from pyaarch64!\n")


def test_help_lists():
    rc, out, _ = cli("run", "-M", "help")
    assert rc == 0 and "virt-4.1" in out and "virt-9.2" in out and "alias of virt-9.2" in out
    rc, out, _ = cli("run", "-cpu", "help")
    assert rc == 0 and "cortex-a57" in out and "(default)" in out
    rc, out, _ = cli("run", "-d", "help")
    assert rc == 0 and "in_asm" in out and "guest_errors" in out
    rc, out, _ = cli("-version")
    assert rc == 0 and out.startswith("pyaarch64 version ")


def test_d_int_and_in_asm_log(tmp_path):
    log = tmp_path / "log.txt"
    rc, out, err = cli("run", "-d", "in_asm,int,unimp", "-D", str(log), build("cli_undef.S"))
    text = log.read_text()
    assert text.startswith("----------------\nIN: _start\n0x40080000:  00000000  udf      #0\n")
    assert "Taking exception" not in text   # the vector is unmapped: reported, not taken
    assert "undefined instruction 0x00000000 at PC 0x40080000" in err
