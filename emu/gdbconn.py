"""The gdb stub's device and wire (emu/gdbstub.py uses them): QEMU's -gdb device
strings, and one connection's bytes -- packet framing `$data#cs`, `}` escapes, acks
('+'/'-', none after QStartNoAckMode) and Ctrl-C (0x03) between packets."""
import select
import socket

DEFAULT_DEVICE = "tcp::1234"
PACKET_SIZE = 0x1000              # PacketSize in qSupported (QEMU's MAX_PACKET_LENGTH)


class GdbError(Exception):
    """A -gdb/gdbserver device that cannot be used (the message says why)."""


def parse_device(spec):
    """`tcp:[HOST]:PORT[,opts]` | `unix:PATH[,opts]` | `none` ->
    ('tcp', host, port) | ('unix', path) | None.  GdbError for anything else."""
    if spec == "none":
        return None
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in ("tcp", "unix"):
        raise GdbError("use tcp:[HOST]:PORT, unix:PATH,server=on or none")
    addr, *props = rest.split(",")
    for p in props:
        k, _, v = p.partition("=")
        v = v or "on"
        if (k, v) in (("server", "on"), ("wait", "off"), ("nowait", "on"), ("nodelay", "on"),
                      ("ipv4", "on")):
            continue
        if k in ("server", "wait", "nowait", "nodelay"):
            raise GdbError(f"{p} is not available (the stub is always a server "
                           f"that does not wait for gdb)")
        raise GdbError(f"unknown property '{k}'")
    if kind == "unix":
        if not addr:
            raise GdbError("no socket path")
        return ("unix", addr)
    host, sep, port = addr.rpartition(":")
    if not sep:
        raise GdbError("use tcp:[HOST]:PORT (the port after a colon)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise GdbError("the port must be a number from 1 to 65535")
    return ("tcp", host or "127.0.0.1", int(port))


class _Conn:
    """One gdb connection: the bytes, the framing, acks."""

    def __init__(self, sock):
        self.sock = sock
        sock.setblocking(False)
        self.buf = bytearray()
        self.noack = False
        self.last = b""
        self.closed = False

    def send_raw(self, data):
        if self.closed:
            return
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(5.0)
            self.sock.sendall(data)
        except OSError:
            self.closed = True
        finally:
            try:
                self.sock.setblocking(False)
            except OSError:
                self.closed = True

    def send(self, payload):
        if isinstance(payload, str):
            payload = payload.encode("latin-1")
        out = bytearray()
        for b in payload:                     # escape the framing characters
            if b in b"$#}*":
                out += bytes((0x7D, b ^ 0x20))
            else:
                out.append(b)
        pkt = b"$" + bytes(out) + b"#%02x" % (sum(out) & 0xFF)
        self.last = pkt
        self.send_raw(pkt)

    def read(self):
        """Whatever the socket has now (False when the peer closed)."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def events(self):
        """Parse the buffer: yields ('int',) for Ctrl-C, ('pkt', payload) for a packet
        whose checksum holds (acked unless in no-ack mode), ('ack',) / ('nak',)."""
        buf = self.buf
        while buf:
            c = buf[0]
            if c == 0x03:
                del buf[0]
                yield ("int",)
            elif c == 0x2B:              # '+'
                del buf[0]
                yield ("ack",)
            elif c == 0x2D:              # '-'
                del buf[0]
                yield ("nak",)
            elif c == 0x24:              # '$'
                end = buf.find(b"#")
                if end < 0 or len(buf) < end + 3:
                    if len(buf) > 4 * PACKET_SIZE and end < 0:
                        del buf[:]          # a runaway packet: dropped, gdb retransmits
                        if not self.noack:
                            self.send_raw(b"-")
                    return
                body = bytes(buf[1:end])
                cs = bytes(buf[end + 1:end + 3])
                del buf[:end + 3]
                try:
                    good = int(cs, 16) == sum(body) & 0xFF
                except ValueError:
                    good = False
                if not good:
                    if not self.noack:
                        self.send_raw(b"-")
                    continue
                if not self.noack:
                    self.send_raw(b"+")
                yield ("pkt", _unescape(body))
            else:
                del buf[0]               # noise between packets

    def gone(self):
        """Whether the peer has closed (what it sent before is still read first)."""
        if self.buf or not select.select([self.sock], [], [], 0)[0]:
            return False
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:                   # (ECONNRESET: select said it would not block)
            return True

    def close(self):
        self.closed = True
        self.sock.close()


def _unescape(body):
    if b"}" not in body:
        return body
    out = bytearray()
    it = iter(body)
    for b in it:
        if b == 0x7D:
            b = next(it, 0x20) ^ 0x20
        out.append(b)
    return bytes(out)
