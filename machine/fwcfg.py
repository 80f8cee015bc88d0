"""QEMU's firmware configuration device (fw_cfg), as the virt board has it in QEMU 7.2:
"fw-cfg-mmio" at 0x0902_0000 with the DMA interface (docs/specs/fw_cfg.txt).

Registers (big-endian, as QEMU's fw-cfg-mmio):
    0x00  data     1..8 bytes: the selected item's next bytes in increasing address
                   order (past its end: zeros); writes are ignored (QEMU 2.4+)
    0x08  selector 16-bit writes only: select an item, offset 0
    0x10  DMA      the guest physical address of a FWCfgDmaAccess {be32 control,
                   be32 length, be64 address}: a 64-bit write, or a 32-bit write of
                   the low half at 0x14 (after the high half at 0x10), starts it;
                   reads give the signature "QEMU CFG"

An access of another size or place is an invalid access (the CPU takes an external
abort), as QEMU's `valid` constraints make it.

DMA control bits: ERROR 1, READ 2, SKIP 4, SELECT 8 (the item in bits 16..31),
WRITE 16 (no item here is writable: the transfer ends with ERROR).  A read past the
item's end fills zeros; a transfer to memory that is not RAM sets ERROR.  When it
is done the device writes the control word back (0, or ERROR).

Items: what QEMU 7.2 gives the virt board -- signature "QEMU", ID (bit 1: DMA),
UUID (zeros), NOGRAPHIC, BOOT_MENU, NB_CPUS, and with firmware and -kernel the
kernel, initrd and command line (QEMU's arm_setup_firmware_boot) -- and the files
bootorder and bios-geometry (empty: no bootindex) and etc/boot-fail-wait.  QEMU's
ACPI and SMBIOS tables (etc/acpi/*, etc/table-loader, etc/tpm/log,
etc/smbios/*) are not built here: the board has no ACPI.
"""
import hashlib
import struct

from pyaarch64.snapshot.schema import Field

SIGNATURE = 0x00
ID = 0x01
UUID = 0x02
NOGRAPHIC = 0x04
NB_CPUS = 0x05
KERNEL_SIZE = 0x08
INITRD_SIZE = 0x0B
BOOT_MENU = 0x0E
KERNEL_DATA = 0x11
INITRD_DATA = 0x12
CMDLINE_SIZE = 0x14
CMDLINE_DATA = 0x15
FILE_DIR = 0x19
FILE_FIRST = 0x20
FILE_SLOTS = 0x20
MAX_ENTRY = FILE_FIRST + FILE_SLOTS
ENTRY_MASK = 0x3FFF
INVALID = 0xFFFF

ID_VERSION = 1
ID_DMA = 2

DMA_ERROR, DMA_READ, DMA_SKIP, DMA_SELECT, DMA_WRITE = 1, 2, 4, 8, 16
DMA_SIGNATURE = b"QEMU CFG"
SIZE = 0x18
MAX_PATH = 56


