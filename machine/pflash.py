"""CFI parallel flash with the Intel command set, as QEMU 7.2's pflash_cfi01 on the
virt board (two banks of 64 MiB at 0x0000_0000 and 0x0400_0000).

Each bank is a 32-bit wide bank of two 16-bit devices (QEMU: width 4, device-width
2): 256 sectors of 256 KiB (128 KiB per device), manufacturer 0x89, device 0x0018,
a 4 KiB write buffer (2 KiB per device), no lock bits (the lock/unlock commands are
accepted and change nothing; the lock status reads as unlocked).

The state machine (wcycle, cmd, status, counter: QEMU's vmstate fields) follows
QEMU's, quirks included: a block erase happens at its first cycle (the 0xD0 confirm
only finishes the sequence), an unknown sequence goes back to read-array mode.  A
buffered program (0xE8) collects the words in a 4 KiB write buffer for the block of
its first data word and writes it at the confirm, as QEMU 9.0 and its stable
releases do; the 7.2 that Debian ships records the block of the count's address
instead (QEMU's bug, fixed in 2024: U-Boot's `saveenv` then fails with "Flash buffer
write timeout" and corrupts the environment), which we do not copy.

Memory: the bank's contents are `storage`, a slice of the CPU's memory array.  In
read-array mode the board maps it as a ROM device (Cpu.set_rom: reads and
instruction fetches are RAM, writes reach `write`); any write at the first cycle
switches the bank to full MMIO (`romd(False)`, as QEMU's memory_region_rom_device_
set_romd) until the bank returns to read-array mode.  A program or erase changes
`storage` and tells the board (`changed(off, n)`: decoded code there is dropped).

What a bank holds at power-on (`base`): the -bios image (padded with zeros), a
-drive if=pflash file, or zeros.  `content` (a snapshot field) is the sectors
that may differ from that base, zlib-compressed and base64-encoded: a bank whose
base is an image (-bios, readonly=on) is identified by the image's size and SHA-256
(platform identity: a snapshot of another image is refused by name), and the
snapshot holds only the sectors the guest programmed or erased since; a writable
drive's bank (or one without a file) is all state: the snapshot holds every sector
that is not blank (all zeros), and loading it writes the whole bank back to the
file, as QEMU does after an incoming migration.
"""
import base64
import hashlib
import zlib

import numpy as np

from pyaarch64.snapshot.schema import Field

BANK_SIZE = 64 << 20
SECTOR = 256 << 10               # QEMU's VIRT_FLASH_SECTOR_SIZE (both devices together)
NSECTORS = BANK_SIZE // SECTOR
BANK_WIDTH = 4
DEVICE_WIDTH = 2
NUM_DEVICES = BANK_WIDTH // DEVICE_WIDTH
WRITEBLOCK = (1 << 0x0B) * NUM_DEVICES      # the write buffer: 2 KiB per device
ID_MANUFACTURER = 0x89
ID_DEVICE = 0x18

STATUS_READY = 0x80
STATUS_ERASE_ERR = 0x20
STATUS_PROGRAM_ERR = 0x10


def _cfi_table():
    """The CFI query table of one device (QEMU's hard-coded table for this geometry)."""
    t = bytearray(0x52)
    blocks = NSECTORS                          # per device (new multiple-chip handling)
    sector_per_dev = SECTOR // NUM_DEVICES
    dev_len = sector_per_dev * blocks
    t[0x10:0x13] = b"QRY"
    t[0x13], t[0x14] = 0x01, 0x00              # primary command set: Intel
    t[0x15], t[0x16] = 0x31, 0x00              # primary extended table at 0x31
    t[0x1B], t[0x1C] = 0x45, 0x55              # Vcc min/max
    t[0x1F] = 0x07                             # typical word program timeout
    t[0x20] = 0x07                             # typical buffer write timeout
    t[0x21] = 0x0A                             # typical block erase timeout
    t[0x23] = 0x04
    t[0x24] = 0x04
    t[0x25] = 0x04
    t[0x27] = dev_len.bit_length() - 1         # device size: 2^n bytes
    t[0x28], t[0x29] = 0x02, 0x00              # x8/x16 interface
    t[0x2A] = 0x0B                             # 2^11 bytes in a buffered write
    t[0x2C] = 0x01                             # one erase block region
    t[0x2D] = (blocks - 1) & 0xFF
    t[0x2E] = (blocks - 1) >> 8
    t[0x2F] = (sector_per_dev >> 8) & 0xFF
    t[0x30] = sector_per_dev >> 16
    t[0x31:0x34] = b"PRI"
    t[0x34:0x36] = b"10"
    t[0x3F] = 0x01                             # one protection field
    return bytes(t)


