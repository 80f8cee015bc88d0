"""Kernel loading and the Linux boot protocol, as QEMU 7.2's `-kernel` does it.

Three kinds of kernel file:
  * AArch64 ELF: segments at their physical addresses, entered at the ELF entry with
    x0..x3 = 0.  The DTB goes to the start of RAM when it fits below the lowest segment
    (QEMU's rule; its DTB is 1 MiB, so not for guests linked at 0x4008_0000).  -initrd
    is refused (QEMU ignores it for ELF files).
  * arm64 Linux `Image` (magic "ARM\\x64" at 0x38; gzip'd input is decompressed):
    loaded at RAM + text_offset (+ 2 MiB when text_offset < 4 KiB; RAM + 0x8_0000 for
    old images with image_size 0), the initrd at RAM + min(RAM/2, 128 MiB) (or after
    the image if it ends above that, page aligned), the DTB at the next 2 MiB boundary
    after the initrd, and QEMU's 6-instruction stub at the start of RAM that enters the
    kernel with x0 = DTB, x1 = x2 = x3 = 0.  The CPU starts at the stub.
  * anything else: a raw binary, loaded and entered at the start of RAM (QEMU would
    treat it as a header-less Image at RAM + 0x8_0000); the initrd and DTB are placed
    as for an Image and x0 = DTB is set directly.

boot(target, kernel, initrd=None, append=None, dtb=None) does it all and returns a
BootInfo; `target` needs ram_base, ram_size, type (MachineType), cpu_model (name) and
write_memory(addr, data).
"""
import os
import stat
import struct
import zlib
from dataclasses import dataclass, field

from pyaarch64.errors import Error

ELF_MAGIC = b"\x7fELF"
GZIP_MAGIC = b"\x1f\x8b"
ARM64_MAGIC = b"ARM\x64"
ARM64_MAGIC_OFFSET = 0x38
MiB = 1 << 20
KERNEL64_LOAD_ADDR = 0x8_0000       # old Images without image_size, as QEMU
BOOTLOADER_MAX_SIZE = 4096          # the stub's room at the start of RAM
MAX_GUNZIP = 256 * MiB              # QEMU's limit for a decompressed kernel
PAGE = 4096


class KernelError(Error, ValueError):
    """A kernel, ELF, initrd or device tree that cannot be loaded."""


@dataclass
class BootInfo:
    kind: str                   # 'elf' | 'image' | 'raw'
    pc: int                     # where the CPU starts
    entry: int                  # the kernel's entry point
    image_low: int
    image_high: int             # end of the kernel (Image: load address + image_size)
    regs: dict = field(default_factory=dict)    # initial x0.. values
    initrd_start: int = 0
    initrd_size: int = 0
    dtb_start: int = None       # None: no DTB loaded
    dtb: bytes = None           # the blob as loaded (or as it would be for dumpdtb)
    image: dict = field(default_factory=dict)   # Image header fields
    fw_cfg: tuple = None        # a firmware boot: (kernel, initrd, command line) for fw_cfg


MAX_FILE = 2 << 30          # the largest kernel, initrd or device tree file read


def _read(path, what):
    """The bytes of a regular file (a device, FIFO or socket would read forever or
    block: refused, as are files over MAX_FILE)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise KernelError(f"could not load {what} '{path}': {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise KernelError(f"could not load {what} '{path}': Is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise KernelError(f"could not load {what} '{path}': not a regular file")
    if st.st_size > MAX_FILE:
        raise KernelError(f"could not load {what} '{path}': larger than {MAX_FILE >> 30} GiB")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE + 1)
    except OSError as e:
        raise KernelError(f"could not load {what} '{path}': {e.strerror}") from None
    if len(data) > MAX_FILE:                    # (it grew while we read it)
        raise KernelError(f"could not load {what} '{path}': larger than {MAX_FILE >> 30} GiB")
    return data


def gunzip(data, path, what="kernel"):
    """Decompress a gzip file (all members), refusing truncated or corrupt data."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, MAX_GUNZIP + 1)
        if len(out) > MAX_GUNZIP:
            raise KernelError(f"could not load {what} '{path}': decompresses to more than "
                              f"{MAX_GUNZIP >> 20} MiB")
        if not d.eof:
            raise KernelError(f"could not load {what} '{path}': truncated gzip data")
        rest = d.unused_data
        if rest.startswith(GZIP_MAGIC):         # further members (as gzip -dc)
            out += gunzip(rest, path, what)
    except zlib.error as e:
        raise KernelError(f"could not load {what} '{path}': corrupt gzip data ({e})") from None
    return out


