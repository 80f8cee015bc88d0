"""The system-register table (cpu/sysregs.py): rows are well-formed data, and the
table-driven dumps list every row.  Guest-visible behaviour (values, masks, EL0
access) is checked against QEMU 7.2 by tests/guest/sysregs.c (test_guests.py)."""
import pytest

from pyaarch64.cpu import sysregs as SR
from pyaarch64.cpu.models import MODELS


def test_encodings_unique_and_in_range():
    seen = {}
    for r in SR.ROWS:
        op0, op1, crn, crm, op2 = r.enc
        assert op0 in (2, 3) and 0 <= op1 < 8 and 0 <= crn < 16 and 0 <= crm < 16 and 0 <= op2 < 8, r
        k = SR.key(*r.enc)
        assert k not in seen, f"{r.name} and {seen[k]} share {SR.enc_name(r.enc)}"
        seen[k] = r.name
        assert SR.by_key(k) is r


def test_names_follow_arm_spelling():
    names = [r.name for r in SR.ROWS]
    assert len(set(names)) == len(names)
    for r in SR.ROWS:
        assert SR.NAME_RE.match(r.name), r.name
        if r.name.startswith("S3_"):
            # the generic spelling is used only for reserved ID-space encodings, and
            # it must spell the row's own encoding
            assert r.name == SR.enc_name(r.enc) and r.kind == SR.K_CONST and not r.gdb
        assert SR.find(r.name.lower()) is r


def test_row_columns_consistent():
    for r in SR.ROWS:
        assert r.kind in (SR.K_PLAIN, SR.K_CONST, SR.K_SPECIAL, SR.K_ALIAS), r.name
        assert 0 <= r.rel <= SR.NO and 0 <= r.wel <= SR.NO, r.name
        if r.kind == SR.K_CONST:
            assert r.wel == SR.NO and not r.migrate, r.name       # identity, not state
        if r.kind == SR.K_ALIAS:
            assert r.alias in SR.SLOT and not r.migrate, r.name   # no storage of its own
        if r.kind == SR.K_PLAIN and r.handler == SR.H_NONE:
            assert r.migrate, r.name
        if r.gate:
            assert r.gate in SR.BOARD_GATES or any(
                r.gate in m.sysreg_gates for m in MODELS.values()), r.name


@pytest.mark.parametrize("model", sorted(MODELS))
def test_build_maps_present_rows_only(model):
    m = MODELS[model]
    sysmap, sysr = SR.build(m)
    for i, r in enumerate(SR.ROWS):
        k = SR.key(*r.enc)
        assert sysmap[k] == (i if SR.present(r, m) else -1), r.name
    assert (sysmap >= 0).sum() == sum(SR.present(r, m) for r in SR.ROWS)


def test_impdef_registers_per_model():
    assert SR.present(SR.find("CBAR_EL1"), MODELS["cortex-a57"])
    assert not SR.present(SR.find("CBAR_EL1"), MODELS["max"])
    sysmap, sysr = SR.build(MODELS["cortex-a72"])
    slot = sysmap[SR.key(3, 1, 15, 3, 0)]
    assert SR.ROWS[slot].name == "CBAR_EL1" and int(sysr[slot, SR.R_VAL]) == 0x08000000
    # an unknown IMPLEMENTATION DEFINED encoding stays UNDEF
    assert sysmap[SR.key(3, 1, 15, 15, 7)] == -1
    assert sysmap[SR.key(3, 0, 15, 0, 0)] == -1


def test_overrides_by_name():
    sysmap, sysr = SR.build(MODELS["cortex-a57"], {"CBAR_EL1": {"reset": 0x2C000000}})
    assert int(sysr[SR.SLOT["CBAR_EL1"], SR.R_VAL]) == 0x2C000000
    with pytest.raises(ValueError):
        SR.build(MODELS["cortex-a57"], {"NO_SUCH_REG_EL1": {"reset": 1}})


def readable(model):
    return [r.name for r in SR.ROWS if SR.present(r, model)
            and (r.rel <= 1 or r.name in ("SP_EL0", "SP_EL1"))]


@pytest.mark.parametrize("model", ["cortex-a57", "max"])
def test_dump_lists_every_readable_row(model):
    from pyaarch64.cpu.core import Cpu
    cpu = Cpu(model)
    regs = cpu.sysregs()
    assert list(regs) == readable(cpu.model)
    assert regs["MIDR_EL1"] == cpu.model.id("MIDR_EL1")
    assert regs["CurrentEL"] == 4 and regs["DAIF"] == 0x3C0 and regs["SPSel"] == 1
    assert regs["OSLSR_EL1"] == 0xA and regs["CCSIDR_EL1"] == cpu.model.id("CCSIDR_EL1")
    # every row readable by name too, with the same value
    for name, v in regs.items():
        assert cpu.reg(name) == v, name


def test_computed_registers_and_aliases():
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu.core import Cpu
    cpu = Cpu("cortex-a57")
    cpu.set_reg("PMCNTENSET_EL0", 0xFFFFFFFF)
    assert cpu.reg("PMCNTENCLR_EL0") == SR.PMU_MASK
    cpu.set_reg("PMCNTENCLR_EL0", 1)
    assert cpu.reg("PMCNTENSET_EL0") == SR.PMU_MASK & ~1
    # the cycle counter counts virtual ns while PMCR_EL0.E and PMCNTENSET.C are set
    cpu.set_reg("PMCR_EL0", 1)
    cpu.set_reg("PMCCNTR_EL0", 100)
    cpu.ctl[O.C_ICOUNT] += 50
    assert cpu.reg("PMCCNTR_EL0") == 150
    cpu.set_reg("PMCR_EL0", 0)
    cpu.ctl[O.C_ICOUNT] += 50
    assert cpu.reg("PMCCNTR_EL0") == 150
    # CNTVCT from the virtual counter; CTL's ISTATUS computed
    cpu.ctl[O.C_ICOUNT] = 1600
    assert cpu.reg("CNTVCT_EL0") == 100
    cpu.set_reg("CNTV_CTL_EL0", 1)
    assert cpu.reg("CNTV_CTL_EL0") == 5
    with pytest.raises(KeyError):
        cpu.set_reg("MIDR_EL1", 0)
    with pytest.raises(KeyError):
        Cpu("max").reg("CBAR_EL1")


def test_api_and_trace_dump():
    import pyaarch64
    from pyaarch64.emu.trace import dump_cpu, dump_sysregs
    m = pyaarch64.Machine(cpu="cortex-a53")
    regs = m.sysregs()
    assert regs["MIDR_EL1"] == 0x410FD034 and regs["CBAR_EL1"] == 0x08000000
    cpu = m._m.cpu
    text = dump_sysregs(cpu)
    for name in regs:
        assert f" {name}=" in " " + text.replace("\n", " "), name
    plain = dump_cpu(cpu)
    assert "MIDR_EL1" not in plain and plain.startswith(" PC=")       # QEMU's lines only
    assert dump_cpu(cpu, sysregs=True) == plain + text