class FwCfg:
    """fw_cfg.  read_memory(addr, n) -> bytes and write_memory(addr, data): guest
    RAM for DMA (each raises for what is not RAM)."""

    STATE_FIELDS = (
        Field("cur_entry", "u16"), Field("cur_offset", "u32"), Field("dma_addr", "u64"),
    )

    def __init__(self, read_memory, write_memory, ncpus=1, nographic=False):
        self.read_memory = read_memory
        self.write_memory = write_memory
        self.items = {}
        self._identity = None
        self.files = {}            # name -> bytes
        self.on_invalid = None     # called for an access QEMU's constraints refuse
        self.add(SIGNATURE, b"QEMU")
        self.add(UUID, bytes(16))
        self.add(NOGRAPHIC, struct.pack("<H", 1 if nographic else 0))
        self.add(BOOT_MENU, struct.pack("<H", 0))
        self.add_file("etc/boot-fail-wait", struct.pack("<i", -1))
        self.add(ID, struct.pack("<I", ID_VERSION | ID_DMA))
        self.add(NB_CPUS, struct.pack("<H", ncpus))
        self.add_file("bootorder", b"")
        self.add_file("bios-geometry", b"")
        self.reset()

    # --- items -----------------------------------------------------------------
    def add(self, key, data):
        self.items[key] = bytes(data)
        self._identity = None

    def add_file(self, name, data):
        """A named file; selectors FILE_FIRST + its place in name order (QEMU keeps
        the directory sorted and renumbers on insertion)."""
        if len(name) >= MAX_PATH:
            raise ValueError(f"fw_cfg file name {name!r} is too long")
        self.files[name] = bytes(data)
        if len(self.files) > FILE_SLOTS:
            raise ValueError("fw_cfg has no free file slot")
        names = sorted(self.files)
        for k in list(self.items):
            if FILE_FIRST <= k < MAX_ENTRY:
                del self.items[k]
        directory = struct.pack(">I", len(names))
        for i, n in enumerate(names):
            self.items[FILE_FIRST + i] = self.files[n]
            directory += struct.pack(">IHH", len(self.files[n]), FILE_FIRST + i, 0)
            directory += n.encode().ljust(MAX_PATH, b"\0")
        self.items[FILE_DIR] = directory
        self._identity = None

    def set_nographic(self, on):
        """QEMU's FW_CFG_NOGRAPHIC: 1 with -nographic."""
        self.add(NOGRAPHIC, struct.pack("<H", 1 if on else 0))

    def set_kernel(self, kernel=None, initrd=None, cmdline=""):
        """The items QEMU gives firmware for -kernel/-initrd/-append (data as bytes;
        None: no such file, size 0)."""
        for size_key, data_key, data in ((KERNEL_SIZE, KERNEL_DATA, kernel),
                                         (INITRD_SIZE, INITRD_DATA, initrd)):
            data = data or b""
            self.add(size_key, struct.pack("<I", len(data)))
            self.add(data_key, data)
        if cmdline is not None:
            c = cmdline.encode() + b"\0"
            self.add(CMDLINE_SIZE, struct.pack("<I", len(c)))
            self.add(CMDLINE_DATA, c)

    def platform_identity(self):
        """The items as a hash: what a snapshot's machine offered its firmware (the
        kernel, initrd and command line of a firmware boot) must be this one's."""
        if self._identity is not None:
            return self._identity
        h = hashlib.sha256()
        for k in sorted(self.items):
            if k == NOGRAPHIC:
                continue            # (how QEMU's display was set: not the guest's platform)
            h.update(struct.pack("<HQ", k, len(self.items[k])))
            h.update(self.items[k])
        self._identity = {"fw_cfg.items": h.hexdigest()}      # (until an item changes)
        return dict(self._identity)

    # --- state ---------------------------------------------------------------------
    def reset(self):
        self.cur_entry = 0
        self.cur_offset = 0
        self.dma_addr = 0

    def post_load(self):
        pass

    def select(self, key):
        self.cur_offset = 0
        self.cur_entry = key if (key & ENTRY_MASK) < MAX_ENTRY else INVALID

    def _item(self):
        if self.cur_entry == INVALID or self.cur_entry & 0x8000:
            return None             # (no architecture-local items on this board)
        return self.items.get(self.cur_entry & ENTRY_MASK)

    # --- the bus -----------------------------------------------------------------------
    def read(self, offset, size):
        if offset < 8 and offset + size <= 8:
            e = self._item()
            if e is None or self.cur_offset >= len(e):
                return 0
            chunk = e[self.cur_offset:self.cur_offset + size]
            self.cur_offset += len(chunk)
            return int.from_bytes(chunk.ljust(size, b"\0"), "little")
        if (offset in (0x10, 0x14) and size == 4) or (offset == 0x10 and size == 8):
            o = offset - 0x10
            return int.from_bytes(DMA_SIGNATURE[o:o + size], "little")
        self._invalid()
        return 0

    def write(self, offset, size, value):
        if offset < 8 and offset + size <= 8:
            return                                  # (data writes: ignored)
        if offset == 8 and size == 2:
            self.select(int.from_bytes(value.to_bytes(2, "little"), "big"))
            return
        be = int.from_bytes(value.to_bytes(size, "little"), "big")
        if offset == 0x10 and size == 4:
            self.dma_addr = be << 32
            return
        if offset == 0x14 and size == 4:
            self.dma_addr |= be
            self.dma_transfer()
            return
        if offset == 0x10 and size == 8:
            self.dma_addr = be
            self.dma_transfer()
            return
        self._invalid()

    def _invalid(self):
        if self.on_invalid is not None:
            self.on_invalid()

    # --- DMA -----------------------------------------------------------------------
    def dma_transfer(self):
        at = self.dma_addr
        self.dma_addr = 0
        try:
            control, length, address = struct.unpack(">IIQ", self.read_memory(at, 16))
        except Exception:           # noqa: BLE001 -- the descriptor is not in RAM
            return                  # (QEMU: a failed read leaves nothing to answer)
        if control & DMA_SELECT:
            self.select(control >> 16)
        e = self._item()
        if control & DMA_READ:
            mode = DMA_READ
        elif control & DMA_WRITE:
            mode = DMA_WRITE
        elif control & DMA_SKIP:
            mode = DMA_SKIP
        else:
            mode, length = 0, 0
        status = 0
        while length > 0 and not status & DMA_ERROR:
            if e is None or self.cur_offset >= len(e):
                n = length
                if mode == DMA_READ and not self._to_ram(address, bytes(n)):
                    status |= DMA_ERROR
                if mode == DMA_WRITE:
                    status |= DMA_ERROR
            else:
                n = min(length, len(e) - self.cur_offset)
                if mode == DMA_READ and not self._to_ram(
                        address, e[self.cur_offset:self.cur_offset + n]):
                    status |= DMA_ERROR
                if mode == DMA_WRITE:
                    status |= DMA_ERROR          # (no writable item)
                self.cur_offset += n
            address = (address + n) & 0xFFFF_FFFF_FFFF_FFFF
            length -= n
        try:
            self.write_memory(at, struct.pack(">I", status))
        except Exception:           # noqa: BLE001
            pass

    def _to_ram(self, address, data):
        try:
            self.write_memory(address, data)
            return True
        except Exception:           # noqa: BLE001 -- not RAM: the ERROR bit
            return False
