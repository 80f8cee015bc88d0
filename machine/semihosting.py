"""Arm semihosting (AArch64: HLT #0xF000, operation in W0, parameter in X1).

Time is virtual (instructions retired), so CLOCK/ELAPSED are deterministic.
"""
import sys

SYS_OPEN = 0x01
SYS_CLOSE = 0x02
SYS_WRITEC = 0x03
SYS_WRITE0 = 0x04
SYS_WRITE = 0x05
SYS_READ = 0x06
SYS_READC = 0x07
SYS_ISERROR = 0x08
SYS_ISTTY = 0x09
SYS_CLOCK = 0x10
SYS_TIME = 0x11
SYS_ERRNO = 0x13
SYS_GET_CMDLINE = 0x15
SYS_HEAPINFO = 0x16
SYS_EXIT = 0x18
SYS_EXIT_EXTENDED = 0x20
SYS_ELAPSED = 0x30
SYS_TICKFREQ = 0x31

ADP_STOPPED_APPLICATION_EXIT = 0x20026
HLT_SEMIHOSTING = 0xF000
ENOENT = 2
E2BIG = 7
EBADF = 9
ENOSYS = 38
# QEMU returns this (not 0) in X0 from SYS_WRITEC/SYS_WRITE0: their result is undefined
DEAD = 0xDEADBEEF
MINUS1 = 0xFFFFFFFFFFFFFFFF


class SemihostingExit(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class Semihosting:
    def __init__(self, board, cmdline=None, stdout=None, stdin=None):
        self.board = board
        # None: like QEMU without -semihosting-config arg=..., the kernel file name
        self.cmdline = cmdline
        self.out = stdout or (lambda b: (sys.stdout.buffer.write(b), sys.stdout.buffer.flush()))
        self.read_byte = stdin or (lambda: sys.stdin.buffer.read(1))
        self.errno = 0
        # handle -> ('tty', mode); ":tt" opens give console handles
        self.handles = {}
        self.next_handle = 1

    # guest memory helpers
    def _rd(self, addr, n):
        return self.board.read_memory(addr, n)

    def _word(self, addr):
        return int.from_bytes(self._rd(addr, 8), "little")

    def _wr(self, addr, data):
        self.board.write_memory(addr, data)

    def call(self, cpu):
        op = cpu.reg("x0") & 0xFFFFFFFF
        arg = cpu.reg("x1")
        ret = self._dispatch(cpu, op, arg)
        cpu.set_reg("x0", ret)

    def _ticks(self):
        return self.board.virtual_ns()

    def _dispatch(self, cpu, op, arg):
        if op == SYS_WRITEC:
            self.out(self._rd(arg, 1))
            return DEAD
        if op == SYS_WRITE0:
            data = bytearray()
            while True:
                b = self._rd(arg + len(data), 1)
                if b == b"\0":
                    break
                data += b
                if len(data) > (1 << 20):
                    break
            self.out(bytes(data))
            return DEAD
        if op == SYS_OPEN:
            name_p, mode, length = self._word(arg), self._word(arg + 8), self._word(arg + 16)
            name = self._rd(name_p, length).decode("latin-1")
            if name == ":tt":
                h = self.next_handle
                self.next_handle += 1
                self.handles[h] = "in" if mode < 4 else ("err" if mode >= 8 else "out")
                return h
            self.errno = ENOENT          # no host file access
            return MINUS1
        if op == SYS_CLOSE:
            h = self._word(arg)
            if self.handles.pop(h, None) is None:
                self.errno = EBADF
                return MINUS1
            return 0
        if op == SYS_WRITE:
            h, buf, n = self._word(arg), self._word(arg + 8), self._word(arg + 16)
            kind = self.handles.get(h)       # no pre-opened handles (as QEMU's ARM-compat)
            if kind not in ("out", "err"):
                return n                 # nothing written; QEMU leaves errno alone here
            data = self._rd(buf, n)
            if kind == "err":
                sys.stderr.buffer.write(data)
                sys.stderr.buffer.flush()
            else:
                self.out(data)
            return 0
        if op == SYS_READ:
            h, buf, n = self._word(arg), self._word(arg + 8), self._word(arg + 16)
            if self.handles.get(h) != "in":
                self.errno = EBADF
                return MINUS1
            data = bytearray()
            while len(data) < n:
                b = self.read_byte()
                if not b:
                    break
                data += b
                if b == b"\n":
                    break
            self._wr(buf, bytes(data))
            return n - len(data)
        if op == SYS_READC:
            b = self.read_byte()
            return b[0] if b else MINUS1
        if op == SYS_ISERROR:
            v = self._word(arg)
            return 1 if v >= (1 << 63) else 0
        if op == SYS_ISTTY:
            h = self._word(arg)
            if h not in self.handles:
                self.errno = EBADF
                return MINUS1
            return 1
        if op == SYS_CLOCK:
            return self._ticks() // 10_000_000            # centiseconds
        if op == SYS_TIME:
            return self.board.start_time
        if op == SYS_ERRNO:
            return self.errno
        if op == SYS_GET_CMDLINE:
            buf, size = self._word(arg), self._word(arg + 8)
            cmdline = self.cmdline
            if cmdline is None:
                cmdline = getattr(self.board, "_kernel", None) or ""
            data = cmdline.encode("utf-8", "surrogateescape") + b"\0"    # (argv bytes as given)
            if len(data) > size:
                self.errno = E2BIG
                return MINUS1
            self._wr(buf, data)
            self._wr(arg + 8, (len(data) - 1).to_bytes(8, "little"))
            return 0
        if op == SYS_HEAPINFO:
            block = self._word(arg)
            hb, hl, sb, sl = self.board.heapinfo()
            self._wr(block, b"".join(v.to_bytes(8, "little") for v in (hb, hl, sb, sl)))
            return 0
        if op in (SYS_EXIT, SYS_EXIT_EXTENDED):
            reason, sub = self._word(arg), self._word(arg + 8)
            code = (sub & 0xFFFFFFFF) if reason == ADP_STOPPED_APPLICATION_EXIT else 1
            if code >= 0x80000000:
                code -= 1 << 32
            raise SemihostingExit(code)
        if op == SYS_ELAPSED:
            self._wr(arg, self._ticks().to_bytes(8, "little"))
            return 0
        if op == SYS_TICKFREQ:
            return 1_000_000_000
        self.errno = ENOSYS
        return MINUS1
