"""virtio-console (device ID 3) as QEMU 7.2's virtio-serial-device with its ports:
`-device virtio-serial-device` is the device, `-device virtconsole,chardev=ID` a
console port (port 0 when free: Linux's hvc0), `-device virtserialport,chardev=ID,
name=N` a named port (/dev/vportNpM, /dev/virtio-ports/N).

Feature bits: MULTIPORT and EMERG_WRITE (QEMU's defaults); configuration space:
cols u16, rows u16, max_nr_ports u32 (31), emerg_wr u32 (a write sends that character
to port 0's back end).  Queues (128 entries each): port 0 receive/transmit, control
receive/transmit, then receive/transmit for ports 1..30.

The control protocol (struct virtio_console_control: id u32, event u16, value u16):
the driver's DEVICE_READY is answered with a DEVICE_ADD for every port; its
PORT_READY for a port with CONSOLE_PORT (a console port), PORT_NAME (a named port,
the name after the header) and PORT_OPEN when the host side is connected; its
PORT_OPEN says whether the guest has the port open.  Messages and input wait in the
device until the driver gives buffers (both are snapshot state).  Transmitted bytes
go to the port's back end (`output(bytes)`) at once; input reaches the guest only
while it has the port open, as QEMU's.
"""
import struct

from pyaarch64.machine.virtio.queue import VirtqError
from pyaarch64.snapshot.schema import Field

F_SIZE, F_MULTIPORT, F_EMERG_WRITE = 0, 1, 2
MAX_PORTS = 31
QUEUE_SIZE = 128
DEVICE_READY, DEVICE_ADD, DEVICE_REMOVE, PORT_READY, CONSOLE_PORT, RESIZE, PORT_OPEN, \
    PORT_NAME = range(8)
_CTRL = struct.Struct("<IHH")
CTRL_RX, CTRL_TX = 2, 3
CTRL_LIMIT = 64 * 1024        # control messages waiting at most (bytes)
RX_LIMIT = 1 << 20            # input waiting at most; more is dropped (a guest that
                              # never opens the port)


class Port:
    """One port: its number, console or named, and its back end's output callable."""

    def __init__(self, nr, console=False, name="", output=None):
        self.nr = nr
        self.console = console
        self.name = name
        self.output = output            # output(bytes) -> the host side
        self.host_connected = True      # a back end without connections: always


def rx_queue(nr):
    return 0 if nr == 0 else 2 * nr + 2


def tx_queue(nr):
    return 1 if nr == 0 else 2 * nr + 3


