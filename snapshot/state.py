"""Machine state by stable names: capture, check, restore (DESIGN §5).

A `Snapshot` holds the concrete machine type, the CPU model, the platform identity
(constants rebuilt from the type, compared on load, never restored) and named
sections of named, typed values:

    cpu0     x0..x30, pc, pstate (SPSR layout), v0..v31 (128-bit), every system
             register whose table row says `migrate`, by its Arm ARM name; the
             exclusive monitor; virtual time (instructions retired, time slept)
    gic      the GICv2's STATE_FIELDS          pl011, pl031   theirs
    board    what the board keeps besides devices (the RTC's start time)
    ram      the guest RAM

Sections are declared as data: each device's STATE_FIELDS are (name, type) or
(name, type, since, default) -- a field added in section version `since` takes
`default` when an older file lacks it -- its STATE_VERSION (default 1), the bound
of each variable-length list (STATE_MAX_LEN; every other list has the length of the
device's own), and its
STATE_SUBSECTIONS: (name, fields, needed) triples; a subsection is written as the
section "<device>/<name>" only when the device's method `needed` says so, and an
absent subsection loads as its fields' defaults (QEMU's vmstate subsections).
The CPU's fields come from the system-register table (CPU_SINCE: rows added later,
defaulting to their reset value).

Nothing internal is stored: no slot numbers, op ids, encodings or storage forms
(PMU counters are saved as the values the guest reads).  `restore` checks the
whole snapshot against this machine first and changes nothing when any check fails
(every problem is reported, each naming its register, field or bit); only then
does it write.  This module is the in-memory layer; the file format builds on it.
"""
from dataclasses import dataclass, field

import numpy as np

from pyaarch64.cpu import ops as O
from pyaarch64.cpu import sysregs as SR

FORMAT_SECTIONS = ("cpu0", "gic", "pl011", "pl031", "board")
DEVICE_SECTIONS = (("gic", "gic"), ("pl011", "uart"), ("pl031", "rtc"))   # section, board attr
BOARD_FIELDS = (("start_time", "i64"),)
CPU_VERSION = 1
BOARD_VERSION = 1
# cpu0 fields added after section version 1: name -> version (default: reset value)
CPU_SINCE = {}
# platform-identity fields added after the first release, with the value every machine
# before them had (a file without the field is compared as if it held that value), e.g.
# a later "prop.gic-version": 2.  ID-space registers need no entry (RAZ: 0).
IDENTITY_IMPLIED = {}
M64 = (1 << 64) - 1
M128 = (1 << 128) - 1

# system-register rows restored through MSR semantics (their storage form is internal)
_MSR_HANDLERS = {SR.H_PMCCNTR, SR.H_PMEVCNTR}


