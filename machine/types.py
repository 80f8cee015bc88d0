"""Machine types as data: each concrete type is its parent plus deltas.

A machine type pins every guest-visible fact (DESIGN §4).  The alias `virt`
resolves to the newest type when a machine is created; snapshots will record the
concrete name.  Our own guest-visible changes go into the newest type only.
"""
from dataclasses import dataclass, field, replace

from pyaarch64.errors import MachineError

RAM_BASE = 0x4000_0000


@dataclass(frozen=True)
class MachineType:
    name: str
    qemu_version: str
    default_cpu: str = "cortex-a57"
    cntfrq: int = 62_500_000            # CNTFRQ_EL0 reset value (Hz)
    psci_version: int = 0x0001_0001     # PSCI 1.1, as QEMU answers
    # QEMU's virt memory map and interrupt numbers for the devices we model
    # (SPI numbers: INTID = 32 + n; timer PPIs: INTID = 16 + n)
    memmap: dict = field(default_factory=lambda: {
        "ram": (RAM_BASE, None),
        "flash": (0x0000_0000, 0x0800_0000),     # two CFI banks of 64 MiB
        "gic_dist": (0x0800_0000, 0x1_0000),
        "gic_cpu": (0x0801_0000, 0x1_0000),
        "gic_v2m": (0x0802_0000, 0x1000),
        "uart": (0x0900_0000, 0x1000),
        "rtc": (0x0901_0000, 0x1000),
        "fw_cfg": (0x0902_0000, 0x18),
        "gpio": (0x0903_0000, 0x1000),
        "virtio": (0x0a00_0000, 0x200),         # 32 transports, 0x200 apart
    })
    # (gic_v2m: the first of the GICv2m frame's 64 SPIs)
    irqmap: dict = field(default_factory=lambda: {"uart": 1, "rtc": 2, "gpio": 7, "virtio": 16,
                                                  "gic_v2m": 48})
    timer_ppis: tuple = (13, 14, 11, 10)   # secure phys, non-secure phys, virt, hyp
    # the GIC: version when -M gives none (QEMU's virt: 2), and with gic-version=3 the
    # redistributors' window and the CPU interface's priority bits (QEMU's
    # force-8-bit-prio: 8 up to virt-7.0, the CPU's 5 after); those two are platform
    # identity only on a board with a GICv3 (snapshot/state.py identity_of)
    gic_version: int = 2
    gicv3_redist: tuple = (0x080A_0000, 0xF6_0000)
    gicv3_priority_bits: int = 8
    gic_num_irqs: int = 288                 # 256 SPIs + 32 SGIs/PPIs
    # per-register reset value / writable mask overrides, by Arm ARM name
    sysreg_overrides: dict = field(default_factory=dict)
    # device properties (QEMU's compat properties): "device.property" -> value
    props: dict = field(default_factory=lambda: {"pl011.trm-rx-interrupts": 0})
    # device tree content choices
    dtb_cpu_map: bool = True        # /cpus/cpu-map (QEMU 6.2+; virt-6.1 and older: none)
    dtb_randomness: bool = False    # /chosen rng-seed + kaslr-seed (QEMU: random, on);
                                    # off: deterministic boots, no KASLR and so no KPTI


# Each concrete type: (name, parent, deltas).  Deltas name MachineType fields;
# `sysreg_overrides` deltas are merged per register ({name: {"reset": v, "wmask": m}})
# and `props` deltas per device property.  A released record never changes: a later
# guest-visible change is a new record (DESIGN §4).
RECORDS = (
    ("virt-4.1", None, {"qemu_version": "4.1", "dtb_cpu_map": False}),
    ("virt-4.2", "virt-4.1", {}),
    ("virt-5.0", "virt-4.2", {}),
    ("virt-5.1", "virt-5.0", {}),
    ("virt-5.2", "virt-5.1", {}),
    ("virt-6.0", "virt-5.2", {}),
    ("virt-6.1", "virt-6.0", {}),
    ("virt-6.2", "virt-6.1", {"dtb_cpu_map": True}),          # QEMU 6.2: /cpus/cpu-map
    ("virt-7.0", "virt-6.2", {}),
    # QEMU 7.1: a GICv3's CPU interface has the CPU's 5 priority bits (8 before)
    ("virt-7.1", "virt-7.0", {"gicv3_priority_bits": 5}),
    ("virt-7.2", "virt-7.1", {}),
    ("virt-8.0", "virt-7.2", {}),
    ("virt-8.1", "virt-8.0", {}),
    ("virt-8.2", "virt-8.1", {}),
    ("virt-9.0", "virt-8.2", {}),
    ("virt-9.1", "virt-9.0", {"cntfrq": 1_000_000_000}),      # QEMU 9.1: counter at 1 GHz
    # our own fix: PL011 receive interrupts as the PL011 TRM has them (level, timeout)
    ("virt-9.2", "virt-9.1", {"props": {"pl011.trm-rx-interrupts": 1}}),
    # our own: the self-hosted debug architecture at EL0/EL1 acts (cpu/debug.py:
    # breakpoints, watchpoints, software step; PSTATE.SS is state); before it the debug
    # registers are stored and never hit
    ("virt-10.0", "virt-9.2", {"props": {"cpu.debug-arch": 1}}),
)


def apply(parent, name, deltas):
    """A new MachineType: `parent` plus `deltas` (merging overrides and properties)."""
    d = dict(deltas)
    if "sysreg_overrides" in d:
        merged = {k: dict(v) for k, v in parent.sysreg_overrides.items()}
        for reg, o in d["sysreg_overrides"].items():
            merged[reg] = dict(merged.get(reg, {}), **o)
        d["sysreg_overrides"] = merged
    if "props" in d:
        d["props"] = dict(parent.props, **d["props"])
    d.setdefault("qemu_version", name.split("-", 1)[1] if name.startswith("virt-") else parent.qemu_version)
    return replace(parent, name=name, **d)


def _build(records):
    out = {}
    for name, parent, deltas in records:
        if parent is None:
            out[name] = MachineType(name, **deltas)
        else:
            out[name] = apply(out[parent], name, deltas)
    return out


TYPES = _build(RECORDS)
NEWEST = list(TYPES)[-1]
ALIASES = {"virt": NEWEST}


class UnknownMachineType(MachineError):
    """A machine type this pyaarch64 does not have."""


def resolve(name):
    """Concrete MachineType for a name or alias (a MachineType is taken as it is: an
    embedder's or a test's own type derived with `apply`)."""
    if isinstance(name, MachineType):
        return name
    concrete = ALIASES.get(name, name)
    if concrete not in TYPES:
        raise UnknownMachineType(
            f"unsupported machine type '{name}' (valid: "
            f"{', '.join(list(TYPES) + list(ALIASES))})")
    return TYPES[concrete]


def help_text():
    """`-M help` as QEMU prints it: the alias first, then the types, newest first."""
    lines = ["Supported machines are:",
             f"{'virt':<20} QEMU {TYPES[NEWEST].qemu_version} ARM Virtual Machine (alias of {NEWEST})"]
    for n, t in reversed(TYPES.items()):
        lines.append(f"{n:<20} QEMU {t.qemu_version} ARM Virtual Machine")
    return "\n".join(lines)
