"""gdb's target description for the stub (emu/gdbstub.py): the register list and the
XML annexes, as QEMU 7.2 lays them out for an AArch64 CPU.

Register numbers (what `p`/`P` name):
   0..30  x0..x30        64-bit
   31     sp             64-bit
   32     pc             64-bit
   33     cpsr           32-bit (PSTATE as an SPSR image)
   34..65 v0..v31        128-bit (gdb's `aarch64v` union: .d .s .h .b .q)
   66     fpsr           32-bit
   67     fpcr           32-bit
   68..   the system registers of the CPU model, from the sysreg table (cpu/sysregs.py,
          rows with gdb=True that the model has), in table order, 64-bit each

`target.xml` includes `aarch64-core.xml` (org.gnu.gdb.aarch64.core), `aarch64-fpu.xml`
(org.gnu.gdb.aarch64.fpu) and `system-registers.xml` (org.qemu.gdb.arm.sys.regs, group
cp_regs: QEMU's feature name, so scripts written against QEMU find the same
registers).  The XML is generated here, not copied from gdb's feature files.
"""
from pyaarch64.cpu import sysregs as SR

N_CORE = 34                   # x0..x30, sp, pc, cpsr: what `g` carries
V0 = 34
FPSR, FPCR = 66, 67
SYS0 = 68


def sysreg_rows(model):
    """The system-register rows gdb sees for this CPU model, in register-number order."""
    return [r for r in SR.ROWS if r.gdb and SR.present(r, model)
            and r.name not in ("FPCR", "FPSR")]


def core_xml():
    regs = "".join(f'<reg name="x{n}" bitsize="64"/>' for n in range(31))
    return ('<?xml version="1.0"?><!DOCTYPE feature SYSTEM "gdb-target.dtd">'
            '<feature name="org.gnu.gdb.aarch64.core">' + regs +
            '<reg name="sp" bitsize="64" type="data_ptr"/>'
            '<reg name="pc" bitsize="64" type="code_ptr"/>'
            '<reg name="cpsr" bitsize="32"/></feature>')


_VECTORS = (("v2d", "ieee_double", 2), ("v2u", "uint64", 2), ("v2i", "int64", 2),
            ("v4f", "ieee_single", 4), ("v4u", "uint32", 4), ("v4i", "int32", 4),
            ("v8u", "uint16", 8), ("v8i", "int16", 8), ("v16u", "uint8", 16),
            ("v16i", "int8", 16), ("v1u", "uint128", 1), ("v1i", "int128", 1))
_UNIONS = (("vnd", (("f", "v2d"), ("u", "v2u"), ("s", "v2i"))),
           ("vns", (("f", "v4f"), ("u", "v4u"), ("s", "v4i"))),
           ("vnh", (("u", "v8u"), ("s", "v8i"))),
           ("vnb", (("u", "v16u"), ("s", "v16i"))),
           ("vnq", (("u", "v1u"), ("s", "v1i"))),
           ("aarch64v", (("d", "vnd"), ("s", "vns"), ("h", "vnh"), ("b", "vnb"),
                         ("q", "vnq"))))


def fpu_xml():
    out = ['<?xml version="1.0"?><!DOCTYPE feature SYSTEM "gdb-target.dtd">'
           '<feature name="org.gnu.gdb.aarch64.fpu">']
    out += [f'<vector id="{i}" type="{t}" count="{c}"/>' for i, t, c in _VECTORS]
    for uid, fields in _UNIONS:
        out.append(f'<union id="{uid}">' + "".join(
            f'<field name="{n}" type="{t}"/>' for n, t in fields) + "</union>")
    out.append(f'<reg name="v0" bitsize="128" type="aarch64v" regnum="{V0}"/>')
    out += [f'<reg name="v{n}" bitsize="128" type="aarch64v"/>' for n in range(1, 32)]
    out.append('<reg name="fpsr" bitsize="32"/><reg name="fpcr" bitsize="32"/></feature>')
    return "".join(out)


def sysregs_xml(model):
    regs = "".join(f'<reg name="{r.name}" bitsize="64" regnum="{SYS0 + k}" group="cp_regs"/>'
                   for k, r in enumerate(sysreg_rows(model)))
    return ('<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">'
            '<feature name="org.qemu.gdb.arm.sys.regs">' + regs + '</feature>')


TARGET_XML = ('<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target>'
              '<architecture>aarch64</architecture>'
              '<xi:include href="aarch64-core.xml"/><xi:include href="aarch64-fpu.xml"/>'
              '<xi:include href="system-registers.xml"/></target>')


def annexes(model):
    """{annex name: XML text} for qXfer:features:read."""
    return {"target.xml": TARGET_XML, "aarch64-core.xml": core_xml(),
            "aarch64-fpu.xml": fpu_xml(), "system-registers.xml": sysregs_xml(model)}
