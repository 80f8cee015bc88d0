"""gdb remote stub: `-s`, `-gdb tcp:[HOST]:PORT | unix:PATH,server=on | none`, `-S`, and
the monitor's `gdbserver [DEVICE|none]` -- gdb's remote serial protocol over a socket,
as QEMU 7.2 speaks it (reference/qemu-7.2-transcripts/gdb/), for one CPU.

How it runs.  `GdbServer.run()` replaces the command line's single `VirtMachine.run()`
call: it runs the machine, and when the run stops for gdb (a breakpoint, a watchpoint,
a single step, Ctrl-C) it tells gdb, pauses the machine (`vm.paused = "debug"`: the
monitor's `info status` says "paused (debug)") and runs again, which waits in the
board's paused loop.  The socket is read by `poll()`, which the board calls between
run slices and while paused, when the CPU is not executing; a request that needs the
run loop (step, continue) is handed over by ending the board's current run() at once
(`_kick`: the CPU's stop flag, which also wakes a WFI).

Breakpoints (Z0/Z1) are the board's host-side breakpoints (machine/hooks.py): guest
memory is never patched.  Watchpoints (Z2 write, Z3 read, Z4 access) are memory
hooks that stop the instruction *before* its access takes effect (as the Arm debug
architecture does, and as gdb's AArch64 support expects: it steps the instruction
itself, then compares the values); a load of an MMIO register that hits a read
watchpoint has been performed once already.  Memory is read and written through the
current translation as a debugger does (permissions do not matter); only RAM is
reachable (device registers are not read for gdb: reads have side effects).

Differences from QEMU 7.2, on purpose: loopback only unless a host is given; the
stub also offers QStartNoAckMode, swbreak/hwbreak stop reasons and read/access
watchpoint reasons; `P` answers E14 when a register cannot be written (QEMU says OK
and ignores the write; system registers are writable here); a gdb that disconnects
without detaching leaves no breakpoints behind; single steps run with interrupts
masked and ignore a breakpoint at the PC, as QEMU's default (`qqemu.sstepbits` 0x7)
does; a guest crash our board cannot continue from (undefined instruction or abort
with no vector) is reported to gdb as SIGILL/SIGSEGV and the VM waits, instead of
ending the emulator.
"""
import contextlib
import os
import select
import socket
import stat
import sys

from pyaarch64.cpu import ops as O
from pyaarch64.emu import gdbxml as X
from pyaarch64.emu.console import ConsoleQuit
from pyaarch64.emu.gdbconn import (DEFAULT_DEVICE, PACKET_SIZE, GdbError,  # noqa: F401
                                   parse_device, _Conn)

MAX_MEM = PACKET_SIZE // 2        # m/M larger than this: E22 (as QEMU)
SIGINT, SIGILL, SIGTRAP, SIGKILL, SIGSEGV = 2, 4, 5, 9, 11


class _Kill(Exception):
    """gdb's k/vKill: the emulator exits."""


def _hex(b):
    return b.hex()


