"""Machine state by stable names: capture, check, restore (DESIGN §5).

A `Snapshot` holds the concrete machine type, the CPU model, the platform identity
(constants rebuilt from the type, compared on load, never restored) and named
sections of named, typed values:

    cpu0     x0..x30, pc, pstate (SPSR layout), v0..v31 (128-bit), every system
             register whose table row says `migrate`, by its Arm ARM name; the
             exclusive monitor; virtual time (instructions retired, time slept);
             pstate.ss (PSTATE.SS) in the machine types with the debug architecture
    gic      the GICv2's STATE_FIELDS          pl011, pl031   theirs
             (one section per device with state in the board's registry,
             machine/devices.py: named as the device, in registry order)
    board    what the board keeps besides devices (the RTC's start time)
    ram      the guest RAM

Sections are declared as data (snapshot/schema.py: Field, Section), and the same
declarations capture the state, restore it, give the schema a file embeds and
validate what a snapshot holds (`check`: one validator, no other value checks).
Each device declares STATE_FIELDS -- Field objects, or the short forms (name, type)
and (name, type, since, default): a field added in section version `since` takes
`default` when an older file lacks it -- with the values each may hold (masks,
ranges, a variable list's max_len; every other list has the length of the device's
own), its STATE_VERSION (default 1) and STATE_SUBSECTIONS: (name, fields, needed)
triples; a subsection is written as the section "<device>/<name>" only when the
device's method `needed` says so, and an absent subsection loads as its fields'
defaults (QEMU's vmstate subsections).  The CPU's fields come from the
system-register table (bits outside a row's writable mask keep their reset value;
CPU_SINCE: rows added later, defaulting to their reset value).

Nothing internal is stored: no slot numbers, op ids, encodings or storage forms
(PMU counters are saved as the values the guest reads).  `restore` checks the
whole snapshot against this machine first and changes nothing when any check fails
(every problem is reported, each naming its register, field or bit); only then
does it write.  This module is the in-memory layer; the file format builds on it.
"""
from dataclasses import dataclass, field, replace
from operator import attrgetter

import numpy as np

from pyaarch64.errors import Error
from pyaarch64.cpu import ops as O
from pyaarch64.cpu import sysregs as SR
from pyaarch64.snapshot.schema import Field, Section, is_int, validate, with_defaults

BOARD_FIELDS = (("start_time", "i64"),)
CPU_VERSION = 1
# board section versions: 1 the first release; 2 QEMU virt's devices joined every
# machine type (issue 16: a device declared with since=2 -- machine/devices.py -- is
# absent from a version-1 file and loads at its reset state)
BOARD_VERSION = 2
# cpu0 fields added after section version 1: name -> version (default: reset value)
CPU_SINCE = {}
# platform-identity fields added after the first release, with the value every machine
# before them had (a file without the field is compared as if it held that value), e.g.
# a later "prop.gic-version": 2.  ID-space registers need no entry (RAZ: 0).
IDENTITY_IMPLIED = {"gic_version": 2}
M64 = (1 << 64) - 1
M128 = (1 << 128) - 1

# system-register rows restored through MSR semantics (their storage form is internal)
_MSR_HANDLERS = {SR.H_PMCCNTR, SR.H_PMEVCNTR}


class SnapshotError(Error, ValueError):
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
    adopted: bool = False   # it did: ram is gone (the machine has it), it cannot load again
    # id(machine) -> what restoring it into a machine it was taken from or loaded into
    # takes without checking it again (see _Fast); dropped by copies and by assigning
    # a field
    _fast: object = field(default=None, repr=False, compare=False)
    # drive id -> the snapshot's disk side map (machine/blockdev.py Side): the disk is
    # the image file except where the side map says otherwise
    disks: dict = field(default_factory=dict, repr=False, compare=False)

    def __setattr__(self, name, value):
        if name != "_fast" and "_fast" in self.__dict__:
            object.__setattr__(self, "_fast", None)
        object.__setattr__(self, name, value)

    def __copy__(self):
        new = Snapshot(self.machine_type, self.cpu_model, self.identity, self.sections,
                       self.ram, self.schema, self.owned, self.adopted)
        new.versions = self.versions
        new.disks = self.disks
        return new

    def __deepcopy__(self, memo):
        import copy
        ram = self.ram.copy() if isinstance(self.ram, np.ndarray) else copy.deepcopy(self.ram, memo)
        new = Snapshot(*(copy.deepcopy(v, memo) for v in (self.machine_type, self.cpu_model,
                                                            self.identity, self.sections)),
                       ram, copy.deepcopy(self.schema, memo), False, self.adopted)
        new.versions = copy.deepcopy(self.versions, memo)
        new.disks = self.disks          # (a side map is shared: it describes one disk state)
        return new
    versions: dict = field(default_factory=dict)  # section -> version (absent: 1)