CFI_TABLE = _cfi_table()


def _replicate(v):
    """One device's 16-bit answer from both devices of the bank."""
    v &= 0xFFFF
    return v | (v << 16)


class FlashImageError(ValueError):
    """A flash image or drive file that cannot be used."""


class PFlash:
    """One bank.  storage: its bytes (a uint8 array); romd(on): the board maps the
    bank as a ROM device (on) or as MMIO (off); changed(off, n): storage [off, off+n)
    changed behind the CPU."""

    STATE_FIELDS = (
        Field("wcycle", "u8", hi=3),
        Field("cmd", "u8", choices=(0x00, 0x10, 0x20, 0x28, 0x40, 0x50, 0x60, 0x70, 0x90, 0x98,
                                    0xE8)),
        Field("status", "u8"),
        Field("counter", "u64"),
        Field("content", "str", rule=lambda v, _: PFlash.content_problem(v)),
    )
    # a buffered program in progress: the block it goes to and the buffer (written to
    # the bank at the confirm), as QEMU's "pflash_cfi01_blk_write" subsection
    STATE_SUBSECTIONS = (("blk-write", (
        Field("blk_offset", "u64", hi=BANK_SIZE - WRITEBLOCK),
        Field("blk_data", "str", rule=lambda v, _: PFlash.blk_problem(v)),
    ), "blk_write_needed"),)

    def __init__(self, name, storage, romd=None, changed=None):
        self.name = name
        self.storage = storage
        self._romd_cb = romd
        self._changed_cb = changed
        self.readonly = False         # a readonly=on drive: programs and erases fail
        self.image = None             # the base image (bytes) or None: zeros
        self.image_id = None          # (size, sha256 hex) of an image base
        self.file = None              # a writable drive's path: programs persist there
        self.image_path = None        # the file the bank's contents came from
        self.loaded = False           # a writable drive's contents were loaded
        self.drive = None             # QEMU's name of the -drive behind it ("pflash1")
        self._fh = None
        self.dirty = bytearray(NSECTORS)   # sectors that may differ from the base
        self.romd_on = True
        self._content = None          # the content string, until the bank changes
        self.blk_offset = None        # a buffered program's block (None: none)
        self.blk_bytes = bytearray(WRITEBLOCK)
        self._reset_state()

    # --- what it holds -----------------------------------------------------------
    def load_image(self, data, readonly):
        """The -bios image (padded with zeros) or a read-only drive's contents: the
        base, identified in snapshots by its size and SHA-256."""
        self.image = bytes(data)
        self.image_id = (len(data), hashlib.sha256(data).hexdigest())
        self.readonly = readonly
        self.dirty[:] = bytes(NSECTORS)
        self._write_base(range(NSECTORS))

    def attach_file(self, path, data):
        """A writable -drive if=pflash file (BANK_SIZE bytes): its contents are the
        bank's, and what the guest programs or erases is written back to `path`
        (None: -snapshot, nowhere)."""
        self.file = path
        self.loaded = True
        self.image = None
        self.image_id = None
        self.storage[:] = np.frombuffer(data, dtype=np.uint8)
        self._changed(0, BANK_SIZE)
        self.dirty[:] = bytes(NSECTORS)
        for s in self._nonblank():
            self.dirty[s] = 1

    @property
    def used(self):
        """The bank holds something: an image, a file, or what the guest programmed
        or erased since power-on (else it is QEMU's blank bank of zeros)."""
        return self.image is not None or self.loaded or any(self.dirty)

    def _nonblank(self):
        st = self.storage.reshape(NSECTORS, SECTOR)
        return [int(s) for s in np.flatnonzero(st.any(axis=1))]

    def _write_base(self, sectors):
        img = self.image or b""
        for s in sectors:
            a, b = s * SECTOR, (s + 1) * SECTOR
            part = img[a:b]
            self.storage[a:a + len(part)] = np.frombuffer(part, dtype=np.uint8)
            if len(part) < SECTOR:
                self.storage[a + len(part):b] = 0
        if sectors:
            self._changed(0, BANK_SIZE)

    def platform_identity(self):
        """{"<bank>.image": [size, sha256]} when the bank's base is an image."""
        if self.image_id is None:
            return {}
        return {f"{self.name}.image": [self.image_id[0], self.image_id[1]]}

    # --- snapshot content --------------------------------------------------------
    @property
    def content(self):
        # (read at every snapshot and fast restore: cached until the bank changes)
        if self._content is not None:
            return self._content
        if not any(self.dirty):
            return ""
        rec = bytearray()
        for s in range(NSECTORS):
            if self.dirty[s]:
                rec += s.to_bytes(2, "big") + self.storage[s * SECTOR:(s + 1) * SECTOR].tobytes()
        self._content = base64.b64encode(zlib.compress(bytes(rec), 1)).decode("ascii")
        return self._content

    @content.setter
    def content(self, text):
        sectors = self.decode_content(text)
        old = [s for s in range(NSECTORS) if self.dirty[s]]
        self._write_base(old)
        self.dirty[:] = bytes(NSECTORS)
        for s, data in sectors:
            self.storage[s * SECTOR:(s + 1) * SECTOR] = np.frombuffer(data, dtype=np.uint8)
            self.dirty[s] = 1
        self._changed(0, BANK_SIZE)
        if self.file is not None:
            self._persist(0, BANK_SIZE)          # (QEMU: the whole bank after a load)

    @staticmethod
    def decode_content(text):
        """[(sector, bytes)] of a content string; ValueError says what is wrong."""
        if text == "":
            return []
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
            d = zlib.decompressobj()
            rec = d.decompress(raw, NSECTORS * (SECTOR + 2) + 1)
        except (ValueError, zlib.error) as e:
            raise ValueError(f"not base64 of zlib data ({e})") from None
        if not d.eof or d.unused_data or len(rec) % (SECTOR + 2):
            raise ValueError("does not inflate to whole sectors")
        out, last = [], -1
        for i in range(0, len(rec), SECTOR + 2):
            s = int.from_bytes(rec[i:i + 2], "big")
            if not last < s < NSECTORS:
                raise ValueError(f"sector {s} is out of order or outside the bank's {NSECTORS}")
            last = s
            out.append((s, rec[i + 2:i + 2 + SECTOR]))
        return out

    @staticmethod
    def content_problem(text):
        try:
            PFlash.decode_content(text)
        except ValueError as e:
            return f"flash content {e}"
        return None

    def blk_write_needed(self):
        return self.blk_offset is not None

    @property
    def blk_data(self):
        if self.blk_offset is None:
            return ""                   # (no buffered program: the subsection is not written)
        return base64.b64encode(bytes(self.blk_bytes)).decode("ascii")

    @blk_data.setter
    def blk_data(self, text):
        self.blk_bytes = (bytearray(base64.b64decode(text.encode("ascii"))) if text
                          else bytearray(WRITEBLOCK))     # (no subsection: none in progress)

    @staticmethod
    def blk_problem(text):
        try:
            n = len(base64.b64decode(text.encode("ascii"), validate=True))
        except ValueError:
            return "the write buffer is not base64"
        return None if n == WRITEBLOCK else f"the write buffer has {n} bytes, not {WRITEBLOCK}"

    # --- power-on, reset, snapshots -------------------------------------------------
    def _reset_state(self):
        """QEMU's pflash_cfi01_system_reset: read-array mode, status ready."""
        self.cmd = 0
        self.wcycle = 0
        self.status = STATUS_READY
        self.counter = 0
        self.blk_offset = None
        self._set_romd(True)

    def reset(self):
        """A system reset: the state machine resets, and QEMU copies the -bios image
        into the bank again (its ROM blob: the image's bytes only); a drive's bank
        and a bank without a file keep what was programmed."""
        if self.image is not None and not self.readonly:
            n = len(self.image)
            self.storage[:n] = np.frombuffer(self.image, dtype=np.uint8)
            self._changed(0, n)
        self._reset_state()

    def post_load(self):
        # read-array mode is the ROM device's RAM mode (QEMU re-derives nothing here;
        # its romd flag follows the same commands)
        self._set_romd(self.cmd == 0)

    # --- the bus -------------------------------------------------------------------
    def read(self, offset, size):
        if size == 8:                 # (QEMU splits a 64-bit access: low word first)
            return self.read(offset, 4) | (self.read(offset + 4, 4) << 32)
        return self._read(offset, size) & ((1 << (8 * size)) - 1)

    def write(self, offset, size, value):
        if size == 8:
            self.write(offset, 4, value & 0xFFFF_FFFF)
            self.write(offset + 4, 4, value >> 32)
            return
        self._write(offset, size, value & ((1 << (8 * size)) - 1))

    def _data(self, offset, size):
        return int.from_bytes(self.storage[offset:offset + size].tobytes(), "little")

    def _read(self, offset, size):
        cmd = self.cmd
        if cmd in (0x10, 0x20, 0x28, 0x40, 0x50, 0x60, 0x70, 0xE8):
            st = self.status
            return st | (st << 16) if size > DEVICE_WIDTH else st
        if cmd == 0x90:
            return self._query(offset, size, self._devid)
        if cmd == 0x98:
            return self._query(offset, size, self._cfi)
        if cmd != 0:
            self.wcycle = 0           # (an unknown state: back to reading the array)
            self.cmd = 0
        return self._data(offset, size)

    def _query(self, offset, size, one):
        ret = 0xFFFF_FFFF
        for i in range(0, size, BANK_WIDTH):
            ret = (ret & ~(0xFFFF_FFFF << (8 * i))) | (one(offset + i * BANK_WIDTH) << (8 * i))
        return ret

    @staticmethod
    def _boff(offset):
        return offset >> 2            # bank width 4, devices at their full width

    def _cfi(self, offset):
        b = self._boff(offset)
        return _replicate(CFI_TABLE[b]) if b < len(CFI_TABLE) else 0

    def _devid(self, offset):
        b = self._boff(offset) & 0xFF
        if b == 0:
            return _replicate(ID_MANUFACTURER)
        if b == 1:
            return _replicate(ID_DEVICE)
        return 0                      # (2, 3: block lock status: unlocked)

    def _write(self, offset, size, value):
        cmd = value & 0xFF
        if self.wcycle == 0:
            self._set_romd(False)
            if cmd == 0x00 or cmd == 0xF0 or cmd == 0xFF:
                return self._read_array()
            if cmd in (0x10, 0x40, 0x60, 0x98):
                pass
            elif cmd == 0x20:
                off = offset & ~(SECTOR - 1)
                if not self.readonly:
                    self.storage[off:off + SECTOR] = 0xFF
                    self._programmed(off, SECTOR)
                else:
                    self.status |= STATUS_ERASE_ERR
                self.status |= STATUS_READY
            elif cmd == 0x50:
                self.status = 0
                return self._read_array()
            elif cmd == 0x70 or cmd == 0x90:
                self.cmd = cmd
                return None
            elif cmd == 0xE8:
                self.status |= STATUS_READY
            else:
                return self._read_array()
            self.wcycle = 1
            self.cmd = cmd
            return None
        if self.wcycle == 1:
            c = self.cmd
            if c in (0x10, 0x40):
                if not self.readonly:
                    self._program(offset, size, value)
                    self._programmed(offset, size)
                else:
                    self.status |= STATUS_PROGRAM_ERR
                self.status |= STATUS_READY
                self.wcycle = 0
            elif c in (0x20, 0x28):
                if cmd == 0xD0:
                    self.wcycle = 0
                    self.status |= STATUS_READY
                else:
                    return self._read_array()
            elif c == 0xE8:
                self.counter = value & 0xFFFF          # (one device's width)
                self.wcycle = 2
            elif c == 0x60:
                if cmd in (0xD0, 0x01):
                    self.wcycle = 0
                    self.status |= STATUS_READY
                else:
                    return self._read_array()
            elif c == 0x98:
                if cmd == 0xFF:
                    return self._read_array()
            else:
                return self._read_array()
            return None
        if self.wcycle == 2 and self.cmd == 0xE8:
            # the write buffer: the block of the first data word (QEMU from 9.0 and
            # its stable releases; Debian's 7.2 takes the block of the count's
            # address, which corrupts every buffered program but the first block's)
            if self.blk_offset is None and self.counter:
                self.blk_offset = offset & ~(WRITEBLOCK - 1)
                self.blk_bytes[:] = self.storage[self.blk_offset:self.blk_offset + WRITEBLOCK].tobytes()
            at = -1 if self.blk_offset is None else offset - self.blk_offset
            if self.readonly or not 0 <= at <= WRITEBLOCK - size:
                self.status |= STATUS_PROGRAM_ERR
            else:
                self.blk_bytes[at:at + size] = value.to_bytes(size, "little")
            self.status |= STATUS_READY
            if self.counter == 0:
                self.wcycle = 3
            else:
                self.counter -= 1
            return None
        if self.wcycle == 3 and self.cmd == 0xE8 and cmd == 0xD0:
            if self.blk_offset is not None:      # the confirm: the buffer goes to the bank
                off = self.blk_offset
                self.storage[off:off + WRITEBLOCK] = np.frombuffer(bytes(self.blk_bytes),
                                                                   dtype=np.uint8)
                self.blk_offset = None
                self._programmed(off, WRITEBLOCK)
            self.wcycle = 0
            self.status |= STATUS_READY
            return None
        return self._read_array()

    def _read_array(self):
        self.wcycle = 0
        self.cmd = 0
        self.blk_offset = None          # (a buffered program not confirmed: dropped)
        self._set_romd(True)

    def _program(self, offset, size, value):
        self.storage[offset:offset + size] = np.frombuffer(
            value.to_bytes(size, "little"), dtype=np.uint8)

    def _programmed(self, off, n):
        for s in range(off // SECTOR, (off + n - 1) // SECTOR + 1):
            self.dirty[s] = 1
        self._changed(off, n)
        if self.file is not None:
            self._persist(off, n)

    # --- the board's side ------------------------------------------------------------
    def _set_romd(self, on):
        if on != self.romd_on:
            self.romd_on = on
            if self._romd_cb is not None:
                self._romd_cb(on)

    def _changed(self, off, n):
        self._content = None
        if self._changed_cb is not None:
            self._changed_cb(off, n)

    def _persist(self, off, n):
        """Write storage [off, off+n) through to the drive's file (QEMU writes
        whole 512-byte sectors at once; the bytes are the same)."""
        if self._fh is None:
            self._fh = open(self.file, "r+b", buffering=0)
        self._fh.seek(off)
        self._fh.write(self.storage[off:off + n].tobytes())

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None
