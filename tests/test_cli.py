"""The `pyaarch64` command line as a user runs it (subprocesses)."""
import os
import subprocess
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
    (["-bios", "x"], "pyaarch64: could not find ROM image 'x': No such file or directory"),
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
    assert rc == 0 and "virt-4.1" in out and "virt-10.0" in out and "alias of virt-10.0" in out
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


# --- a guest cannot take the host hostage (issue 13) ---------------------------------

EXC_LOOP = ("pyaarch64: guest is stuck in an exception loop: undefined instruction 0x00000000 "
            "at PC 0x40080a00 (ESR 0x2000000), and the exception vector it enters "
            "(VBAR_EL1=0x40080800) faults again before any instruction completes; the first "
            "of these exceptions was taken at PC 0x4008000c")


@pytest.mark.parametrize("path", ["fast", "general", "step"])
def test_exception_loop_stops_with_its_reason(path, tmp_path, monkeypatch):
    """Vectors full of UDF: every exception entry faults again and no instruction ever
    retires.  The run stops with one line that says what faults where (it used to spin
    forever, deaf to --max-insns and signals), and -d guest_errors logs the same."""
    log = tmp_path / "log.txt"
    monkeypatch.setenv("PYAARCH64_EXEC_PATH", path)
    rc, out, err = cli("run", "--max-insns", "1000", "-d", "guest_errors",
                       "-D", str(log), build("cli_excloop.S"), timeout=300)
    assert (rc, err.strip()) == (1, EXC_LOOP)
    assert log.read_text().splitlines()[-1] == EXC_LOOP[len("pyaarch64: "):]


def test_exception_loop_with_a_monitor_pauses(tmp_path):
    """With a monitor of its own the user may still act: the VM pauses, says why, and
    the monitor answers (info status, quit)."""
    import time
    p = subprocess.Popen([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-serial", "null",
                          "-monitor", "stdio", build("cli_excloop.S")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = p.stderr.readline().decode()
        while line.startswith("pyaarch64: compil") or line.startswith("pyaarch64: waiting"):
            line = p.stderr.readline().decode()     # (a cold numba cache)
        assert line == EXC_LOOP + ("; the VM is paused (monitor: info registers, system_reset, "
                                   "loadvm, quit)\n")
        p.stdin.write(b"info status\nquit\n")
        p.stdin.flush()
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        assert b"VM status: paused" in out
    finally:
        p.kill()


@pytest.mark.parametrize("machine", ["virt-7.2", "virt-8.2", "virt-9.0"])
def test_a_timer_beyond_reach_is_no_deadline(machine):
    """CNTV_CVAL_EL0 = 2^63, enabled, then WFI: the counter gets there in thousands of
    years, so no interrupt can arrive (it used to raise OverflowError)."""
    rc, out, err = cli("run", "-M", machine, build("cli_timerfar.S"))
    assert (rc, err.strip()) == (1, "pyaarch64: guest is waiting for an interrupt (WFI at PC "
                                    "0x40080018) but none can arrive: no timer will fire and no "
                                    "input is pending")


# --- the command line never prints a traceback (issue 13) ----------------------------

def test_kernel_must_be_a_regular_file(tmp_path):
    """/dev/zero used to read until MemoryError, a FIFO blocked forever."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        rc, out, err = cli("run", "-kernel", path, timeout=60)
        assert (rc, err.strip()) == (1, f"pyaarch64: could not load kernel '{path}': not a regular file")
    raw = tmp_path / "raw.bin"
    raw.write_bytes(bytes(64))                      # a raw kernel (an ELF takes no initrd)
    rc, out, err = cli("run", "-kernel", str(raw), "-initrd", "/dev/zero", timeout=60)
    assert (rc, err.strip()) == (1, "pyaarch64: could not load initrd '/dev/zero': not a regular file")


def test_elf_fields_beyond_the_file(tmp_path):
    """A huge e_phoff or p_filesz used to end in OverflowError."""
    import struct
    good = open(build("cli_timerfar.S"), "rb").read()
    phoff = struct.unpack_from("<Q", good, 0x20)[0]
    bad_phoff = bytearray(good)
    bad_phoff[0x20:0x28] = struct.pack("<Q", 1 << 63)
    bad_filesz = bytearray(good)
    bad_filesz[phoff + 0x20:phoff + 0x28] = struct.pack("<Q", (1 << 63) + 5)
    (tmp_path / "a.elf").write_bytes(bad_phoff)
    (tmp_path / "b.elf").write_bytes(bad_filesz)
    rc, out, err = cli("run", "-kernel", str(tmp_path / "a.elf"))
    assert (rc, err.strip()) == (1, f"pyaarch64: could not load kernel '{tmp_path / 'a.elf'}': malformed "
                                    f"ELF (program headers at 0x8000000000000000 beyond the end of the file)")
    rc, out, err = cli("run", "-kernel", str(tmp_path / "b.elf"))
    assert rc == 1 and err.startswith(f"pyaarch64: could not load kernel '{tmp_path / 'b.elf'}': malformed "
                                      f"ELF (a segment's file size 0x8000000000000005 at offset")


def test_non_utf8_append_reaches_the_guest_as_bytes(tmp_path):
    """QEMU passes -append's bytes on; a non-UTF-8 argument used to raise
    UnicodeEncodeError.  The device tree's /chosen/bootargs holds the same bytes."""
    dtb = tmp_path / "x.dtb"
    r = subprocess.run([os.fsencode(sys.executable), b"-m", b"pyaarch64.emu.cli", b"run",
                        b"-machine", b"dumpdtb=" + os.fsencode(str(dtb)), b"-kernel", os.fsencode(HELLO),
                        b"-append", b"console=ttyAMA0 caf\xe9 \xff"], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert b"console=ttyAMA0 caf\xe9 \xff\x00" in dtb.read_bytes()


def test_monitor_socket_path_checks(tmp_path):
    """A regular file at the socket path is not replaced; an overlong path says why
    (it used to print 'None')."""
    f = tmp_path / "file"
    f.write_text("keep me")
    rc, out, err = cli("run", "-serial", "null", "-monitor", f"unix:{f},server=on,wait=off", HELLO)
    assert (rc, err.strip()) == (1, f"pyaarch64: -monitor unix:{f},server=on,wait=off: exists and is "
                                    f"not a socket (not replaced)")
    assert f.read_text() == "keep me"
    long = str(tmp_path / ("a" * 200))
    rc, out, err = cli("run", "-serial", "null", "-monitor", f"unix:{long},server=on,wait=off", HELLO)
    assert (rc, err.strip()) == (1, f"pyaarch64: -monitor unix:{long},server=on,wait=off: AF_UNIX path "
                                    f"too long")


def test_monitor_socket_is_private_and_replaces_a_stale_one(tmp_path):
    """The socket is 0600 whatever the umask (it was 0775 under umask 002: the group got
    the monitor); a socket left by a killed emulator is replaced."""
    import socket
    import stat
    import time
    sock = str(tmp_path / "mon.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(sock)
    stale.close()                                   # the file stays, nobody listens
    p = subprocess.Popen([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-serial", "null", "-S",
                          "-monitor", f"unix:{sock},server=on,wait=off", HELLO],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: os.umask(0o002))
    try:
        for _ in range(600):
            try:
                c = socket.socket(socket.AF_UNIX)
                c.connect(sock)
                break
            except OSError:
                time.sleep(0.1)
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        c.settimeout(60)
        buf = b""
        while b"(qemu) " not in buf:
            buf += c.recv(4096)
        c.sendall(b"quit\n")
        assert p.wait(timeout=60) == 0
    finally:
        p.kill()
