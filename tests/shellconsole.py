"""Drive a guest's serial console like a user at a terminal: start an emulator
(pyaarch64 or QEMU) with the console on stdio, wait for text, type lines, collect what
each command printed.  Used by the Linux shell tests and benchmarks.

A command's output is framed by a marker the shell computes (`echo @@$((1000+n))@@`),
so the echo of the typed line (which shows the unevaluated text) never matches it.
"""
import os
import re
import select
import subprocess
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


class ConsoleTimeout(AssertionError):
    pass


class Console:
    def __init__(self, argv, env=None, cwd=None, fail_on=rb"Kernel panic - not syncing[^\n]*"):
        self.argv = argv
        self.fail_on = re.compile(fail_on) if fail_on else None
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.buf = bytearray()
        self.pos = 0              # what expect() has consumed
        self.n = 0
        self.t0 = time.monotonic()

    # --- low level -----------------------------------------------------------------
    def _fill(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if r:
            data = os.read(self.p.stdout.fileno(), 65536)
            if not data:
                return False
            self.buf += data
        return True

    def expect(self, pattern, timeout=120):
        """Wait until `pattern` (bytes or str, a regex) appears after what was consumed;
        return the text before it (the match is consumed too)."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                before = bytes(self.buf[self.pos:m.start()])
                self.pos = m.end()
                return before
            bad = self.fail_on.search(self.buf, self.pos) if self.fail_on else None
            if bad:
                tail = bytes(self.buf[max(0, bad.start() - 1500):bad.end()]).decode("latin-1")
                self.close()
                raise ConsoleTimeout(f"waiting for {pattern!r} from {self.argv[0]}: the guest "
                                     f"failed:\n{tail}")
            left = end - time.monotonic()
            if left <= 0 or self.p.poll() is not None and not self._fill(0):
                tail = bytes(self.buf[-2000:]).decode("latin-1")
                err = self.p.stderr.read().decode("latin-1") if self.p.poll() is not None else ""
                raise ConsoleTimeout(f"waiting for {pattern!r} from {self.argv[0]}: "
                                     f"{'exited ' + str(self.p.returncode) if self.p.poll() is not None else 'timeout'}"
                                     f"\n--- output tail ---\n{tail}\n--- stderr ---\n{err}")
            if not self._fill(min(left, 1.0)):
                if self.p.poll() is not None:
                    continue

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    # --- shell ---------------------------------------------------------------------
    def command(self, line, timeout=120):
        """Type `line` into the shell; return what it printed (echo removed, \\r\\n -> \\n)."""
        self.n += 1
        tag = 1000 + self.n
        self.send(f"{line}; echo @@$(({tag}))@@\n")
        out = self.expect(rb"@@%d@@\r?\n" % tag, timeout)
        out = ANSI.sub(b"", out).replace(b"\r\n", b"\n")
        # drop the prompt and the echoed command line (up to the newline after it)
        k = out.rfind(b"@@$((%d))@@" % tag)
        if k >= 0:
            nl = out.find(b"\n", k)
            out = out[nl + 1:] if nl >= 0 else b""
        return out.decode("utf-8", "replace")

    def shell_ready(self, timeout=600):
        """Wait for the first prompt, then widen the terminal so that line editing
        never wraps a typed line."""
        self.expect(rb"# ", timeout)
        self.command("stty cols 1000 rows 50")

    def wait(self, timeout=60):
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise ConsoleTimeout(f"{self.argv[0]} did not exit")
        rest = self.p.stdout.read()
        if rest:
            self.buf += rest
        return self.p.returncode

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass

    def elapsed(self):
        return time.monotonic() - self.t0