# --- declarations ---------------------------------------------------------------------
def fields_of(decl):
    """Fields of a STATE_FIELDS-like tuple: Field objects, or the short forms
    (name, type) and (name, type, since, default)."""
    out = []
    for f in decl:
        if isinstance(f, Field):
            out.append(f)
        elif len(f) == 2:
            out.append(Field(f[0], f[1]))
        else:
            out.append(Field(f[0], f[1], f[2], f[3]))
    return out


def _bind(f, owner):
    """A device's field with what depends on the device filled in: bounds given as
    callables of the device, and a list's length (the device's own, unless the
    list is variable, with max_len)."""
    ch = {a: getattr(f, a)(owner) for a in ("mask", "lo", "hi", "max_len", "length")
          if callable(getattr(f, a))}
    if f.is_list and f.max_len is None and f.length is None and "max_len" not in ch:
        ch.setdefault("length", len(getattr(owner, f.name)))
    return replace(f, **ch) if ch else f


def device_sections(vm):
    """Section declarations of the board's devices, subsections included (a
    subsection "<device>/<name>" has the device's version and a `needed` method):
    one section per device with state in the board's registry (machine/devices.py),
    named as the device, in registry order."""
    out = []
    for d in vm.registry:
        if not d.has_state:
            continue
        sec, dev = d.name, d.obj
        ver = getattr(dev, "STATE_VERSION", 1)
        out.append(Section(sec, ver, [_bind(f, dev) for f in fields_of(dev.STATE_FIELDS)], dev,
                           since=d.since))
        for sub, decl, needed in getattr(dev, "STATE_SUBSECTIONS", ()):
            out.append(Section(f"{sec}/{sub}", ver, [_bind(f, dev) for f in fields_of(decl)],
                               dev, needed, since=d.since))
    return out


def board_section():
    return Section("board", BOARD_VERSION, fields_of(BOARD_FIELDS))


def _drive_rule(v, _):
    if set(v) != {"size", "used", "sha256"}:
        return "a drive's disk identity has size, used and sha256"
    if not is_int(v["size"]) or not isinstance(v["sha256"], str) or len(v["sha256"]) != 64 \
            or not isinstance(v["used"], list) or not all(
                isinstance(r, list) and len(r) == 2 and all(is_int(x) and x >= 0 for x in r)
                for r in v["used"]):
        return "a drive's disk identity is malformed"


def drives_section(vm):
    """The disks of the machine's drives (machine/blockdev.py): per drive id, the
    image's identity as the snapshot saw it (size, the clusters used, their hash);
    the content is the snapshot's side map (Snapshot.disks, a file beside it)."""
    return Section("drives", 1, [Field(d, "object", rule=_drive_rule) for d in sorted(vm.drives)])


def sections_of(vm):
    """Every section this machine writes (optional subsections included): cpu0, the
    devices, the board (and the drives, when it has any)."""
    drives = [drives_section(vm)] if getattr(vm, "drives", None) else []
    return [*(cpu_section(c, i) for i, c in enumerate(cpus_of(vm))), *device_sections(vm),
            board_section(), *drives]


def cpus_of(vm):
    """The machine's CPUs, CPU 0 first (sections cpu0, cpu1, ...)."""
    return getattr(vm, "cpus", None) or [vm.cpu]


