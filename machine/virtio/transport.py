"""A virtio-mmio transport with the legacy (virtio 0.9.5) register interface.

QEMU 7.2's virt board has 32 of them at 0x0a000000 + n x 0x200 (SPI 16 + n, edge in
the device tree, the line level-driven by the interrupt status), all with
force-legacy=true; `-device virtio-*-device` plugs a device into the highest free
one (QEMU's bus order), so the first device is at 0x0a003e00.  An empty transport
answers the magic value, version 1 and vendor ID, reads 0 everywhere else and
ignores writes, as QEMU's.

Registers (QEMU's region is 32 bits wide: a byte or halfword read returns those
bytes of the aligned word, a narrower write writes the word with the value shifted
into place, a 64-bit access is two; the device's configuration space from 0x100
reads all-ones past its end):

    0x000 MagicValue "virt"   0x004 Version 1        0x008 DeviceID    0x00c VendorID "QEMU"
    0x010 HostFeatures        0x014 HostFeaturesSel  0x020 GuestFeatures
    0x024 GuestFeaturesSel    0x028 GuestPageSize    0x030 QueueSel    0x034 QueueNumMax
    0x038 QueueNum            0x03c QueueAlign       0x040 QueuePFN    0x050 QueueNotify
    0x060 InterruptStatus     0x064 InterruptACK     0x070 Status      0x100+ config

Writing Status 0 or QueuePFN 0 resets the device.  A driver error in a queue (a
malformed descriptor chain) breaks the device until it is reset, as QEMU's
virtio_error does for a legacy device (a virtio 1 device would also set
DEVICE_NEEDS_RESET); the error is logged as a guest error (-d guest_errors) and
nothing a guest does reaches the host.
"""
from pyaarch64.snapshot.schema import Field
from pyaarch64.machine.virtio.queue import VirtQueue, VirtqError

MAGIC = 0x7472_6976          # "virt"
VENDOR = 0x554D_4551         # "QEMU"
# feature bits every QEMU 7.2 virtio device offers (DEFINE_VIRTIO_COMMON_FEATURES)
F_NOTIFY_ON_EMPTY, F_ANY_LAYOUT, F_INDIRECT_DESC, F_EVENT_IDX = 24, 27, 28, 29
COMMON_FEATURES = (1 << F_NOTIFY_ON_EMPTY) | (1 << F_ANY_LAYOUT) | (1 << F_INDIRECT_DESC) \
    | (1 << F_EVENT_IDX)
S_ACKNOWLEDGE, S_DRIVER, S_DRIVER_OK, S_FEATURES_OK, S_NEEDS_RESET, S_FAILED = 1, 2, 4, 8, 64, 128
ISR_USED, ISR_CONFIG = 1, 2
CONFIG = 0x100
SLOT_SIZE = 0x200
QUEUE_MAX = 1024             # queue numbers a driver may select (QEMU's VIRTIO_QUEUE_MAX)
QUEUE_MAX_SIZE = 1024        # ring entries at most (VIRTQUEUE_MAX_SIZE): QueueNumMax


