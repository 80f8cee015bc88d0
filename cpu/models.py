"""CPU models are ID-register value sets.  Features are derived from those values only.

Values are the architected reset values of the real cores (Arm TRMs), the same
ones QEMU 7.2 uses for its models of these cores.
"""
from dataclasses import dataclass, field

from pyaarch64.errors import MachineError

# Feature names the decode tables may gate on (`feat=NAME`).  The bit position in
# the feature mask is the index here; it is an in-memory detail, never saved.
FEATURES = ("CRC32", "LSE", "AES", "SHA1", "SHA256", "PMULL", "FP", "ASIMD")


@dataclass(frozen=True)
class CpuModel:
    name: str
    description: str
    idregs: dict = field(default_factory=dict)
    # optional system-register rows this model has (cpu/sysregs.py `gate` column)
    sysreg_gates: tuple = ()

    def id(self, reg):
        return self.idregs.get(reg, 0)

    def features(self):
        """Set of feature names, read from the ID registers."""
        isar0 = self.id("ID_AA64ISAR0_EL1")
        pfr0 = self.id("ID_AA64PFR0_EL1")
        f = set()
        if (isar0 >> 16) & 0xF >= 1:
            f.add("CRC32")
        if (isar0 >> 20) & 0xF >= 2:
            f.add("LSE")
        aes = (isar0 >> 4) & 0xF
        if aes >= 1:
            f.add("AES")
        if aes >= 2:
            f.add("PMULL")
        if (isar0 >> 8) & 0xF >= 1:
            f.add("SHA1")
        if (isar0 >> 12) & 0xF >= 1:
            f.add("SHA256")
        if (pfr0 >> 16) & 0xF != 0xF:
            f.add("FP")
        if (pfr0 >> 20) & 0xF != 0xF:
            f.add("ASIMD")
        return f

    def feature_mask(self):
        fs = self.features()
        return sum(1 << i for i, n in enumerate(FEATURES) if n in fs)


def _v8_0(midr, revidr=0, isar0=0x11120, mmfr0=0x1124, ctr=0x84448004, extra=None,
          ccsidr=(0x701FE00A, 0x201FE012, 0x70FFE07A), pmcr=0x41013000):
    d = {
        "MIDR_EL1": midr,
        "REVIDR_EL1": revidr,
        # EL0/EL1 AArch64+AArch32, FP, AdvSIMD; EL2/EL3 fields 0: the virt board has
        # no EL2/EL3 (QEMU clears them too without virtualization=on/secure=on)
        "ID_AA64PFR0_EL1": 0x00000022,
        "ID_AA64PFR1_EL1": 0,
        "ID_AA64DFR0_EL1": 0x10305106,
        "ID_AA64DFR1_EL1": 0,
        "ID_AA64AFR0_EL1": 0,
        "ID_AA64AFR1_EL1": 0,
        "ID_AA64ISAR0_EL1": isar0,
        "ID_AA64ISAR1_EL1": 0,
        "ID_AA64MMFR0_EL1": mmfr0,
        "ID_AA64MMFR1_EL1": 0,
        "ID_AA64MMFR2_EL1": 0,
        "CTR_EL0": ctr,
        "DCZID_EL0": 4,
        "CLIDR_EL1": 0x0A200023,
        "AIDR_EL1": 0,
        # AArch32 ID registers (AArch32 EL0 is supported), as QEMU 7.2 shows them for
        # these cores on virt (no EL2/EL3: ID_PFR1/ID_DFR0 without those fields)
        "ID_PFR0_EL1": 0x00000131,
        "ID_PFR1_EL1": 0x00010001,
        "ID_DFR0_EL1": 0x03010006,
        "ID_AFR0_EL1": 0,
        "ID_MMFR0_EL1": 0x10101105,
        "ID_MMFR1_EL1": 0x40000000,
        "ID_MMFR2_EL1": 0x01260000,
        "ID_MMFR3_EL1": 0x02102211,
        "ID_ISAR0_EL1": 0x02101110,
        "ID_ISAR1_EL1": 0x13112111,
        "ID_ISAR2_EL1": 0x21232042,
        "ID_ISAR3_EL1": 0x01112131,
        "ID_ISAR4_EL1": 0x00011142,
        "ID_ISAR5_EL1": 0x00011121,
        "MVFR0_EL1": 0x10110222,
        "MVFR1_EL1": 0x12111111,
        "MVFR2_EL1": 0x00000043,
        # CCSIDR_EL1 for CSSELR_EL1 = 0 (L1 data), 1 (L1 instruction), 2 (L2); QEMU's values
        "CCSIDR_EL1": ccsidr[0],
        "CCSIDR_EL1:1": ccsidr[1],
        "CCSIDR_EL1:2": ccsidr[2],
        # PMCR_EL0 reset: IMP 0x41, IDCODE of the core, N = 6 event counters
        "PMCR_EL0": pmcr,
    }
    if extra:
        d.update(extra)
    return d


# the IMPLEMENTATION DEFINED registers (L2CTLR_EL1, CPUACTLR_EL1, CBAR_EL1, ...) QEMU 7.2
# gives its Cortex-A53/A57/A72 models (`max` has none: UNDEF)
A5X = ("a5x-impdef",)

MODELS = {
    "cortex-a53": CpuModel("cortex-a53", "Arm Cortex-A53 r0p4 (Armv8.0)",
                           _v8_0(0x410FD034, mmfr0=0x1122, ctr=0x84448004,
                                 ccsidr=(0x700FE01A, 0x201FE00A, 0x707FE07A), pmcr=0x41033000),
                           A5X),
    "cortex-a57": CpuModel("cortex-a57", "Arm Cortex-A57 r1p0 (Armv8.0)",
                           _v8_0(0x411FD070, mmfr0=0x1124, ctr=0x8444C004), A5X),
    "cortex-a72": CpuModel("cortex-a72", "Arm Cortex-A72 r0p3 (Armv8.0)",
                           _v8_0(0x410FD083, mmfr0=0x1124, ctr=0x8444C004,
                                 ccsidr=(0x701FE00A, 0x201FE012, 0x707FE07A),
                                 extra={"ID_MMFR0_EL1": 0x10201105}, pmcr=0x41023000),
                           A5X),
    # `max` advertises only what we implement; it moves between releases, so it is
    # never a default for snapshots.
    "max": CpuModel("max", "Everything pyaarch64 implements (moves between releases)",
                    _v8_0(0x000F0510, isar0=0x00210000, ctr=0x8444C004,
                          # 48-bit PA, 16-bit ASIDs, 4K/16K/64K granules
                          mmfr0=0x00101125)),
}
DEFAULT_MODEL = "cortex-a57"


class UnknownCpuModel(MachineError):
    """A CPU model this pyaarch64 does not have."""


def get_model(name):
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownCpuModel(
            f"unknown CPU model '{name}' (valid: {', '.join(sorted(MODELS))})") from None