class SnapshotError(ValueError):
    """A snapshot that cannot be loaded into this machine; `problems` lists why."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("snapshot cannot be loaded: " + "; ".join(self.problems))


@dataclass
class Snapshot:
    machine_type: str
    cpu_model: str
    identity: dict
    sections: dict = field(default_factory=dict)
    ram: bytes = b""
    schema: dict = field(default_factory=dict)    # section -> field -> type
    owned: bool = False     # ram (a numpy array) may become the machine's RAM on restore
    versions: dict = field(default_factory=dict)  # section -> version (absent: 1)


# --- declarations ---------------------------------------------------------------------
def fields_of(decl):
    """(name, type, since, default) for each entry of a STATE_FIELDS-like tuple."""
    out = []
    for f in decl:
        if len(f) == 2:
            out.append((f[0], f[1], 1, None))
        else:
            out.append(tuple(f))
    return out


def device_sections(vm):
    """[(section name, device, version, fields, needed or None)] for the board's devices,
    subsections included."""
    out = []
    for sec, attr in DEVICE_SECTIONS:
        dev = getattr(vm, attr)
        ver = getattr(dev, "STATE_VERSION", 1)
        out.append((sec, dev, ver, fields_of(dev.STATE_FIELDS), None))
        for sub, decl, needed in getattr(dev, "STATE_SUBSECTIONS", ()):
            out.append((f"{sec}/{sub}", dev, ver, fields_of(decl), needed))
    return out


# --- identity -----------------------------------------------------------------------
def identity_of(vm):
    """The platform identity: constants that follow from the machine type, the CPU
    model and the RAM size (compared on load, never restored)."""
    t = vm.type
    cpu = vm.cpu
    ident = {"machine_type": t.name, "cpu_model": cpu.model.name, "ram_size": vm.ram_size,
             "gic_num_irqs": t.gic_num_irqs, "psci_version": t.psci_version,
             "timer_ppis": list(t.timer_ppis)}
    for name, (base, size) in sorted(t.memmap.items()):
        ident[f"memmap.{name}"] = [base, size if size is not None else vm.ram_size]
    for name, n in sorted(t.irqmap.items()):
        ident[f"irqmap.{name}"] = n
    for name, v in sorted(t.props.items()):
        ident[f"prop.{name}"] = v
    ident["dtb.cpu_map"] = int(t.dtb_cpu_map)
    ident["dtb.randomness"] = int(t.dtb_randomness)
    for row in SR.ROWS:
        if row.kind == SR.K_CONST and SR.present(row, cpu.model):
            ident[row.name] = cpu.reg(row.name)
    ident["CNTFRQ_EL0.reset"] = int(cpu.sysr[SR.SLOT["CNTFRQ_EL0"], SR.R_RESET])
    return ident


def id_space(name):
    """True for a register of the ID space (op0=3, op1=0, CRn=0, CRm=1..7), which reads
    as zero where nothing is allocated: a row added there later with value 0 is the
    same platform as before it existed."""
    row = SR.ROWS[SR.SLOT[name]] if name in SR.SLOT else None
    if row is None:
        return False
    op0, op1, crn, crm, _ = row.enc
    return op0 == 3 and op1 == 0 and crn == 0 and 1 <= crm <= 7


def _migrating_rows(model):
    return [r for r in SR.ROWS if r.migrate and SR.present(r, model)]


# --- capture ------------------------------------------------------------------------
def cpu_state(cpu):
    ctl = cpu.ctl
    s = {f"x{i}": int(cpu.regs[i]) for i in range(31)}
    s["pc"] = cpu.pc
    s["pstate"] = cpu.pstate()
    for i in range(32):
        s[f"v{i}"] = int(cpu.vregs[i, 0]) | (int(cpu.vregs[i, 1]) << 64)
    for row in _migrating_rows(cpu.model):
        s[row.name] = cpu.reg(row.name)
    s["exclusive.addr"] = int(ctl[O.C_EXCL_ADDR])
    s["exclusive.size"] = int(ctl[O.C_EXCL_SIZE])
    s["exclusive.value"] = int(ctl[O.C_EXCL_VAL])
    s["exclusive.value2"] = int(ctl[O.C_EXCL_VAL2])
    s["time.instructions"] = int(ctl[O.C_ICOUNT])
    s["time.idle_ns"] = int(ctl[O.C_IDLE_NS])
    s["time.icount_shift"] = int(ctl[O.C_ICOUNT_SHIFT])
    return s


def device_state(dev, fields):
    out = {}
    for name, typ, _, _ in fields:
        v = getattr(dev, name)
        out[name] = list(v) if typ.endswith("[]") else int(v)
    return out


def save(vm, copy_ram=True):
    """Capture the whole machine (between run() calls).  copy_ram=False shares the
    machine's RAM array: only for writing the snapshot out at once (savevm)."""
    snap = Snapshot(vm.machine_type, vm.cpu.model.name, identity_of(vm))
    snap.sections["cpu0"] = cpu_state(vm.cpu)
    for sec, dev, _, fields, needed in device_sections(vm):
        if needed is None or getattr(dev, needed)():
            snap.sections[sec] = device_state(dev, fields)
    snap.sections["board"] = {"start_time": int(vm.start_time)}
    snap.ram = vm.ram.copy() if copy_ram else vm.ram
    snap.schema = schema_of(vm)
    snap.versions = versions_of(vm)
    return snap


