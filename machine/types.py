"""Machine types as data: each concrete type is its parent plus deltas.

A machine type pins every guest-visible fact (DESIGN §4).  The alias `virt`
resolves to the newest type when a machine is created; snapshots will record the
concrete name.  Our own guest-visible changes go into the newest type only.
"""
from dataclasses import dataclass, field, replace

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
        "gic_dist": (0x0800_0000, 0x1_0000),
        "gic_cpu": (0x0801_0000, 0x1_0000),
        "uart": (0x0900_0000, 0x1000),
        "rtc": (0x0901_0000, 0x1000),
    })
    irqmap: dict = field(default_factory=lambda: {"uart": 1, "rtc": 2})
    timer_ppis: tuple = (13, 14, 11, 10)   # secure phys, non-secure phys, virt, hyp
    gic_num_irqs: int = 288                 # 256 SPIs + 32 SGIs/PPIs
    sysreg_overrides: dict = field(default_factory=dict)
    # device tree content choices
    dtb_cpu_map: bool = True        # /cpus/cpu-map (QEMU 6.2+; virt-6.1 and older: none)
    dtb_randomness: bool = False    # /chosen rng-seed + kaslr-seed (QEMU: random, on);
                                    # off: deterministic boots, no KASLR and so no KPTI


def _chain():
    base = MachineType("virt-4.1", "4.1", dtb_cpu_map=False)
    out = [base]
    prev = base
    for ver in ("4.2", "5.0", "5.1", "5.2", "6.0", "6.1", "6.2", "7.0", "7.1", "7.2",
                "8.0", "8.1", "8.2", "9.0", "9.1", "9.2"):
        deltas = {}
        if ver == "6.2":
            deltas["dtb_cpu_map"] = True           # QEMU 6.2 added /cpus/cpu-map
        if ver == "9.1":
            deltas["cntfrq"] = 1_000_000_000      # QEMU 9.1: the counter runs at 1 GHz
        prev = replace(prev, name=f"virt-{ver}", qemu_version=ver, **deltas)
        out.append(prev)
    return out


TYPES = {t.name: t for t in _chain()}
NEWEST = list(TYPES)[-1]
ALIASES = {"virt": NEWEST}


class UnknownMachineType(ValueError):
    pass


def resolve(name):
    """Concrete MachineType for a name or alias."""
    concrete = ALIASES.get(name, name)
    if concrete not in TYPES:
        raise UnknownMachineType(
            f"unsupported machine type '{name}' (valid: "
            f"{', '.join(list(TYPES) + list(ALIASES))})")
    return TYPES[concrete]


def help_text():
    lines = ["Supported machines are:"]
    for n, t in reversed(TYPES.items()):
        alias = " (alias of virt)" if n == NEWEST else ""
        lines.append(f"{n:<16} QEMU {t.qemu_version} ARM Virtual Machine{alias}")
    lines.insert(1, f"{'virt':<16} QEMU {TYPES[NEWEST].qemu_version} ARM Virtual Machine (alias of {NEWEST})")
    return "\n".join(lines)
