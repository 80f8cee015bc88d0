"""Character back ends for the QMP (and `-mon`) monitors, in QEMU's option syntax:

    -qmp unix:PATH,server=on[,wait=off]     -qmp tcp:HOST:PORT,server=on[,wait=off]
    -qmp stdio                              -chardev socket,id=ID,path=PATH|host=H,port=P,server=on[,wait=off]
                                            -chardev stdio,id=ID

A `Port` takes one client at a time (as QEMU's server sockets: the next one waits in
the listen queue until the first leaves).  Bytes arrive on reader threads and are
queued as ("open"|"data"|"close", conn[, bytes]); the emulator's thread takes them
in `poll()` between run slices.  Replies go out through a writer thread per
connection, so a client that stops reading never blocks the emulator (past
SEND_LIMIT unsent bytes it is disconnected).  TCP listens on loopback only.
"""
import errno
import os
import queue
import socket
import stat
import sys
import threading

SEND_LIMIT = 16 << 20
INPUT = threading.Event()       # set when any port queued something (the CLI waits on it)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ChardevError(ValueError):
    """A bad option or a socket that cannot be opened: one line for the user."""


def _props(opt, val, parts, allowed):
    kv = {}
    for p in parts:
        if not p:
            raise ChardevError(f"{opt} {val}: empty property (a stray ',')")
        k, _, v = p.partition("=")
        if k == "nowait" and not _:         # QEMU's old spelling of wait=off
            k, v = "wait", "off"
        elif not _:
            v = "on"
        if k not in allowed:
            raise ChardevError(f"{opt} {val}: unknown property '{k}'")
        if k in ("server", "wait") and v not in ("on", "off"):
            raise ChardevError(f"{opt} {val}: {k} must be on or off")
        kv[k] = v
    return kv


def _server_spec(opt, val, kind, kv, path=None, host=None, port=None):
    if kv.get("server", "off") != "on":
        raise ChardevError(f"{opt} {val}: only server=on sockets are available (we listen, "
                           f"the client connects)")
    spec = {"kind": kind, "wait": kv.get("wait", "on") == "on", "label": f"{opt} {val}"}
    if kind == "unix":
        if not path:
            raise ChardevError(f"{opt} {val}: no socket path")
        spec["path"] = path
        spec["desc"] = f"unix:{path},server=on"
    else:
        if host is None or port is None or port == "":
            raise ChardevError(f"{opt} {val}: give the address as tcp:HOST:PORT")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if host not in LOOPBACK:
            raise ChardevError(f"{opt} {val}: only loopback addresses ({', '.join(LOOPBACK)}) "
                               f"are allowed: a QMP or monitor socket controls the whole VM")
        if not port.isdigit() or int(port) > 65535:
            raise ChardevError(f"{opt} {val}: port must be a number from 0 to 65535")
        spec["host"], spec["port"] = host, int(port)
        spec["desc"] = f"tcp:{host}:{port},server=on"
    return spec


def parse_legacy(opt, val):
    """-qmp's argument: unix:PATH,..., tcp:HOST:PORT,... or stdio."""
    kind, _, rest = val.partition(":")
    if val == "stdio":
        return {"kind": "stdio", "label": f"{opt} {val}"}
    if kind == "unix":
        path, *parts = rest.split(",")
        return _server_spec(opt, val, "unix", _props(opt, val, parts, ("server", "wait")), path=path)
    if kind == "tcp":
        addr, *parts = rest.split(",")
        host, _, port = addr.rpartition(":") if ":" in addr else (None, "", None)
        return _server_spec(opt, val, "tcp", _props(opt, val, parts, ("server", "wait")),
                            host=host, port=port)
    raise ChardevError(f"{opt} {val}: only unix:PATH,server=on, tcp:127.0.0.1:PORT,server=on "
                       f"and stdio are available")


def parse_chardev(val):
    """-chardev socket,id=ID,...|stdio,id=ID -> (id, spec)."""
    backend, *parts = val.split(",")
    if backend not in ("socket", "stdio"):
        raise ChardevError(f"-chardev {val}: only the socket and stdio back ends are available")
    allowed = ("id", "path", "host", "port", "server", "wait") if backend == "socket" else ("id",)
    kv = _props("-chardev", val, parts, allowed)
    if not kv.get("id"):
        raise ChardevError(f"-chardev {val}: no id (give id=NAME)")
    if backend == "stdio":
        return kv["id"], {"kind": "stdio", "label": f"-chardev {val}"}
    if "path" in kv:
        if "host" in kv or "port" in kv:
            raise ChardevError(f"-chardev {val}: give path= or host=,port=, not both")
        return kv["id"], _server_spec("-chardev", val, "unix", kv, path=kv["path"])
    if "port" not in kv:
        raise ChardevError(f"-chardev {val}: give path=PATH or host=HOST,port=PORT")
    return kv["id"], _server_spec("-chardev", val, "tcp", kv, host=kv.get("host", "127.0.0.1"),
                                  port=kv["port"])