def versions_of(vm):
    out = {"cpu0": CPU_VERSION, "board": BOARD_VERSION}
    for sec, _, ver, _, _ in device_sections(vm):
        out[sec] = ver
    return out


def schema_of(vm):
    """field -> type for every section (and subsection) of this machine (files embed it)."""
    out = {"cpu0": cpu_field_types(vm.cpu.model)}
    for sec, _, _, fields, _ in device_sections(vm):
        out[sec] = {name: typ for name, typ, _, _ in fields}
    out["board"] = dict(BOARD_FIELDS)
    return out


# --- checks -------------------------------------------------------------------------
def _fmt(v):
    return hex(v) if isinstance(v, int) else repr(v)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _check_fields(section, got, want_types, problems, since=None, file_version=1):
    """since: field -> section version that added it; such a field may be absent from a
    file of an older section version (it then takes its default)."""
    since = since or {}
    if not isinstance(got, dict):
        problems.append(f"section '{section}' is not an object of fields")
        return
    for name in got:
        if name not in want_types:
            problems.append(f"{section}: unknown field '{name}'")
    for name, typ in want_types.items():
        if name not in got:
            if since.get(name, 1) > file_version:
                continue
            problems.append(f"{section}: missing field '{name}'")
            continue
        v = got[name]
        if typ.endswith("[]"):
            bits = {"u8": 8, "u16": 16, "u32": 32, "u64": 64}[typ[:-2]]
            if not isinstance(v, list) or any(not _is_int(x) or x < 0 or x >> bits for x in v):
                problems.append(f"{section}.{name}: not a list of {typ[:-2]} values")
        else:
            bits = {"u8": 8, "u16": 16, "u32": 32, "u64": 64, "u128": 128, "i64": 64}[typ]
            if not _is_int(v):
                problems.append(f"{section}.{name}: not an integer ({v!r})")
            elif typ == "i64":
                if not -(1 << 63) <= v < (1 << 63):
                    problems.append(f"{section}.{name}: {v} does not fit in i64")
            elif v < 0 or v >> bits:
                problems.append(f"{section}.{name}: {_fmt(v)} does not fit in {typ}")


def cpu_field_types(model):
    t = {f"x{i}": "u64" for i in range(31)}
    t["pc"] = "u64"
    t["pstate"] = "u64"
    for i in range(32):
        t[f"v{i}"] = "u128"
    for row in _migrating_rows(model):
        t[row.name] = "u64"
    for n in ("exclusive.addr", "exclusive.size", "exclusive.value", "exclusive.value2",
              "time.instructions", "time.idle_ns"):
        t[n] = "u64"
    t["time.icount_shift"] = "u8"
    return t


def check(vm, snap):
    """Every reason `snap` cannot be loaded into `vm` (empty list: it can).  Never
    raises for what a snapshot holds: anything the checks did not foresee is one more
    problem, so restore() never starts on a snapshot it could not check."""
    problems = _check_structure(snap)
    if problems:
        return problems
    try:
        return _check(vm, snap)
    except Exception as e:        # noqa: BLE001 -- a defect of ours or an unforeseen damage
        return [f"snapshot cannot be checked ({type(e).__name__}: {e})"]


def _check_structure(snap):
    """The containers every other check relies on (the file format checks the same)."""
    problems = []
    for what, v in (("machine type", snap.machine_type), ("CPU model", snap.cpu_model)):
        if not isinstance(v, str):
            problems.append(f"snapshot's {what} is not a string ({v!r})")
    for what in ("identity", "sections", "schema", "versions"):
        if not isinstance(getattr(snap, what), dict):
            problems.append(f"snapshot's {what} is not an object")
    if problems:
        return problems
    for name, v in snap.sections.items():
        if not isinstance(v, dict):
            problems.append(f"section '{name}' is not an object of fields")
    for name, v in snap.schema.items():
        if not isinstance(v, dict):
            problems.append(f"schema of section '{name}' is not an object")
    return problems


