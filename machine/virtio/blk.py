"""virtio-blk (device ID 2) on a Drive, as QEMU 7.2's virtio-blk-device on a raw image.

One request queue of 256 entries.  Requests complete when the driver notifies (the
emulator is deterministic: no I/O runs beside the guest).  Header: type u32,
ioprio u32, sector u64; data buffers; a status byte at the end.

    IN 0 / OUT 1      read / write sectors (out of range, a length that is not whole
                      sectors, a write to a read-only drive: IOERR)
    FLUSH 4           OK (fsync of a writable file)
    GET_ID 8          the serial (empty: QEMU's default), NUL-padded to 20 bytes
    DISCARD 11        OK, nothing discarded (QEMU's -drive default discard=ignore)
    WRITE_ZEROES 13   zeros written (segments: sector u64, count u32, flags u32)
    anything else     UNSUPP

Feature bits and configuration space as QEMU 7.2 offers them to a legacy driver:
SEG_MAX, GEOMETRY, BLK_SIZE, TOPOLOGY, FLUSH (write cache on), CONFIG_WCE, DISCARD,
WRITE_ZEROES, SCSI (legacy only; SCSI requests answer UNSUPP) and RO for a read-only
drive; of the common bits ANY_LAYOUT is withdrawn.  The configuration space is 57
bytes (to write_zeroes_may_unmap).
"""
import struct

from pyaarch64.machine.blockdev import SECTOR
from pyaarch64.machine.virtio.queue import VirtqError
from pyaarch64.snapshot.schema import Field

F_SEG_MAX, F_GEOMETRY, F_RO, F_BLK_SIZE, F_FLUSH, F_TOPOLOGY, F_CONFIG_WCE = 2, 4, 5, 6, 9, 10, 11
F_DISCARD, F_WRITE_ZEROES, F_SCSI, F_ANY_LAYOUT = 13, 14, 7, 27
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WRITE_ZEROES = 0, 1, 4, 8, 11, 13
S_OK, S_IOERR, S_UNSUPP = 0, 1, 2
QUEUE_SIZE = 256
ID_BYTES = 20
MAX_SECTORS = 0x3F_FFFF        # QEMU's max-discard/write-zeroes-sectors default
CONFIG_LEN = 57                # up to write_zeroes_may_unmap (DISCARD, WRITE_ZEROES offered)


def _chs(sectors):
    """QEMU's geometry guess for a disk without a partition table: 16 heads, 63
    sectors per track, cylinders from the size (2..16383)."""
    cyls = max(2, min(16383, sectors // (16 * 63)))
    return cyls, 16, 63


class VirtioBlk:
    device_id = 2
    qtree_name = "virtio-blk-device"
    queue_sizes = (QUEUE_SIZE,)

    def __init__(self, drive, serial=""):
        self.drive = drive
        self.serial = serial
        self.transport = None
        f = (1 << F_SEG_MAX) | (1 << F_GEOMETRY) | (1 << F_BLK_SIZE) | (1 << F_TOPOLOGY) \
            | (1 << F_FLUSH) | (1 << F_CONFIG_WCE) | (1 << F_DISCARD) | (1 << F_WRITE_ZEROES)
        if drive.readonly:
            f |= 1 << F_RO
        # a legacy virtio-blk in QEMU offers SCSI (its requests answer UNSUPP: scsi=off)
        # and withdraws ANY_LAYOUT
        self.features = f | (1 << F_SCSI)
        self.features_withdrawn = 1 << F_ANY_LAYOUT
        self.reset()

    # the write-cache flag (the disk itself is the drive's: machine/blockdev.py)
    STATE_FIELDS = (Field("wce", "u32", mask=1),)

    def reset(self):
        self.wce = 1

    # --- configuration space (struct virtio_blk_config, little-endian) ------------------
    def config(self):
        cyls, heads, secs = _chs(self.drive.sectors)
        return struct.pack("<QIIHBBIBBHIBBHIIIIIB3x",
                           self.drive.sectors, 0, QUEUE_SIZE - 2, cyls, heads, secs, SECTOR,
                           0, 0, 0, 0, self.wce, 0, 1,
                           MAX_SECTORS, 1, 1, MAX_SECTORS, 1, 1)

    def config_read(self, off, size):
        cfg = self.config()[:CONFIG_LEN]
        if off + size > len(cfg):
            return (1 << (8 * size)) - 1         # (QEMU: all-ones past the end)
        return int.from_bytes(cfg[off:off + size], "little")

    def config_write(self, off, size, value):
        if off <= 32 < off + size:               # writeback (the only writable field)
            self.wce = (value >> (8 * (32 - off))) & 1

    # --- requests ------------------------------------------------------------------------
    def notify(self, n, t):
        t.serve(n, self._request)

    def _request(self, chain, q):
        if chain.out_len() < 16 or chain.in_len() < 1:
            raise VirtqError("virtio-blk missing headers")
        head = q.gather(chain.readable, 16)
        rtype, _, sector = struct.unpack("<IIQ", head)
        out = q.gather(chain.readable)[16:]
        # the writable buffers less the status byte at their end
        in_bufs, left = [], chain.in_len() - 1
        for addr, ln in chain.writable:
            k = min(ln, left)
            if k > 0:
                in_bufs.append((addr, k))
            left -= k
        status_addr = self._status_addr(chain)
        status = self._do(rtype, sector, out, in_bufs, chain.in_len() - 1, q)
        q._write(status_addr, bytes([status]))
        return chain.in_len()           # (QEMU reports the whole writable length)

    @staticmethod
    def _status_addr(chain):
        addr, ln = chain.writable[-1]
        if ln:
            return addr + ln - 1
        for a, n in reversed(chain.writable):
            if n:
                return a + n - 1
        return addr

    def _in_range(self, sector, nbytes):
        return nbytes % SECTOR == 0 and sector + nbytes // SECTOR <= self.drive.sectors

    def _do(self, rtype, sector, out, in_bufs, in_len, q):
        d = self.drive
        if rtype == T_IN:
            if not self._in_range(sector, in_len):
                return S_IOERR
            q.scatter(in_bufs, d.read(sector * SECTOR, in_len))
            return S_OK
        if rtype == T_OUT:
            if d.readonly or not self._in_range(sector, len(out)):
                return S_IOERR
            d.write(sector * SECTOR, out)
            return S_OK
        if rtype == T_FLUSH:
            d.flush()
            return S_OK
        if rtype == T_GET_ID:
            ident = self.serial.encode()[:ID_BYTES]
            n = min(len(ident) + 1, in_len, ID_BYTES)
            q.scatter(in_bufs, (ident + b"\0")[:n])
            return S_OK
        if rtype in (T_DISCARD, T_WRITE_ZEROES):
            if len(out) % 16 or not out:
                return S_UNSUPP
            if d.readonly:
                return S_IOERR
            for i in range(0, len(out), 16):
                s, num, flags = struct.unpack_from("<QII", out, i)
                if flags & ~1 or (rtype == T_DISCARD and flags):
                    return S_UNSUPP
                if num > MAX_SECTORS or not self._in_range(s, num * SECTOR):
                    return S_IOERR
                if rtype == T_WRITE_ZEROES:
                    d.write(s * SECTOR, bytes(num * SECTOR))
            return S_OK
        return S_UNSUPP