# --- identity -----------------------------------------------------------------------
def identity_of(vm):
    """The platform identity: constants that follow from the machine type, the CPU
    model and the RAM size (compared on load, never restored)."""
    t = vm.type
    cpus = cpus_of(vm)
    cpu = cpus[0]
    ident = {"machine_type": t.name, "cpu_model": cpu.model.name, "ram_size": vm.ram_size,
             "gic_num_irqs": t.gic_num_irqs, "psci_version": t.psci_version,
             "timer_ppis": list(t.timer_ppis)}
    extra = getattr(vm, "extra_ram", None)
    if extra:                     # (RAM regions the embedding API added: in the RAM after
        ident["ram.regions"] = [[b, n] for b, n, _ in extra]     # the board's, in order)
    for name, (base, size) in sorted(t.memmap.items()):
        ident[f"memmap.{name}"] = [base, size if size is not None else vm.ram_size]
    for name, n in sorted(t.irqmap.items()):
        ident[f"irqmap.{name}"] = n
    for name, v in sorted(t.props.items()):
        ident[f"prop.{name}"] = v
    for d in vm.registry:                 # devices plugged by the command line
        plugged = getattr(d.obj, "identity", None)
        if callable(plugged):
            ident.update(plugged())
    for d in getattr(vm, "registry", ()):
        pid = getattr(d.obj, "platform_identity", None)
        if pid is not None:
            ident.update(pid())      # (a firmware image's size and hash, fw_cfg's items)
    if getattr(vm, "gic_version", 2) != 2:
        # a board with a GICv3 (-M virt,gic-version=3) says so, with the facts of the
        # machine type that only it shows; a GICv2 board's identity is as it was
        ident["gic_version"] = vm.gic_version
        ident["memmap.gic_redist"] = list(t.gicv3_redist)
        ident["gicv3.priority_bits"] = t.gicv3_priority_bits
    ident["dtb.cpu_map"] = int(t.dtb_cpu_map)
    ident["dtb.randomness"] = int(t.dtb_randomness)
    for row in SR.ROWS:
        if row.kind == SR.K_CONST and SR.present(row, cpu.model):
            # the constant as the table holds it, not as MRS reads it now: CCSIDR_EL1
            # depends on CSSELR_EL1 and DCZID_EL0.DZP on SCTLR_EL1.DZE and the EL
            # (state, which must not make two machines of one platform differ)
            ident[row.name] = int(cpu.sysr[SR.SLOT[row.name], SR.R_VAL])
    ident["CNTFRQ_EL0.reset"] = int(cpu.sysr[SR.SLOT["CNTFRQ_EL0"], SR.R_RESET])
    if len(cpus) > 1:         # (-smp N: CPU k's MPIDR_EL1 follows from k, machine/smp.py)
        ident["smp.cpus"] = len(cpus)
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


# --- the CPU's section ---------------------------------------------------------------
EXCL_SIZES = (0, 1, 2, 4, 8, 16)        # bytes a load-exclusive marked (0: none yet)


def cpu_section(cpu, index=0):
    """cpu<index>'s declaration: general and vector registers, PSTATE, every migrating
    system register of this CPU model (bits outside the machine type's writable
    mask must keep their reset values; a row added after section version 1 takes
    its reset value), the exclusive monitor and virtual time."""
    f = [Field(f"x{i}", "u64") for i in range(31)]
    f.append(Field("pc", "u64"))
    f.append(Field("pstate", "u64", rule=_pstate_rule))
    if cpu.debug_arch:
        # PSTATE.SS (software step), state in the machine types with the debug
        # architecture only (cpu/debug.py; their debug registers were saved already)
        f.append(Field("pstate.ss", "u8", hi=1))
    f += [Field(f"v{i}", "u128") for i in range(32)]
    for row in _migrating_rows(cpu.model):
        slot = SR.SLOT[row.name]
        reset = int(cpu.sysr[slot, SR.R_RESET])
        rule = None
        if row.kind == SR.K_PLAIN and row.handler == SR.H_NONE:
            rule = _fixed_bits_rule(cpu, row.name, reset, int(cpu.sysr[slot, SR.R_WMASK]))
        f.append(Field(row.name, "u64", CPU_SINCE.get(row.name, 1), reset, rule=rule))
    f += [Field("exclusive.addr", "u64"), Field("exclusive.size", "u64", choices=EXCL_SIZES),
          Field("exclusive.value", "u64"), Field("exclusive.value2", "u64"),
          Field("time.instructions", "u64"), Field("time.idle_ns", "u64"),
          Field("time.icount_shift", "u8", rule=None if getattr(cpu, "icount_auto", False)
                else _icount_rule(int(cpu.ctl[O.C_ICOUNT_SHIFT])))]
    return Section(f"cpu{index}", CPU_VERSION, f, cpu)