def parse_image_header(data):
    """The arm64 Image header fields, or None if `data` is not an Image."""
    if len(data) < 0x40 or data[ARM64_MAGIC_OFFSET:ARM64_MAGIC_OFFSET + 4] != ARM64_MAGIC:
        return None
    code0, code1, text_offset, image_size, flags = struct.unpack_from("<IIQQQ", data, 0)
    return {"code0": code0, "code1": code1, "text_offset": text_offset,
            "image_size": image_size, "flags": flags,
            "big_endian": bool(flags & 1), "page_size": {1: 4096, 2: 16384, 3: 65536}.get(
                (flags >> 1) & 3), "anywhere": bool(flags & 8)}


def _stub(dtb, entry):
    """QEMU's AArch64 boot stub: ldr x0, =dtb; mov x1..x3, xzr; ldr x4, =entry; br x4
    with the two 64-bit literals after it (at +0x18 and +0x20)."""
    def ldr_lit(rt, offset):                # LDR Xt, <pc + offset>
        return 0x5800_0000 | ((offset >> 2) << 5) | rt

    def mov_xzr(rd):                        # ORR Xd, XZR, XZR
        return 0xAA1F_03E0 | rd

    insns = [ldr_lit(0, 0x18), mov_xzr(1), mov_xzr(2), mov_xzr(3), ldr_lit(4, 0x20 - 0x10),
             0xD61F_0000 | (4 << 5)]        # BR X4
    return struct.pack("<6I", *insns) + struct.pack("<QQ", dtb, entry)


def _check_granule(target, path, hdr):
    """A kernel built for a page size the CPU lacks would hang in its first
    instructions without a word (it does so on QEMU): say so instead."""
    from pyaarch64.cpu.models import get_model, UnknownCpuModel
    try:
        mmfr0 = get_model(target.cpu_model).id("ID_AA64MMFR0_EL1")
    except UnknownCpuModel:
        return
    ok = {4096: (mmfr0 >> 28) & 0xF != 0xF, 16384: (mmfr0 >> 20) & 0xF != 0,
          65536: (mmfr0 >> 24) & 0xF != 0xF}
    size = hdr["page_size"]
    if size is not None and not ok[size]:
        raise KernelError(f"could not load kernel '{path}': it is built for {size >> 10} KiB "
                          f"pages, which the {target.cpu_model} does not support")


def _fits(target, addr, size):
    return target.ram_base <= addr and addr + size <= target.ram_base + target.ram_size


def _load_image(target, path, data):
    hdr = parse_image_header(data)
    base = target.ram_base
    if hdr is not None:
        if hdr["big_endian"]:
            raise KernelError(f"could not load kernel '{path}': big-endian arm64 Image "
                              f"(flags 0x{hdr['flags']:x}); the board is little-endian")
        _check_granule(target, path, hdr)
        if hdr["image_size"]:
            off = hdr["text_offset"]
            if off < BOOTLOADER_MAX_SIZE:
                off += 2 * MiB
            size = hdr["image_size"]
        else:                                   # before Linux 3.17: no size, fixed offset
            off, size = KERNEL64_LOAD_ADDR, len(data)
        entry = base + off
        need = max(size, len(data))
        if not _fits(target, entry, need):
            raise KernelError(
                f"kernel '{path}' is too large to fit in RAM (image needs {need} bytes at "
                f"0x{entry:x}, RAM is 0x{base:x}-0x{base + target.ram_size:x}; use a larger -m)")
        target.write_memory(entry, data)
        return BootInfo("image", base, entry, entry, entry + size, image=hdr)
    if len(data) > target.ram_size:
        raise KernelError(f"could not load kernel '{path}': {len(data)} bytes do not fit in "
                          f"{target.ram_size >> 20} MiB of RAM")
    target.write_memory(base, data)
    return BootInfo("raw", base, base, base, base + len(data))