class VirtioSerial:
    device_id = 3
    qtree_name = "virtio-serial-device"
    queue_sizes = (QUEUE_SIZE,) * (2 * (MAX_PORTS + 1))
    features = (1 << F_MULTIPORT) | (1 << F_EMERG_WRITE)

    def __init__(self):
        self.ports = {}
        self.transport = None
        self.reset()

    STATE_FIELDS = (
        Field("guest_open", "u32", mask=(1 << MAX_PORTS) - 1),   # ports the guest has open
        Field("ready", "u32", mask=1),                           # DEVICE_READY seen
        # control messages waiting for buffers (u16 length + message, ...)
        Field("pending_ctrl", "u8[]", max_len=CTRL_LIMIT),
        # input waiting for the guest: (u8 port, u16 length, bytes), ...
        Field("pending_rx", "u8[]", max_len=RX_LIMIT),
    )

    # (kept as bytes; the snapshot sees lists of byte values)
    pending_ctrl = property(lambda self: list(self._ctrl),
                            lambda self, v: setattr(self, "_ctrl", bytes(v)))
    pending_rx = property(lambda self: list(self._rx),
                          lambda self, v: setattr(self, "_rx", bytes(v)))

    def identity(self):
        """The ports (platform identity: a snapshot needs the same ones)."""
        return {f"port{nr}": ("virtconsole" if p.console else "virtserialport") +
                (f",name={p.name}" if p.name else "") for nr, p in sorted(self.ports.items())}

    def add_port(self, port):
        if port.nr in self.ports:
            raise ValueError(f"port number {port.nr} is already in use")
        self.ports[port.nr] = port

    def free_nr(self, console):
        if console and 0 not in self.ports:
            return 0
        for nr in range(1, MAX_PORTS):
            if nr not in self.ports:
                return nr
        return None

    def reset(self):
        self.guest_open = 0
        self.ready = 0
        self._ctrl = b""
        self._rx = b""

    # --- configuration ------------------------------------------------------------------
    def config_read(self, off, size):
        cfg = struct.pack("<HHII", 0, 0, MAX_PORTS, 0)
        if off + size > len(cfg):
            return (1 << (8 * size)) - 1
        return int.from_bytes(cfg[off:off + size], "little")

    def config_write(self, off, size, value):
        if off == 8:                                      # emerg_wr: one character
            p = self.ports.get(0)
            if p is not None and p.output is not None and \
                    self.transport.guest_features >> F_EMERG_WRITE & 1:
                p.output(bytes([value & 0xFF]))

    # --- queues ---------------------------------------------------------------------------
    def notify(self, n, t):
        if n == CTRL_TX:
            self._control_in(t)
        elif n == CTRL_RX:
            self._flush_ctrl(t)
        elif n % 2 == 1:
            self._transmit(n, t)
        else:
            self._flush_rx(t)

    def _port_of_queue(self, n):
        nr = 0 if n in (0, 1) else (n - 2) // 2
        return self.ports.get(nr)

    def _transmit(self, n, t):
        port = self._port_of_queue(n)

        def send(chain, q):
            data = q.gather(chain.readable)
            if port is not None and port.output is not None and data:
                port.output(data)
            return 0
        t.serve(n, send)

    def _control_in(self, t):
        def control(chain, q):
            msg = q.gather(chain.readable)
            if len(msg) < _CTRL.size:
                raise VirtqError("virtio-serial: a control message shorter than its header")
            self._control(*_CTRL.unpack_from(msg))
            return 0
        t.serve(CTRL_TX, control)
        self._flush_ctrl(t)
        self._flush_rx(t)

    def _control(self, pid, event, value):
        if event == DEVICE_READY:
            if value:
                self.ready = 1
                for nr in sorted(self.ports):
                    self._send(nr, DEVICE_ADD, 1)
            return
        port = self.ports.get(pid)
        if port is None:
            return                          # (QEMU: an unknown port id is ignored)
        if event == PORT_READY and value:
            if port.console:
                self._send(pid, CONSOLE_PORT, 1)
            if port.name:
                self._send(pid, PORT_NAME, 1, port.name.encode() + b"\0")
            if port.host_connected:
                self._send(pid, PORT_OPEN, 1)
        elif event == PORT_OPEN:
            if value:
                self.guest_open |= 1 << pid
            else:
                self.guest_open &= ~(1 << pid)

    def _send(self, pid, event, value, extra=b""):
        msg = _CTRL.pack(pid, event, value) + extra
        if len(self._ctrl) + 2 + len(msg) <= CTRL_LIMIT:
            self._ctrl += struct.pack("<H", len(msg)) + msg

    def _flush_ctrl(self, t):
        q = t.queues[CTRL_RX]
        done = []
        while self._ctrl:
            n = struct.unpack_from("<H", self._ctrl)[0]
            chain = t.pop(CTRL_RX)
            if chain is None:
                break
            msg = self._ctrl[2:2 + n]
            self._ctrl = self._ctrl[2 + n:]
            done.append((chain, q.scatter(chain.writable, msg)))
        if done:
            t.complete(CTRL_RX, done)

    # --- input from the host ---------------------------------------------------------
    def input(self, nr, data):
        """Bytes from port nr's back end for the guest (beyond RX_LIMIT waiting: dropped)."""
        data = bytes(data)
        data = data[:max(0, RX_LIMIT - len(self._rx) - 3 * (1 + len(data) // 0xFFFF))]
        self._rx += _records(nr, data)
        if self.transport is not None and self.transport.status & 4:
            self._flush_rx(self.transport)

    def host_open(self, nr, connected):
        """Port nr's back end got (or lost) its connection."""
        port = self.ports[nr]
        port.host_connected = connected
        if self.ready and self.transport is not None:
            self._send(nr, PORT_OPEN, 1 if connected else 0)
            self._flush_ctrl(self.transport)

    def _flush_rx(self, t):
        rest = b""
        by_port = {}
        buf = self._rx
        while buf:
            nr, n = struct.unpack_from("<BH", buf)
            by_port.setdefault(nr, bytearray()).extend(buf[3:3 + n])
            buf = buf[3 + n:]
        for nr, data in by_port.items():
            if not self.guest_open >> nr & 1:
                rest += _records(nr, data)
                continue

            def fill(chain, q, data=data):
                k = q.scatter(chain.writable, bytes(data[:chain.in_len()]))
                del data[:k]
                return k
            t.serve(rx_queue(nr), fill, more=lambda data=data: bool(data))
            rest += _records(nr, data)
        self._rx = rest


def _records(nr, data):
    """Input waiting for port nr as (u8 port, u16 length, bytes) records."""
    return b"".join(struct.pack("<BH", nr, len(data[i:i + 0xFFFF])) + bytes(data[i:i + 0xFFFF])
                    for i in range(0, len(data), 0xFFFF))