def _pstate_rule(ps, _):
    out = []
    m = ps & 0x1F
    if m not in (0, 4, 5):
        out.append(f"mode field 0x{m:x} is not EL0t, EL1t or EL1h")
    bad = ps & ~0xF01003C5 & M64
    if bad:
        out.append(f"bits 0x{bad:x} set outside NZCV, IL, DAIF and M")
    return out


def _fixed_bits_rule(cpu, name, reset, wmask):
    def rule(v, _):
        bad = (v ^ reset) & ~wmask & M64
        if bad:
            return (f"bits 0x{bad:x} differ from their fixed values (value 0x{v:x}, writable "
                    f"mask 0x{wmask:x} in {cpu_type_note(cpu)})")
    return rule


def _icount_rule(mine):
    def rule(shift, _):
        if shift != mine:
            return (f"the snapshot was taken with -icount shift={shift}, this machine runs "
                    f"with shift={mine} (its clock would jump)")
    return rule


# --- capture ------------------------------------------------------------------------
def cpu_state(cpu):
    ctl = cpu.ctl
    s = {f"x{i}": int(cpu.regs[i]) for i in range(31)}
    s["pc"] = cpu.pc
    s["pstate"] = cpu.pstate()
    if cpu.debug_arch:
        s["pstate.ss"] = int(ctl[O.C_SS])
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


def device_state(sec):
    """A device section's values, read from the device by its declaration."""
    out = {}
    for f in sec.fields:
        v = getattr(sec.owner, f.name)
        out[f.name] = list(v) if f.is_list else v if f.type == "str" else int(v)
    return out


def save(vm, copy_ram=True):
    """Capture the whole machine (between run() calls).  copy_ram=False shares the
    machine's RAM array: only for writing the snapshot out at once (savevm)."""
    snap = Snapshot(vm.machine_type, vm.cpu.model.name, identity_of(vm))
    for i, cpu in enumerate(cpus_of(vm)):
        snap.sections[f"cpu{i}"] = cpu_state(cpu)
    for sec in device_sections(vm):
        if sec.needed is None or getattr(sec.owner, sec.needed)():
            snap.sections[sec.name] = device_state(sec)
    snap.sections["board"] = {"start_time": int(vm.start_time)}
    if getattr(vm, "drives", None):
        snap.sections["drives"] = {}
        for did, drive in sorted(vm.drives.items()):
            side, ident = drive.take()
            snap.disks[did] = side
            snap.sections["drives"][did] = ident
    snap.ram = vm.ram.copy() if copy_ram else vm.ram
    snap.schema = schema_of(vm)
    snap.versions = versions_of(vm)
    if copy_ram:
        _remember(vm, snap)           # restored into vm: no checks, only the pages written
    return snap


def versions_of(vm):
    return {sec.name: sec.version for sec in sections_of(vm)}


def schema_of(vm):
    """field -> type for every section (and subsection) of this machine (files embed it)."""
    return {sec.name: sec.types() for sec in sections_of(vm)}


# --- checks -------------------------------------------------------------------------
def _fmt(v):
    return hex(v) if isinstance(v, int) else repr(v)


def check(vm, snap):
    """Every reason `snap` cannot be loaded into `vm` (empty list: it can).  Never
    raises for what a snapshot holds: anything the checks did not foresee is one more
    problem, so restore() never starts on a snapshot it could not check."""
    try:
        return _check(vm, snap)
    except Exception as e:        # noqa: BLE001 -- a defect of ours or an unforeseen damage
        return [f"snapshot cannot be checked ({type(e).__name__}: {e})"]


def board_version(snap_versions):
    """The board section version a snapshot was written with (1 when unsaid)."""
    v = snap_versions.get("board", 1) if isinstance(snap_versions, dict) else 1
    return v if is_int(v) and v >= 1 else 1


def _added_identity(vm, board_v):
    """Identity entries of devices added after board version board_v (a snapshot of
    that version was saved before they existed: it lacks them)."""
    return {name for d in vm.registry if d.since > board_v for name in d.identity}


