"""Build guest test programs with the cross toolchain (aarch64-linux-gnu-gcc).

Assembly (*.S) guests stand alone.  C guests are linked with crt0.S and lib.c
(PL011 output, printf-like helpers, semihosting/PSCI exit), see tests/guest/.
Outputs go to tests/guest/build/ (not committed) and are rebuilt when a source
is newer.
"""
import os
import subprocess

from tools import need

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(HERE, "guest")
BUILD = os.path.join(GUEST, "build")
CC = "aarch64-linux-gnu-gcc"
CFLAGS = ["-O2", "-ffreestanding", "-nostdlib", "-nostartfiles", "-static",
          "-mgeneral-regs-only", "-fno-stack-protector", "-fno-pic", "-fno-builtin",
          "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments",
          "-Wl,-z,max-page-size=4096"]


# C guests compiled the normal way: the compiler may use FP/SIMD registers anywhere
# (such a guest enables CPACR_EL1.FPEN before it calls any compiled code)
FPSIMD_GUESTS = {"vecloop.c"}


def build(name, extra_sources=(), cflags=(), ldscript="link.ld"):
    """Build tests/guest/<name> (.S or .c) into an ELF; returns its path."""
    need(CC)
    src = os.path.join(GUEST, name)
    base = os.path.splitext(os.path.basename(name))[0]
    out = os.path.join(BUILD, base + ".elf")
    srcs = [src]
    if name.endswith(".c"):
        srcs = [os.path.join(GUEST, "crt0.S"), os.path.join(GUEST, "lib.c"), src]
    srcs += [os.path.join(GUEST, s) for s in extra_sources]
    deps = srcs + [os.path.join(GUEST, ldscript)] + [
        os.path.join(GUEST, h) for h in os.listdir(GUEST) if h.endswith(".h")]
    if os.path.exists(out):
        t = os.path.getmtime(out)
        if all(not os.path.exists(d) or os.path.getmtime(d) <= t for d in deps):
            return out
    os.makedirs(BUILD, exist_ok=True)
    tmp = out + f".tmp{os.getpid()}"
    flags = CFLAGS
    if name in FPSIMD_GUESTS:
        flags = [f for f in CFLAGS if f != "-mgeneral-regs-only"] + ["-fno-math-errno"]
    cmd = [CC, *flags, *cflags, "-I", GUEST, "-Wl,-T," + os.path.join(GUEST, ldscript),
           "-o", tmp, *srcs]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"guest build failed: {' '.join(cmd)}\n{r.stderr}")
    os.replace(tmp, out)
    return out


def symbols(elf):
    """{symbol: address} of a built guest (its .symtab)."""
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as f:
        return {s.name: s["st_value"] for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols()}


def run_guest(elf, max_insns=50_000_000, **kw):
    """Run an ELF on a fresh virt machine in this process.
    Returns (serial output as str, StopReason, machine)."""
    from pyaarch64.machine.virt import VirtMachine
    out = bytearray()
    m = VirtMachine(serial=out.extend, **kw)
    m.load_kernel(elf)
    r = m.run(max_insns=max_insns)
    return out.decode("latin-1"), r, m


def run_qemu(elf, timeout=60, extra=()):
    """Run an ELF under qemu-system-aarch64 7.2 (same board); returns serial output."""
    cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "128M",
           "-nographic", "-monitor", "none", "-serial", "stdio", "-kernel", elf, *extra]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    return r.stdout.decode("latin-1")


def cli(*args, input=b"", timeout=120):
    """`pyaarch64 ARGS...` as a user runs it: (exit status, stdout, stderr)."""
    import sys
    r = subprocess.run([sys.executable, "-m", "pyaarch64.emu.cli", *args], input=input,
                       capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1")
