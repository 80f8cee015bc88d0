"""A split virtqueue in the legacy (virtio 0.9.5) layout, driven from the device side.

The guest gives the queue's page frame (QueuePFN x GuestPageSize) and alignment:

    descriptor table   16 bytes x num      addr u64, len u32, flags u16, next u16
    available ring     flags u16, idx u16, ring[num] u16, used_event u16
    (padding to QueueAlign)
    used ring          flags u16, idx u16, ring[num] {id u32, len u32}, avail_event u16

`pop()` takes the next available descriptor chain (indirect tables followed) as a
`Chain` of readable and writable buffers; `push(chain, written)` puts it on the used
ring; `need_interrupt()` says whether the driver asked to be told (VIRTIO_RING_F_EVENT_IDX:
used_event; otherwise the available ring's NO_INTERRUPT flag).  Guest memory is read
and written through the board (vm.read_memory / write_memory: a DMA write marks the
pages written, so decoded code and snapshot dirty tracking see it).

A malformed chain (a loop, an index past the table, a buffer outside RAM, more
descriptors than the queue has entries, which the spec forbids) is the driver's error: VirtqError, which the transport turns into the device's NEEDS_RESET
state as QEMU's virtio_error does, with a guest-error log line; the host never fails.
"""
import struct

from pyaarch64.errors import MemoryAccessError

DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4
AVAIL_F_NO_INTERRUPT = 1
USED_F_NO_NOTIFY = 1
_DESC = struct.Struct("<QIHH")


class VirtqError(Exception):
    pass


class Chain:
    """One request: its head index, readable buffers [(addr, len)] then writable ones."""
    __slots__ = ("head", "readable", "writable")

    def __init__(self, head):
        self.head = head
        self.readable = []
        self.writable = []

    def in_len(self):
        return sum(n for _, n in self.writable)

    def out_len(self):
        return sum(n for _, n in self.readable)


class VirtQueue:
    """The device side of one queue (its registers are the transport's)."""

    def __init__(self, vm, max_size):
        self.vm = vm
        self.max_size = max_size
        self.reset()

    def reset(self):
        self.num = self.max_size  # QueueNum (QEMU: the queue's size until the driver sets one)
        self.align = 4096         # QueueAlign
        self.pfn = 0              # QueuePFN (0: no queue)
        self.last_avail = 0       # the next available-ring entry the device takes
        self.used_idx = 0         # the used ring's idx as the device last wrote it

    # --- layout --------------------------------------------------------------------
    def layout(self, page_size):
        """(descriptor table, available ring, used ring) guest addresses."""
        desc = self.pfn * page_size
        avail = desc + 16 * self.num
        align = self.align or 1
        used = (avail + 4 + 2 * self.num + 2 + align - 1) // align * align
        return desc, avail, used

    @property
    def ready(self):
        return self.pfn != 0 and self.num != 0

    # --- guest memory ----------------------------------------------------------------
    def _read(self, addr, n):
        try:
            return self.vm.read_memory(addr, n)
        except MemoryAccessError:
            raise VirtqError(f"virtqueue memory 0x{addr:x}+{n} is not RAM") from None

    def _write(self, addr, data):
        try:
            self.vm.write_memory(addr, data)
        except MemoryAccessError:
            raise VirtqError(f"virtqueue memory 0x{addr:x}+{len(data)} is not RAM") from None

    def _u16(self, addr):
        return int.from_bytes(self._read(addr, 2), "little")

    # --- the device's side --------------------------------------------------------------
    def avail_idx(self, page_size):
        _, avail, _ = self.layout(page_size)
        return self._u16(avail + 2)

    def pop(self, page_size, event_idx=False):
        """The next available chain, or None when the driver has given nothing more."""
        if not self.ready:
            return None
        desc, avail, used = self.layout(page_size)
        idx = self._u16(avail + 2)
        pending = (idx - self.last_avail) & 0xFFFF
        if pending == 0:
            if event_idx:           # avail_event: tell me about the next one
                self._write(used + 4 + 8 * self.num, self.last_avail.to_bytes(2, "little"))
            return None
        if pending > self.num:
            raise VirtqError(f"Guest moved used index from {self.last_avail} to {idx}")
        head = self._u16(avail + 4 + 2 * (self.last_avail % self.num))
        self.last_avail = (self.last_avail + 1) & 0xFFFF
        if event_idx:
            self._write(used + 4 + 8 * self.num, self.last_avail.to_bytes(2, "little"))
        return self._chain(desc, head)

    def _chain(self, table, head):
        if head >= self.num:
            raise VirtqError(f"Guest says index {head} is available (queue size {self.num})")
        chain = Chain(head)
        size, i, seen, indirect = self.num, head, 0, False
        total = 0
        while True:
            addr, n, flags, nxt = _DESC.unpack(self._read(table + 16 * i, 16))
            if flags & DESC_F_INDIRECT:
                if indirect:
                    raise VirtqError("Indirect descriptor in an indirect table")
                if n % 16 or n == 0:
                    raise VirtqError(f"Invalid size for indirect buffer table: {n}")
                if flags & DESC_F_NEXT:
                    raise VirtqError("Indirect descriptor chained to another")
                table, size, i, seen, indirect = addr, n // 16, 0, 0, True
                continue
            if flags & DESC_F_WRITE:
                chain.writable.append((addr, n))
            elif chain.writable:
                raise VirtqError("Readable descriptor after a writable one")
            else:
                chain.readable.append((addr, n))
            seen += 1
            total += 1
            if seen > size:
                raise VirtqError("Looped descriptor")
            if total > self.num:        # (the spec's limit; bounds an indirect table's walk)
                raise VirtqError(f"Descriptor chain longer than the queue ({self.num})")
            if not flags & DESC_F_NEXT:
                return chain
            i = nxt
            if i >= size:
                raise VirtqError(f"Desc next is {i}")

    def push(self, chain, written, page_size):
        """Put `chain` on the used ring with `written` bytes written into its buffers."""
        _, _, used = self.layout(page_size)
        slot = used + 4 + 8 * (self.used_idx % self.num)
        self._write(slot, struct.pack("<II", chain.head, written))
        self.used_idx = (self.used_idx + 1) & 0xFFFF
        self._write(used + 2, self.used_idx.to_bytes(2, "little"))

    def need_interrupt(self, old_used, page_size, event_idx):
        """After pushing from used index old_used to self.used_idx: does the driver want
        an interrupt?"""
        if old_used == self.used_idx:
            return False
        _, avail, _ = self.layout(page_size)
        if event_idx:
            event = self._u16(avail + 4 + 2 * self.num)
            new = self.used_idx
            return ((new - event - 1) & 0xFFFF) < ((new - old_used) & 0xFFFF)
        return not self._u16(avail) & AVAIL_F_NO_INTERRUPT

    # --- buffers ------------------------------------------------------------------
    def gather(self, bufs, limit=None):
        """The bytes of readable buffers `bufs` (at most `limit`)."""
        out = bytearray()
        for addr, n in bufs:
            if limit is not None:
                n = min(n, limit - len(out))
            if n <= 0:
                break
            out += self._read(addr, n)
        return bytes(out)

    def scatter(self, bufs, data):
        """Write `data` into writable buffers `bufs` in order; returns bytes written."""
        at = 0
        for addr, n in bufs:
            k = min(n, len(data) - at)
            if k <= 0:
                break
            self._write(addr, data[at:at + k])
            at += k
        return at