def snapshot_section(vm, secs=None, board_v=BOARD_VERSION):
    """The snapshot as a whole, declared against this machine: what it is of (machine
    type, CPU model, platform identity), which sections it has in which versions,
    the types its embedded schema gives, and the RAM.  Its fields are named as the
    Snapshot's attributes ('' section: problems read 'identity: ...')."""
    secs = sections_of(vm) if secs is None else secs
    return Section("", 1, [
        Field("machine_type", "str", rule=lambda v, _: _machine_type_problem(vm, v)),
        Field("cpu_model", "str", rule=lambda v, _: _cpu_model_problem(vm, v)),
        Field("identity", "object", rule=lambda v, _: _identity_problems(vm, v, board_v)),
        Field("sections", "object", rule=lambda v, _: _sections_problems(secs, v, board_v)),
        Field("schema", "object{}", rule=lambda v, _: _schema_problems(secs, v)),
        Field("versions", "object", rule=lambda v, _: _versions_problems(secs, v)),
        Field("ram", "bytes", length=len(vm.ram)),
    ])


def _check(vm, snap):
    if snap.adopted:
        return ["this snapshot was loaded from its file once and its RAM became the machine's "
                "(read the file again to load it again)"]
    secs = sections_of(vm)
    top = {k: getattr(snap, k) for k in ("machine_type", "cpu_model", "identity", "sections",
                                          "schema", "versions", "ram")}
    problems = validate(snapshot_section(vm, secs, board_version(snap.versions)), top)
    if not isinstance(snap.sections, dict) or not isinstance(snap.versions, dict) or \
            _versions_problems(secs, snap.versions):
        return problems          # (the section checks below rely on both)
    for sec in secs:
        if sec.name in snap.sections:
            problems += validate(sec, snap.sections[sec.name], snap.versions.get(sec.name, 1))
    if not problems and getattr(vm, "drives", None):
        disks = snap.disks if isinstance(snap.disks, dict) else {}
        for did, drive in sorted(vm.drives.items()):
            problems += drive.problems(snap.sections["drives"][did], disks.get(did))
    return problems


def _machine_type_problem(vm, name):
    from pyaarch64.machine.types import TYPES
    if name == vm.machine_type:
        return None
    if name not in TYPES:
        return (f"snapshot is of machine type '{name}', which this pyaarch64 does not know "
                f"(it has {', '.join(TYPES)})")
    return f"snapshot is of machine type '{name}', this machine is '{vm.machine_type}'"


def _cpu_model_problem(vm, name):
    if name != vm.cpu.model.name:
        return f"snapshot is of CPU model '{name}', this machine has '{vm.cpu.model.name}'"


def _identity_problems(vm, ident, board_v=BOARD_VERSION):
    out = []
    mine = identity_of(vm)
    added = _added_identity(vm, board_v)
    ga, gb = (d.get("gic_version", IDENTITY_IMPLIED["gic_version"]) for d in (ident, mine))
    if ga != gb:
        out.append(f"the snapshot was taken on a board with a GICv{ga} (-M {vm.machine_type},"
                   f"gic-version={ga}), this machine has a GICv{gb}")
    for name in sorted(set(mine) | set(ident)):
        a = ident.get(name, IDENTITY_IMPLIED.get(name))
        b = mine.get(name, IDENTITY_IMPLIED.get(name))
        if name == "gic_version":
            continue                                             # (said above)
        if a == b or name in ("machine_type", "cpu_model"):      # (those are said above)
            continue
        if a is None and name in added:
            continue                       # a device that joined the type since the snapshot
        if a is None and b == 0 and id_space(name):
            continue                       # an ID register added since: RAZ before, 0 now
        if a is None:
            out.append(f"platform identity: this machine has {name} = {_fmt(b)}, "
                       f"which the snapshot's platform did not have")
        elif b is None:
            out.append(f"platform identity: the snapshot's platform has {name} = "
                       f"{_fmt(a)}, which this machine does not have")
        else:
            out.append(f"platform identity differs in {name}: snapshot {_fmt(a)}, "
                       f"this machine {_fmt(b)}{_field_diff(name, a, b)}")
    return out


