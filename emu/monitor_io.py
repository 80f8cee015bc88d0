"""Where the monitor lives besides the -nographic mux: `-monitor stdio`,
`-monitor unix:PATH,server=on[,wait=off]`, `-monitor none`.

Bytes arrive on reader threads; `poll()` (called by the board between run slices,
when the CPU is not executing) feeds them to the monitor and sends the output back.
"""
import errno
import os
import queue
import socket
import stat
import sys
import threading

from pyaarch64.emu.monitor import LineEditor, MonitorQuit, PROMPT


class MonitorSession:
    """One monitor connection: QEMU's readline echo, then the command's output."""

    def __init__(self, monitor, send):
        self.monitor = monitor
        self.send = send
        self.editor = LineEditor()

    def greet(self):
        self.send((f"pyaarch64 {self.monitor.version} monitor - type 'help' for more "
                   f"information\r\n{PROMPT}").encode())

    def feed(self, data):
        for b in data:
            echo, line = self.editor.feed(b)
            if echo:
                self.send(echo.encode("latin-1"))
            if line is not None:
                out = self.monitor.execute(line)        # MonitorQuit propagates
                self.send(out.encode("latin-1") + PROMPT.encode())


class UnixMonitor:
    """-monitor unix:PATH,server=on: one client at a time, as QEMU's HMP socket."""

    def __init__(self, path, monitor):
        self.path = path
        self.monitor = monitor
        self.q = queue.Queue()
        self.sessions = {}
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISSOCK(st.st_mode):
                raise OSError(errno.EEXIST, "exists and is not a socket (not replaced)")
            os.unlink(path)             # a socket left by a process that died: replace it
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)           # the monitor is for its owner only (0600), whatever the umask
        try:
            self.srv.bind(path)
        except OSError as e:
            self.srv.close()
            if e.errno is None:         # e.g. "AF_UNIX path too long"
                raise OSError(errno.ENAMETOOLONG, str(e)) from None
            raise
        finally:
            os.umask(old)
        self.srv.listen(1)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            self.q.put(("open", conn))
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self.q.put(("close", conn))
                    break
                self.q.put(("data", conn, data))

    def poll(self):
        while True:
            try:
                ev = self.q.get_nowait()
            except queue.Empty:
                return
            conn = ev[1]
            if ev[0] == "open":
                sess = self.sessions[conn] = MonitorSession(self.monitor, lambda b, c=conn: _send(c, b))
                sess.greet()
            elif ev[0] == "data":
                self.sessions[conn].feed(ev[2])          # MonitorQuit propagates
            else:
                self.sessions.pop(conn, None)
                conn.close()

    def close(self):
        try:
            self.srv.close()
            os.unlink(self.path)
        except OSError:
            pass


def _send(conn, data):
    try:
        conn.sendall(data)
    except OSError:
        pass


class StdioMonitor:
    """-monitor stdio (the serial port must then be elsewhere)."""

    def __init__(self, monitor):
        self.q = queue.Queue()
        self.session = MonitorSession(monitor, self._write)
        self.session.greet()
        threading.Thread(target=self._reader, daemon=True).start()

    def _write(self, b):
        sys.stdout.buffer.write(b)
        sys.stdout.buffer.flush()

    def _reader(self):
        fd = sys.stdin.fileno()
        while True:
            try:
                data = os.read(fd, 1024)
            except OSError:
                return
            if not data:
                return
            self.q.put(data)

    def poll(self):
        while True:
            try:
                data = self.q.get_nowait()
            except queue.Empty:
                return
            self.session.feed(data)

    def close(self):
        pass
