"""The human monitor (HMP), with QEMU's prompt, command names and wording.

`Monitor.execute(line)` runs one command and returns its output (lines ending in
"\\r\\n", as QEMU writes them); `LineEditor` turns typed bytes into lines with
QEMU's readline echo.  The console mux (emu/console.py) connects both to stdio;
commands run between run slices, when the CPU is not executing.

Where we differ from QEMU on purpose (DESIGN §6): `savevm` needs no disk (the
snapshot store), a failed `loadvm` leaves the machine exactly as it was (running
if it was running), and `delvm` of a missing tag says so.
"""
import datetime

from pyaarch64.cpu import ops as O
from pyaarch64.snapshot import format as F
from pyaarch64.snapshot.state import save, restore, SnapshotError
from pyaarch64.snapshot.store import StoreError, format_listing

PROMPT = "(qemu) "

COMMANDS = (
    ("cont|c", "", "resume emulation"),
    ("cpu", "index", "set the default CPU"),
    ("delvm", "tag", "delete a VM snapshot from its tag"),
    ("gdbserver", "[device]", "start gdbserver on given device (default 'tcp::1234'), stop with 'none'"),
    ("help|?", "[cmd]", "show the help"),
    ("info", "[subcommand]", "show various information about the system state"),
    ("loadvm", "tag", "restore a VM snapshot from its tag"),
    ("log", "item1[,...]", "activate logging of the specified items"),
    ("logfile", "filename", "output logs to 'filename'"),
    ("print|p", "/fmt expr", "print expression value (use $reg for CPU register access)"),
    ("quit|q", "", "quit the emulator"),
    ("savevm", "[tag]", "save a VM snapshot. If no tag is provided, a new snapshot is created"),
    ("stop|s", "", "stop emulation"),
    ("system_powerdown", "", "send system power down event"),
    ("system_reset", "", "reset the system"),
    ("x", "/fmt addr", "virtual memory dump starting at 'addr'"),
    ("xp", "/fmt addr", "physical memory dump starting at 'addr'"),
)
INFO = (
    ("block", "show info of one block device or all block devices"),
    ("cpus", "show infos for each CPU"),
    ("mtree", "show memory tree"),
    ("qtree", "show device tree"),
    ("name", "show the current VM name"),
    ("registers", "show the cpu registers"),
    ("snapshots", "show the currently saved VM snapshots"),
    ("status", "show the current VM status (running|paused)"),
    ("version", "show the version of QEMU"),
)


class MonitorQuit(Exception):
    """`quit`: leave the emulator."""


class MonitorError(Exception):
    """A command refused, in QEMU's words (HMP prints "Error: " + it, QMP a GenericError)."""