def _check(vm, snap):
    problems = []
    from pyaarch64.machine.types import TYPES
    if snap.machine_type not in TYPES and snap.machine_type != vm.machine_type:
        problems.append(f"snapshot is of machine type '{snap.machine_type}', which this pyaarch64 "
                        f"does not know (it has {', '.join(TYPES)})")
    elif snap.machine_type != vm.machine_type:
        problems.append(f"snapshot is of machine type '{snap.machine_type}', this machine is "
                        f"'{vm.machine_type}'")
    if snap.cpu_model != vm.cpu.model.name:
        problems.append(f"snapshot is of CPU model '{snap.cpu_model}', this machine has "
                        f"'{vm.cpu.model.name}'")
    mine = identity_of(vm)
    for name in sorted(set(mine) | set(snap.identity)):
        a, b = snap.identity.get(name, IDENTITY_IMPLIED.get(name)), mine.get(name)
        if a != b:
            if name in ("machine_type", "cpu_model"):
                continue                                      # said above
            if a is None and b == 0 and id_space(name):
                continue                   # an ID register added since: RAZ before, 0 now
            if a is None:
                problems.append(f"platform identity: this machine has {name} = {_fmt(b)}, "
                                f"which the snapshot's platform did not have")
                continue
            if b is None:
                problems.append(f"platform identity: the snapshot's platform has {name} = "
                                f"{_fmt(a)}, which this machine does not have")
                continue
            problems.append(f"platform identity differs in {name}: snapshot {_fmt(a)}, "
                            f"this machine {_fmt(b)}{_field_diff(name, a, b)}")
    if snap.schema:
        mine_schema = schema_of(vm)
        for sec, fields in snap.schema.items():
            for fname, typ in fields.items():
                want = mine_schema.get(sec, {}).get(fname)
                if want is not None and want != typ:
                    problems.append(f"{sec}.{fname}: type {typ} in the snapshot, {want} here")
    devsecs = device_sections(vm)
    optional = {sec for sec, _, _, _, needed in devsecs if needed is not None}
    mine_versions = versions_of(vm)
    for name in snap.sections:
        if name not in FORMAT_SECTIONS and name not in optional:
            problems.append(f"unknown section '{name}'")
    for name in FORMAT_SECTIONS:
        if name not in snap.sections:
            problems.append(f"missing section '{name}'")
    for name, v in snap.versions.items():
        if name not in mine_versions:
            problems.append(f"version given for unknown section '{name}'")
        elif not _is_int(v) or v < 1:
            problems.append(f"section '{name}' has version {v!r}: versions are integers from 1")
        elif v > mine_versions[name]:
            problems.append(f"section '{name}' is version {v}: this pyaarch64 reads up to "
                            f"version {mine_versions[name]}")
    if any(p.startswith("section '") and "has version" in p for p in problems):
        return problems          # (the field checks below depend on the versions)
    cpu = vm.cpu
    s = snap.sections.get("cpu0")
    if s is not None:
        _check_fields("cpu0", s, cpu_field_types(cpu.model), problems, CPU_SINCE,
                      snap.versions.get("cpu0", 1))
        _check_cpu_values(cpu, s, problems)
    for name, dev, _, fields, _ in devsecs:
        d = snap.sections.get(name)
        if d is None:
            continue
        _check_fields(name, d, {f: t for f, t, _, _ in fields}, problems,
                      {f: v for f, _, v, _ in fields}, snap.versions.get(name, 1))
        limits = getattr(dev, "STATE_MAX_LEN", {})
        for fname, typ, _, _ in fields:
            if not typ.endswith("[]") or not isinstance(d, dict) or not isinstance(d.get(fname), list):
                continue
            n = len(d[fname])
            if fname in limits:
                if n > limits[fname]:
                    problems.append(f"{name}.{fname}: {n} entries, at most {limits[fname]} fit")
            elif n != len(getattr(dev, fname)):
                problems.append(f"{name}.{fname}: {n} entries, this machine has "
                                f"{len(getattr(dev, fname))}")
    b = snap.sections.get("board")
    if b is not None:
        _check_fields("board", b, dict(BOARD_FIELDS), problems)
    ram_len = None
    if isinstance(snap.ram, (bytes, bytearray)) or (
            isinstance(snap.ram, np.ndarray) and snap.ram.dtype == np.uint8 and snap.ram.ndim == 1):
        ram_len = len(snap.ram)
    if ram_len != vm.ram_size:
        problems.append(f"ram: {ram_len if ram_len is not None else 'no'} bytes, this machine has "
                        f"{vm.ram_size}")
    return problems


