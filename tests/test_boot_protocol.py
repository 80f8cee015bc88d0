"""The Linux boot protocol as QEMU 7.2 does it for -kernel Image [-initrd] [-append].

The guest is a tiny arm64 Image (tests/guest/image_head.S + bootinfo.c, position
independent) that prints its boot registers, where it was loaded, EL and DAIF, the
/memory and /chosen contents of the DTB that x0 points to and the first bytes of the
initrd, then powers off.  Each case runs on pyaarch64 and, when installed, on QEMU
(same output expected; QEMU with dtb-randomness=off, as we write no seeds)."""
import gzip
import os
import re
import struct
import subprocess
import sys

import pytest

from guestbuild import BUILD, CC, GUEST, HERE
from tools import have, need, needs
from pyaarch64.machine.fdt import Fdt

QEMU = "qemu-system-aarch64"
OBJCOPY = "aarch64-linux-gnu-objcopy"
RAM = 0x4000_0000
MiB = 1 << 20
HELLO = os.path.join(GUEST, "hello.elf")

STUB = [0x580000C0,     # ldr x0, [pc, #0x18]   (DTB address literal)
        0xAA1F03E1,     # mov x1, xzr
        0xAA1F03E2,     # mov x2, xzr
        0xAA1F03E3,     # mov x3, xzr
        0x58000084,     # ldr x4, [pc, #0x10]   (entry literal)
        0xD61F0080]     # br x4


def build_bootinfo():
    """The Image's raw bytes with a zeroed header (fields patched per test)."""
    need(CC, OBJCOPY)
    srcs = [os.path.join(GUEST, f) for f in ("image_head.S", "bootinfo.c")]
    ld = os.path.join(GUEST, "image.ld")
    out = os.path.join(BUILD, "bootinfo.bin")
    if not (os.path.exists(out) and all(os.path.getmtime(s) <= os.path.getmtime(out)
                                         for s in srcs + [ld])):
        os.makedirs(BUILD, exist_ok=True)
        elf = out + f".{os.getpid()}.elf"
        subprocess.run([CC, "-O2", "-ffreestanding", "-nostdlib", "-nostartfiles", "-static",
                        "-fpie", "-fno-jump-tables", "-mgeneral-regs-only",
                        "-fno-stack-protector", "-fno-builtin", "-Wl,--build-id=none",
                        "-Wl,--no-warn-rwx-segments", "-Wl,-T," + ld, "-o", elf, *srcs],
                       check=True, capture_output=True)
        subprocess.run([OBJCOPY, "-O", "binary", elf, out + ".tmp"],
                       check=True)
        os.replace(out + ".tmp", out)
        os.remove(elf)
    with open(out, "rb") as f:
        data = f.read()
    assert data[0x38:0x3C] == b"ARM\x64"
    return data


def make_image(tmp_path, text_offset=0, image_size=0x10000, flags=0xA, gz=False):
    data = bytearray(build_bootinfo())
    struct.pack_into("<QQQ", data, 8, text_offset, image_size, flags)
    path = tmp_path / ("Image.gz" if gz else "Image")
    path.write_bytes(gzip.compress(bytes(data), mtime=0) if gz else bytes(data))
    return str(path), bytes(data)


