"""`-d` logging in QEMU's line shapes (in_asm, exec, cpu, int, unimp, guest_errors).

in_asm/exec/cpu/int single-step the CPU from Python (slow, for debugging);
unimp and guest_errors cost nothing when nothing happens.
"""
import sys

from pyaarch64.cpu import ops as O

LOG_ITEMS = {
    "in_asm": "show target assembly code for each compiled TB",
    "exec": "show trace before each executed TB (lots of logs)",
    "cpu": "show CPU registers before entering a TB (lots of logs)",
    "int": "show interrupts/exceptions in short format",
    "unimp": "log unimplemented functionality",
    "guest_errors": "log when the guest OS does something invalid (eg accessing a\nnon-existent register)",
}

ERET_INSN = 0xD69F03E0
# QEMU's exception numbers and names for what we raise
# (interrupts: 5 [IRQ], 6 [FIQ]; debug exceptions as QEMU raises them: breakpoints
# and watchpoints as aborts, software step as UNDEF)
_EXC = {0x00: (1, "Undefined Instruction"), 0x15: (2, "SVC"), 0x20: (3, "Prefetch Abort"),
        0x21: (3, "Prefetch Abort"), 0x22: (3, "Prefetch Abort"), 0x24: (4, "Data Abort"),
        0x25: (4, "Data Abort"), 0x3C: (7, "Breakpoint"), 0x26: (4, "Data Abort"),
        # the debug exceptions (cpu/debug.py): breakpoint, software step, watchpoint
        0x30: (3, "Prefetch Abort"), 0x31: (3, "Prefetch Abort"),
        0x32: (1, "Undefined Instruction"), 0x33: (1, "Undefined Instruction"),
        0x34: (4, "Data Abort"), 0x35: (4, "Data Abort")}


def help_text():
    lines = ["Log items (comma separated):"]
    for k, v in LOG_ITEMS.items():
        lines.append(f"{k:<10} {v}")
    return "\n".join(lines)


def parse_items(spec):
    items = [s for s in spec.split(",") if s]
    for s in items:
        if s not in LOG_ITEMS:
            raise ValueError(f"unknown log item '{s}' (use -d help to list them)")
    return set(items)


class Tracer:
    def __init__(self, items, out=None, symbols=None):
        self.items = set(items)
        self.out = out or sys.stderr
        self.symbols = symbols or {}
        self._sorted = sorted(self.symbols)
        self.step_mode = bool(self.items & {"in_asm", "exec", "cpu", "int"})
        self.seen = set()
        self.block_start = True
        self.block = []
        self.prev_pc = None
        self.pending_eret = None
        self._cs = None

    def w(self, s):
        self.out.write(s)
        self.out.flush()

    # --- helpers ---------------------------------------------------------------
    def symbol(self, pc):
        import bisect
        i = bisect.bisect_right(self._sorted, pc) - 1
        if i >= 0:
            a = self._sorted[i]
            name, size = self.symbols[a]
            if pc < a + size:
                return name
        return ""

    def disas(self, pc, insn):
        q = qemu_form(insn)
        if q is not None:
            return q
        if self._cs is None:
            import capstone
            self._cs = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
        for i in self._cs.disasm(insn.to_bytes(4, "little"), pc):
            return f"{i.mnemonic:<8} {i.op_str}"
        return f".word    0x{insn:08x}"

    # --- called by the board's run loop ------------------------------------------
    def before(self, m):
        cpu = m.cpu
        pc = cpu.pc
        insn = m._insn_at(pc)
        new_block = self.prev_pc is None or pc != self.prev_pc + 4 or self.block_start
        if new_block:
            self._flush_block()             # (the block that ended with the ERET first)
        if self.pending_eret is not None:
            self._log_eret(m)
        if new_block:
            self.block_start = False
            if "exec" in self.items:
                self.w(f"Trace 0: 0x0 [00000000/{pc:016x}/00000000/00000000] {self.symbol(pc)}\n")
            if "cpu" in self.items:
                self.w(dump_cpu(cpu))
            self.block_pc = pc
        if "in_asm" in self.items and (self.block_pc not in self.seen):
            self.block.append((pc, insn))
        # branches, exception-generating and system instructions end a block
        if _ends_block(insn):
            self.block_start = True
        if insn == ERET_INSN:
            self.pending_eret = int(cpu.ctl[O.C_EL])
        self.prev_pc = pc

    def _flush_block(self):
        if self.block:
            start = self.block[0][0]
            self.seen.add(start)
            lines = ["----------------\n", f"IN: {self.symbol(start)}\n"]
            for pc, insn in self.block:
                lines.append(f"0x{pc:08x}:  {insn:08x}  {self.disas(pc, insn)}\n")
            lines.append("\n")
            self.w("".join(lines))
            self.block = []

    def _log_eret(self, m):
        el_from = self.pending_eret
        self.pending_eret = None
        if "int" in self.items:
            self.w(f"Exception return from AArch64 EL{el_from} to AArch64 "
                   f"EL{int(m.cpu.ctl[O.C_EL])} PC 0x{m.cpu.pc:x}\n")

    def attach(self, vm):
        """Exceptions are logged and traced as they are taken (an exception hook:
        the PC is then at the vector, before the step that took the exception
        runs the vector's first instruction)."""
        self.vm = vm
        self._hook = vm.hooks.add("exception", self._entered, 1, 0) if self.step_mode else None

    def detach(self):
        """Stop tracing (HMP `log none`, or another `log`)."""
        if getattr(self, "_hook", None) is not None:
            self.vm.hooks.remove(self._hook)
            self._hook = None

    def exception(self, m):
        """After a slice in which exceptions were taken (the run loop): the hook did
        the work."""

    def _entered(self, _owner, info):
        cpu = self.vm.cpu
        if (info.kind in ("irq", "fiq") and self.block and self.block[-1][0] == info.return_address
                and self.prev_pc == info.return_address):
            self.block.pop()                # (traced before the step, but the interrupt came first)
        self._flush_block()
        self.block_start = True
        self.pending_eret = None
        if "int" in self.items:
            if info.kind in ("irq", "fiq"):
                num, name = (5, "IRQ") if info.kind == "irq" else (6, "FIQ")
            else:
                num, name = _EXC.get(info.ec, (1, "Undefined Instruction"))
            esr = cpu.reg("ESR_EL1")
            spsr = cpu.reg("SPSR_EL1")
            el_from = (spsr >> 2) & 3
            lines = [f"Taking exception {num} [{name}] on CPU 0\n",
                     f"...from EL{el_from} to EL1\n",
                     f"...with ESR 0x{esr >> 26:x}/0x{esr:x}\n"]
            if num in (3, 4):
                lines.append(f"...with FAR 0x{cpu.reg('FAR_EL1'):x}\n")
            lines.append(f"...with ELR 0x{info.return_address:x}\n")
            lines.append(f"...to EL1 PC 0x{info.vector:x} PSTATE 0x{cpu.pstate():x}\n")
            self.w("".join(lines))
        self.before(self.vm)            # (the vector's first instruction runs in this step)

    def undefined(self, m):
        self._flush_block()
        if "unimp" in self.items or "guest_errors" in self.items:
            pc = int(m.cpu.ctl[O.C_UNDEF_PC])       # (the last one, if a slice met several)
            self.w(f"undefined instruction 0x{m._insn_at(pc):08x} at PC 0x{pc:x}\n")

    def guest_error(self, msg):
        if "guest_errors" in self.items:
            self.w(msg)

    def finish(self):
        self._flush_block()


