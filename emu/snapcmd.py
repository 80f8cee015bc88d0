"""`pyaarch64 snapshot inspect FILE` and `pyaarch64 snapshot schema -M TYPE [-cpu MODEL]`."""
import json
import sys

USAGE = """\
usage: pyaarch64 snapshot inspect FILE
       pyaarch64 snapshot schema -M virt-X.Y [-cpu MODEL] [-m SIZE]
"""


def main(argv, die):
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 1
    if argv[0] == "inspect":
        if len(argv) != 2:
            return die("snapshot inspect: give exactly one FILE")
        return inspect(argv[1], die)
    if argv[0] == "schema":
        return schema(argv[1:], die)
    return die(f"snapshot: unknown subcommand '{argv[0]}' (inspect, schema)")


def inspect(path, die):
    from pyaarch64.snapshot.format import SnapshotFileError, decode
    try:
        with open(path, "rb") as f:
            data = f.read()
        snap, header = decode(data, f"snapshot '{path}'")
    except OSError as e:
        return die(f"cannot read snapshot '{path}': {e.strerror}")
    except SnapshotFileError as e:
        return die(str(e))
    ram = header["ram"]
    out = [f"file:             {path} ({len(data)} bytes)",
           f"format:           {header.get('format', '?')}",
           "section versions: " + (", ".join(f"{k} {v}" for k, v in sorted(header.get("versions", {}).items())) or "(none: all 1)"),
           f"machine type:     {header['machine_type']}",
           f"cpu model:        {header['cpu_model']}",
           f"written by:       pyaarch64 {header.get('emulator_version', '?')}",
           f"ram:              {ram['size']} bytes, {len(ram['chunks'])} non-zero chunks of "
           f"{ram['chunk']} bytes ({ram['compression']})",
           "", "[identity]"]
    for k in sorted(header["identity"]):
        out.append(f"  {k} = {_fmt(header['identity'][k])}")
    for sec, fields in header["sections"].items():
        types = header["schema"].get(sec, {})
        out.append("")
        out.append(f"[{sec}]")
        for k, v in fields.items():
            out.append(f"  {k} ({types.get(k, '?')}) = {_fmt(v)}")
    where, problems = loadable(snap)
    out += ["", f"load check:       {where}"]
    print("\n".join(out))
    if problems:
        return die(f"snapshot '{path}' cannot be loaded: " + "; ".join(problems))
    return 0


def loadable(snap):
    """(what it was checked against, problems): the checks loadvm runs, against a
    machine of the snapshot's own type, CPU model, RAM size and -icount shift."""
    from pyaarch64 import __version__
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot import state as S
    shift = snap.sections.get("cpu0", {}).get("time.icount_shift", 0)
    shift = shift if isinstance(shift, int) and 0 <= shift <= 10 else 0
    gic = snap.identity.get("gic_version", 2) if isinstance(snap.identity, dict) else 2
    try:
        ncpu = snap.identity.get("smp.cpus", 1) if isinstance(snap.identity, dict) else 1
        vm = VirtMachine(snap.machine_type, cpu=snap.cpu_model, ram_size=len(snap.ram),
                         icount_shift=shift, smp=ncpu if isinstance(ncpu, int) else 0,
                         gic_version=gic if gic in (2, 3) else 2)
    except ValueError as e:
        return f"pyaarch64 {__version__} has no such machine", [str(e)]
    where = (f"pyaarch64 {__version__}, {vm.machine_type} with {vm.cpu.model.name} and "
             f"{len(snap.ram) >> 20} MiB")
    problems = S.check(vm, snap)
    return where + (": cannot be loaded" if problems else ": loads"), problems


def _fmt(v):
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return hex(v)
    if isinstance(v, list):
        if len(v) > 16:
            return "[" + " ".join(f"{x:x}" if isinstance(x, int) else str(x) for x in v) + "]"
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return json.dumps(v)


def schema(argv, die):
    machine, cpu, ram = None, None, 128 << 20
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-M", "-machine", "-cpu", "-m") and i + 1 < len(argv):
            v = argv[i + 1]
            if a in ("-M", "-machine"):
                machine = v
            elif a == "-cpu":
                cpu = v
            else:
                from pyaarch64.emu.cli import parse_size, UsageError
                try:
                    ram = parse_size(v)
                except UsageError as e:
                    return die(str(e))
            i += 2
            continue
        return die(f"snapshot schema: unexpected argument '{a}'")
    if machine is None:
        return die("snapshot schema: give the machine type with -M virt-X.Y")
    from pyaarch64.machine.types import resolve, UnknownMachineType
    from pyaarch64.cpu.models import UnknownCpuModel
    try:
        machine, _, props = machine.partition(",")
        gic = None
        for kv in filter(None, props.split(",")):
            k, _, v = kv.partition("=")
            if k != "gic-version" or v not in ("2", "3", "max"):
                return die(f"snapshot schema: -M {machine}: only the property gic-version=2|3 "
                           f"is taken")
            gic = 2 if v == "2" else 3
        resolve(machine)
        print(json.dumps(canonical_schema(machine, cpu, ram, gic), indent=1, sort_keys=True))
    except (UnknownMachineType, UnknownCpuModel) as e:
        return die(str(e))
    return 0


def canonical_schema(machine, cpu=None, ram_size=128 << 20, gic_version=None):
    """What a snapshot of this machine type holds, by name: the platform identity, the
    sections and their typed fields, and every system register's reset value and
    writable mask (no encodings: those live in the access table only)."""
    from pyaarch64.snapshot.format import FORMAT_VERSION
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot import state as S
    from pyaarch64.cpu import sysregs as SR
    vm = VirtMachine(machine, cpu=cpu, ram_size=ram_size, gic_version=gic_version)
    sections = {}
    for sec in S.sections_of(vm):
        d = {"version": sec.version, "fields": sec.types()}
        later = {f.name: {"since": f.since, "default": f.default}
                 for f in sec.fields if f.since > 1}
        if later:
            d["since"] = later
        if sec.since > 1:
            d["board since"] = sec.since      # older files: absent, the device at reset
        if sec.needed is not None:
            d["optional"] = {"written when": sec.needed,
                             "defaults": {f.name: f.default for f in sec.fields}}
        sections[sec.name] = d
    regs = {}
    for row in SR.ROWS:
        if row.migrate and SR.present(row, vm.cpu.model):
            slot = SR.SLOT[row.name]
            regs[row.name] = {"reset": f"0x{int(vm.cpu.sysr[slot, SR.R_RESET]):x}",
                              "writable": f"0x{int(vm.cpu.sysr[slot, SR.R_WMASK]):x}"}
    return {"machine_type": vm.machine_type, "cpu_model": vm.cpu.model.name,
            "format": FORMAT_VERSION, "identity": S.identity_of(vm),
            "sections": sections, "system_registers": regs}
