"""Arm Generic Interrupt Controller v3 as QEMU 7.2's virt board has it with
`gic-version=3` under TCG (`arm-gicv3`): one security state (GICD_CTLR.DS = 1,
affinity routing always on), no ITS, no LPIs acted on, no virtualization; a
distributor and one redistributor (RD_base + SGI_base frames, 64 KiB each) per
CPU (their register files: machine/gicv3_mmio.py); the CPU interface is the ICC_*
system registers (icc_read / icc_write, the board routes the CPU's accesses here:
machine/virt.py).

Guest-visible behaviour follows QEMU 7.2 (tests/guest/gicv3.c, whose expected output
comes from QEMU with -M virt-7.2,gic-version=3, and virt-7.0 for 8 priority bits):
  * GICD_TYPER 0x37a0007 for 288 INTIDs (QEMU 7.2 counts ITLinesNumber from the SPIs
    only), LPIS and GICR_TYPER.PLPIS set and GICR_CTLR.CES read as 1 as QEMU's board
    shows them, though nothing is done with LPIs (there is no ITS to make one);
    GICD/GICR_IIDR 0x43b, PIDR2 0x3b (architecture revision 3).
  * Priority bits of the CPU interface: 5 (cortex-a53/a57/a72), 8 on machine types
    up to virt-7.0 (QEMU's force-8-bit-prio); preemption bits min(bits, 7), as many
    ICC_AP<n>R registers as those need; ICC_BPR0 minimum 7 - preemption bits, ICC_BPR1
    one more; the distributor keeps 8 bits of every priority.
  * Group 0 interrupts go to FIQ, group 1 (non-secure) ones to IRQ; ICC_IAR1 and
    ICC_HPPIR1 show only group 1, ICC_IAR0/HPPIR0 only group 0; HPPIR ignores the
    priority mask and the running priority, IAR does not.  A pending interrupt of
    priority 0xff is never presented.
  * The distributor's SGI/PPI registers are RAZ/WI (affinity routing), so are
    GICD_ITARGETSR, GICD_SGIR, GICD_S/CPENDSGIR and GICD_NSACR; GICD_IROUTER keeps all
    64 bits written and routes to the CPU whose affinity matches Aff3.Aff2.Aff1.Aff0
    whatever IRM says (QEMU 7.2 does not implement 1-of-N routing; GICD_TYPER.No1N).
  * An SGI (ICC_SGI0R/SGI1R/ASGI1R_EL1) becomes pending only at targets where it is
    configured in the group the register generates: SGI1R group 1, SGI0R group 0,
    and ASGI1R group 0 too (secure group 1 is group 0 with DS = 1).  Its INTID alone is
    acknowledged (no source CPU in GICv3).
  * ICC_EOIR<n> drops the priority of the highest active level only when that level's
    group is n's (else the write is ignored; nothing active is a guest error), and
    deactivates the INTID written unless ICC_CTLR_EL1.EOImode; ICC_DIR deactivates
    only with EOImode.
  * Accesses of a size the register does not have are guest errors, RAZ/WI.

State is plain named attributes (ints and lists of ints).  Distributor bitmaps are
lists of 32-bit words indexed like the GICD_IS*R registers (word 0, the SGIs/PPIs,
stays 0); redistributor and CPU interface state are lists indexed by CPU.
"""
from pyaarch64.snapshot.schema import Field
from pyaarch64.machine.gicv3_mmio import (
    GIC_INTERNAL, CTLR_EN_GRP0, CTLR_EN_GRP1, GICR_WAKER_SLEEP, GICR_WAKER_ASLEEP, SGI_EDGE,
    M32, M64, affinity, GICv3Registers)

SPURIOUS = 1023
IDLE = 0xFF                   # running priority / HPPI priority with none
ICC_CTLR_CBPR, ICC_CTLR_EOIMODE = 1, 2
ICC_CTLR_FIXED = (1 << 15) | (1 << 11)         # A3V, IDbits = 24 bits
ICC_SRE = 7                                    # SRE, DFB, DIB: RAO/WI