def _sections_problems(secs, got, board_v=BOARD_VERSION):
    names = {sec.name for sec in secs}
    out = [f"unknown section '{n}'" for n in got if n not in names]
    out += [f"missing section '{sec.name}'" for sec in secs
            if sec.needed is None and sec.name not in got and sec.since <= board_v]
    return out


def _schema_problems(secs, schema):
    out = []
    mine = {sec.name: sec.types() for sec in secs}
    for sec, fields in schema.items():
        for fname, typ in fields.items():
            want = mine.get(sec, {}).get(fname)
            if want is not None and want != typ:
                out.append(f"{sec}.{fname}: type {typ} in the snapshot, {want} here")
    return out


def _versions_problems(secs, versions):
    out = []
    mine = {sec.name: sec.version for sec in secs}
    for name, v in versions.items():
        if name not in mine:
            out.append(f"version given for unknown section '{name}'")
        elif not is_int(v) or v < 1:
            out.append(f"section '{name}' has version {v!r}: versions are integers from 1")
        elif v > mine[name]:
            out.append(f"section '{name}' is version {v}: this pyaarch64 reads up to "
                       f"version {mine[name]}")
    return out


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
    if name.endswith(".image"):
        return (" (the flash bank's firmware image -- [size, SHA-256] -- is not the one "
                "the snapshot was taken with)")
    if name == "fw_cfg.items":
        return (" (fw_cfg offers other items: a firmware boot's -kernel, -initrd or -append "
                "differ)")
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
    fails), and RAM, validated and the same size, is swapped in last.

    A snapshot is checked once per machine: one taken from `vm` (save) or loaded into
    it before is restored from what was remembered then (_Fast), as long as its content
    is unchanged, and only the RAM pages written since the machine last matched it are
    copied back (the soft TLB's dirty tracking, Cpu.new_epoch)."""
    f = snap._fast.get(id(vm)) if snap._fast else None
    if f is not None and f.matches(vm, snap) and len(cpus_of(vm)) == 1:
        _restore_fast(vm, snap, f)
        return
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
    _apply_disks(vm, snap)
    if not snap.adopted:
        _remember(vm, snap)


def _apply_disks(vm, snap):
    """The drives' views become the snapshot's disks (checked before)."""
    for did, drive in sorted(getattr(vm, "drives", {}).items()):
        drive.load(snap.sections["drives"][did], snap.disks[did])


# ctl entries that are machine state (the rest are host-side: counters, caches, group
# addresses, configuration); the fast restore copies exactly these
_ARCH_CTL = np.array([O.C_PC, O.C_NZCV, O.C_ICOUNT, O.C_EL, O.C_SPSEL, O.C_DAIF, O.C_IL,
                      O.C_IDLE_NS, O.C_EXCL_ADDR, O.C_EXCL_SIZE, O.C_EXCL_VAL, O.C_EXCL_VAL2,
                      O.C_SS, O.C_DBG])      # (C_DBG: derived from the debug registers, restored with them)


class _Fast:
    """A snapshot as it is in one machine: the content it was checked with (compared
    on restore: ~10 us, so editing a snapshot in place is seen), the CPU's state
    arrays and the devices' values as restoring it left them, and its RAM as an
    array (read-only: a snapshot is a value)."""
    __slots__ = ("vm", "content", "regs", "sysr", "ctl", "devices", "start_time", "ram_obj", "ram",
                 "shift")

    def matches(self, vm, snap):
        return (self.vm() is vm and snap.ram is self.ram_obj and not snap.adopted
                and _content(snap) == self.content)


def fast_of(vm, snap):
    """What a fast restore of `snap` into `vm` copies from -- (its _Fast, the ctl
    indices it sets) -- when vm's RAM matches snap right now and the dirty map is
    word-scannable (cpu/batch.py puts it back in one jitted loop); else None."""
    f = snap._fast.get(id(vm)) if snap._fast else None
    base = getattr(vm, "ram_match", None)
    if (f is None or base is None or base() is not snap or len(vm.cpu.dirty) % 8
            or not f.matches(vm, snap) or getattr(vm, "drives", None)):
        return None                       # (a disk is restored by the host)
    return f, _ARCH_CTL


def _content(snap):
    return (snap.machine_type, snap.cpu_model, snap.identity, snap.sections, snap.schema,
            snap.versions)


def _remember(vm, snap):
    """After save or a checked restore, vm's state is snap's: remember it as _Fast, and
    start a dirty-tracking epoch with snap as the RAM base."""
    import copy
    import weakref
    if len(cpus_of(vm)) > 1:
        return        # (several CPUs: their dirty maps serve coherence, machine/smp.py)
    cpu = vm.cpu
    f = _Fast()
    f.vm = weakref.ref(vm)
    content = _content(snap)
    known = snap._fast or {}
    for k, g in list(known.items()):
        if g.vm() is None:
            del known[k]                     # (a machine gone)
    same = [g.content for g in known.values() if g.content == content]
    f.content = same[0] if same else copy.deepcopy(content)
    f.regs = cpu.regs.copy()
    f.sysr = cpu.sysr[:, SR.R_VAL].copy()
    f.ctl = cpu.ctl[_ARCH_CTL].copy()
    f.shift = int(snap.sections["cpu0"]["time.icount_shift"])
    devs = {}
    for sec in device_sections(vm):
        devs.setdefault(sec.owner, []).extend((fd.name, fd.is_list) for fd in sec.fields)
    f.devices = []
    for dev, fields in devs.items():
        names = tuple(n for n, _ in fields)
        get = attrgetter(*names) if len(names) > 1 else (lambda d, n=names[0]: (getattr(d, n),))
        values = tuple(v[:] if isinstance(v, list) else v for v in get(dev))
        f.devices.append((dev, get, names, values))
    f.start_time = vm.start_time
    f.ram_obj = snap.ram
    if isinstance(snap.ram, np.ndarray):
        snap.ram.flags.writeable = False
        f.ram = snap.ram
    else:
        f.ram = np.frombuffer(snap.ram, dtype=np.uint8)
    known[id(vm)] = f
    snap._fast = known
    vm.ram_match = weakref.ref(snap)
    cpu.new_epoch()


def _restore_fast(vm, snap, f):
    cpu = vm.cpu
    ctl = cpu.ctl
    if hasattr(vm, "state_gen"):
        vm.state_gen += 1
    base = getattr(vm, "ram_match", None)
    if base is not None and base() is snap and len(cpu.dirty) % 8 == 0:
        from pyaarch64.cpu.epoch import put_back
        # CPU arrays, the pages written since vm's RAM was snap's, the soft TLB: one call
        # (the dirty map's words that cover the RAM: a board's memory array may hold
        # more after it -- its flash banks -- which snapshots do not hold as RAM)
        words = min(len(cpu.dirty) >> 3, (((len(f.ram) + 4095) >> 12) + 7) >> 3)
        vm.restore_pages = put_back(cpu.regs, f.regs, cpu.sysr, f.sysr, ctl, _ARCH_CTL, f.ctl,
                                    cpu.dirty[:words * 8].view(np.uint64), vm.ram, f.ram,
                                    cpu.pslot, cpu.slotpage, cpu.tlb)
    else:
        cpu.regs[:] = f.regs
        cpu.sysr[:, SR.R_VAL] = f.sysr
        ctl[_ARCH_CTL] = f.ctl
        vm.ram[:] = f.ram
        vm.restore_pages = -1
        cpu.invalidate_code()
        import weakref
        vm.ram_match = weakref.ref(snap)
        cpu.new_epoch()
    ctl[O.C_STOP] = 0
    ctl[O.C_EXC_RUN] = 0
    ctl[O.C_TLB_EL] = ctl[O.C_EL]
    if getattr(cpu, "icount_auto", False):
        ctl[O.C_ICOUNT_SHIFT] = f.shift
    if int(ctl[O.C_DBG]) & (O.DBG_BP | O.DBG_WP):
        cpu.invalidate_code()            # armed breakpoints/watchpoints: as the registers say now
    # devices: only those whose declared state differs from the snapshot's are written
    # and re-derived (a device left alone drives the lines it drove then)
    changed = []
    for dev, get, names, values in f.devices:
        if get(dev) != values:
            for name, v in zip(names, values):
                setattr(dev, name, v[:] if isinstance(v, list) else v)
            changed.append(dev)
    vm.start_time = f.start_time
    if changed:
        ctl[O.C_IRQ] = 0
        for dev, _, _, _ in f.devices:
            dev.post_load()
    if getattr(vm, "drives", None):
        _apply_disks(vm, snap)


def _keep(vm):
    """What _apply_state writes (small: no RAM, no caches)."""
    devs = [(sec.owner, {f.name: (list(getattr(sec.owner, f.name)) if f.is_list
                                  else getattr(sec.owner, f.name)) for f in sec.fields})
            for sec in device_sections(vm)]
    cpus = [(c, c.regs.copy(), c.vregs.copy(), c.ctl.copy(), c.sysr.copy()) for c in cpus_of(vm)]
    return (cpus, devs, vm.start_time, getattr(vm, "state_gen", None))


def _put_back(vm, old):
    cpus, devs, start_time, gen = old
    for cpu, regs, vregs, ctl, sysr in cpus:
        cpu.regs[:] = regs
        cpu.vregs[:] = vregs
        cpu.ctl[:] = ctl
        cpu.sysr[:] = sysr
        cpu.invalidate_code()
    for dev, fields in devs:
        for f, v in fields.items():
            setattr(dev, f, v)
        dev.post_load()
    vm.start_time = start_time
    if gen is not None:
        vm.state_gen = gen


def _apply_state(vm, snap):
    if hasattr(vm, "state_gen"):
        vm.state_gen += 1            # a sleeping WFI must not go on sleeping for the old state
    for i, cpu in enumerate(cpus_of(vm)):
        _apply_cpu(cpu, with_defaults(cpu_section(cpu, i), snap.sections[f"cpu{i}"]))
    _apply_devices(vm, snap)


def _apply_cpu(cpu, s):
    """One CPU's section `s` (defaults filled in: rows added since take their reset)."""
    ctl = cpu.ctl
    ctl[O.C_ICOUNT] = s["time.instructions"]
    ctl[O.C_IDLE_NS] = s["time.idle_ns"]
    if getattr(cpu, "icount_auto", False):       # (-icount shift=auto: go on from its shift)
        ctl[O.C_ICOUNT_SHIFT] = s["time.icount_shift"]
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
    ctl[O.C_SS] = s.get("pstate.ss") or 0
    ctl[O.C_PC] = s["pc"]
    rows = _migrating_rows(cpu.model)
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
    ctl[O.C_IRQ] = 0
    ctl[O.C_EXC_RUN] = 0                           # (exceptions.exc_stuck: a new streak)
    cpu.debug_refresh(changed=False)                 # (the caller drops the decode cache)


def _apply_devices(vm, snap):
    devs = []
    board_v = board_version(snap.versions)
    for sec in device_sections(vm):
        if sec.since > board_v and sec.name not in snap.sections:
            # a device the snapshot's machine did not have yet: its power-on state
            sec.owner.reset()
            if sec.owner not in devs:
                devs.append(sec.owner)
            continue
        d = with_defaults(sec, snap.sections.get(sec.name, {}))   # absent subsection: defaults
        for f in sec.fields:
            setattr(sec.owner, f.name, list(d[f.name]) if f.is_list else d[f.name])
        if sec.owner not in devs:
            devs.append(sec.owner)
    vm.start_time = snap.sections["board"]["start_time"]
    for dev in devs:
        dev.post_load()                                  # re-derive interrupt lines


def _apply_ram(vm, snap):
    """The commit: RAM (checked: bytes or a uint8 array of this machine's size)."""
    cpu = vm.cpu
    vm.ram_match = None
    vm.restore_pages = -1                          # (all of it)
    if (snap.owned and isinstance(snap.ram, np.ndarray) and snap.ram.flags.c_contiguous
            and snap.ram.dtype == np.uint8):
        vm.ram = snap.ram                          # a file's RAM: adopt it, no copy
        snap.owned, snap.adopted, snap.ram = False, True, None
        if hasattr(vm, "attach_ram"):
            vm.attach_ram()
        else:
            cpu.attach_ram(vm.ram, vm.ram_base)
    else:
        vm.ram[:] = np.frombuffer(snap.ram, dtype=np.uint8) if isinstance(snap.ram, (bytes, bytearray)) else snap.ram
    for c in cpus_of(vm):
        c.invalidate_code()
