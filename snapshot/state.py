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
BOARD_FIELDS = (("start_time", "i64"),)
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
    for row in SR.ROWS:
        if row.kind == SR.K_CONST and SR.present(row, cpu.model):
            ident[row.name] = cpu.reg(row.name)
    ident["CNTFRQ_EL0.reset"] = int(cpu.sysr[SR.SLOT["CNTFRQ_EL0"], SR.R_RESET])
    return ident


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


def device_state(dev):
    out = {}
    for name, typ in dev.STATE_FIELDS:
        v = getattr(dev, name)
        out[name] = list(v) if typ.endswith("[]") else int(v)
    return out


def save(vm, copy_ram=True):
    """Capture the whole machine (between run() calls).  copy_ram=False shares the
    machine's RAM array: only for writing the snapshot out at once (savevm)."""
    snap = Snapshot(vm.machine_type, vm.cpu.model.name, identity_of(vm))
    snap.sections["cpu0"] = cpu_state(vm.cpu)
    snap.sections["gic"] = device_state(vm.gic)
    snap.sections["pl011"] = device_state(vm.uart)
    snap.sections["pl031"] = device_state(vm.rtc)
    snap.sections["board"] = {"start_time": int(vm.start_time)}
    snap.ram = vm.ram.copy() if copy_ram else vm.ram
    snap.schema = schema_of(vm)
    return snap


def schema_of(vm):
    """field -> type for every section of this machine (files embed it)."""
    out = {"cpu0": cpu_field_types(vm.cpu.model)}
    for name, dev in (("gic", vm.gic), ("pl011", vm.uart), ("pl031", vm.rtc)):
        out[name] = dict(dev.STATE_FIELDS)
    out["board"] = dict(BOARD_FIELDS)
    return out


# --- checks -------------------------------------------------------------------------
def _fmt(v):
    return hex(v) if isinstance(v, int) else repr(v)


def _check_fields(section, got, want_types, problems):
    for name in got:
        if name not in want_types:
            problems.append(f"{section}: unknown field '{name}'")
    for name, typ in want_types.items():
        if name not in got:
            problems.append(f"{section}: missing field '{name}'")
            continue
        v = got[name]
        if typ.endswith("[]"):
            bits = {"u8": 8, "u16": 16, "u32": 32, "u64": 64}[typ[:-2]]
            if not isinstance(v, list) or any(not isinstance(x, int) or x < 0 or x >> bits for x in v):
                problems.append(f"{section}.{name}: not a list of {typ[:-2]} values")
        else:
            bits = {"u8": 8, "u16": 16, "u32": 32, "u64": 64, "u128": 128, "i64": 64}[typ]
            if not isinstance(v, int) or isinstance(v, bool):
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
    """Every reason `snap` cannot be loaded into `vm` (empty list: it can)."""
    problems = []
    if snap.machine_type != vm.machine_type:
        problems.append(f"snapshot is of machine type '{snap.machine_type}', this machine is "
                        f"'{vm.machine_type}'")
    if snap.cpu_model != vm.cpu.model.name:
        problems.append(f"snapshot is of CPU model '{snap.cpu_model}', this machine has "
                        f"'{vm.cpu.model.name}'")
    mine = identity_of(vm)
    for name in sorted(set(mine) | set(snap.identity)):
        a, b = snap.identity.get(name), mine.get(name)
        if a != b:
            if name in ("machine_type", "cpu_model"):
                continue                                      # said above
            problems.append(f"platform identity differs in {name}: snapshot {_fmt(a)}, "
                            f"this machine {_fmt(b)}")
    if snap.schema:
        mine_schema = schema_of(vm)
        for sec, fields in snap.schema.items():
            for fname, typ in fields.items():
                want = mine_schema.get(sec, {}).get(fname)
                if want is not None and want != typ:
                    problems.append(f"{sec}.{fname}: type {typ} in the snapshot, {want} here")
    for name in snap.sections:
        if name not in FORMAT_SECTIONS:
            problems.append(f"unknown section '{name}'")
    for name in FORMAT_SECTIONS:
        if name not in snap.sections:
            problems.append(f"missing section '{name}'")
    cpu = vm.cpu
    s = snap.sections.get("cpu0")
    if s is not None:
        _check_fields("cpu0", s, cpu_field_types(cpu.model), problems)
        _check_cpu_values(cpu, s, problems)
    for name, dev in (("gic", vm.gic), ("pl011", vm.uart), ("pl031", vm.rtc)):
        d = snap.sections.get(name)
        if d is None:
            continue
        _check_fields(name, d, dict(dev.STATE_FIELDS), problems)
        for fname, typ in dev.STATE_FIELDS:
            if typ.endswith("[]") and fname != "rx" and isinstance(d.get(fname), list):
                if len(d[fname]) != len(getattr(dev, fname)):
                    problems.append(f"{name}.{fname}: {len(d[fname])} entries, this machine has "
                                    f"{len(getattr(dev, fname))}")
    b = snap.sections.get("board")
    if b is not None:
        _check_fields("board", b, dict(BOARD_FIELDS), problems)
    if snap.ram is None or len(snap.ram) != vm.ram_size:
        problems.append(f"ram: {len(snap.ram)} bytes, this machine has {vm.ram_size}")
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


# --- restore ------------------------------------------------------------------------
def restore(vm, snap):
    """Load `snap` into `vm`, or raise SnapshotError and leave `vm` untouched."""
    problems = check(vm, snap)
    if problems:
        raise SnapshotError(problems)
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
    for name, dev in (("gic", vm.gic), ("pl011", vm.uart), ("pl031", vm.rtc)):
        d = snap.sections[name]
        for fname, typ in dev.STATE_FIELDS:
            setattr(dev, fname, list(d[fname]) if typ.endswith("[]") else d[fname])
    vm.start_time = snap.sections["board"]["start_time"]
    if snap.owned and isinstance(snap.ram, np.ndarray) and snap.ram.flags.c_contiguous:
        vm.ram = snap.ram                          # a file's RAM: adopt it, no copy
        snap.owned = False
        cpu.attach_ram(vm.ram, vm.ram_base)
    else:
        vm.ram[:] = np.frombuffer(snap.ram, dtype=np.uint8) if isinstance(snap.ram, bytes) else snap.ram
    cpu.invalidate_code()
    ctl[O.C_IRQ] = 0
    for dev in (vm.gic, vm.uart, vm.rtc):
        dev.post_load()                                  # re-derive interrupt lines