def _elf_info(target, path, data):
    entry, low, high = _load_elf(target, path, data)
    return BootInfo("elf", entry, entry, low, high)


def load_kernel_file(target, path):
    """Load a kernel file; returns a BootInfo without initrd/DTB."""
    data = _read(path, "kernel")
    if not data:
        raise KernelError(f"could not load kernel '{path}': file is empty")
    if data[:4] == ELF_MAGIC:
        return _elf_info(target, path, data)
    if data[:2] == b"MZ" and data[4:8] == b"zimg":
        raise KernelError(f"could not load kernel '{path}': an EFI zboot image (compressed "
                          f"{data[24:32].rstrip(bytes(1)).decode('latin-1')} payload) is not "
                          f"supported; boot the kernel's plain Image")
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, path)
        if not data:
            raise KernelError(f"could not load kernel '{path}': decompresses to nothing")
        if data[:4] == ELF_MAGIC:
            raise KernelError(f"could not load kernel '{path}': a gzip'd ELF is not supported")
    return _load_image(target, path, data)


def load_kernel(board, path):
    """Load `path` into the board's memory; returns (entry, image_end)."""
    info = load_kernel_file(board, path)
    return info.entry, info.image_high


def boot(target, kernel, initrd=None, append=None, dtb=None):
    """The whole -kernel/-initrd/-append/-dtb boot: loads everything into `target`
    and returns a BootInfo (pc, initial registers, where each piece went, DTB bytes).
    kernel=None builds only the DTB (QEMU's firmware-boot placement: start of RAM)."""
    from pyaarch64.machine import dtb as D
    base, top = target.ram_base, target.ram_base + target.ram_size
    user_dtb = None
    if dtb is not None:
        user_dtb = _read(dtb, "device tree")
    if kernel is None:
        if initrd is not None:
            raise KernelError("-initrd only allowed with -kernel option")
        if append:
            raise KernelError("-append only allowed with -kernel option")
        info = BootInfo("none", base, base, base, base)
    else:
        info = load_kernel_file(target, kernel)

    def make_dtb(initrd_range):
        if user_dtb is not None:
            try:
                return D.patch_user_fdt(user_dtb, target.type, base, target.ram_size, append,
                                        initrd_range, name=dtb)
            except D.DtbFileError as e:
                raise KernelError(str(e)) from None
        return D.virt_dtb(target.type, target.cpu_model, base, target.ram_size, append,
                          initrd_range, devices=getattr(target, "registry", None),
                          topology=getattr(target, "topology", None),
                          gic_version=getattr(target, "gic_version", 2))

    if info.kind in ("elf", "none"):
        if initrd is not None:
            raise KernelError(f"could not load initrd '{initrd}': the kernel is an ELF file "
                              f"(an initrd goes only with a Linux Image or raw kernel)")
        blob = make_dtb(None)
        info.dtb = blob
        # QEMU puts the DTB at the start of RAM if it fits below the image
        if info.kind == "none":
            limit = top
        elif info.image_low > base:
            limit = info.image_low
        elif info.image_high < base:
            limit = top
        else:
            limit = None
        if limit is not None and len(blob) <= limit - base and base + len(blob) <= top:
            info.dtb_start = base
            target.write_memory(base, blob)
        return info

    # Linux (Image) and raw kernels: initrd, then the DTB after it
    start = base + min(target.ram_size // 2, 128 * MiB)
    start = max(start, info.image_high)
    start = (start + PAGE - 1) & ~(PAGE - 1)
    size = 0
    if initrd is not None:
        rd = _read(initrd, "initrd")
        if start >= top:
            raise KernelError(f"could not load initrd '{initrd}': not enough space after the "
                              f"kernel (it ends at 0x{info.image_high:x}, RAM at 0x{top:x})")
        if len(rd) > top - start:
            raise KernelError(f"could not load initrd '{initrd}': {len(rd)} bytes do not fit "
                              f"in RAM at 0x{start:x} ({top - start} bytes free; use a larger -m)")
        target.write_memory(start, rd)
        size = len(rd)
    info.initrd_start, info.initrd_size = start, size
    blob = make_dtb((start, size) if size else None)     # an empty initrd: none (as QEMU)
    at = (start + size + 2 * MiB - 1) & ~(2 * MiB - 1)
    if at + len(blob) > top:
        raise KernelError(f"not enough space for the device tree after the kernel/initrd "
                          f"(needs {len(blob)} bytes at 0x{at:x}, RAM ends at 0x{top:x})")
    target.write_memory(at, blob)
    info.dtb, info.dtb_start = blob, at
    if info.kind == "image":
        target.write_memory(base, _stub(at, info.entry))
        info.pc = base
    else:
        info.regs = {"x0": at}
    return info


def firmware_boot(target, kernel=None, initrd=None, append=None, dtb=None):
    """A firmware boot (-bios, or a -drive if=pflash for bank 0), as QEMU 7.2's
    arm_setup_firmware_boot: the CPU starts at the start of flash (physical 0) with
    every register at reset; the device tree goes to the start of RAM (its /chosen
    has bootargs for -append, no initrd range); -kernel, -initrd and -append go to
    fw_cfg for the firmware to load (the kernel decompressed when it is gzip'd).
    Returns a BootInfo; info.fw_cfg = (kernel bytes or None, initrd bytes or None,
    command line or None: nothing for fw_cfg without -kernel)."""
    from pyaarch64.machine import dtb as D
    base, top = target.ram_base, target.ram_base + target.ram_size
    flash = target.type.memmap["flash"][0]
    if kernel is None:
        if initrd is not None:
            raise KernelError("-initrd only allowed with -kernel option")
        if append:
            raise KernelError("-append only allowed with -kernel option")
    kdata = rdata = None
    if kernel is not None:
        kdata = _read(kernel, "kernel")
        if kdata[:2] == GZIP_MAGIC:
            kdata = gunzip(kdata, kernel)
    if initrd is not None:
        rdata = _read(initrd, "initrd")
    if dtb is not None:
        try:
            blob = D.patch_user_fdt(_read(dtb, "device tree"), target.type, base,
                                    target.ram_size, append, None, name=dtb)
        except D.DtbFileError as e:
            raise KernelError(str(e)) from None
    else:
        blob = D.virt_dtb(target.type, target.cpu_model, base, target.ram_size, append, None,
                          devices=getattr(target, "registry", None), firmware=True,
                          topology=getattr(target, "topology", None),
                          gic_version=getattr(target, "gic_version", 2))
    info = BootInfo("firmware", flash, flash, flash, flash)
    info.dtb = blob
    if base + len(blob) <= top:
        target.write_memory(base, blob)
        info.dtb_start = base
    info.fw_cfg = (kdata, rdata, append if kernel is not None else None)
    return info


class DtbOnly:
    """A stand-in board for `-machine dumpdtb=`: same placement, memory writes dropped."""

    def __init__(self, mtype, cpu_model, ram_size, ram_base=0x4000_0000, topology=None,
                 gic_version=2):
        self.type, self.cpu_model = mtype, cpu_model
        self.ram_size, self.ram_base = ram_size, ram_base
        self.topology = topology
        self.gic_version = gic_version

    def write_memory(self, addr, data):
        if not _fits(self, addr, len(data)):
            raise ValueError(f"guest address range 0x{addr:x}+{len(data)} is not RAM")


def _load_elf(board, path, data):
    """Load an ELF's PT_LOAD segments; returns (entry, lowest, highest address)."""
    import io
    from elftools.elf.elffile import ELFFile
    from elftools.common.exceptions import ELFError
    try:
        elf = ELFFile(io.BytesIO(data))
        if elf.get_machine_arch() != "AArch64":
            raise KernelError(f"could not load kernel '{path}': ELF is for "
                              f"{elf.get_machine_arch()}, not AArch64")
        if elf.elfclass != 64 or not elf.little_endian:
            raise KernelError(f"could not load kernel '{path}': not a 64-bit little-endian ELF")
        h = elf.header
        if h["e_phoff"] + h["e_phnum"] * h["e_phentsize"] > len(data):
            raise KernelError(f"could not load kernel '{path}': malformed ELF (program headers at "
                              f"0x{h['e_phoff']:x} beyond the end of the file)")
        end = 0
        low = None
        loaded = 0
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            pa, filesz, memsz = seg["p_paddr"], seg["p_filesz"], seg["p_memsz"]
            if filesz > memsz or seg["p_offset"] + filesz > len(data):
                raise KernelError(f"could not load kernel '{path}': malformed ELF (a segment's "
                                  f"file size 0x{filesz:x} at offset 0x{seg['p_offset']:x} is "
                                  f"beyond the file or its memory size 0x{memsz:x})")
            in_ram = (board.is_ram(pa, memsz) if hasattr(board, "is_ram") else
                      board.ram_base <= pa and pa + memsz <= board.ram_base + board.ram_size)
            if not in_ram:
                raise KernelError(
                    f"could not load kernel '{path}': segment at 0x{pa:x}-0x{pa + memsz:x} "
                    f"is outside RAM (0x{board.ram_base:x}-0x{board.ram_base + board.ram_size:x})")
            body = seg.data()
            if len(body) < filesz:
                raise KernelError(f"could not load kernel '{path}': truncated ELF segment")
            board.write_memory(pa, body[:filesz] + bytes(memsz - filesz))
            end = max(end, pa + memsz)
            low = pa if low is None else min(low, pa)
            loaded += 1
        if not loaded:
            raise KernelError(f"could not load kernel '{path}': ELF has no loadable segments")
        return elf.header["e_entry"], low, end
    except ELFError as e:
        raise KernelError(f"could not load kernel '{path}': malformed ELF ({e})") from None
    except (ValueError, KeyError, IndexError, OSError, EOFError, OverflowError, MemoryError,
            struct.error) as e:
        if isinstance(e, KernelError):
            raise
        raise KernelError(f"could not load kernel '{path}': malformed ELF ({e})") from None


def elf_symbols(path):
    """{address: (name, size)} of the ELF's function symbols (for -d in_asm), or {}.
    As QEMU: functions only (STT_FUNC), and an address is in one when it lies within
    its size (a label without .type/.size names nothing)."""
    try:
        from elftools.elf.elffile import ELFFile
        with open(path, "rb") as f:
            if f.read(4) != ELF_MAGIC:
                return {}
            f.seek(0)
            elf = ELFFile(f)
            tab = elf.get_section_by_name(".symtab")
            if tab is None:
                return {}
            out = {}
            for s in tab.iter_symbols():
                if s["st_info"]["type"] == "STT_FUNC" and s.name and s["st_value"]:
                    if not s.name.startswith("$"):
                        out.setdefault(s["st_value"], (s.name, s["st_size"]))
            return out
    except Exception:   # noqa: BLE001 -- symbols are a nicety for logs
        return {}