def cli(*args, timeout=300):
    r = subprocess.run([sys.executable, "-m", "pyaarch64.emu.cli", "run", "-M", "virt-7.2",
                        "-cpu", "cortex-a57", "-nographic", *args],
                       capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1")


def qemu(*args, timeout=60):
    r = subprocess.run(["qemu-system-aarch64", "-M", "virt-7.2,dtb-randomness=off",
                        "-cpu", "cortex-a57", "-nographic", "-monitor", "none",
                        "-serial", "stdio", *args], capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode("latin-1")


def expected(x0, load, mem, bootargs=None, initrd=None):
    out = [f"x0={x0:#x} x1=0x0 x2=0x0 x3=0x0 x4={load:#x} ",
           f"load={load:#x} el=0x1 daif=0xf ",
           "version=0x11 ",
           "memory@40000000",
           f"reg=0x40000000 size={mem:#x} "]
    if initrd is not None:
        start, data = initrd
        out += [f"linux,initrd-end={start + len(data):#x} ", f"linux,initrd-start={start:#x} "]
    if bootargs:
        out.append(f'bootargs="{bootargs}"')
    out.append('stdout-path="/pl011@9000000"')
    if initrd is not None:
        out.append("initrd: " + "".join(chr(b) if 32 <= b < 127 else "." for b in data[:48]))
    out.append("done")
    return "\n".join(out) + "\n"


INITRD = b"INITRD-CONTENT\x00\x01-0123456789abcdefghijklmnopqrstuvwxyz-tail"


@pytest.mark.parametrize("mem, hdr, gz, with_initrd, append, x0, load", [
    # the reference layout: Image at RAM+2 MiB, initrd at +128 MiB, DTB 2 MiB after it
    (512, {}, False, True, "console=ttyAMA0 hello=1", 0x4820_0000, 0x4020_0000),
    (512, {}, True, True, "console=ttyAMA0 hello=1", 0x4820_0000, 0x4020_0000),   # gzip'd
    # < 256 MiB of RAM: initrd half-way into RAM; no initrd: DTB where it would go
    (128, {}, False, False, None, 0x4400_0000, 0x4020_0000),
    (256, {}, False, True, "x", 0x4820_0000, 0x4020_0000),
    # text_offset >= 4 KiB is honoured as is; an old Image (image_size 0) goes to +512 KiB
    (256, {"text_offset": 0x8_0000}, False, True, None, 0x4820_0000, 0x4008_0000),
    (256, {"text_offset": 0x1000}, False, False, "a b", 0x4800_0000, 0x4000_1000),
    (512, {"image_size": 0}, False, True, None, 0x4820_0000, 0x4008_0000),
    # an image that ends above RAM+64 MiB pushes the initrd (and DTB) after it
    (128, {"image_size": 80 * MiB}, False, True, "big", 0x4540_0000, 0x4020_0000),
])
def test_image_boot(tmp_path, mem, hdr, gz, with_initrd, append, x0, load):
    img, _ = make_image(tmp_path, gz=gz, **hdr)
    args = ["-m", str(mem), "-kernel", img]
    initrd = None
    if with_initrd:
        rd = tmp_path / "initrd.img"
        rd.write_bytes(INITRD)
        args += ["-initrd", str(rd)]
        start = max(RAM + min(mem * MiB // 2, 128 * MiB), load + hdr.get("image_size", 0x10000))
        initrd = ((start + 4095) & ~4095, INITRD)
    if append:
        args += ["-append", append]
    want = expected(x0, load, mem * MiB, append, initrd)
    rc, out, err = cli(*args)
    assert (rc, err) == (0, "")
    assert out == want
    if have(QEMU):
        assert qemu(*args) == (0, want)


def _machine(**kw):
    from pyaarch64.machine.virt import VirtMachine
    out = bytearray()
    return VirtMachine(machine="virt-7.2", serial=out.extend, **kw), out


def test_memory_and_registers_after_load(tmp_path):
    img, data = make_image(tmp_path)
    rd = tmp_path / "rd"
    rd.write_bytes(INITRD)
    m, _ = _machine(ram_size=512 * MiB)
    m.load_kernel(img, initrd=str(rd), append="console=ttyAMA0")
    words = struct.unpack("<6I", m.read_memory(RAM, 24))
    assert list(words) == STUB
    assert struct.unpack("<QQ", m.read_memory(RAM + 0x18, 16)) == (0x4820_0000, 0x4020_0000)
    assert m.cpu.pc == RAM
    assert m.cpu.reg("pstate") == 0x3C5          # EL1h, DAIF masked
    assert [m.cpu.reg(f"x{i}") for i in range(5)] == [0] * 5
    assert m.read_memory(0x4020_0000, len(data)) == data
    assert m.read_memory(0x4800_0000, len(INITRD)) == INITRD
    blob = m.read_memory(0x4820_0000, 0x10_0000)
    assert blob == m.boot_info.dtb
    chosen = Fdt.from_blob(blob).root.find("/chosen")
    assert chosen.get_str("bootargs") == "console=ttyAMA0"
    # the stub runs: 6 instructions later the kernel has x0 = DTB and x4 = entry
    m.run(max_insns=6)
    assert m.cpu.pc == 0x4020_0000
    assert [m.cpu.reg(f"x{i}") for i in range(5)] == [0x4820_0000, 0, 0, 0, 0x4020_0000]


def test_reset_reloads_kernel_initrd_and_dtb(tmp_path):
    img, data = make_image(tmp_path)
    rd = tmp_path / "rd"
    rd.write_bytes(INITRD)
    m, out = _machine(ram_size=512 * MiB)
    m.load_kernel(img, initrd=str(rd), append="again")
    before = [m.read_memory(a, 0x1000) for a in (RAM, 0x4020_0000, 0x4800_0000, 0x4820_0000)]
    for a in (RAM, 0x4020_0000, 0x4800_0000, 0x4820_0000):
        m.write_memory(a, b"\xff" * 0x1000)
    m.reset()
    assert [m.read_memory(a, 0x1000) for a in (RAM, 0x4020_0000, 0x4800_0000, 0x4820_0000)] == before
    assert m.cpu.pc == RAM
    r = m.run(max_insns=1_000_000)
    assert r.kind == "poweroff" and 'bootargs="again"' in out.decode()


@needs(QEMU)
def test_stub_and_start_state_match_qemu(tmp_path):
    img, _ = make_image(tmp_path)
    r = subprocess.run(["qemu-system-aarch64", "-M", "virt-7.2", "-cpu", "cortex-a57", "-m", "512",
                        "-display", "none", "-serial", "none", "-monitor", "stdio", "-S",
                        "-kernel", img], input=b"xp /10wx 0x40000000\ninfo registers\nquit\n",
                       capture_output=True, timeout=60)
    text = r.stdout.decode("latin-1")
    words = [int(w, 16) for w in re.findall(r"^00000000400000[0-9a-f]{2}: (.*)$", text, re.M)
             for w in w.split()]
    assert words[:6] == STUB
    assert words[6:] == [0x4800_0000, 0, 0x4020_0000, 0]
    assert re.search(r"PC=0000000040000000 ", text)
    # DAIF masked, EL1 with SP_EL1 (QEMU's NZCV reset value shows Z set: UNKNOWN anyway)
    assert re.search(r"PSTATE=[0-9a-f]{5}3c5 \S+ EL1h", text)
    m, _ = _machine(ram_size=512 * MiB)
    m.load_kernel(img)
    assert list(struct.unpack("<10I", m.read_memory(RAM, 40))) == words


def _elf_at(tmp_path, addr):
    need(CC)
    out = tmp_path / f"hello-{addr:x}.elf"
    subprocess.run([CC, "-nostdlib", "-static", "-Wl,--build-id=none",
                    f"-Wl,-Ttext-segment={addr:#x}", "-o", str(out),
                    os.path.join(GUEST, "hello.S")], check=True, capture_output=True)
    return str(out)


def _qemu_words(elf, addr, n=2):
    r = subprocess.run(["qemu-system-aarch64", "-M", "virt-7.2", "-cpu", "cortex-a57", "-m", "128",
                        "-display", "none", "-serial", "none", "-monitor", "stdio", "-S",
                        "-kernel", elf], input=f"xp /{n}wx {addr:#x}\nquit\n".encode(),
                       capture_output=True, timeout=60)
    line = re.search(rf"^{addr:016x}: (.*)$", r.stdout.decode(), re.M).group(1)
    return [int(w, 16) for w in line.split()]


@pytest.mark.parametrize("link, dtb_at_ram_start", [
    (0x4008_0000, False),     # 512 KiB below the image: QEMU's 1 MiB DTB does not fit
    (0x4020_0000, True),
])
def test_elf_kernels_get_the_dtb_at_ram_start_when_it_fits(tmp_path, link, dtb_at_ram_start):
    elf = HELLO if link == 0x4008_0000 else _elf_at(tmp_path, link)
    m, out = _machine()
    m.load_kernel(elf, append="ignored by hello")
    magic = m.read_memory(RAM, 4)
    assert magic == (b"\xd0\x0d\xfe\xed" if dtb_at_ram_start else b"\0\0\0\0")
    assert (m.boot_info.dtb_start == RAM) == dtb_at_ram_start
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as f:
        entry = ELFFile(f).header["e_entry"]
    assert m.boot_info.image_low == link
    assert m.cpu.pc == entry and m.cpu.reg("x0") == 0          # entered directly
    assert m.run(max_insns=100_000).kind == "poweroff"
    assert out == b"Hello from pyaarch64!\n"
    if have(QEMU):
        assert _qemu_words(elf, RAM)[0] == (0xEDFE0DD0 if dtb_at_ram_start else 0)


def test_raw_binary_gets_x0_pointing_at_the_dtb(tmp_path):
    raw = tmp_path / "hello.bin"
    need(OBJCOPY)
    subprocess.run([OBJCOPY, "-O", "binary", HELLO, str(raw)], check=True)
    m, out = _machine(ram_size=128 * MiB)
    m.load_kernel(str(raw), append="raw")
    assert m.cpu.pc == RAM and m.cpu.reg("x0") == 0x4400_0000
    assert Fdt.from_blob(m.read_memory(0x4400_0000, 0x10_0000)).root.find(
        "/chosen").get_str("bootargs") == "raw"
    assert m.run(max_insns=100_000).kind == "poweroff" and out == b"Hello from pyaarch64!\n"


def test_empty_initrd_is_no_initrd(tmp_path):
    img, _ = make_image(tmp_path)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    rc, out, err = cli("-m", "128", "-kernel", img, "-initrd", str(empty))
    assert (rc, out) == (0, expected(0x4400_0000, 0x4020_0000, 128 * MiB))
    if have(QEMU):
        assert qemu("-m", "128", "-kernel", img, "-initrd", str(empty)) == (0, out)


def test_load_errors(tmp_path):
    img, data = make_image(tmp_path)
    missing = tmp_path / "nope"
    rc, out, err = cli("-kernel", img, "-initrd", str(missing))
    assert (rc, err) == (1, f"pyaarch64: could not load initrd '{missing}': "
                            f"No such file or directory\n")
    big = tmp_path / "big.initrd"
    with open(big, "wb") as f:
        f.truncate(64 * MiB + 1)                # RAM+64 MiB..RAM+128 MiB is free
    rc, out, err = cli("-m", "128", "-kernel", img, "-initrd", str(big))
    assert rc == 1 and err.startswith(f"pyaarch64: could not load initrd '{big}': "
                                      f"{64 * MiB + 1} bytes do not fit in RAM at 0x44000000")
    rc, out, err = cli("-m", "128", "-kernel", make_image(tmp_path, image_size=127 * MiB)[0])
    assert rc == 1 and "is too large to fit in RAM" in err and err.count("\n") == 1
    rc, out, err = cli("-kernel", make_image(tmp_path, flags=0xB)[0])
    assert rc == 1 and "big-endian arm64 Image" in err
    # flags bits 1-2: page size; the A57 has no 16 KiB granule (ID_AA64MMFR0_EL1.TGran16 0)
    rc, out, err = cli("-kernel", make_image(tmp_path, flags=0xC)[0])
    assert rc == 1 and "built for 16 KiB pages, which the cortex-a57 does not support" in err
    rc, out, err = cli("-kernel", make_image(tmp_path, flags=0xE)[0], "-m", "64",
                       "--max-insns", "1000000")           # 64 KiB pages: fine, it runs
    assert rc == 0 and out.startswith("x0=0x42000000 ")
    gz = gzip.compress(data, mtime=0)
    for name, blob, message in (("trunc.gz", gz[:len(gz) // 2], "truncated gzip data"),
                                ("bad.gz", gz[:10] + b"\xff" * 40 + gz[50:], "corrupt gzip data")):
        p = tmp_path / name
        p.write_bytes(blob)
        rc, out, err = cli("-kernel", str(p))
        assert (rc, out) == (1, "") and err.startswith(
            f"pyaarch64: could not load kernel '{p}': {message}"), err
    zboot = tmp_path / "vmlinuz.efi"
    zboot.write_bytes(b"MZ\0\0zimg" + struct.pack("<II", 0x100, 0x200) + bytes(8) + b"gzip"
                      + bytes(0x300))
    rc, out, err = cli("-kernel", str(zboot))
    assert rc == 1 and "an EFI zboot image (compressed gzip payload) is not supported" in err
    rc, out, err = cli("-kernel", HELLO, "-initrd", img)
    assert rc == 1 and "the kernel is an ELF file" in err