def _le(v, n):
    return int(v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")


class GdbServer:
    """The stub's listening socket, its one gdb connection, and the run loop that
    reports stops to gdb.  Exists for every command-line run (the monitor's
    `gdbserver` may start it later); with no device it only runs the machine."""

    def __init__(self, vm, monitor):
        self.vm = vm
        self.monitor = monitor
        self.device = None
        self.listener = None
        self.unix_path = None
        self.conn = None
        self.waiting = False          # gdb resumed the VM and waits for a stop reply
        self.multiprocess = False
        self.swbreak = self.hwbreak = False
        self.sw = set()               # Z0 addresses
        self.hw = set()               # Z1 addresses
        self.watch = {}               # (type, addr, len) -> [hook handles]
        self._want = None             # what run() must do next: 'step' | 'cont' | 'stop'
        self._kicked = False
        self._watch_hit = None        # (kind, address) of the watchpoint that stopped the CPU
        self._watch_at = None         # (pc, icount) where a watchpoint stopped the CPU
        self._annexes = None
        self.gcpu = None              # Hg: the CPU (thread) g/G/p/P/m use; None: the one stopped
        self.ccpu = None              # Hc / vCont: the CPU a step steps; None: the one stopped

    # --- the device -------------------------------------------------------------------
    @property
    def listening(self):
        return self.listener is not None

    def start(self, spec):
        """Listen on `spec` (QEMU's -gdb device; 'none' stops the stub).  Any earlier
        device and connection are closed first.  GdbError when it cannot listen."""
        dev = parse_device(spec)
        self.stop_listening()
        if dev is None:
            return
        if dev[0] == "tcp":
            _, host, port = dev
            try:
                infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0,
                                           socket.AI_PASSIVE)
            except socket.gaierror as e:
                raise GdbError(f"address resolution failed for {host}:{port}: "
                               f"{e.strerror}") from None
            last = None
            for fam, typ, proto, _, addr in infos:
                s = socket.socket(fam, typ, proto)
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(addr)
                    s.listen(1)
                except OSError as e:
                    s.close()
                    last = e
                    continue
                self.listener = s
                break
            else:
                raise GdbError(f"Failed to find an available port: {last.strerror}")
        else:
            path = dev[1]
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None
            if st is not None:
                if not stat.S_ISSOCK(st.st_mode):
                    raise GdbError(f"{path} exists and is not a socket (not replaced)")
                os.unlink(path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old = os.umask(0o177)
            try:
                s.bind(path)
                s.listen(1)
            except OSError as e:
                s.close()
                raise GdbError(f"Failed to bind socket: "
                               f"{e.strerror or e}") from None
            finally:
                os.umask(old)
            self.listener = s
            self.unix_path = path
        self.listener.setblocking(False)
        self.device = spec

    def stop_listening(self):
        if self.conn is not None:
            self._disconnect()
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        if self.unix_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.unix_path)
            self.unix_path = None
        self.device = None

    def close(self):
        """The emulator ends (monitor quit, Ctrl-A x, ...): a gdb still attached hears that
        it exited (as QEMU's gdb_exit), then the device closes."""
        if self.conn is not None:
            self.conn.send("W00")
        self.stop_listening()

    def monitor_command(self, rest):
        """HMP `gdbserver [device]`: QEMU's messages."""
        device = rest.split()[0] if rest.strip() else DEFAULT_DEVICE
        try:
            self.start(device)
        except GdbError as e:
            return f"{e}\r\nCould not open gdbserver on device '{device}'\r\n"
        if device == "none":
            return "Disabled gdbserver\r\n"
        return f"Waiting for gdb connection on device '{device}'\r\n"

    # --- waiting and polling (the board calls these) -----------------------------------
    def wrap_wait(self, serial_wait):
        """The board's wait_input: the serial port's, and gdb's sockets while the stub
        listens (gdb may connect or interrupt at any time: input can always come)."""
        def wait_input(timeout):
            if self.listener is None:
                return serial_wait(timeout)
            socks = [self.listener] + ([self.conn.sock] if self.conn else [])
            select.select(socks, [], [], timeout)
            serial_wait(0)
            return True
        return wait_input

    def poll(self):
        if self.listener is None:
            return
        self._accept()
        c = self.conn
        if c is None:
            return
        if self.waiting and self.vm.paused and not self._want:
            # the monitor's `stop` while gdb waits: QEMU reports it as SIGINT
            self._report(f"T{SIGINT:02x}{self._thread_part()}")
        while not c.closed:
            r, _, _ = select.select([c.sock], [], [], 0)
            if not r:
                break
            if not c.read():
                break
            for ev in c.events():
                self._event(ev)
                if c.closed:
                    break
        if c.closed:
            self._disconnect()

    def _accept(self):
        while True:
            try:
                s, _ = self.listener.accept()
            except OSError:                   # (BlockingIOError: nobody is knocking)
                return
            if self.conn is not None and self.conn.gone():
                self._disconnect()        # (the last gdb left just before this one came)
            if self.conn is not None:
                s.close()                 # one gdb at a time
                continue
            if s.family in (socket.AF_INET, socket.AF_INET6):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn = _Conn(s)
            self.multiprocess = self.swbreak = self.hwbreak = False
            self.waiting = False
            self._clear_points()
            self.vm.paused = "debug"      # as QEMU: gdb attaching stops the VM

    def _disconnect(self):
        self._clear_points()
        self.waiting = False
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _event(self, ev):
        c = self.conn
        if ev[0] == "nak":
            if c.last and not c.noack:
                c.send_raw(c.last)
            return
        if ev[0] == "ack":
            return
        running = not self.vm.paused or self._want in ("cont", "step")
        if ev[0] == "int":
            if running:
                self._interrupt()
            return
        if running:
            # as QEMU: any packet while the VM runs stops it (reported as SIGINT); the
            # packet itself is not acted on (gdb sends none in all-stop mode)
            self._interrupt()
            return
        self._packet(ev[1])

    def _interrupt(self):
        self.waiting = True
        self._kick("stop")

    def _kick(self, want):
        """End the board's current run() at once (or keep it from running): run()
        then does `want`."""
        self._want = want
        self._kicked = True
        self.vm.paused = False
        self.vm.cpu.ctl[O.C_STOP] = 1

    def _report(self, text):
        self.waiting = False
        if self.conn is not None:
            self.conn.send(text)

    # --- the run loop --------------------------------------------------------------------
    def run(self, max_insns=None):
        """VirtMachine.run(max_insns=...) for the command line, with gdb's stops
        handled; returns the StopReason that ends the emulator."""
        from pyaarch64.machine.virt import StopReason
        vm, cpu = self.vm, self.vm.cpu
        start = cpu.icount
        while True:
            left = None if max_insns is None else max_insns - (cpu.icount - start)
            want, self._want = self._want, None
            try:
                if want == "stop":
                    self._settle()
                    vm.paused = "debug"
                    self._report(f"T{SIGINT:02x}{self._thread_part()}")
                    continue
                if want == "step":
                    self._settle()
                    r = self._step()
                    if r.kind == "budget":
                        vm.paused = "debug"
                        self._report(f"T{SIGTRAP:02x}{self._thread_part()}")
                        continue
                else:
                    r = None
                    if want == "cont":
                        self._settle()
                        cpu.ctl[O.C_HOOK_DONE] = 0        # a breakpoint at the PC stops again
                        if self._at_watch():
                            r = self._step()              # (past the access it stopped)
                            if r.kind == "budget":
                                r = None
                    if r is None:
                        r = vm.run(max_insns=left)
            except _Kill:
                sys.stderr.write("pyaarch64: QEMU: Terminated via GDBstub\n")
                return self._final(StopReason("killed", 0, cpu.pc, message="killed by gdb"))
            r = self._stopped(r)
            if r is not None:
                return self._final(r)

    def _settle(self):
        """After a kick: the stop flag is spent (a device's re-planned deadline is
        picked up again by the board's next run)."""
        if self._kicked:
            self._kicked = False
            self.vm.cpu.ctl[O.C_STOP] = 0
            self.vm._step_key = None

    def _stopped(self, r):
        """A run ended with StopReason r: None when gdb takes it (the VM waits for
        gdb), else r (the emulator ends)."""
        vm = self.vm
        if r.kind == "stopped" and self._kicked:
            return None                   # ours: run() acts on _want
        if self._kicked:
            self._settle()                # another stop came first: it answers gdb
            if self._want == "stop":
                self._want = None
        if self.conn is None:
            return r
        if r.kind == "breakpoint" and r.pc in (self.sw | self.hw):
            why = "swbreak:;" if r.pc in self.sw and self.swbreak else (
                "hwbreak:;" if r.pc in self.hw and self.hwbreak else "")
            vm.paused = "debug"
            self._report(f"T{SIGTRAP:02x}{why}{self._thread_part()}")
            return None
        if r.kind == "callback-error" and isinstance(r.error, WatchHit):
            h = r.error
            self._watch_at = (vm.cpu.pc, vm.cpu.icount)
            vm.paused = "debug"
            self._report(f"T{SIGTRAP:02x}{h.kind}:{h.address:x};{self._thread_part()}")
            return None
        if r.kind in ("undefined", "fetch-abort", "data-abort", "exception-loop", "halted",
                      "protection", "callback-error"):
            sys.stderr.write(f"pyaarch64: {r}; the VM waits for gdb\n")
            sys.stderr.flush()
            vm.paused = "debug"
            sig = SIGILL if r.kind == "undefined" else SIGSEGV
            self._report(f"T{sig:02x}{self._thread_part()}")
            return None
        return r

    def _final(self, r):
        """The emulator ends with r: gdb hears how (W: exited with a status, X: killed)."""
        if self.conn is not None:
            if r.kind in ("poweroff", "reset", "killed"):
                self.conn.send("W00")
            elif r.kind == "semihosting-exit":
                self.conn.send(f"W{r.code & 0xFF:02x}")
            else:
                self.conn.send(f"X{SIGKILL:02x}")
            self._disconnect()
        return r

    def _step(self):
        """One instruction of the thread gdb steps (Hc, vCont; default the CPU that
        stopped), interrupts masked, a breakpoint at the PC ignored; a watchpoint that
        stopped the CPU at this instruction does not stop it again."""
        vm = self.vm
        i = self.ccpu if self.ccpu is not None else vm.cpu_index
        cpu = vm.cpus[i]
        pc0, n0 = cpu.pc, cpu.icount
        vm.paused = False
        cpu.ctl[O.C_IRQ] = 0           # (the GIC's outputs come back after the step)
        suspended = self._suspend_watch() if self._at_watch() else None
        if vm.smp is not None:
            vm.smp.pin = i
        try:
            r = vm.run(max_insns=1)
            if r.kind == "breakpoint" and cpu.pc == pc0 and cpu.icount == n0:
                r = vm.run(max_insns=1)
        finally:
            if vm.smp is not None:
                vm.smp.pin = None
            cpu.ctl[O.C_IRQ] = int(vm.gic.irq_out[i]) | (int(vm.gic.fiq_out[i]) << 1)
            if suspended is not None:
                self._resume_watch(suspended)
            self._watch_at = None
        return r

    def _at_watch(self):
        return self._watch_at is not None and self._watch_at == (self.vm.cpu.pc,
                                                                  self.vm.cpu.icount)

    # --- breakpoints and watchpoints --------------------------------------------------------
    def _clear_points(self):
        hooks = self.vm.hooks
        for a in self.sw | self.hw:
            hooks.remove_breakpoint(a)
        self.sw.clear()
        self.hw.clear()
        for handles in self.watch.values():
            for h in handles:
                hooks.remove(h)
        self.watch.clear()
        self._watch_at = None

    def _add_watch(self, kind, addr, length):
        hooks = self.vm.hooks
        name = {2: "watch", 3: "rwatch", 4: "awatch"}[kind]

        def hit(vm, access, va, size, value):
            cpu = self.vm.cpu
            if isinstance(cpu.callback_error, WatchHit):
                return
            cpu.callback_error = WatchHit(name, max(va, addr), access)
            cpu.ctl[O.C_CB_ERR] = 1
            cpu.ctl[O.C_STOP] = 1
        end = addr + length - 1
        handles = []
        if kind in (2, 4):
            handles.append(hooks.add("mem_write", hit, addr, end))
        if kind in (3, 4):
            handles.append(hooks.add("mem_read", hit, addr, end))
        return handles

    def _suspend_watch(self):
        hooks = self.vm.hooks
        keys = list(self.watch)
        for k in keys:
            for h in self.watch[k]:
                hooks.remove(h)
        return keys

    def _resume_watch(self, keys):
        for k in keys:
            if k in self.watch:
                self.watch[k] = self._add_watch(*k)

    # --- packets ------------------------------------------------------------------------------
    # every CPU is a thread (1 = CPU 0, ...), as QEMU's gdbstub shows them
    def _tid(self, i):
        return f"p01.{i + 1:02x}" if self.multiprocess else f"{i + 1:02x}"

    def _thread_part(self):
        self.gcpu = self.ccpu = None      # (a stop: gdb asks again which thread it wants)
        return f"thread:{self._tid(self.vm.cpu_index)};"

    def _thread(self, t):
        """The CPU index thread-id t names, -1 for any/all, None if none."""
        if t.startswith("p"):
            pid, _, t = t[1:].partition(".")
            if pid not in ("1", "01", "-1", "0"):
                return None
            if not t:
                return -1
        if t in ("0", "-1"):
            return -1
        try:
            i = int(t, 16) - 1
        except ValueError:
            return None
        return i if 0 <= i < len(self.vm.cpus) else None

    def _thread_ok(self, t):
        """Whether thread-id t names one of our threads (or any/all)."""
        return self._thread(t) is not None

    def _cpu(self):
        """The CPU gdb's register and memory packets address (Hg)."""
        return self.vm.cpus[self.gcpu] if self.gcpu is not None else self.vm.cpu

    def _packet(self, data):
        c = self.conn
        try:
            text = data.decode("latin-1")
            reply = self._handle(text, data)
        except (ValueError, IndexError, KeyError, OverflowError, UnicodeError):
            reply = "E22"                 # malformed: numbers, hex, fields
        except (_Kill, ConsoleQuit):
            raise
        except Exception as e:           # noqa: BLE001 -- no packet ends the emulator
            sys.stderr.write(f"pyaarch64: gdb stub: internal error on packet {data[:40]!r}: "
                             f"{type(e).__name__}: {e} (please report it)\n")
            reply = "E22"
        if reply is not None:
            c.send(reply)

    def _handle(self, p, raw):
        cpu = self._cpu()
        if not p:
            return ""
        cmd = p[0]
        if cmd == "?":
            return f"T{SIGTRAP:02x}{self._thread_part()}"
        if cmd == "g":
            return "".join(_hex(self._read_reg(n)) for n in range(X.N_CORE))
        if cmd == "G":
            data = bytes.fromhex(p[1:])
            at = 0
            for n in range(X.N_CORE):
                size = self._reg_size(n)
                if at + size > len(data):
                    break
                self._write_reg(n, data[at:at + size])
                at += size
            return "OK"
        if cmd == "p":
            n = int(p[1:], 16)
            b = self._read_reg(n)
            return "E14" if b is None else _hex(b)
        if cmd == "P":
            n, _, v = p[1:].partition("=")
            n = int(n, 16)
            data = bytes.fromhex(v)
            if self._reg_size(n) is None or len(data) != self._reg_size(n):
                return "E14"
            return "OK" if self._write_reg(n, data) else "E14"
        if cmd == "m":
            a, _, n = p[1:].partition(",")
            a, n = int(a, 16), int(n, 16)
            if n > MAX_MEM:
                return "E22"
            b = self._mem_read(a, n)
            return "E14" if b is None else _hex(b)
        if cmd == "M":
            a, _, rest = p[1:].partition(",")
            n, _, hx = rest.partition(":")
            a, n = int(a, 16), int(n, 16)
            data = bytes.fromhex(hx)
            if n > len(data):
                return "E22"
            return "OK" if self._mem_write(a, data[:n]) else "E14"
        if cmd == "X":
            head, _, body = raw[1:].partition(b":")
            a, _, n = head.decode("latin-1").partition(",")
            a, n = int(a, 16), int(n, 16)
            if n > len(body):
                return "E22"
            if n == 0:
                return "OK"
            return "OK" if self._mem_write(a, body[:n]) else "E14"
        if cmd in "cCsS":
            arg = p[1:]
            if cmd in "CS":
                _, _, arg = arg.partition(";")
            if arg:
                cpu.pc = int(arg, 16)
            self._resume("step" if cmd in "sS" else "cont")
            return None
        if cmd in "zZ":
            return self._point(p)
        if cmd == "H":
            i = self._thread(p[2:]) if p[1:2] in ("g", "c") else None
            if i is None:
                return "E22"
            if p[1] == "g":
                self.gcpu = None if i < 0 else i
            else:
                self.ccpu = None if i < 0 else i
            return "OK"
        if cmd == "T":
            return "OK" if self._thread_ok(p[1:]) else "E22"
        if cmd == "D":
            self._clear_points()
            self.vm.paused = False
            self.conn.send("OK")
            self._disconnect()
            return None
        if cmd == "k":
            self.conn.send("W00")
            raise _Kill()
        if p.startswith("vCont?"):
            return "vCont;c;C;s;S;t"
        if p.startswith("vCont;"):
            return self._vcont(p[6:])
        if p.startswith("vKill"):
            self.conn.send("OK")
            self.conn.send("W00")
            raise _Kill()
        if p == "vMustReplyEmpty":
            return ""
        if p.startswith("vAttach;"):
            return f"T{SIGTRAP:02x}{self._thread_part()}"
        if p.startswith("qSupported"):
            feats = p.partition(":")[2].split(";")
            self.multiprocess = "multiprocess+" in feats
            self.swbreak = "swbreak+" in feats
            self.hwbreak = "hwbreak+" in feats
            return (f"PacketSize={PACKET_SIZE:x};qXfer:features:read+;vContSupported+;"
                    f"multiprocess+;QStartNoAckMode+;swbreak+;hwbreak+")
        if p == "QStartNoAckMode":
            self.conn.send("OK")
            self.conn.noack = True
            return None
        if p.startswith("qXfer:features:read:"):
            return self._xfer(p[len("qXfer:features:read:"):])
        if p == "qC":
            return "QC" + self._tid(self.vm.cpu_index)
        if p == "qfThreadInfo":
            return "m" + ",".join(self._tid(i) for i in range(len(self.vm.cpus)))
        if p == "qsThreadInfo":
            return "l"
        if p.startswith("qThreadExtraInfo,"):
            i = self._thread(p[len("qThreadExtraInfo,"):])
            if i is None or i < 0:
                return "E22"
            smp = self.vm.smp
            idle = smp is not None and (smp.waiting[i] or smp.power[i] != 0)
            return f"CPU#{i} [{'halted ' if idle else 'running'}]".encode().hex()
        if p.startswith("qAttached"):
            return "1"
        if p.startswith("qRcmd,"):
            return self._rcmd(bytes.fromhex(p[6:]).decode("latin-1"))
        return ""

    def _resume(self, how):
        self.waiting = True
        self._kick(how)

    def _vcont(self, spec):
        act = None
        for a in spec.split(";"):
            kind, _, thread = a.partition(":")
            if not kind or kind[0] not in "cCsSt":
                return "E22"
            if act is None and (not thread or self._thread_ok(thread)):
                act = kind
                i = self._thread(thread) if thread else -1
                if kind[0] in "sS" and i is not None and i >= 0:
                    self.ccpu = i             # (the thread to step)
        if act is None:
            return "OK"
        if act[0] == "t":
            self.vm.paused = "debug"
            return "OK"
        self._resume("step" if act[0] in "sS" else "cont")
        return None

    def _point(self, p):
        insert = p[0] == "Z"
        parts = p[1:].split(";")[0].split(",")
        if len(parts) != 3:
            return "E22"
        t, a, k = int(parts[0], 16), int(parts[1], 16), int(parts[2], 16)
        hooks = self.vm.hooks
        if t in (0, 1):
            mine, other = (self.sw, self.hw) if t == 0 else (self.hw, self.sw)
            if insert:
                mine.add(a)
                hooks.add_breakpoint(a)
            else:
                mine.discard(a)
                if a not in other:
                    hooks.remove_breakpoint(a)
            return "OK"
        if t in (2, 3, 4):
            if k <= 0 or k > 1 << 20 or a + k > 1 << 64:
                return "E22"
            key = (t, a, k)
            if insert:
                if key not in self.watch:
                    self.watch[key] = self._add_watch(t, a, k)
            else:
                for h in self.watch.pop(key, ()):
                    hooks.remove(h)
            return "OK"
        return ""

    def _xfer(self, rest):
        annex, _, rng = rest.partition(":")
        off, _, n = rng.partition(",")
        off, n = int(off, 16), int(n, 16)
        if self._annexes is None:
            self._annexes = X.annexes(self.vm.cpu.model)
        xml = self._annexes.get(annex)
        if xml is None or off > len(xml):
            return "E00"
        n = min(n, (PACKET_SIZE - 5) // 2)
        chunk = xml[off:off + n]
        return ("l" if off + n >= len(xml) else "m") + chunk

    def _rcmd(self, line):
        from pyaarch64.emu.monitor import MonitorQuit
        try:
            out = self.monitor.execute(line)
        except MonitorQuit:
            raise ConsoleQuit() from None
        raw = out.encode("latin-1", "replace")
        step = (PACKET_SIZE - 2) // 2
        for k in range(0, len(raw), step):
            self.conn.send("O" + raw[k:k + step].hex())
        return "OK"

    # --- registers and memory ------------------------------------------------------------
    def _sys(self):
        rows = getattr(self, "_rows", None)
        if rows is None:
            rows = self._rows = X.sysreg_rows(self.vm.cpu.model)
        return rows

    def _reg_size(self, n):
        if 0 <= n <= 32:
            return 8
        if n == 33 or n in (X.FPSR, X.FPCR):
            return 4
        if X.V0 <= n < X.V0 + 32:
            return 16
        if X.SYS0 <= n < X.SYS0 + len(self._sys()):
            return 8
        return None

    def _read_reg(self, n):
        cpu = self._cpu()
        if 0 <= n <= 30:
            return _le(cpu.reg(f"x{n}"), 8)
        if n == 31:
            return _le(cpu.reg("sp"), 8)
        if n == 32:
            return _le(cpu.pc, 8)
        if n == 33:
            return _le(cpu.pstate(), 4)
        if X.V0 <= n < X.V0 + 32:
            j = n - X.V0
            return _le(int(cpu.vregs[j, 0]), 8) + _le(int(cpu.vregs[j, 1]), 8)
        if n == X.FPSR:
            return _le(cpu.reg("FPSR"), 4)
        if n == X.FPCR:
            return _le(cpu.reg("FPCR"), 4)
        rows = self._sys()
        if X.SYS0 <= n < X.SYS0 + len(rows):
            return _le(cpu.reg(rows[n - X.SYS0].name), 8)
        return None

    def _write_reg(self, n, data):
        from pyaarch64.errors import RegisterError
        cpu = self._cpu()
        v = int.from_bytes(data, "little")
        if 0 <= n <= 30:
            name = f"x{n}"
        elif n == 31:
            name = "sp"
        elif n == 32:
            name = "pc"
        elif n == 33:
            name = "cpsr"
        elif X.V0 <= n < X.V0 + 32:
            name = f"v{n - X.V0}"
        elif n == X.FPSR:
            name = "FPSR"
        elif n == X.FPCR:
            name = "FPCR"
        else:
            name = self._sys()[n - X.SYS0].name
        try:
            cpu.set_reg(name, v)
        except RegisterError:
            return False
        self.vm._step_key = None          # (the board re-checks its timers)
        return True

    def _mem_read(self, addr, n):
        from pyaarch64.errors import MemoryAccessError
        if n == 0:
            return b""
        try:
            return self.vm.read_memory(addr & (2 ** 64 - 1), n, virtual=True, cpu=self._cpu())
        except (MemoryAccessError, ValueError):
            return None

    def _mem_write(self, addr, data):
        from pyaarch64.errors import MemoryAccessError
        try:
            self.vm.write_memory(addr & (2 ** 64 - 1), data, virtual=True, cpu=self._cpu())
        except (MemoryAccessError, ValueError):
            return False
        return True


class WatchHit(Exception):
    """cpu.callback_error's value when a gdb watchpoint stops an access (before it
    takes effect): kind is gdb's stop reason (watch, rwatch, awatch)."""

    def __init__(self, kind, address, access):
        super().__init__(f"{kind} at 0x{address:x} ({access})")
        self.kind, self.address, self.access = kind, address, access