class VirtioMMIO:
    """One transport; `backend` is the device plugged into it (None: empty).

    A backend has: device_id, qtree_name, queue_sizes (max size of each queue),
    features (its device feature bits), config_read(off, size) / config_write(off,
    size, value) over its configuration space, notify(q, transport) to serve queue q,
    reset(), and optionally STATE_FIELDS / post_load() of its own (its section is
    the transport's: the fields are the backend's attributes)."""

    def __init__(self, vm, index, irq=None, guest_error=None):
        self.vm = vm
        self.index = index
        self.name = "virtio-mmio"
        self.irq = irq
        self.guest_error = guest_error
        self.backend = None
        self.queues = []
        self.reset()

    # --- plugging ------------------------------------------------------------------
    def plug(self, backend):
        """Plug `backend` in: from now on the transport has state (a snapshot section:
        the registers, the queues' as lists with one entry per queue, and the
        backend's STATE_FIELDS, read from the backend)."""
        self.backend = backend
        self.queues = [VirtQueue(self.vm, n) for n in backend.queue_sizes]
        backend.transport = self
        own = tuple(getattr(backend, "STATE_FIELDS", ()))
        self._backend_fields = {f.name for f in own}
        self.STATE_FIELDS = transport_state_fields(backend) + own
        self.reset()

    def identity(self):
        """Platform identity entries: which device is plugged here."""
        if self.backend is None:
            return {}
        out = {f"device.virtio-mmio.{self.index}": self.backend.qtree_name}
        more = getattr(self.backend, "identity", None)
        if callable(more):
            out.update({f"device.virtio-mmio.{self.index}.{k}": v for k, v in more().items()})
        return out

    _QFIELDS = ("num", "align", "pfn", "last_avail", "used_idx")

    def __getattr__(self, name):
        if name.startswith("q_") and name[2:] in VirtioMMIO._QFIELDS:
            return [getattr(q, name[2:]) for q in self.__dict__["queues"]]
        be = self.__dict__.get("backend")
        if be is not None and name in self.__dict__.get("_backend_fields", ()):
            return getattr(be, name)
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name.startswith("q_") and name[2:] in VirtioMMIO._QFIELDS:
            for q, v in zip(self.queues, value):
                setattr(q, name[2:], v)
            return
        if name in self.__dict__.get("_backend_fields", ()):
            setattr(self.backend, name, value)
            return
        object.__setattr__(self, name, value)

    @property
    def host_features(self):
        be = self.backend
        return 0 if be is None else (be.features | COMMON_FEATURES) \
            & ~getattr(be, "features_withdrawn", 0)

    # --- state -------------------------------------------------------------------------
    def reset(self):
        """Power-on / system reset: the transport's own registers and the device."""
        self.host_features_sel = 0
        self.guest_features_sel = 0
        self.page_size = 0
        self.device_reset()

    def device_reset(self):
        """The device's reset (Status 0, QueuePFN 0): the feature and page-size
        selectors are the transport's and keep their values (as QEMU)."""
        self.status = 0
        self.guest_features = 0
        self.queue_sel = 0
        self.isr = 0
        self.broken = 0
        for q in self.queues:
            q.reset()
        if self.backend is not None:
            self.backend.reset()
        self._update_irq()

    def _update_irq(self):
        self.irq_level = 1 if self.isr else 0
        if self.irq is not None:
            self.irq(self.irq_level)

    def post_load(self):
        if self.backend is not None and hasattr(self.backend, "post_load"):
            self.backend.post_load()
        self._update_irq()

    @property
    def event_idx(self):
        return bool(self.guest_features >> F_EVENT_IDX & 1)

    # --- guest errors ---------------------------------------------------------------
    def _error(self, msg):
        if self.guest_error is not None:
            self.guest_error(f"virtio-mmio: {msg}\n")

    def device_error(self, msg):
        """A driver error in a queue: the device is broken until reset (QEMU's
        virtio_error on a legacy device: no status bit, no interrupt)."""
        self._error(msg)
        self.broken = 1

    # --- MMIO ------------------------------------------------------------------------
    def read(self, off, size):
        # (QEMU's region is 4 bytes wide: a narrower access reads the aligned word
        # and takes its bytes; a wider one is two)
        if size < 4:
            return (self._read(off & ~3, 4) >> (8 * (off & 3))) & ((1 << (8 * size)) - 1)
        if size == 8:
            return self._read(off, 4) | self._read(off + 4, 4) << 32
        return self._read(off, size)

    def write(self, off, size, value):
        if size < 4:
            self._write(off & ~3, 4, (value & ((1 << (8 * size)) - 1)) << (8 * (off & 3)))
        elif size == 8:
            self._write(off, 4, value & 0xFFFF_FFFF)
            self._write(off + 4, 4, value >> 32)
        else:
            self._write(off, size, value)

    def _read(self, off, size):
        be = self.backend
        if off >= CONFIG:
            return 0 if be is None else be.config_read(off - CONFIG, size)
        if off == 0x000:
            return MAGIC
        if off == 0x004:
            return 1
        if off == 0x00C:
            return VENDOR
        if be is None:
            return 0
        if off == 0x008:
            return be.device_id
        if off == 0x010:
            return 0 if self.host_features_sel else self.host_features & 0xFFFF_FFFF
        if off == 0x034:
            return 0 if self._queue() is None else QUEUE_MAX_SIZE
        if off == 0x040:
            q = self._queue()
            return 0 if q is None else q.pfn
        if off == 0x060:
            return self.isr
        if off == 0x070:
            return self.status
        if off in (0x014, 0x020, 0x024, 0x028, 0x030, 0x038, 0x03C, 0x050, 0x064):
            self._error(f"read of write-only register 0x{off:x}")
            return 0
        self._error(f"bad register offset 0x{off:x}")
        return 0

    def _queue(self):
        return self.queues[self.queue_sel] if self.queue_sel < len(self.queues) else None

    def _write(self, off, size, value):
        be = self.backend
        if off >= CONFIG:
            if be is not None:
                be.config_write(off - CONFIG, size, value)
            return
        if be is None:
            return
        value &= 0xFFFF_FFFF
        if off == 0x014:
            self.host_features_sel = value
        elif off == 0x020:
            if self.guest_features_sel == 0:
                self.guest_features = value & self.host_features
        elif off == 0x024:
            self.guest_features_sel = value
        elif off == 0x028:
            self.page_size = value
        elif off == 0x030:
            if value < QUEUE_MAX:
                self.queue_sel = value
        elif off == 0x038:
            q = self._queue()
            # (as QEMU: a queue cannot be made absent (0), nor larger than the ring maximum)
            if q is not None and 0 < value <= QUEUE_MAX_SIZE:
                q.num = value
        elif off == 0x03C:
            q = self._queue()
            if q is not None:
                q.align = value
        elif off == 0x040:
            if value == 0:
                self.device_reset()
            else:
                q = self._queue()
                if q is not None:
                    q.pfn = value
        elif off == 0x050:
            self.notify(value)
        elif off == 0x064:
            self.isr &= ~value
            self._update_irq()
        elif off == 0x070:
            if value == 0:
                self.device_reset()
            else:
                self.status = value & 0xFF
        elif off in (0x000, 0x004, 0x008, 0x00C, 0x010, 0x034, 0x060):
            self._error(f"write to read-only register 0x{off:x}")
        else:
            self._error(f"bad register offset 0x{off:x}")

    # --- queues ------------------------------------------------------------------------
    def notify(self, n):
        if n >= len(self.queues) or self.broken:
            return
        try:
            self.backend.notify(n, self)
        except VirtqError as e:
            self.device_error(str(e))

    def page(self):
        return self.page_size or 4096

    def pop(self, n):
        return self.queues[n].pop(self.page(), self.event_idx)

    def serve(self, n, fn, more=None):
        """Serve every chain the driver has made available on queue n (while more()
        says so): fn(chain, queue) handles one and returns the bytes it wrote; then
        they all go on the used ring."""
        q = self.queues[n]
        done = []
        while more is None or more():
            chain = self.pop(n)
            if chain is None:
                break
            done.append((chain, fn(chain, q)))
        if done:
            self.complete(n, done)

    def complete(self, n, chains):
        """Put [(chain, written)] on queue n's used ring and interrupt as the driver asks."""
        q = self.queues[n]
        old = q.used_idx
        for chain, written in chains:
            q.push(chain, written, self.page())
        empty = (self.guest_features >> F_NOTIFY_ON_EMPTY & 1 and not self.event_idx
                 and q.avail_idx(self.page()) == q.last_avail)
        if empty or q.need_interrupt(old, self.page(), self.event_idx):
            self.isr |= ISR_USED
            self._update_irq()

    def config_changed(self):
        if self.status & S_DRIVER_OK:
            self.isr |= ISR_CONFIG
            self._update_irq()


def transport_state_fields(backend):
    """The snapshot fields of a transport with `backend` plugged: the registers, each
    queue's, and the backend's own (STATE_FIELDS of the backend, read from it)."""
    return (
        Field("status", "u32", mask=0xFF), Field("host_features_sel", "u32"),
        Field("guest_features", "u64"), Field("guest_features_sel", "u32"),
        Field("page_size", "u32"), Field("isr", "u32", mask=3), Field("broken", "u32", mask=1),
        Field("q_num", "u32[]", lo=1, hi=QUEUE_MAX_SIZE), Field("queue_sel", "u32", hi=QUEUE_MAX - 1),
        Field("q_align", "u32[]"), Field("q_pfn", "u32[]"),
        Field("q_last_avail", "u32[]", hi=0xFFFF), Field("q_used_idx", "u32[]", hi=0xFFFF),
    )