def _check_cpu_values(cpu, s, problems):
    shift = s.get("time.icount_shift")
    if isinstance(shift, int) and shift != int(cpu.ctl[O.C_ICOUNT_SHIFT]):
        problems.append(f"cpu0.time.icount_shift: the snapshot was taken with -icount shift={shift}, "
                        f"this machine runs with shift={int(cpu.ctl[O.C_ICOUNT_SHIFT])} (its clock "
                        f"would jump)")
    ps = s.get("pstate")
    if isinstance(ps, int):
        m = ps & 0x1F
        if m not in (0, 4, 5):
            problems.append(f"cpu0.pstate: mode field 0x{m:x} is not EL0t, EL1t or EL1h")
        bad = ps & ~0xF01003C5 & M64
        if bad:
            problems.append(f"cpu0.pstate: bits 0x{bad:x} set outside NZCV, IL, DAIF and M")
    # values must keep the bits this machine type does not let software change
    for row in _migrating_rows(cpu.model):
        v = s.get(row.name)
        if not isinstance(v, int) or row.kind != SR.K_PLAIN or row.handler != SR.H_NONE:
            continue
        slot = SR.SLOT[row.name]
        wmask = int(cpu.sysr[slot, SR.R_WMASK])
        reset = int(cpu.sysr[slot, SR.R_RESET])
        bad = (v ^ reset) & ~wmask & M64
        if bad:
            problems.append(f"cpu0.{row.name}: bits 0x{bad:x} differ from their fixed values "
                            f"(value 0x{v:x}, writable mask 0x{wmask:x} in {cpu_type_note(cpu)})")


def cpu_type_note(cpu):
    return f"this machine type, CPU {cpu.model.name}"


