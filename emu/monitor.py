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
    ("delvm", "tag", "delete a VM snapshot from its tag"),
    ("gdbserver", "[device]", "start gdbserver on given device (default 'tcp::1234'), stop with 'none'"),
    ("help|?", "[cmd]", "show the help"),
    ("info", "[subcommand]", "show various information about the system state"),
    ("loadvm", "tag", "restore a VM snapshot from its tag"),
    ("quit|q", "", "quit the emulator"),
    ("savevm", "[tag]", "save a VM snapshot. If no tag is provided, a new snapshot is created"),
    ("stop|s", "", "stop emulation"),
    ("system_reset", "", "reset the system"),
    ("x", "/fmt addr", "virtual memory dump starting at 'addr'"),
    ("xp", "/fmt addr", "physical memory dump starting at 'addr'"),
)
INFO = (
    ("registers", "show the cpu registers"),
    ("snapshots", "show the currently saved VM snapshots"),
    ("status", "show the current VM status (running|paused)"),
    ("version", "show the version of QEMU"),
)


class MonitorQuit(Exception):
    """`quit`: leave the emulator."""


class Monitor:
    def __init__(self, vm, store, version="0.1.0"):
        self.vm = vm
        self.store = store
        self.version = version
        self.gdbserver = None     # the gdb stub (emu/gdbstub.py GdbServer), set by the CLI

    # --- one command ---------------------------------------------------------------
    def execute(self, line):
        line = line.strip()
        if not line:
            return ""
        cmd, _, rest = line.partition(" ")
        rest = rest.strip()
        name = {"c": "cont", "?": "help", "q": "quit", "s": "stop"}.get(cmd, cmd)
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
            p = self.vm.paused                   # (True, or the reason: "debug" = gdb)
            return f"VM status: {'running' if not p else 'paused' + (f' ({p})' if isinstance(p, str) else '')}\r\n"
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
        if not sub:
            return "".join(f"info {s}  -- {t}\r\n" for s, t in INFO)
        return f"unknown command: 'info {sub}'\r\n"

    def cmd_stop(self, rest):
        self.vm.paused = True
        return ""

    def cmd_cont(self, rest):
        self.vm.paused = False
        return ""

    def cmd_gdbserver(self, rest):
        if self.gdbserver is None:
            return "gdbserver: not available here\r\n"
        return self.gdbserver.monitor_command(rest)

    def cmd_quit(self, rest):
        raise MonitorQuit()

    def cmd_system_reset(self, rest):
        self.vm.reset()
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
            restore(self.vm, snap)        # all or nothing: a refused snapshot changes nothing
        except SnapshotError as e:
            return "".join(f"Error: {p}\r\n" for p in e.problems)
        return ""

    def cmd_delvm(self, rest):
        if not rest:
            return "Parameter 'name' is missing\r\n"
        tag = rest.split()[0]
        try:
            self.store.delete(tag)
        except StoreError as e:
            return f"Error: {e}\r\n"
        return ""

    def cmd_x(self, rest):
        return self._dump(rest, physical=False)

    def cmd_xp(self, rest):
        return self._dump(rest, physical=True)

    # --- helpers -------------------------------------------------------------------
    def registers(self):
        from pyaarch64.emu.trace import dump_cpu
        cpu = self.vm.cpu
        text = dump_cpu(cpu)
        fpcr, fpsr = cpu.reg("FPCR"), cpu.reg("FPSR")
        lines = text.rstrip("\n").split("\n")
        lines[-1] += f"     FPCR={fpcr:08x} FPSR={fpsr:08x}"
        for i in range(0, 32, 2):
            q = [f"Q{j:02d}={int(cpu.vregs[j, 1]):016x}:{int(cpu.vregs[j, 0]):016x}" for j in (i, i + 1)]
            lines.append(" ".join(q))
        return "\r\nCPU#0\r\n" + "".join(l + "\r\n" for l in lines)

    def _dump(self, rest, physical):
        fmt, _, addr_s = rest.partition(" ")
        if not fmt.startswith("/"):
            fmt, addr_s = "/1x", rest
        count, kind, size = _parse_fmt(fmt[1:])
        if kind is None:
            return f"invalid char in format: '{size}'\r\nTry \"help x\" for more information\r\n"
        try:
            addr = int(addr_s.strip(), 0)
        except ValueError:
            return f"invalid expression: '{addr_s.strip()}'\r\n"
        out = []
        if kind == "i":
            import capstone
            md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
            for k in range(count):
                a = addr + 4 * k
                b = self._read(a, 4, physical)
                if b is None:
                    out.append(f"Cannot access memory\r\n")
                    break
                w = int.from_bytes(b, "little")
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
            cpu = vm.cpu
            fsc, pa, _ = translate(cpu.ctl, cpu.sysr, cpu.mem, np.uint64(addr), A_READ,
                                   int(cpu.ctl[O.C_EL]))
            if fsc >= 0:
                return None
            addr = int(pa)
        try:
            return vm.read_memory(addr, n)
        except ValueError:
            return None


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