def _ends_block(insn):
    top = insn & 0xFC000000
    if top in (0x14000000, 0x94000000):          # B, BL
        return True
    if (insn & 0xFF000010) == 0x54000000:        # B.cond
        return True
    if (insn & 0x7E000000) in (0x34000000, 0x36000000):   # CBZ/CBNZ, TBZ/TBNZ
        return True
    if (insn & 0xFE000000) == 0xD6000000:        # BR/BLR/RET/ERET
        return True
    if (insn & 0xFF000000) == 0xD4000000:        # SVC/HVC/SMC/BRK/HLT
        return True
    if (insn & 0xFFC00000) == 0xD5000000:        # system instructions, as QEMU's TBs end:
        if insn & (1 << 21):
            return False                         # MRS, SYSL (reads) do not end one
        if (insn >> 19) & 3:
            return True                          # MSR (register), SYS
        crn = (insn >> 12) & 0xF
        if crn == 2:
            return ((insn >> 5) & 0x7F) in (1, 2, 3)        # YIELD, WFE, WFI (not NOP, SEV)
        if crn == 3:
            return (insn >> 5) & 7 == 6          # ISB (not DSB, DMB, CLREX)
        return crn == 4                          # MSR (immediate): DAIFSet/Clr, SPSel, ...
    return False


def qemu_form(insn):
    """An instruction QEMU 7.2's disassembler prints unlike capstone, as QEMU does
    (MOVZ/MOVN/MOVK keep their names and a shifted 16-bit immediate), or None."""
    if (insn & 0x1F800000) == 0x12800000 and ((insn >> 29) & 3) != 1:
        name = {0: "movn", 2: "movz", 3: "movk"}[(insn >> 29) & 3]
        reg = ("x" if insn >> 31 else "w") + (str(insn & 31) if insn & 31 != 31 else "zr")
        hw = (insn >> 21) & 3
        imm = (insn >> 5) & 0xFFFF
        return f"{name:<8} {reg}, #0x{imm:x}" + (f", lsl #{16 * hw}" if hw else "")
    return None


def dump_cpu(cpu, sysregs=False):
    """QEMU's AArch64 register dump (as in `-d cpu` and `info registers`); with
    `sysregs`, followed by every system register from the table (dump_sysregs)."""
    out = [f" PC={cpu.pc:016x} "]
    regs = [int(cpu.regs[i]) for i in range(31)]
    for i in range(31):
        out.append(f"X{i:02d}={regs[i]:016x}{' ' if (i + 2) % 3 else chr(10)}")
    out.append(f" SP={int(cpu.regs[O.SP]):016x}\n")
    ps = cpu.pstate()
    flags = "".join(c if ps & (1 << b) else "-" for c, b in (("N", 31), ("Z", 30), ("C", 29), ("V", 28)))
    el = int(cpu.ctl[O.C_EL])
    out.append(f"PSTATE={ps:08x} {flags} EL{el}{'h' if ps & 1 else 't'}\n")
    if sysregs:
        out.append(dump_sysregs(cpu))
    return "".join(out)


def dump_sysregs(cpu, per_line=3):
    """Every readable system register of the CPU, from the table (Cpu.sysregs(): the
    same rows MRS uses), as NAME=value columns in table order."""
    items = [f"{name:>16}={value:016x}" for name, value in cpu.sysregs().items()]
    lines = [" ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "".join(line + "\n" for line in lines)