# ID-register fields for messages (name -> ((field, lsb, width), ...)): a mismatch names
# the fields that differ, as the Arm ARM calls them
ID_FIELDS = {
    "MIDR_EL1": (("Implementer", 24, 8), ("Variant", 20, 4), ("Architecture", 16, 4),
                 ("PartNum", 4, 12), ("Revision", 0, 4)),
    "ID_AA64PFR0_EL1": (("EL0", 0, 4), ("EL1", 4, 4), ("EL2", 8, 4), ("EL3", 12, 4),
                        ("FP", 16, 4), ("AdvSIMD", 20, 4), ("GIC", 24, 4), ("RAS", 28, 4),
                        ("SVE", 32, 4), ("SEL2", 36, 4), ("MPAM", 40, 4), ("AMU", 44, 4),
                        ("DIT", 48, 4), ("CSV2", 56, 4), ("CSV3", 60, 4)),
    "ID_AA64ISAR0_EL1": (("AES", 4, 4), ("SHA1", 8, 4), ("SHA2", 12, 4), ("CRC32", 16, 4),
                         ("Atomic", 20, 4), ("RDM", 28, 4), ("SHA3", 32, 4), ("SM3", 36, 4),
                         ("SM4", 40, 4), ("DP", 44, 4), ("FHM", 48, 4), ("TS", 52, 4),
                         ("TLB", 56, 4), ("RNDR", 60, 4)),
    "ID_AA64ISAR1_EL1": (("DPB", 0, 4), ("APA", 4, 4), ("API", 8, 4), ("JSCVT", 12, 4),
                         ("FCMA", 16, 4), ("LRCPC", 20, 4), ("GPA", 24, 4), ("GPI", 28, 4),
                         ("FRINTTS", 32, 4), ("SB", 36, 4), ("SPECRES", 40, 4), ("BF16", 44, 4),
                         ("DGH", 48, 4), ("I8MM", 52, 4)),
    "ID_AA64MMFR0_EL1": (("PARange", 0, 4), ("ASIDBits", 4, 4), ("BigEnd", 8, 4),
                         ("SNSMem", 12, 4), ("BigEndEL0", 16, 4), ("TGran16", 20, 4),
                         ("TGran64", 24, 4), ("TGran4", 28, 4)),
    "ID_AA64MMFR1_EL1": (("HAFDBS", 0, 4), ("VMIDBits", 4, 4), ("VH", 8, 4), ("HPDS", 12, 4),
                         ("LO", 16, 4), ("PAN", 20, 4), ("SpecSEI", 24, 4), ("XNX", 28, 4)),
    "ID_AA64DFR0_EL1": (("DebugVer", 0, 4), ("TraceVer", 4, 4), ("PMUVer", 8, 4),
                        ("BRPs", 12, 4), ("WRPs", 20, 4), ("CTX_CMPs", 28, 4)),
}


def _field_diff(name, a, b):
    """' (PartNum: 0xd07 vs 0xd03)' for an ID register whose named fields differ."""
    if not isinstance(a, int) or not isinstance(b, int):
        return ""
    fields = ID_FIELDS.get(name)
    if fields:
        d = [f"{f}: {(a >> lsb) & ((1 << w) - 1):#x} vs {(b >> lsb) & ((1 << w) - 1):#x}"
             for f, lsb, w in fields if ((a ^ b) >> lsb) & ((1 << w) - 1)]
        rest = (a ^ b) & ~sum(((1 << w) - 1) << lsb for _, lsb, w in fields) & M64
        if rest:
            d.append(f"bits {rest:#x}")
        if d:
            return " (" + ", ".join(d) + ")"
    return f" (bits {(a ^ b) & M64:#x} differ)"


# --- restore ------------------------------------------------------------------------
def restore(vm, snap):
    """Load `snap` into `vm`, or raise SnapshotError and leave `vm` untouched.  All or
    nothing by construction: the whole snapshot is checked first; the CPU, device and
    board state is then written with a copy of the old kept aside (put back if anything
    fails), and RAM, validated and the same size, is swapped in last."""
    problems = check(vm, snap)
    if problems:
        raise SnapshotError(problems)
    old = _keep(vm)
    try:
        _apply_state(vm, snap)
    except Exception as e:        # noqa: BLE001 -- checked above; if it still fails, undo
        _put_back(vm, old)
        raise SnapshotError([f"loading failed and was undone ({type(e).__name__}: {e})"]) from e
    _apply_ram(vm, snap)


def _keep(vm):
    """What _apply_state writes (small: no RAM, no caches)."""
    cpu = vm.cpu
    devs = [(dev, {f: (list(getattr(dev, f)) if isinstance(getattr(dev, f), list) else getattr(dev, f))
                   for f, _, _, _ in fields})
            for _, dev, _, fields, _ in device_sections(vm)]
    return (cpu.regs.copy(), cpu.vregs.copy(), cpu.ctl.copy(), cpu.sysr.copy(), devs,
            vm.start_time, getattr(vm, "state_gen", None))


