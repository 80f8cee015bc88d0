"""Character backends for the serial port, and the stdio console with QEMU's
Ctrl-A escapes (-nographic muxes serial and monitor on stdio)."""
import os
import queue
import sys
import threading

MUX_HELP = ("\n\rC-a h    print this help\n"
            "\rC-a x    exit emulator\n"
            "\rC-a s    save disk data back to file (if -snapshot)\n"
            "\rC-a t    toggle console timestamps\n"
            "\rC-a b    send break (magic sysrq)\n"
            "\rC-a c    switch between console and monitor\n"
            "\rC-a C-a  sends C-a\n\r")


def mux_help(echr=1):
    """The mux's Ctrl-A h text, naming the escape character as QEMU does (C-t for
    -echr 0x14; a character that is not a control key by its code)."""
    if echr == 1:
        return MUX_HELP
    name = f"C-{chr(ord('a') + echr - 1)}" if 1 <= echr <= 26 else f"\\x{echr:02x}"
    return MUX_HELP.replace("C-a", name)


class ConsoleQuit(Exception):
    """Ctrl-A x: leave the emulator."""


class Chardev:
    """Serial backend: write(bytes) for guest output, poll() -> bytes of input."""

    def write(self, data):
        pass

    def poll(self):
        return b""

    def wait_input(self, timeout):
        """Block up to `timeout` s for input.  False when no input can ever come."""
        return False

    def flush(self):
        pass

    def close(self):
        pass


class NullChardev(Chardev):
    pass


class FileChardev(Chardev):
    def __init__(self, path):
        try:
            self.f = open(path, "wb")
        except OSError as e:
            raise ValueError(f"could not open serial file '{path}': {e.strerror}") from None

    def write(self, data):
        self.f.write(data)

    def flush(self):
        if not self.f.closed:
            self.f.flush()

    def close(self):
        self.f.close()


class StdioChardev(Chardev):
    """Guest output to stdout; input from stdin through a reader thread.
    With mux=True, Ctrl-A escapes are interpreted (h, x, c, C-a)."""

    def __init__(self, mux=False, stdin=None, stdout=None, echr=1):
        self.out = stdout or sys.stdout.buffer
        self.mux = mux
        self.echr = echr             # the escape character (-echr; Ctrl-A by default)
        self.q = queue.Queue()
        self.escape = False
        self.tty_state = None
        self._interactive = False
        self.monitor = None          # emu.monitor.Monitor when the mux has one (Ctrl-A c)
        self.in_monitor = False
        self._banner_shown = False
        from pyaarch64.emu.monitor import LineEditor
        self.editor = LineEditor()
        self._eof = threading.Event()
        self._ready = threading.Event()
        fd_in = (stdin or sys.stdin)
        try:
            fd = fd_in.fileno()
        except (AttributeError, ValueError, OSError):
            fd = None
        if fd is not None:
            if os.isatty(fd):
                self._set_raw(fd)
                self._interactive = True
            t = threading.Thread(target=self._reader, args=(fd,), daemon=True)
            t.start()
        else:
            self._eof.set()

    def _set_raw(self, fd):
        import termios
        try:
            self.tty_state = (fd, termios.tcgetattr(fd))
            new = termios.tcgetattr(fd)
            # as QEMU's stdio chardev: no echo, no line editing, keep output
            # processing (\n -> \r\n) and signals (Ctrl-C still terminates)
            new[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
                        | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
            new[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN)
            new[6][termios.VMIN] = 1
            new[6][termios.VTIME] = 0
            termios.tcsetattr(fd, termios.TCSANOW, new)
        except termios.error:
            self.tty_state = None

    def _reader(self, fd):
        while True:
            try:
                data = os.read(fd, 1024)
            except OSError:
                break
            if not data:
                break
            self.q.put(data)
            self._ready.set()
        self._eof.set()
        self._ready.set()

    def wait_input(self, timeout):
        if not self.q.empty():
            return True
        if self._eof.is_set():
            return False
        self._ready.wait(timeout)
        self._ready.clear()
        return not (self._eof.is_set() and self.q.empty())

    def write(self, data):
        self.out.write(data)
        if self._interactive:
            self.out.flush()

    def flush(self):
        try:
            self.out.flush()
        except (BrokenPipeError, ValueError):
            pass

    def poll(self):
        data = b""
        while True:
            try:
                data += self.q.get_nowait()
            except queue.Empty:
                break
        if not self.mux or not data:
            return data
        out = bytearray()
        for b in data:
            if self.escape:
                self.escape = False
                if b == ord("x"):
                    self.write(b"QEMU: Terminated\n\r")
                    self.flush()
                    raise ConsoleQuit()
                if b == ord("h"):
                    self.write(mux_help(self.echr).encode("latin-1"))
                elif b == self.echr:
                    out.append(b)
                elif b == ord("c"):
                    self._switch()
                # t, s, b: timestamps / disk commit / break are not supported: ignored
                continue
            if b == self.echr:
                self.escape = True
                continue
            if self.in_monitor:
                self._monitor_byte(b)
                continue
            out.append(b)
        self.flush()
        return bytes(out)

    # --- the monitor in the mux (Ctrl-A c) -------------------------------------------
    def _switch(self):
        if self.monitor is None:
            self.write(b"\r\n(no monitor on this console)\r\n")
            return
        from pyaarch64.emu.monitor import PROMPT
        self.in_monitor = not self.in_monitor
        if not self.in_monitor:
            self.write(b"\r\n")
        elif not self._banner_shown:
            self._banner_shown = True
            self.write((f"pyaarch64 {self.monitor.version} monitor - type 'help' for more "
                        f"information\r\n{PROMPT}").encode())
        else:
            self.write(PROMPT.encode())

    def _monitor_byte(self, b):
        from pyaarch64.emu.monitor import PROMPT, MonitorQuit
        echo, line = self.editor.feed(b)
        if echo:
            self.write(echo.encode("latin-1"))
        if line is None:
            return
        try:
            out = self.monitor.execute(line)
        except MonitorQuit:
            self.flush()
            raise ConsoleQuit() from None
        self.write(out.encode("latin-1") + PROMPT.encode())

    def close(self):
        self.flush()
        if self.tty_state is not None:
            import termios
            fd, st = self.tty_state
            termios.tcsetattr(fd, termios.TCSANOW, st)
            self.tty_state = None


def open_serial(spec, mux_stdio=False, echr=1):
    """Backend for a -serial argument (echr: the mux's escape character)."""
    if spec in ("stdio", "mon:stdio"):
        return StdioChardev(mux=mux_stdio or spec == "mon:stdio", echr=echr)
    if spec in ("null", "none"):
        return NullChardev()
    if spec.startswith("file:"):
        return FileChardev(spec[5:])
    raise ValueError(f"-serial {spec}: unsupported character device "
                     f"(supported: stdio, mon:stdio, null, none, file:PATH)")