class Monitor:
    """The HMP commands, and the VM's run state and events that HMP and QMP share.

    Run state as QEMU names it: "running" (vm.paused False), or paused for a reason:
    "paused" (stop), "prelaunch" (-S, or a reset while paused), "shutdown" (the guest
    powered off under -no-shutdown).  `emit` hands events (STOP, RESUME, RESET,
    POWERDOWN, SHUTDOWN) to the `listeners` (the QMP servers)."""

    def __init__(self, vm, store, version="0.1.0", name=None):
        self.vm = vm
        self.store = store
        self.version = version
        self.logfile = None          # `logfile`: where `log` writes (None: stderr)
        self.name = name                # -name
        self.reason = "paused"          # why vm.paused: paused | prelaunch | shutdown
        self.listeners = []             # listener(event, data or None)
        self.gdbserver = None           # the gdb stub (emu/gdbstub.py GdbServer), set by the CLI
        self.cpu_index = 0              # `cpu N`: the CPU info registers, x and $reg show

    # --- run state and events (HMP and QMP) ----------------------------------------
    def status(self):
        p = self.vm.paused                  # (True, or "debug": stopped by gdb)
        return "running" if not p else p if isinstance(p, str) else self.reason

    def emit(self, event, data=None):
        for fn in self.listeners:
            fn(event, data)

    def stop(self):
        if not self.vm.paused:
            self.vm.paused, self.reason = True, "paused"
            self.emit("STOP")

    def cont(self):
        if self.vm.paused and self.reason == "shutdown":
            raise MonitorError("Resetting the Virtual Machine is required")
        if self.vm.paused:
            self.vm.paused, self.reason = False, "paused"
            self.emit("RESUME")

    def system_reset(self):
        self.vm.reset()
        self.emit("RESET", {"guest": False, "reason": "host-qmp-system-reset"})
        if self.vm.paused:                  # as QEMU: a reset VM that does not run is
            self.reason = "prelaunch"       # in prelaunch (so `cont` works after shutdown)

    def guest_shutdown(self, no_shutdown):
        """The guest powered off: SHUTDOWN; under -no-shutdown also pause (STOP)."""
        self.emit("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})
        if no_shutdown:
            self.stop()
            self.reason = "shutdown"

    def quit(self):
        self.emit("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
        raise MonitorQuit()

    # --- one command ---------------------------------------------------------------
    def execute(self, line):
        line = line.strip()
        if not line:
            return ""
        cmd, _, rest = line.partition(" ")
        rest = rest.strip()
        name = {"c": "cont", "?": "help", "q": "quit", "s": "stop", "p": "print"}.get(cmd, cmd)
        fn = getattr(self, "cmd_" + name, None)
        if fn is None:
            return f"unknown command: '{cmd}'\r\n"
        try:
            return fn(rest)
        except MonitorQuit:
            raise
        except Exception as e:      # noqa: BLE001 -- no input ends the VM: report and go on
            return (f"Error: internal error in '{cmd}': {type(e).__name__}: {e} "
                    f"(the VM goes on; please report this)\r\n")

    @property
    def cpu(self):
        """The monitor's default CPU (`cpu N`)."""
        cpus = getattr(self.vm, "cpus", None) or [self.vm.cpu]
        return cpus[self.cpu_index if self.cpu_index < len(cpus) else 0]

    def cmd_cpu(self, rest):
        cpus = getattr(self.vm, "cpus", None) or [self.vm.cpu]
        try:
            i = int(rest, 0)
        except ValueError:
            return "invalid CPU index\r\n" if rest else "Parameter 'index' is missing\r\n"
        if not 0 <= i < len(cpus):
            return "invalid CPU index\r\n"
        self.cpu_index = i
        return ""

    def cmd_help(self, rest):
        out = []
        for names, args, text in COMMANDS:
            out.append(f"{names.replace('|', '|')} {args} -- {text}".replace("  ", " "))
        for sub, text in INFO:
            out.append(f"info {sub}  -- {text}")
        return "".join(l + "\r\n" for l in out)

    def cmd_info(self, rest):
        sub = rest.split()[0] if rest else ""
        if sub == "status":
            st = self.status()
            return ("VM status: running\r\n" if st == "running" else
                    "VM status: paused\r\n" if st == "paused" else f"VM status: paused ({st})\r\n")
        if sub == "name":
            return f"{self.name}\r\n" if self.name is not None else ""
        if sub == "snapshots":
            good, bad = self.store.scan()
            lines = format_listing(good)
            if bad:
                lines.append("Snapshot files that cannot be loaded:")
                lines += [f"  {tag}: {why}" for tag, why in bad]
            return "".join(l + "\r\n" for l in lines)
        if sub == "version":
            return f"{self.version} (pyaarch64)\r\n"
        if sub == "registers":
            return self.registers()
        if sub == "cpus":
            import threading
            tid = threading.main_thread().native_id      # (every CPU runs on it)
            n = len(getattr(self.vm, "cpus", None) or [0])
            return "".join(f"{'*' if i == self.cpu_index else ' '} CPU #{i}: thread_id={tid}\r\n"
                           for i in range(n))
        if sub == "block":
            try:
                return self.block(rest.split()[1:])
            except MonitorError as e:
                return f"Error: {e}\r\n"
        if sub == "mtree":
            return self.mtree()
        if sub == "qtree":
            return self.qtree()
        if not sub:
            return "".join(f"info {s}  -- {t}\r\n" for s, t in INFO)
        return f"unknown command: 'info {sub}'\r\n"

    def cmd_stop(self, rest):
        self.stop()
        return ""

    def cmd_cont(self, rest):
        try:
            self.cont()
        except MonitorError as e:
            return f"Error: {e}\r\n"
        return ""

    def cmd_gdbserver(self, rest):
        if self.gdbserver is None:
            return "gdbserver: not available here\r\n"
        return self.gdbserver.monitor_command(rest)

    def cmd_quit(self, rest):
        self.quit()

    def cmd_system_reset(self, rest):
        self.system_reset()
        return ""

    def system_powerdown(self):
        """As QEMU: the POWERDOWN event, then the board's power button is pressed (a
        guest that ignores it keeps running)."""
        self.emit("POWERDOWN")
        powerdown = getattr(self.vm, "powerdown", None)
        if powerdown is not None:
            powerdown()

    def cmd_system_powerdown(self, rest):
        self.system_powerdown()
        return ""

    def cmd_savevm(self, rest):
        tag = rest.split()[0] if rest else datetime.datetime.now().strftime("vm-%Y%m%d%H%M%S")
        try:
            self.store.save(tag, save(self.vm, copy_ram=False))      # written out at once
        except (StoreError, OSError) as e:
            return f"Error: {e}\r\n"
        return ""

    def cmd_loadvm(self, rest):
        if not rest:
            return "Parameter 'name' is missing\r\n"
        tag = rest.split()[0]
        try:
            snap = self.store.load(tag)
        except StoreError:
            return f"Error: Snapshot '{tag}' does not exist in one or more devices\r\n"
        except F.SnapshotFileError as e:
            return f"Error: {e}\r\n"
        try:
            self.load(snap)
        except SnapshotError as e:
            return "".join(f"Error: {p}\r\n" for p in e.problems)
        return ""

    def load(self, snap):
        """Restore `snap`, all or nothing (a refused snapshot changes nothing).  A VM the
        guest powered off (-no-shutdown) holds a live state again: paused, not shutdown."""
        restore(self.vm, snap)
        if self.reason == "shutdown":
            self.reason = "paused"

    def cmd_delvm(self, rest):
        if not rest:
            return "Parameter 'name' is missing\r\n"
        tag = rest.split()[0]
        try:
            self.store.delete(tag)
        except StoreError as e:
            return f"Error: {e}\r\n"
        return ""

    def cmd_print(self, rest):
        fmt, expr = "/d", rest
        if rest.startswith("/"):
            fmt, _, expr = rest.partition(" ")
        if not expr.strip():
            return _try_help("missing argument", "print")
        parsed = self._format_and_value(fmt, expr, "print")
        if isinstance(parsed, str):
            return parsed
        _, kind, _, v = parsed
        if kind == "x":
            text = f"{v:#x}" if v else "0"
        elif kind == "u":
            text = str(v)
        else:                                   # (d, the default; i prints as d)
            text = str(v - (1 << 64) if v >> 63 else v)
        return text + "\r\n"

    def cmd_log(self, rest):
        from pyaarch64.emu.trace import parse_items, Tracer, LOG_ITEMS
        spec = rest.split()[0] if rest else ""
        if not spec:
            return _try_help("missing argument", "log")
        vm = self.vm
        items = None
        if spec != "none":
            try:
                items = parse_items(spec)
            except ValueError:
                names = ", ".join(LOG_ITEMS)
                return f"Invalid log mask '{spec}': the items are {names}, or none\r\n"
        old = vm.tracer
        if old is not None:
            old.finish()
            old.detach()
        if items is None:
            vm.tracer = None
            return ""
        out = open(self.logfile, "a") if self.logfile else None
        symbols = getattr(old, "symbols", None)
        if symbols is None and getattr(vm, "_kernel", None):
            from pyaarch64.machine.loader import elf_symbols
            symbols = elf_symbols(vm._kernel)
        vm.tracer = Tracer(items, out=out, symbols=symbols)
        vm.tracer.attach(vm)
        return ""

    def cmd_logfile(self, rest):
        path = rest.strip()
        if not path:
            return _try_help("missing argument", "logfile")
        try:
            open(path, "w").close()             # (as QEMU: the file starts empty)
        except OSError as e:
            return f"could not open log file '{path}': {e.strerror}\r\n"
        self.logfile = path
        t = self.vm.tracer
        if t is not None:
            t.out = open(path, "a")
        return ""

    def cmd_x(self, rest):
        return self._dump(rest, physical=False)

    def cmd_xp(self, rest):
        return self._dump(rest, physical=True)

    # --- helpers -------------------------------------------------------------------
    def mtree(self):
        """`info mtree` in QEMU's shape: the system address space's regions."""
        lines = ["address-space: cpu-memory-0", "address-space: memory",
                 "  0000000000000000-ffffffffffffffff (prio 0, i/o): system"]
        labels = {"ram": "mach-virt.ram"}
        for d in getattr(self.vm, "registry", ()):
            labels.update((r.region_name, r.label) for r in d.regions if r.label)
        for b, e, kind, name in self.vm.regions():
            label = labels.get(name, name)
            lines.append(f"    {b:016x}-{e - 1:016x} (prio 0, "
                         f"{kind if kind in ('ram', 'romd') else 'i/o'}): {label}")
        return "".join(l + "\r\n" for l in lines) + "\r\n"

    def block(self, args):
        """`info block [ID]` in QEMU's shape: each drive, its image, how it is attached."""
        drives = getattr(self.vm, "drives", {})
        want = [a for a in args if not a.startswith("-")]
        if want and want[0] not in drives:
            raise MonitorError(f"Device '{want[0]}' not found")
        out = []
        for i, (did, d) in enumerate(drives.items()):
            if want and did != want[0]:
                continue
            flags = "raw" + (", read-only" if d.readonly else "")
            out += [f"{did} (#block{i}): {d.filename} ({flags})",
                    f"    Attached to:      /machine/peripheral-anon/device[{d.device_index}]",
                    "    Cache mode:       writeback"]
            if d.snapshot:
                out.append("    Snapshot:         writes go to a throw-away overlay (-snapshot)")
            out.append("")
        return "".join(l + "\r\n" for l in out[:-1] or out)

    def qtree(self):
        """`info qtree` in QEMU's shape: the board's devices on the system bus."""
        vm = self.vm
        lines = ["bus: main-system-bus", "  type System"]
        # each device with a `qtree` in its declaration, newest first (as QEMU's bus
        # lists its children)
        for d in reversed(list(getattr(vm, "registry", ()))):
            if d.qtree is None:
                continue
            qname, props, *bus = d.qtree(d.obj)
            lines.append(f'  dev: {qname}, id ""')
            lines += [f"    {p}" for p in props]
            lines += [f"    mmio {r.base if r.sysbus else (1 << 64) - 1:016x}/{r.length:016x}"
                      for r in d.regions]
            lines += [f"    {p}" for p in (bus[0] if bus else ())]
        return "".join(l + "\r\n" for l in lines)

    def registers(self):
        from pyaarch64.emu.trace import dump_cpu
        cpu = self.cpu
        text = dump_cpu(cpu)
        fpcr, fpsr = cpu.reg("FPCR"), cpu.reg("FPSR")
        lines = text.rstrip("\n").split("\n")
        lines[-1] += f"     FPCR={fpcr:08x} FPSR={fpsr:08x}"
        for i in range(0, 32, 2):
            q = [f"Q{j:02d}={int(cpu.vregs[j, 1]):016x}:{int(cpu.vregs[j, 0]):016x}" for j in (i, i + 1)]
            lines.append(" ".join(q))
        return "\r\nCPU#0\r\n" + "".join(l + "\r\n" for l in lines)

    def _format_and_value(self, fmt, expr, cmd, fmt_cmd=None):
        """'/fmt' and an expression -> (count, kind, size, value), or the error text
        (QEMU's wording, then "Try "help cmd" ..."; a bad format names fmt_cmd, as
        x and xp both say "help x")."""
        count, kind, size = _parse_fmt(fmt[1:])
        if kind is None:
            return _try_help(f"invalid char in format: '{size}'", fmt_cmd or cmd)
        try:
            return count, kind, size, evaluate(expr, self.vm, self.cpu) & M64
        except ExprError as e:
            return _try_help(str(e), cmd)

    def _dump(self, rest, physical):
        fmt, _, addr_s = rest.partition(" ")
        if not fmt.startswith("/"):
            fmt, addr_s = "/1x", rest
        parsed = self._format_and_value(fmt, addr_s, "xp" if physical else "x", "x")
        if isinstance(parsed, str):
            return parsed
        count, kind, size, addr = parsed
        out = []
        if kind == "i":
            import capstone
            from pyaarch64.emu.trace import qemu_form
            md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
            for k in range(count):
                a = addr + 4 * k
                b = self._read(a, 4, physical)
                if b is None:
                    out.append("Cannot access memory\r\n")
                    break
                w = int.from_bytes(b, "little")
                text = qemu_form(w)
                if text is None:
                    ins = next(md.disasm(b, a), None)
                    text = f"{ins.mnemonic:<8} {ins.op_str}" if ins else f".word    0x{w:08x}"
                out.append(f"0x{a:08x}:  {w:08x}  {text.rstrip()}\r\n")
            return "".join(out)
        per_line = {1: 8, 2: 8, 4: 4, 8: 2}[size]
        for k in range(0, count, per_line):
            a = addr + k * size
            vals = []
            for j in range(k, min(count, k + per_line)):
                b = self._read(addr + j * size, size, physical)
                if b is None:
                    return "".join(out) + "Cannot access memory\r\n"
                v = int.from_bytes(b, "little")
                if kind == "x":
                    vals.append(f"0x{v:0{2 * size}x}")
                elif kind == "d":
                    vals.append(str(v - (1 << (8 * size)) if v >> (8 * size - 1) else v))
                else:
                    vals.append(str(v))
            out.append(f"{a:016x}: " + " ".join(vals) + "\r\n")
        return "".join(out)

    def _read(self, addr, n, physical):
        vm = self.vm
        if not physical:
            from pyaarch64.cpu.memory import translate, A_READ
            import numpy as np
            cpu = self.cpu
            fsc, pa, _ = translate(cpu.ctl, cpu.sysr, cpu.mem, np.uint64(addr), A_READ,
                                   int(cpu.ctl[O.C_EL]))
            if fsc >= 0:
                return None
            addr = int(pa)
        try:
            return vm.read_memory(addr, n)
        except ValueError:
            return None


M64 = (1 << 64) - 1


def _try_help(msg, cmd):
    return f"{msg}\r\nTry \"help {cmd}\" for more information\r\n"


class ExprError(Exception):
    pass


def evaluate(text, vm, cpu=None):
    """An HMP expression: numbers (0x.., 0.., decimal), $registers ($pc, $sp, $lr,
    $x0..$x30, $w0..$w30, $el, $nzcv, $pstate and system registers by name, e.g.
    $sctlr_el1), + - * / % & | ^ ~ << >> and parentheses, with C precedence.
    (QEMU 7.2 knows no AArch64 register names in HMP: `p $pc` says "unknown
    register" there; here it is the PC.)"""
    import re
    the_cpu = cpu if cpu is not None else vm.cpu
    toks = re.findall(r"\s*(0[xX][0-9a-fA-F]+|\d+|\$[A-Za-z_][A-Za-z0-9_]*|<<|>>|[-+*/%&|^~()])",
                      text)
    if "".join(toks).replace(" ", "") != text.replace(" ", "").replace("\t", ""):
        raise ExprError(f"invalid expression: '{text.strip()}'")
    toks = [t.strip() for t in toks]
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take():
        pos[0] += 1
        return toks[pos[0] - 1]

    def unary():
        t = peek()
        if t is None:
            raise ExprError("unexpected end of expression")
        take()
        if t == "-":
            return -unary()
        if t == "+":
            return unary()
        if t == "~":
            return ~unary()
        if t == "(":
            v = binary(0)
            if peek() != ")":
                raise ExprError("')' expected")
            take()
            return v
        if t.startswith("$"):
            return register(t[1:])
        if t[0].isdigit():
            return int(t, 16) if t[:2] in ("0x", "0X") else int(t, 8) if t != "0" and t[0] == "0" else int(t)
        raise ExprError(f"invalid char in expression: '{t}'")

    levels = (("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%"))

    def binary(lv):
        if lv == len(levels):
            return unary()
        v = binary(lv + 1)
        while peek() in levels[lv]:
            op = take()
            w = binary(lv + 1)
            if op in "/%" and w == 0:
                raise ExprError("division by zero")
            v = {"|": v | w, "^": v ^ w, "&": v & w, "<<": v << (w & 63), ">>": (v & M64) >> (w & 63),
                 "+": v + w, "-": v - w, "*": v * w, "/": (v & M64) // (w & M64) if op == "/" else 0,
                 "%": (v & M64) % (w & M64) if op == "%" else 0}[op]
            v &= M64
        return v

    def register(name):
        n = name.lower()
        try:
            return the_cpu.reg(n) if n not in ("pstate",) else the_cpu.pstate()
        except Exception:   # noqa: BLE001 -- any unknown name
            pass
        try:
            return the_cpu.reg(name.upper())
        except Exception:   # noqa: BLE001
            raise ExprError("unknown register") from None

    v = binary(0)
    if peek() is not None:
        raise ExprError(f"invalid expression: '{text.strip()}'")
    return v


def _parse_fmt(f):
    """'4xw' -> (4, 'x', 4); (count, None, bad char) on an error."""
    i = 0
    while i < len(f) and f[i].isdigit():
        i += 1
    count = int(f[:i]) if i else 1
    kind, size = "x", 4
    for ch in f[i:]:
        if ch in "xduic":
            kind = "x" if ch == "c" else ch
        elif ch in "bhwg":
            size = {"b": 1, "h": 2, "w": 4, "g": 8}[ch]
        else:
            return count, None, ch
    return count, kind, size


class LineEditor:
    """QEMU readline's echo for typed bytes: after the k-th character of a line it
    writes ESC[D x (k-1), the line so far, ESC[K; Enter writes \\r\\n."""

    def __init__(self):
        self.buf = ""

    def feed(self, byte):
        """-> (echo text, completed line or None)."""
        ch = chr(byte)
        if ch in "\r\n":
            line, self.buf = self.buf, ""
            return "\r\n", line
        if byte in (0x7F, 0x08):
            if not self.buf:
                return "", None
            self.buf = self.buf[:-1]
            return "\x1b[D" + "\x1b[K", None
        if byte < 0x20:
            return "", None
        k = len(self.buf)
        self.buf += ch
        return "\x1b[D" * k + self.buf + "\x1b[K", None