def parse_mon(val):
    """-mon chardev=ID[,mode=control|readline] -> (id, mode)."""
    kv = _props("-mon", val, val.split(","), ("chardev", "mode", "pretty"))
    if not kv.get("chardev"):
        raise ChardevError(f"-mon {val}: no chardev (give chardev=ID)")
    mode = kv.get("mode", "readline")
    if mode not in ("control", "readline"):
        raise ChardevError(f"-mon {val}: mode must be control (QMP) or readline (HMP)")
    if kv.get("pretty", "off") != "off":
        raise ChardevError(f"-mon {val}: pretty=on is not supported (replies are one line each)")
    return kv["chardev"], mode


class Conn:
    """One client: send() queues bytes for the writer thread."""

    def __init__(self, write, shutdown):
        self._write = write
        self._shutdown = shutdown
        self.q = queue.Queue()
        self.pending = 0                    # bytes queued, not yet written
        self.lock = threading.Lock()
        self.dead = False
        self.t = threading.Thread(target=self._writer, daemon=True)
        self.t.start()

    def send(self, data):
        if self.dead:
            return
        with self.lock:
            full = self.pending + len(data) > SEND_LIMIT     # the client stopped reading
            if not full:
                self.pending += len(data)
        if full:
            self.dead = True
            self.q.put(None)
            return
        self.q.put(data)

    def _writer(self):
        while True:
            data = self.q.get()
            if data is None:
                break
            try:
                self._write(data)
            except (OSError, ValueError):
                self.dead = True
                break
            with self.lock:
                self.pending -= len(data)
        self._shutdown()

    def close(self, timeout=2.0):
        """Send what is queued (waiting up to `timeout` s), then hang up."""
        self.q.put(None)
        self.t.join(timeout)


class Port:
    def __init__(self):
        self.q = queue.Queue()

    def _put(self, ev):
        self.q.put(ev)
        INPUT.set()

    def events(self):
        while True:
            try:
                yield self.q.get_nowait()
            except queue.Empty:
                return

    def _pump(self, conn, read):
        """Queue what read(n) gives until it ends (b"" or an error)."""
        while True:
            try:
                data = read(65536)
            except OSError:
                data = b""
            if not data:
                self._put(("close", conn))
                return
            self._put(("data", conn, data))


class Listener(Port):
    """A unix or loopback TCP server socket (spec from parse_legacy/parse_chardev)."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.path = None
        label = spec["label"]
        try:
            if spec["kind"] == "unix":
                self.srv = self._bind_unix(spec["path"])
                self.path = spec["path"]
            else:
                fam = socket.AF_INET6 if ":" in spec["host"] else socket.AF_INET
                self.srv = socket.socket(fam, socket.SOCK_STREAM)
                self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    self.srv.bind((spec["host"], spec["port"]))
                except OSError:
                    self.srv.close()
                    raise
        except OSError as e:
            raise ChardevError(f"{label}: Failed to bind socket: "
                               f"{e.strerror or e}") from None
        self.srv.listen(1)
        first = None
        if spec["wait"]:                # as QEMU: block until the first client connects
            try:
                sys.stderr.write(f"pyaarch64: {label}: info: waiting for connection on: "
                                 f"disconnected:{spec['desc']}\n")
                sys.stderr.flush()
                first, _ = self.srv.accept()
            except KeyboardInterrupt:
                self.close()
                raise ChardevError(f"{label}: interrupted while waiting for a connection") from None
        threading.Thread(target=self._serve, args=(first,), daemon=True).start()

    @staticmethod
    def _bind_unix(path):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISSOCK(st.st_mode):
                raise OSError(errno.EEXIST, f"'{path}' exists and is not a socket (not replaced)")
            os.unlink(path)             # a socket left by a process that died: replace it
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)           # for its owner only (0600), whatever the umask
        try:
            srv.bind(path)
        except OSError as e:
            srv.close()
            if e.errno is None:         # e.g. "AF_UNIX path too long"
                raise OSError(errno.ENAMETOOLONG, str(e)) from None
            raise
        finally:
            os.umask(old)
        return srv

    def _serve(self, sock):
        while True:
            if sock is None:
                try:
                    sock, _ = self.srv.accept()
                except OSError:
                    return
            conn = Conn(sock.sendall, lambda s=sock: _hangup(s))
            self._put(("open", conn))
            self._pump(conn, sock.recv)
            sock = None

    def close(self):
        self.srv.close()
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _hangup(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class StdioPort(Port):
    """stdio as a monitor's back end: one connection, open from the start."""

    def __init__(self, spec=None):
        super().__init__()
        out = sys.stdout.buffer

        def write(b):
            out.write(b)
            out.flush()
        self.conn = Conn(write, lambda: None)
        self._put(("open", self.conn))
        fd = sys.stdin.fileno()
        threading.Thread(target=self._pump, args=(self.conn, lambda n: os.read(fd, n)),
                         daemon=True).start()

    def close(self):
        pass


def open_port(spec):
    return StdioPort(spec) if spec["kind"] == "stdio" else Listener(spec)
