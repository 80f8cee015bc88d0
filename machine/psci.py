"""PSCI over HVC, handled by the board as QEMU's virt does (psci-conduit=hvc)."""
PSCI_VERSION = 0x84000000
CPU_SUSPEND_32, CPU_SUSPEND_64 = 0x84000001, 0xC4000001
CPU_OFF = 0x84000002
CPU_ON_32, CPU_ON_64 = 0x84000003, 0xC4000003
AFFINITY_INFO_32, AFFINITY_INFO_64 = 0x84000004, 0xC4000004
MIGRATE_INFO_TYPE = 0x84000006
SYSTEM_OFF = 0x84000008
SYSTEM_RESET = 0x84000009
PSCI_FEATURES = 0x8400000A

SUCCESS = 0
NOT_SUPPORTED = -1 & 0xFFFFFFFFFFFFFFFF
INVALID_PARAMETERS = -2 & 0xFFFFFFFFFFFFFFFF
ALREADY_ON = -4 & 0xFFFFFFFFFFFFFFFF
ON_PENDING = -5 & 0xFFFFFFFFFFFFFFFF

SUPPORTED = (PSCI_VERSION, CPU_SUSPEND_32, CPU_SUSPEND_64, CPU_OFF, CPU_ON_32, CPU_ON_64,
             AFFINITY_INFO_32, AFFINITY_INFO_64, MIGRATE_INFO_TYPE, SYSTEM_OFF, SYSTEM_RESET,
             PSCI_FEATURES)


class PowerEvent(Exception):
    """Raised to the board's run loop: kind is 'poweroff' or 'reset'."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def call(cpu, version, smp=None):
    """Handle one PSCI call; x0 = function id, x1.. = arguments.  Sets x0.
    Returns None, or 'poweroff' / 'reset' / 'off' / 'wfi' for the board to act on.
    smp: the board's CPUs (machine/smp.py) when it has more than one; without it
    CPU 0 (MPIDR affinity 0) is the only CPU."""
    fn = cpu.reg("x0") & 0xFFFFFFFF
    if fn == PSCI_VERSION:
        ret = version
    elif fn == PSCI_FEATURES:
        ret = SUCCESS if (cpu.reg("x1") & 0xFFFFFFFF) in SUPPORTED else NOT_SUPPORTED
    elif fn == MIGRATE_INFO_TYPE:
        ret = 2                       # no Trusted OS: migration not required
    elif fn == SYSTEM_OFF:
        return "poweroff"
    elif fn == SYSTEM_RESET:
        return "reset"
    elif fn in (AFFINITY_INFO_32, AFFINITY_INFO_64) and smp is not None:
        ret = smp.affinity_info(cpu.reg("x1"), cpu.reg("x2"))
    elif fn in (CPU_ON_32, CPU_ON_64) and smp is not None:
        ret = smp.cpu_on(cpu.reg("x1"), cpu.reg("x2"), cpu.reg("x3"))
    elif fn in (AFFINITY_INFO_32, AFFINITY_INFO_64):
        aff = cpu.reg("x1") & 0xFFFFFF
        ret = 0 if aff == 0 else INVALID_PARAMETERS      # CPU 0 is ON; no other CPUs
    elif fn in (CPU_ON_32, CPU_ON_64):
        aff = cpu.reg("x1") & 0xFFFFFF
        ret = ALREADY_ON if aff == 0 else INVALID_PARAMETERS
    elif fn in (CPU_SUSPEND_32, CPU_SUSPEND_64):
        # as QEMU: no affinity levels; every power state is a standby, i.e. a WFI
        if cpu.reg("x1") & 0xFFFE0000:
            ret = INVALID_PARAMETERS
        else:
            cpu.set_reg("x0", SUCCESS)
            return "wfi"
    elif fn == CPU_OFF:
        return "off"                  # (the only CPU going off stops the machine)
    else:
        ret = NOT_SUPPORTED
    cpu.set_reg("x0", ret)
    return None