def _put_back(vm, old):
    cpu = vm.cpu
    regs, vregs, ctl, sysr, devs, start_time, gen = old
    cpu.regs[:] = regs
    cpu.vregs[:] = vregs
    cpu.ctl[:] = ctl
    cpu.sysr[:] = sysr
    for dev, fields in devs:
        for f, v in fields.items():
            setattr(dev, f, v)
        dev.post_load()
    vm.start_time = start_time
    if gen is not None:
        vm.state_gen = gen
    cpu.invalidate_code()


def _apply_state(vm, snap):
    cpu = vm.cpu
    s = snap.sections["cpu0"]
    ctl = cpu.ctl
    if hasattr(vm, "state_gen"):
        vm.state_gen += 1            # a sleeping WFI must not go on sleeping for the old state
    ctl[O.C_ICOUNT] = s["time.instructions"]
    ctl[O.C_IDLE_NS] = s["time.idle_ns"]
    for i in range(31):
        cpu.regs[i] = s[f"x{i}"]
    for i in range(32):
        v = s[f"v{i}"]
        cpu.vregs[i, 0] = v & M64
        cpu.vregs[i, 1] = v >> 64
    ps = s["pstate"]
    ctl[O.C_NZCV] = (ps >> 28) & 0xF
    ctl[O.C_IL] = (ps >> 20) & 1
    ctl[O.C_DAIF] = (ps >> 6) & 0xF
    ctl[O.C_EL] = (ps >> 2) & 3
    ctl[O.C_SPSEL] = ps & 1
    ctl[O.C_PC] = s["pc"]
    rows = _migrating_rows(cpu.model)
    s = dict(s)
    for row in rows:                 # a register added since the file's version: reset value
        s.setdefault(row.name, int(cpu.sysr[SR.SLOT[row.name], SR.R_RESET]))
    for row in rows:
        if row.handler in _MSR_HANDLERS or row.name in ("SP_EL0", "SP_EL1"):
            continue
        cpu.sysr[SR.SLOT[row.name], SR.R_VAL] = s[row.name]
    live = cpu._sp_slot()
    for name in ("SP_EL0", "SP_EL1"):
        slot = SR.SLOT[name]
        if slot == live:
            cpu.regs[O.SP] = s[name]
        else:
            cpu.sysr[slot, SR.R_VAL] = s[name]
    for row in rows:
        if row.handler in _MSR_HANDLERS:
            cpu.set_reg(row.name, s[row.name])          # counters: as the guest reads them
    ctl[O.C_EXCL_ADDR] = s["exclusive.addr"]
    ctl[O.C_EXCL_SIZE] = s["exclusive.size"]
    ctl[O.C_EXCL_VAL] = s["exclusive.value"]
    ctl[O.C_EXCL_VAL2] = s["exclusive.value2"]
    ctl[O.C_STOP] = 0
    for name, dev, _, fields, _ in device_sections(vm):
        d = snap.sections.get(name, {})           # an absent subsection: its defaults
        for fname, typ, _, default in fields:
            v = d.get(fname, default)
            setattr(dev, fname, list(v) if typ.endswith("[]") else v)
    vm.start_time = snap.sections["board"]["start_time"]
    ctl[O.C_IRQ] = 0
    ctl[O.C_EXC_RUN] = 0                           # (exceptions.exc_stuck: a new streak)
    for dev in (vm.gic, vm.uart, vm.rtc):
        dev.post_load()                                  # re-derive interrupt lines


def _apply_ram(vm, snap):
    """The commit: RAM (checked: bytes or a uint8 array of this machine's size)."""
    cpu = vm.cpu
    if (snap.owned and isinstance(snap.ram, np.ndarray) and snap.ram.flags.c_contiguous
            and snap.ram.dtype == np.uint8):
        vm.ram = snap.ram                          # a file's RAM: adopt it, no copy
        snap.owned = False
        cpu.attach_ram(vm.ram, vm.ram_base)
    else:
        vm.ram[:] = np.frombuffer(snap.ram, dtype=np.uint8) if isinstance(snap.ram, (bytes, bytearray)) else snap.ram
    cpu.invalidate_code()
