"""The QMP and `-mon` servers: sessions on the ports of emu/chardev.py, the commands
of emu/qmp.py.  `open_frontends` builds what the command line asks for; the CLI polls
each between run slices (their poll() runs a client's requests) and closes them at the
end (queued replies are sent, socket files removed)."""
from pyaarch64.emu import qjson
from pyaarch64.emu.chardev import open_port, ChardevError
from pyaarch64.emu.qmp import Qmp, error_reply


class Session:
    def __init__(self, qmp, conn):
        self.qmp = qmp
        self.conn = conn
        self.splitter = qjson.Splitter()
        self.negotiated = False
        self.oob = False
        self.send(qmp.greeting())

    def send(self, obj):
        self.conn.send(qjson.dumps(obj).encode("ascii") + b"\r\n")

    def feed(self, data):
        for kind, val in self.splitter.feed(data):
            if kind == "error":
                self.send(error_reply(val))
                continue
            rsp, after = self.qmp.dispatch(val, self)
            self.send(rsp)
            if after is not None:
                after()                 # MonitorQuit propagates: the emulator ends


class _PortServer:
    """A front end the CLI polls: a port (emu/chardev.py) whose connections each get
    a session; subclasses say how a session opens and closes."""

    def __init__(self, spec):
        self.port = open_port(spec)
        self.sessions = {}

    def poll(self):
        for ev in self.port.events():
            conn = ev[1]
            if ev[0] == "open":
                self.sessions[conn] = self.opened(conn)
            elif ev[0] == "data":
                if conn in self.sessions:
                    self.sessions[conn].feed(ev[2])          # MonitorQuit propagates
            else:
                s = self.sessions.pop(conn, None)
                if s is not None:
                    self.closed(s)
                conn.close()

    def closed(self, session):
        pass

    def close(self):
        for conn in self.sessions:
            conn.close()
        self.port.close()


class QmpServer(_PortServer):
    """One -qmp (or -mon mode=control) port."""

    def __init__(self, qmp, spec):
        self.qmp = qmp
        super().__init__(spec)

    def opened(self, conn):
        s = Session(self.qmp, conn)
        self.qmp.sessions.append(s)
        return s

    def closed(self, session):
        self.qmp.sessions.remove(session)


class HmpServer(_PortServer):
    """-mon chardev=ID,mode=readline: the human monitor on a chardev."""

    def __init__(self, monitor, spec):
        from pyaarch64.emu.monitor_io import MonitorSession
        self.session_class = MonitorSession
        self.monitor = monitor
        super().__init__(spec)

    def opened(self, conn):
        s = self.session_class(self.monitor, conn.send)
        s.greet()
        return s


def open_frontends(opts, monitor, machine_name, stdio_users=None):
    """The QMP/HMP servers the command line asks for (opts from emu/cli.py):
    -qmp SPEC..., and -mon chardev=ID,mode=... with its -chardev.  stdio_users: what
    already has stdio (it serves one of them only; the ones opened here are added)."""
    qmp = None
    out = []
    wanted = [(spec, "control") for spec in opts["qmp"]]
    for cid, mode in opts["mon"]:
        wanted.append((opts["chardevs"][cid], mode))
    stdio_users = [] if stdio_users is None else stdio_users
    for spec, _ in wanted:
        if spec["kind"] == "stdio":
            if stdio_users:
                raise ChardevError(f"{spec['label']}: stdio is already used by {stdio_users[0]} "
                                   f"(use -serial null or -serial file:PATH)")
            stdio_users.append(spec["label"])
    try:
        for spec, mode in wanted:
            if mode == "control":
                qmp = qmp or Qmp(monitor, machine_name)
                out.append(QmpServer(qmp, spec))
            else:
                out.append(HmpServer(monitor, spec))
    except Exception:
        for fe in out:
            fe.close()
        raise
    return out


class SerialPortServer(_PortServer):
    """A virtio-serial port's chardev (-device virtconsole|virtserialport,chardev=ID):
    a connection is the host side of the port (PORT_OPEN to the guest), its bytes
    the port's input; what the guest transmits goes to the connection (and is
    dropped while there is none, as QEMU's unconnected chardev does)."""

    def __init__(self, device, port, spec):
        self.device, self.vport = device, port
        super().__init__(spec)

    def opened(self, conn):
        self.vport.output = conn.send
        self.device.host_open(self.vport.nr, True)
        return _PortInput(self.device, self.vport.nr)

    def closed(self, session):
        self.vport.output = None
        self.device.host_open(self.vport.nr, False)


class _PortInput:
    def __init__(self, device, nr):
        self.device, self.nr = device, nr

    def feed(self, data):
        self.device.input(self.nr, data)


def open_serial_ports(vm, chardevs, stdio_users):
    """The front ends of vm's virtio-serial ports that name a chardev."""
    out = []
    try:
        for device, port, cid in getattr(vm, "serial_ports", ()):
            if cid is None:
                continue
            if cid not in chardevs:
                raise ChardevError(f"-device {'virtconsole' if port.console else 'virtserialport'}"
                                   f",chardev={cid}: Property 'chardev' can't find value '{cid}'")
            spec = chardevs[cid]
            if spec["kind"] == "stdio":
                if stdio_users:
                    raise ChardevError(f"{spec['label']}: stdio is already used by "
                                       f"{stdio_users[0]} (use -serial null or -serial file:PATH)")
                stdio_users.append(spec["label"])
            out.append(SerialPortServer(device, port, spec))
    except Exception:
        for fe in out:
            fe.close()
        raise
    return out