def _bits(v):
    """The set bit positions of v, lowest first."""
    while v:
        low = v & -v
        yield low.bit_length() - 1
        v ^= low


def _ctz32(v):
    return (v & -v).bit_length() - 1 if v else 32


class GICv3(GICv3Registers):
    """Distributor, redistributors and CPU interfaces.  `cpus[c]` is an object with
    set_irq_line(which, level) (0 = IRQ, 1 = FIQ)."""

    name = "gicv3"
    STATE_FIELDS = (
        Field("gicd_ctlr", "u32", mask=CTLR_EN_GRP0 | CTLR_EN_GRP1),
        # distributor, per 32 INTIDs (word 0: the SGIs/PPIs, unused)
        Field("gicd_igroupr", "u32[]"), Field("gicd_igrpmodr", "u32[]"),
        Field("gicd_ienabler", "u32[]"), Field("gicd_ipendr", "u32[]"),
        Field("gicd_iactiver", "u32[]"), Field("gicd_level", "u32[]"),
        Field("gicd_edge", "u32[]"),
        Field("gicd_ipriorityr", "u8[]"), Field("gicd_irouter", "u64[]"),   # per INTID
        # redistributors, per CPU
        Field("gicr_ctlr", "u32[]", mask=1), Field("gicr_waker", "u32[]", mask=6),
        Field("gicr_propbaser", "u64[]"), Field("gicr_pendbaser", "u64[]"),
        Field("gicr_igroupr0", "u32[]"), Field("gicr_igrpmodr0", "u32[]"),
        Field("gicr_ienabler0", "u32[]"), Field("gicr_ipendr0", "u32[]"),
        Field("gicr_iactiver0", "u32[]"), Field("gicr_level", "u32[]"),
        Field("gicr_edge", "u32[]"), Field("gicr_ipriorityr", "u8[]"),   # 32 per CPU
        # CPU interfaces, per CPU (APRs: 4 per CPU)
        Field("icc_ctlr", "u32[]", mask=ICC_CTLR_CBPR | ICC_CTLR_EOIMODE),
        Field("icc_pmr", "u32[]", mask=0xFF), Field("icc_bpr0", "u32[]", hi=7),
        Field("icc_bpr1", "u32[]", hi=7), Field("icc_ap0r", "u32[]"), Field("icc_ap1r", "u32[]"),
        Field("icc_igrpen0", "u32[]", mask=1), Field("icc_igrpen1", "u32[]", mask=1),
    )

    def __init__(self, num_irq=288, num_cpu=1, cpus=(), priority_bits=5):
        if num_irq % 32 or not GIC_INTERNAL < num_irq <= 1020:
            raise ValueError(f"GICv3 num_irq {num_irq} is not a multiple of 32 in 64..1020")
        if not 1 <= num_cpu <= 8:
            raise ValueError("GICv3: 1 to 8 CPUs")
        if priority_bits not in (5, 8):
            raise ValueError("GICv3 priority bits: 5 or 8")
        self.num_irq = num_irq
        self.num_cpu = num_cpu
        self.cpus = list(cpus)
        self.pribits = priority_bits
        self.prebits = min(priority_bits, 7)
        self.min_bpr = 7 - self.prebits
        self.num_aprs = 1 << (self.prebits - 5)
        self.guest_error = None     # callable(message) for QEMU-style guest_errors logs
        self.dist = _View(self, "gicv3_dist", self.dist_read, self.dist_write)
        self.redist = _View(self, "gicv3_redist", self.redist_read, self.redist_write)
        self.reset()

    # --- state ---------------------------------------------------------------------
    def reset(self):
        nw, nc = self.num_irq // 32, self.num_cpu
        self.gicd_ctlr = 0
        for name in ("igroupr", "igrpmodr", "ienabler", "ipendr", "iactiver", "level", "edge"):
            setattr(self, "gicd_" + name, [0] * nw)
        self.gicd_ipriorityr = [0] * self.num_irq
        self.gicd_irouter = [0] * self.num_irq
        self.gicr_ctlr = [0] * nc
        self.gicr_waker = [GICR_WAKER_SLEEP | GICR_WAKER_ASLEEP] * nc
        self.gicr_propbaser = [0] * nc
        self.gicr_pendbaser = [0] * nc
        for name in ("igroupr0", "igrpmodr0", "ienabler0", "ipendr0", "iactiver0", "level"):
            setattr(self, "gicr_" + name, [0] * nc)
        self.gicr_edge = [SGI_EDGE] * nc
        self.gicr_ipriorityr = [0] * (GIC_INTERNAL * nc)
        self.icc_ctlr = [0] * nc
        self.icc_pmr = [0] * nc
        self.icc_bpr0 = [self.min_bpr] * nc
        self.icc_bpr1 = [self.min_bpr + 1] * nc
        self.icc_ap0r = [0] * (4 * nc)
        self.icc_ap1r = [0] * (4 * nc)
        self.icc_igrpen0 = [0] * nc
        self.icc_igrpen1 = [0] * nc
        self.irq_out = [0] * nc
        self.fiq_out = [0] * nc
        self._rebuild()
        for cpu in self.cpus:           # the outputs go low with the reset
            cpu.set_irq_line(0, 0)
            cpu.set_irq_line(1, 0)

    def post_load(self):
        """After the state lists were restored (snapshots): rebuild derived data
        and drive the CPUs' IRQ/FIQ inputs from the restored state."""
        self._rebuild()
        self.irq_out = [-1] * self.num_cpu
        self.fiq_out = [-1] * self.num_cpu
        self._update()

    def _rebuild(self):
        """Derived (not state): each SPI's target CPU (-1: none) and the HPPIs."""
        self._target = [self._route(v) for v in self.gicd_irouter]
        self._hppi = [(SPURIOUS, IDLE, 0)] * self.num_cpu
        self._update_hppi()

    def _route(self, irouter):
        aff = ((irouter >> 32 & 0xFF) << 24) | (irouter & 0xFF_FFFF)
        for c in range(self.num_cpu):
            if affinity(c) == aff:
                return c
        return -1

    def _log(self, msg):
        if self.guest_error is not None:
            self.guest_error(msg)

    # --- priorities and the interrupt each CPU interface presents ------------------------
    def _group_mask(self, group_bits):
        """The interrupts of a word whose group the distributor has enabled."""
        m = 0
        if self.gicd_ctlr & CTLR_EN_GRP1:
            m |= group_bits
        if self.gicd_ctlr & CTLR_EN_GRP0:
            m |= ~group_bits & M32
        return m

    def _compute_hppi(self, c):
        """(INTID, priority, group) of CPU c's highest-priority pending, enabled,
        inactive interrupt of an enabled group (lowest INTID among equals), or
        (1023, 0xff, 0)."""
        best, bprio, bgrp = SPURIOUS, IDLE, 0
        g = self.gicr_igroupr0[c]
        pend = ((self.gicr_ipendr0[c] | (self.gicr_level[c] & ~self.gicr_edge[c]))
                & self.gicr_ienabler0[c] & ~self.gicr_iactiver0[c] & self._group_mask(g))
        base = c * GIC_INTERNAL
        for i in _bits(pend):
            p = self.gicr_ipriorityr[base + i]
            if p < bprio:
                best, bprio, bgrp = i, p, (g >> i) & 1
        tgt = self._target
        for w in range(1, self.num_irq // 32):
            g = self.gicd_igroupr[w]
            pend = ((self.gicd_ipendr[w] | (self.gicd_level[w] & ~self.gicd_edge[w]))
                    & self.gicd_ienabler[w] & ~self.gicd_iactiver[w])
            if not pend:
                continue
            pend &= self._group_mask(g)
            for i in _bits(pend):
                irq = w * 32 + i
                if tgt[irq] == c:
                    p = self.gicd_ipriorityr[irq]
                    if p < bprio:
                        best, bprio, bgrp = irq, p, (g >> i) & 1
        return best, bprio, bgrp

    def _update_hppi(self):
        self._hppi = [self._compute_hppi(c) for c in range(self.num_cpu)]

    def _gprio_mask(self, c, grp):
        """Clears the subpriority bits of a priority of group grp (the binary point)."""
        if grp == 1 and not self.icc_ctlr[c] & ICC_CTLR_CBPR:
            bpr = self.icc_bpr1[c] - 1
        else:
            bpr = self.icc_bpr0[c]
        return (0xFF << (bpr + 1)) & 0xFF

    def running_priority(self, c):
        """The priority of CPU c's highest active preemption level (0xff if none)."""
        for i in range(self.num_aprs):
            apr = self.icc_ap0r[4 * c + i] | self.icc_ap1r[4 * c + i]
            if apr:
                return (i * 32 + _ctz32(apr)) << (self.min_bpr + 1)
        return IDLE

    def _enabled_hppi(self, c):
        irq, prio, grp = self._hppi[c]
        if prio == IDLE:
            return False
        return bool((self.icc_igrpen1 if grp else self.icc_igrpen0)[c])

    def _can_preempt(self, c):
        if not self._enabled_hppi(c):
            return False
        irq, prio, grp = self._hppi[c]
        if prio >= self.icc_pmr[c]:
            return False
        rprio = self.running_priority(c)
        if rprio == IDLE:
            return True
        mask = self._gprio_mask(c, grp)
        return (prio & mask) < (rprio & mask)

    def _update(self):
        self._update_hppi()
        for c in range(self.num_cpu):
            irq_level = fiq_level = 0
            if self._can_preempt(c):
                if self._hppi[c][2]:
                    irq_level = 1
                else:
                    fiq_level = 1
            if irq_level != self.irq_out[c]:
                self.irq_out[c] = irq_level
                if c < len(self.cpus):
                    self.cpus[c].set_irq_line(0, irq_level)
            if fiq_level != self.fiq_out[c]:
                self.fiq_out[c] = fiq_level
                if c < len(self.cpus):
                    self.cpus[c].set_irq_line(1, fiq_level)

    # --- input lines -------------------------------------------------------------------
    def set_irq(self, intid, level, cpu=0):
        """Drive an interrupt input: a PPI (16..31) of `cpu`, or an SPI (32..num_irq-1)."""
        if intid < 16 or intid >= self.num_irq:
            raise ValueError(f"GIC input {intid} is not a PPI or SPI")
        level = 1 if level else 0
        if intid < GIC_INTERNAL:
            bit, lv, ed, pe, k = 1 << intid, self.gicr_level, self.gicr_edge, self.gicr_ipendr0, cpu
        else:
            bit, lv, ed, pe, k = 1 << (intid & 31), self.gicd_level, self.gicd_edge, self.gicd_ipendr, intid >> 5
        if (1 if lv[k] & bit else 0) == level:
            return
        if level:
            lv[k] |= bit
            if ed[k] & bit:
                pe[k] |= bit            # a rising edge latches an edge-triggered one
        else:
            lv[k] &= ~bit
        self._update()

    # --- the CPU interface: ICC_* system registers -------------------------------------
    # names -> (read, write) methods; the sysreg table (cpu/sysregs.py) has the rows,
    # the board hands their accesses here by name
    def icc_read(self, c, name):
        fn = getattr(self, "_r_" + name[4:-4].lower(), None)
        if fn is None:
            raise KeyError(f"GICv3: no read of {name}")
        return fn(c, name)

    def icc_write(self, c, name, value):
        fn = getattr(self, "_w_" + name[4:-4].lower(), None)
        if fn is None:
            raise KeyError(f"GICv3: no write of {name}")
        fn(c, name, value & M64)

    def _r_sre(self, c, name):
        return ICC_SRE

    def _w_sre(self, c, name, v):
        pass                                           # RAO/WI

    def _r_ctlr(self, c, name):
        return self.icc_ctlr[c] | ICC_CTLR_FIXED | ((self.pribits - 1) << 8)

    def _w_ctlr(self, c, name, v):
        self.icc_ctlr[c] = v & (ICC_CTLR_CBPR | ICC_CTLR_EOIMODE)
        self._update()

    def _r_pmr(self, c, name):
        return self.icc_pmr[c]

    def _w_pmr(self, c, name, v):
        self.icc_pmr[c] = v & (0xFF << (8 - self.pribits)) & 0xFF
        self._update()

    def _r_bpr0(self, c, name):
        return self.icc_bpr0[c]

    def _w_bpr0(self, c, name, v):
        self.icc_bpr0[c] = max(v, self.min_bpr) & 7
        self._update()

    def _r_bpr1(self, c, name):
        if self.icc_ctlr[c] & ICC_CTLR_CBPR:
            return min(self.icc_bpr0[c] + 1, 7)
        return self.icc_bpr1[c]

    def _w_bpr1(self, c, name, v):
        if self.icc_ctlr[c] & ICC_CTLR_CBPR:
            return                                     # BPR0 controls both groups
        self.icc_bpr1[c] = max(v, self.min_bpr + 1) & 7
        self._update()

    def _r_igrpen0(self, c, name):
        return self.icc_igrpen0[c]

    def _w_igrpen0(self, c, name, v):
        self.icc_igrpen0[c] = v & 1
        self._update()

    def _r_igrpen1(self, c, name):
        return self.icc_igrpen1[c]

    def _w_igrpen1(self, c, name, v):
        self.icc_igrpen1[c] = v & 1
        self._update()

    def _apr(self, name):
        """(the list, index within a CPU's 4) of ICC_AP<g>R<n>_EL1."""
        return (self.icc_ap1r if name[6] == "1" else self.icc_ap0r), int(name[8])

    def _r_ap0r0(self, c, name):
        lst, n = self._apr(name)
        return lst[4 * c + n]

    def _w_ap0r0(self, c, name, v):
        lst, n = self._apr(name)
        lst[4 * c + n] = v & M32
        self._update()

    _r_ap0r1 = _r_ap0r2 = _r_ap0r3 = _r_ap1r0 = _r_ap1r1 = _r_ap1r2 = _r_ap1r3 = _r_ap0r0
    _w_ap0r1 = _w_ap0r2 = _w_ap0r3 = _w_ap1r0 = _w_ap1r1 = _w_ap1r2 = _w_ap1r3 = _w_ap0r0

    def _r_rpr(self, c, name):
        return self.running_priority(c)

    def _hppir(self, c, grp):
        if not self._enabled_hppi(c) or self._hppi[c][2] != grp:
            return SPURIOUS
        return self._hppi[c][0]

    def _r_hppir0(self, c, name):
        return self._hppir(c, 0)

    def _r_hppir1(self, c, name):
        return self._hppir(c, 1)

    def _r_iar0(self, c, name):
        return self.acknowledge(c, 0)

    def _r_iar1(self, c, name):
        return self.acknowledge(c, 1)

    def _w_eoir0(self, c, name, v):
        self.end_of_interrupt(c, 0, v)

    def _w_eoir1(self, c, name, v):
        self.end_of_interrupt(c, 1, v)

    def _w_dir(self, c, name, v):
        self.deactivate(c, v)

    def _w_sgi0r(self, c, name, v):
        self.send_sgi(c, v, 0)

    def _w_sgi1r(self, c, name, v):
        self.send_sgi(c, v, 1)

    def _w_asgi1r(self, c, name, v):
        self.send_sgi(c, v, 0)          # secure group 1, which is group 0 with DS = 1

    # --- CPU interface operations --------------------------------------------------------
    def acknowledge(self, c, grp):
        """ICC_IAR<grp>_EL1: the INTID, activated (1023 when none may preempt)."""
        if not self._can_preempt(c):
            return SPURIOUS
        irq = self._hppir(c, grp)
        if irq == SPURIOUS:
            return irq
        prio = self._hppi[c][1] & self._gprio_mask(c, grp)
        level = prio >> (8 - self.prebits)
        aprs = self.icc_ap1r if grp else self.icc_ap0r
        aprs[4 * c + level // 32] |= 1 << (level % 32)
        bit = 1 << (irq & 31)
        if irq < GIC_INTERNAL:
            self.gicr_iactiver0[c] |= bit
            self.gicr_ipendr0[c] &= ~bit
        else:
            self.gicd_iactiver[irq >> 5] |= bit
            self.gicd_ipendr[irq >> 5] &= ~bit
        self._update()
        return irq

    def _highest_active_group(self, c):
        for i in range(4):
            g0, g1 = _ctz32(self.icc_ap0r[4 * c + i]), _ctz32(self.icc_ap1r[4 * c + i])
            if g1 < g0:
                return 1
            if g0 < 32:
                return 0
        return -1

    def end_of_interrupt(self, c, grp, value):
        irq = value & 0xFF_FFFF
        if irq >= self.num_irq:
            return                      # spurious INTIDs and out of range: ignored
        active = self._highest_active_group(c)
        if active < 0:
            self._log(f"icc_eoir_write: IRQ {irq} isn't active\n")
            return
        if active != grp:
            return
        aprs = self.icc_ap1r if grp else self.icc_ap0r
        for i in range(4):              # drop the priority: the highest active level
            k = 4 * c + i
            if aprs[k]:
                aprs[k] &= aprs[k] - 1
                break
        if not self.icc_ctlr[c] & ICC_CTLR_EOIMODE:
            self._deactivate(c, irq)
        self._update()

    def deactivate(self, c, value):
        irq = value & 0xFF_FFFF
        if not self.icc_ctlr[c] & ICC_CTLR_EOIMODE or irq >= self.num_irq:
            return
        self._deactivate(c, irq)
        self._update()

    def _deactivate(self, c, irq):
        if irq < GIC_INTERNAL:
            self.gicr_iactiver0[c] &= ~(1 << irq)
        else:
            self.gicd_iactiver[irq >> 5] &= ~(1 << (irq & 31))

    def send_sgi(self, c, value, grp):
        """ICC_SGI<grp>R_EL1 written by CPU c: SGI value[27:24] to the CPUs of the
        target list at Aff3.Aff2.Aff1, or with IRM to every other CPU; pending only
        where the SGI is configured in group grp."""
        irq = (value >> 24) & 0xF
        if (value >> 40) & 1:
            targets = [o for o in range(self.num_cpu) if o != c]
        else:
            aff = (((value >> 48) & 0xFF) << 16) | (((value >> 32) & 0xFF) << 8) | ((value >> 16) & 0xFF)
            tl = value & 0xFFFF
            targets = [o for o in range(self.num_cpu)
                       if affinity(o) >> 8 == aff and tl >> (affinity(o) & 0xFF) & 1]
        for o in targets:
            if (self.gicr_igroupr0[o] >> irq) & 1 == grp:
                self.gicr_ipendr0[o] |= 1 << irq
        self._update()

class _View:
    """One of the GIC's MMIO regions as a device (read(off, size), write(off, size, v))."""

    def __init__(self, gic, name, read, write):
        self.gic, self.name, self.read, self.write = gic, name, read, write


GIC_FIELD = 24                # ID_AA64PFR0_EL1.GIC: 1 = the system register interface


def cpu_model(model, priority_bits):
    """The CPU model `model` (cpu/models.py CpuModel) as it is on a board with a GICv3:
    the ICC_* system registers exist (cpu/sysregs.py gates "gicv3", and "gicv3-apr4"
    with 7 preemption bits) and ID_AA64PFR0_EL1.GIC says so (QEMU 7.2 sets it to 1
    whenever the CPU is wired to a GICv3)."""
    from dataclasses import replace
    from pyaarch64.cpu.sysregs import GATE_GICV3, GATE_GICV3_APR4
    gates = (GATE_GICV3,) + ((GATE_GICV3_APR4,) if priority_bits == 8 else ())
    ids = dict(model.idregs)
    ids["ID_AA64PFR0_EL1"] = ids.get("ID_AA64PFR0_EL1", 0) | (1 << GIC_FIELD)
    return replace(model, idregs=ids, sysreg_gates=tuple(model.sysreg_gates) + gates)
