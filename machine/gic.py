"""Arm Generic Interrupt Controller v2 as QEMU 7.2's virt board has it
(`arm,cortex-a15-gic`: GICv2 with interrupt groups, no security extensions,
no virtualization extensions), one distributor and one CPU interface per CPU.

Guest-visible behaviour follows QEMU 7.2 (checked by tests/guest/gic_*.c, whose
expected output comes from QEMU):
  * 8 priority bits; GICC_BPR minimum 0, GICC_ABPR minimum 1; 128 preemption
    levels held in GICC_APR0-3 (group 0) and GICC_NSAPR0-3 (group 1).
  * GICD_IIDR 0x43b, GICC_IIDR 0x2043b, GICD_TYPER ITLinesNumber from num_irq.
  * SGIs are always enabled and always edge-triggered; their pending state is
    per source CPU (GICD_SPENDSGIR/CPENDSGIR); ISPENDR/ICPENDR ignore them.
  * With a single CPU, GICD_ITARGETSR is RAZ/WI and every SPI targets CPU 0.
  * The GICD_SGIR filter value 3 (reserved) targets every CPU.
  * Level-sensitive interrupts are pending while their line is high or while
    software set them pending; acknowledging clears only the latch.
  * Without the security extensions the guest's accesses behave as secure
    ones: group 1 interrupts read as 1022 in IAR/HPPIR unless GICC_CTLR.AckCtl;
    group 0 interrupts go to FIQ when GICC_CTLR.FIQEn; the aliased registers
    (AIAR/AEOIR/AHPPIR) are RAZ/WI.
  * The running priority is the one of the lowest set APR/NSAPR bit, so guest
    writes to the APRs change GICC_RPR.

State is plain named attributes (ints and lists of ints).  Per-INTID lists hold
CPU masks (bit c = CPU c): banked for SGIs/PPIs (INTID < 32), targets for SPIs.
"""

from itertools import compress
from operator import or_

from pyaarch64.snapshot.schema import Field

GIC_INTERNAL = 32
GIC_NR_SGIS = 16
NUM_APRS = 4                  # 128 preemption levels / 32
SPURIOUS = 1023
GROUP1_SPURIOUS = 1022
IDLE_PRIORITY = 0x100         # running priority with nothing active (reads 0xff)

GICD_IIDR = 0x0000043B
GICC_IIDR = 0x0002043B
# GICD_PIDR4..7, PIDR0..3, CIDR0..3 at 0xfd0..0xffc
GICD_ID = (0x04, 0x00, 0x00, 0x00, 0x90, 0xB4, 0x2B, 0x00, 0x0D, 0xF0, 0x05, 0xB1)

CTLR_EN_GRP0 = 1 << 0
CTLR_EN_GRP1 = 1 << 1
CTLR_ACK_CTL = 1 << 2
CTLR_FIQ_EN = 1 << 3
CTLR_CBPR = 1 << 4
CTLR_EOIMODE = 1 << 9
GICC_CTLR_MASK = 0x21F

GICD_SIZE = 0x1000            # QEMU's distributor region; the rest of the 64 KiB is unassigned
GICC_SIZE = 0x2000            # CPU interface incl. GICC_DIR at 0x1000


def _cpu_mask(gic):
    """The bits a per-INTID CPU mask can have on this GIC (its snapshot bound)."""
    return gic.all_cpus


class GICv2:
    """Distributor + CPU interfaces.  `cpus[c]` is an object with
    set_irq_line(which, level) (0 = IRQ, 1 = FIQ)."""

    name = "gic"
    # guest-visible state for snapshots (Field: attribute, type, values it may hold);
    # lists are per CPU
    # (cpu_ctlr .. abpr), per CPU x 4 (apr, nsapr), per INTID (enabled .. target:
    # CPU masks), banked priorities (32 per CPU, then the SPIs) and per CPU x 16
    # (sgi_pending: source CPU masks).  Everything else is configuration (num_irq,
    # num_cpu), wiring (cpus, guest_error, dist, cpuif) or derived (irq_out,
    # fiq_out, _hot: see post_load).
    STATE_FIELDS = (
        Field("ctlr", "u32", mask=CTLR_EN_GRP0 | CTLR_EN_GRP1),
        Field("cpu_ctlr", "u32[]", mask=GICC_CTLR_MASK), Field("pmr", "u32[]", mask=0xFF),
        Field("bpr", "u32[]", mask=7), Field("abpr", "u32[]", lo=1, hi=7),
        Field("apr", "u32[]"), Field("nsapr", "u32[]"),
        Field("enabled", "u8[]", mask=_cpu_mask), Field("pending", "u8[]", mask=_cpu_mask),
        Field("active", "u8[]", mask=_cpu_mask), Field("level", "u8[]", mask=_cpu_mask),
        Field("edge", "u8[]", mask=1), Field("group", "u8[]", mask=_cpu_mask),
        Field("target", "u8[]", mask=_cpu_mask), Field("priority", "u8[]"),
        Field("sgi_pending", "u8[]"),       # source CPU masks as GICD_SPENDSGIR wrote them
    )

    def __init__(self, num_irq=288, num_cpu=1, cpus=()):
        if num_irq % 32 or not GIC_INTERNAL < num_irq <= 1020:
            raise ValueError(f"GIC num_irq {num_irq} is not a multiple of 32 in 64..1020")
        if not 1 <= num_cpu <= 8:
            raise ValueError("GICv2 supports 1 to 8 CPUs")
        self.num_irq = num_irq
        self.num_cpu = num_cpu
        self.cpus = list(cpus)
        self.guest_error = None     # callable(message) for QEMU-style guest_errors logs
        self.dist = GICDistributorView(self)
        self.cpuif = [GICCpuInterfaceView(self, c) for c in range(num_cpu)]
        self.cpuif_banked = GICBankedCpuInterfaceView(self)
        self.accessing_cpu = lambda: 0    # the board's: the CPU whose access this is
        self.reset()

    @property
    def all_cpus(self):
        return (1 << self.num_cpu) - 1

    def reset(self):
        n, nc = self.num_irq, self.num_cpu
        allc = self.all_cpus
        self.ctlr = 0
        self.cpu_ctlr = [0] * nc
        self.pmr = [0] * nc
        self.bpr = [0] * nc
        self.abpr = [1] * nc
        self.apr = [0] * (NUM_APRS * nc)        # index cpu * 4 + n
        self.nsapr = [0] * (NUM_APRS * nc)
        self.enabled = [0] * n
        self.pending = [0] * n                   # latch (edge or software); SGIs use sgi_pending
        self.active = [0] * n
        self.level = [0] * n                     # input line
        self.edge = [0] * n                      # 1 = edge-triggered
        self.group = [0] * n                     # CPU mask of group-1 state
        self.target = [0] * n                    # SPI targets
        self.priority = [0] * (GIC_INTERNAL * nc + n - GIC_INTERNAL)
        self.sgi_pending = [0] * (GIC_NR_SGIS * nc)   # index cpu * 16 + sgi: source CPU mask
        self.irq_out = [0] * nc
        self.fiq_out = [0] * nc
        self._rebuild_hot()
        for i in range(GIC_NR_SGIS):
            self.enabled[i] = allc
            self.edge[i] = 1
        if nc == 1:
            for i in range(GIC_INTERNAL, n):
                self.target[i] = 1
        for cpu in self.cpus:           # the outputs go low with the reset
            cpu.set_irq_line(0, 0)
            cpu.set_irq_line(1, 0)

    # --- helpers -----------------------------------------------------------------
    def _rebuild_hot(self):
        """Derived (not state): the PPIs/SPIs with a pending latch or a line up,
        the only ones that can be pending.  Rebuild after restoring the lists."""
        n = self.num_irq
        self._hot = set(compress(range(GIC_NR_SGIS, n),
                                 map(or_, self.pending[GIC_NR_SGIS:n], self.level[GIC_NR_SGIS:n])))

    def post_load(self):
        """After the state lists were restored (snapshots): rebuild derived data
        and drive the CPUs' IRQ/FIQ inputs from the restored state."""
        self._rebuild_hot()
        self.irq_out = [-1] * self.num_cpu
        self.fiq_out = [-1] * self.num_cpu
        self._update()

    def _refresh_hot(self, irq):
        if self.pending[irq] or self.level[irq]:
            self._hot.add(irq)
        else:
            self._hot.discard(irq)

    def _log(self, msg):
        if self.guest_error is not None:
            self.guest_error(msg)

    def _prio_index(self, irq, cpu):
        if irq < GIC_INTERNAL:
            return cpu * GIC_INTERNAL + irq
        return self.num_cpu * GIC_INTERNAL + irq - GIC_INTERNAL

    def get_priority(self, irq, cpu):
        return self.priority[self._prio_index(irq, cpu)]

    def is_pending(self, irq, cpu):
        cm = 1 << cpu
        if irq < GIC_NR_SGIS:
            return self.sgi_pending[cpu * GIC_NR_SGIS + irq] != 0
        return bool(self.pending[irq] & cm) or (not self.edge[irq] and bool(self.level[irq] & cm))

    def _group_of(self, irq, cpu):
        return 1 if self.group[irq] & (1 << cpu) else 0

    def _group_priority(self, irq, cpu):
        """Priority with the bits below the binary point masked (the group priority)."""
        if self._group_of(irq, cpu) and not (self.cpu_ctlr[cpu] & CTLR_CBPR):
            bpr = self.abpr[cpu] - 1
        else:
            bpr = self.bpr[cpu]
        return self.get_priority(irq, cpu) & (0xFF << ((bpr & 7) + 1)) & 0xFF

    def running_priority(self, cpu):
        """Priority of the highest active preemption level (IDLE_PRIORITY if none)."""
        for i in range(NUM_APRS):
            bits = self.apr[cpu * NUM_APRS + i] | self.nsapr[cpu * NUM_APRS + i]
            if bits:
                level = i * 32 + ((bits & -bits).bit_length() - 1)
                return level << 1
        return IDLE_PRIORITY

    def _best_pending(self, cpu):
        """(INTID, priority) of the highest-priority enabled, pending, inactive
        interrupt targeting `cpu`, or (1023, 0x100)."""
        cm = 1 << cpu
        best, best_prio = SPURIOUS, IDLE_PRIORITY
        en, act, pend, lvl, edge, tgt = (self.enabled, self.active, self.pending, self.level,
                                        self.edge, self.target)
        sgis = self.sgi_pending[cpu * GIC_NR_SGIS:(cpu + 1) * GIC_NR_SGIS]
        for irq in compress(range(GIC_NR_SGIS), sgis):
            if not act[irq] & cm:
                p = self.priority[cpu * GIC_INTERNAL + irq]
                if p < best_prio:
                    best, best_prio = irq, p
        base = self.num_cpu * GIC_INTERNAL - GIC_INTERNAL
        # only INTIDs with a latch or a line up can be pending
        for irq in self._hot:
            if not en[irq] & cm or act[irq] & cm:
                continue
            if not (pend[irq] & cm or (not edge[irq] and lvl[irq] & cm)):
                continue
            if irq < GIC_INTERNAL:
                p = self.priority[cpu * GIC_INTERNAL + irq]
            else:
                if not tgt[irq] & cm:
                    continue
                p = self.priority[base + irq]
            if p < best_prio or (p == best_prio and irq < best):
                best, best_prio = irq, p
        return best, best_prio

    def _current_pending(self, cpu):
        """The interrupt the CPU interface presents (HPPIR view): 1023 when the
        distributor or CPU interface is disabled or the best one is masked by
        GICC_PMR; 1022 for a group-1 interrupt without AckCtl."""
        if not (self.ctlr & 3) or not (self.cpu_ctlr[cpu] & 3):
            return SPURIOUS
        irq, prio = self._best_pending(cpu)
        if irq == SPURIOUS or prio >= self.pmr[cpu]:
            return SPURIOUS
        if self._group_of(irq, cpu) and not (self.cpu_ctlr[cpu] & CTLR_ACK_CTL):
            return GROUP1_SPURIOUS
        return irq

    def _update(self):
        for cpu in range(self.num_cpu):
            irq_level = fiq_level = 0
            if (self.ctlr & 3) and (self.cpu_ctlr[cpu] & 3):
                irq, prio = self._best_pending(cpu)
                if (irq != SPURIOUS and prio < self.pmr[cpu]
                        and self._group_priority(irq, cpu) < self.running_priority(cpu)):
                    g = self._group_of(irq, cpu)
                    if (self.ctlr >> g) & 1 and (self.cpu_ctlr[cpu] >> g) & 1:
                        if g == 0 and self.cpu_ctlr[cpu] & CTLR_FIQ_EN:
                            fiq_level = 1
                        else:
                            irq_level = 1
            if irq_level != self.irq_out[cpu]:
                self.irq_out[cpu] = irq_level
                if cpu < len(self.cpus):
                    self.cpus[cpu].set_irq_line(0, irq_level)
            if fiq_level != self.fiq_out[cpu]:
                self.fiq_out[cpu] = fiq_level
                if cpu < len(self.cpus):
                    self.cpus[cpu].set_irq_line(1, fiq_level)

    # --- input lines ---------------------------------------------------------------
    def set_irq(self, intid, level, cpu=0):
        """Drive an interrupt input: a PPI (16..31) of `cpu`, or an SPI (32..num_irq-1)."""
        if intid < GIC_NR_SGIS or intid >= self.num_irq:
            raise ValueError(f"GIC input {intid} is not a PPI or SPI")
        cm = (1 << cpu) if intid < GIC_INTERNAL else self.all_cpus
        old = 1 if self.level[intid] & cm else 0
        level = 1 if level else 0
        if level == old:
            return
        if level:
            self.level[intid] |= cm
            if self.edge[intid]:
                self.pending[intid] |= (1 << cpu) if intid < GIC_INTERNAL else self.target[intid]
        else:
            self.level[intid] &= ~cm
        self._refresh_hot(intid)
        self._update()

    # --- CPU interface operations ----------------------------------------------------
    def acknowledge(self, cpu):
        irq = self._current_pending(cpu)
        if irq >= GROUP1_SPURIOUS:
            return irq
        if self._group_priority(irq, cpu) >= self.running_priority(cpu):
            return SPURIOUS
        cm = 1 << cpu
        ret = irq
        if irq < GIC_NR_SGIS:
            k = cpu * GIC_NR_SGIS + irq
            src = (self.sgi_pending[k] & -self.sgi_pending[k]).bit_length() - 1
            self.sgi_pending[k] &= ~(1 << src)
            ret = irq | (src << 10)
        else:
            self.pending[irq] &= ~cm
            self._refresh_hot(irq)
        # activate: the preemption level's APR bit, then the active state
        level = self._group_priority(irq, cpu) >> 1
        k = cpu * NUM_APRS + level // 32
        if self._group_of(irq, cpu):
            self.nsapr[k] |= 1 << (level % 32)
        else:
            self.apr[k] |= 1 << (level % 32)
        self.active[irq] |= cm
        self._update()
        return ret

    def end_of_interrupt(self, cpu, value):
        irq = value & 0x3FF
        if irq >= self.num_irq:
            return                          # spurious IDs and out-of-range: ignored
        if self.running_priority(cpu) == IDLE_PRIORITY:
            return                          # nothing active: ignored
        # drop the priority: the highest active level of this interrupt's group
        aprs = self.nsapr if self._group_of(irq, cpu) else self.apr
        for i in range(NUM_APRS):
            k = cpu * NUM_APRS + i
            if aprs[k]:
                aprs[k] &= aprs[k] - 1
                break
        if not self.cpu_ctlr[cpu] & CTLR_EOIMODE:
            self.active[irq] &= ~(1 << cpu)
        self._update()

    def deactivate(self, cpu, value):
        irq = value & 0x3FF
        if irq >= self.num_irq:
            return
        if not self.cpu_ctlr[cpu] & CTLR_EOIMODE:
            self._log("gic_deactivate_irq: GICC_DIR write when EOIMode clear\n")
            return
        self.active[irq] &= ~(1 << cpu)
        self._update()

    def send_sgi(self, cpu, value):
        irq = value & 0xF
        filt = (value >> 24) & 3
        if filt == 0:
            mask = (value >> 16) & 0xFF
        elif filt == 1:
            mask = 0xFF & ~(1 << cpu)
        elif filt == 2:
            mask = 1 << cpu
        else:
            mask = 0xFF                      # reserved filter: QEMU 7.2 targets every CPU
        for c in range(self.num_cpu):
            if mask & (1 << c):
                self.sgi_pending[c * GIC_NR_SGIS + irq] |= 1 << cpu
        self._update()

    # --- distributor registers (byte view, as QEMU composes wider accesses) ---------
    def dist_readb(self, cpu, off):
        n = self.num_irq
        cm = 1 << cpu
        if off < 0x80:
            if off < 4:
                return self.ctlr if off == 0 else 0
            if off < 8:
                typer = (n // 32 - 1) | ((self.num_cpu - 1) << 5)
                return (typer >> ((off - 4) * 8)) & 0xFF
            if off < 0xC:
                return (GICD_IIDR >> ((off - 8) * 8)) & 0xFF
            return self._bad("read", off)
        if off < 0x400:
            irq = (off & 0x7F) * 8
            if irq >= n:
                return self._bad("read", off) if off < 0x380 else 0
            kind = off >> 7
            res = 0
            for i in range(8):
                j = irq + i
                if kind == 1:                                  # IGROUPR
                    bit = self.group[j] & cm
                elif kind in (2, 3):                           # IS/ICENABLER
                    bit = self.enabled[j] & cm
                elif kind in (4, 5):                           # IS/ICPENDR
                    bit = self.is_pending(j, cpu)
                else:                                          # IS/ICACTIVER
                    bit = self.active[j] & cm
                if bit:
                    res |= 1 << i
            return res
        if off < 0x800:
            irq = off - 0x400
            if irq >= n:
                return self._bad("read", off)
            return self.get_priority(irq, cpu)
        if off < 0xC00:
            irq = off - 0x800
            if irq >= n:
                return self._bad("read", off)
            if self.num_cpu == 1:
                return 0                    # uniprocessor: RAZ/WI
            if irq < GIC_INTERNAL:
                return cm
            return self.target[irq]
        if off < 0xF00:
            if off >= 0xD00:
                return self._bad("read", off)
            irq = (off - 0xC00) * 4
            if irq >= n:
                return self._bad("read", off)
            res = 0
            for i in range(4):
                if self.edge[irq + i]:
                    res |= 2 << (2 * i)
            return res
        if off < 0xF10:
            return self._bad("read", off)   # GICD_SGIR is write-only
        if off < 0xF30:
            sgi = (off - 0xF10) & 0xF
            return self.sgi_pending[cpu * GIC_NR_SGIS + sgi]
        if 0xFD0 <= off < 0x1000:
            return GICD_ID[(off - 0xFD0) >> 2] if off & 3 == 0 else 0
        return self._bad("read", off)

    def dist_writeb(self, cpu, off, value):
        n = self.num_irq
        cm = 1 << cpu
        value &= 0xFF
        if off < 0x80:
            if off == 0:
                self.ctlr = value & (CTLR_EN_GRP0 | CTLR_EN_GRP1)
            elif off >= 4:
                self._bad("write", off)     # TYPER/IIDR are read-only
        elif off < 0x400:
            irq = (off & 0x7F) * 8
            if irq >= n:
                if off < 0x380:
                    self._bad("write", off)
                return
            kind = off >> 7
            if irq < GIC_NR_SGIS and kind in (2, 3, 4, 5):
                return                      # SGIs: always enabled, pending only via S/CPENDSGIR
            for i in range(8):
                if not value & (1 << i):
                    if kind == 1:
                        self.group[irq + i] &= ~(cm if irq < GIC_INTERNAL else self.all_cpus)
                    continue
                j = irq + i
                bank = cm if j < GIC_INTERNAL else self.all_cpus
                if kind == 1:
                    self.group[j] |= bank
                elif kind == 2:
                    self.enabled[j] |= bank
                elif kind == 3:
                    self.enabled[j] &= ~bank
                elif kind == 4:
                    self.pending[j] |= cm if j < GIC_INTERNAL else self.target[j]
                    self._refresh_hot(j)
                elif kind == 5:
                    self.pending[j] &= ~bank
                    self._refresh_hot(j)
                elif kind == 6:
                    self.active[j] |= cm if j < GIC_INTERNAL else self.target[j]
                else:
                    self.active[j] &= ~bank
        elif off < 0x800:
            irq = off - 0x400
            if irq >= n:
                self._bad("write", off)
                return
            self.priority[self._prio_index(irq, cpu)] = value
        elif off < 0xC00:
            irq = off - 0x800
            if irq >= n:
                self._bad("write", off)
                return
            if self.num_cpu > 1 and irq >= GIC_INTERNAL:
                self.target[irq] = value & self.all_cpus
        elif off < 0xF00:
            if off >= 0xD00:
                if off >= 0xD80:
                    self._bad("write", off)
                return
            irq = (off - 0xC00) * 4
            if irq >= n:
                self._bad("write", off)
                return
            if irq < GIC_NR_SGIS:
                return                      # SGIs are edge-triggered, read-only
            for i in range(4):
                self.edge[irq + i] = 1 if value & (2 << (2 * i)) else 0
        elif off < 0xF10:
            self._bad("write", off)         # GICD_SGIR takes word writes only (dist_write)
        elif off < 0xF30:
            sgi = (off - 0xF10) & 0xF
            k = cpu * GIC_NR_SGIS + sgi
            if off < 0xF20:
                self.sgi_pending[k] &= ~value
            else:
                self.sgi_pending[k] |= value & 0xFF
        else:
            self._bad("write", off)         # incl. the read-only ID registers

    def _bad(self, what, off):
        self._log(f"gic_dist_{'readb' if what == 'read' else 'writeb'}: Bad offset {off:x}\n")
        return 0

    def dist_read(self, cpu, off, size):
        v = 0
        for i in range(size):
            v |= self.dist_readb(cpu, off + i) << (8 * i)
        return v

    def dist_write(self, cpu, off, size, value):
        if size == 8:                       # two 32-bit accesses, as QEMU
            self.dist_write(cpu, off, 4, value & 0xFFFFFFFF)
            self.dist_write(cpu, off + 4, 4, value >> 32)
            return
        if off == 0xF00 and size == 4:
            self.send_sgi(cpu, value & 0xFFFFFFFF)
            return
        for i in range(size):
            self.dist_writeb(cpu, off + i, (value >> (8 * i)) & 0xFF)
        self._update()

    # --- CPU interface registers (32-bit) -------------------------------------------
    def cpu_read32(self, cpu, off):
        if off == 0x00:
            return self.cpu_ctlr[cpu]
        if off == 0x04:
            return self.pmr[cpu]
        if off == 0x08:
            return self.bpr[cpu]
        if off == 0x0C:
            return self.acknowledge(cpu)
        if off == 0x14:
            rp = self.running_priority(cpu)
            return 0xFF if rp == IDLE_PRIORITY else rp
        if off == 0x18:
            return self._current_pending(cpu)
        if off == 0x1C:
            return self.abpr[cpu]
        if 0xD0 <= off < 0xE0:
            return self.apr[cpu * NUM_APRS + ((off - 0xD0) >> 2)]
        if 0xE0 <= off < 0xF0:
            return self.nsapr[cpu * NUM_APRS + ((off - 0xE0) >> 2)]
        if off == 0xFC:
            return GICC_IIDR
        # AIAR/AHPPIR (no security extensions), write-only registers: logged, 0
        self._log(f"gic_cpu_read: Bad offset {off:x}\n")
        return 0

    def cpu_write32(self, cpu, off, value):
        value &= 0xFFFFFFFF
        if off == 0x00:
            self.cpu_ctlr[cpu] = value & GICC_CTLR_MASK
        elif off == 0x04:
            self.pmr[cpu] = value & 0xFF
        elif off == 0x08:
            self.bpr[cpu] = value & 7
        elif off == 0x10:
            self.end_of_interrupt(cpu, value)
            return
        elif off == 0x1C:
            self.abpr[cpu] = max(value & 7, 1)
        elif 0xD0 <= off < 0xE0:
            self.apr[cpu * NUM_APRS + ((off - 0xD0) >> 2)] = value
        elif 0xE0 <= off < 0xF0:
            self.nsapr[cpu * NUM_APRS + ((off - 0xE0) >> 2)] = value
        elif off == 0x1000:
            self.deactivate(cpu, value)
            return
        else:                               # incl. the read-only registers
            self._log(f"gic_cpu_write: Bad offset {off:x}\n")
        self._update()

    def cpu_read(self, cpu, off, size):
        """As QEMU 7.2: 64-bit accesses are two 32-bit ones; narrower accesses
        address the register at exactly that offset (truncated), so a byte or
        halfword inside a register reads 0 and writes nothing."""
        if size == 8:
            return self.cpu_read(cpu, off, 4) | (self.cpu_read(cpu, off + 4, 4) << 32)
        return self.cpu_read32(cpu, off) & ((1 << (8 * size)) - 1)

    def cpu_write(self, cpu, off, size, value):
        if size == 8:
            self.cpu_write(cpu, off, 4, value & 0xFFFFFFFF)
            self.cpu_write(cpu, off + 4, 4, value >> 32)
            return
        self.cpu_write32(cpu, off, value & ((1 << (8 * size)) - 1))


class GICDistributorView:
    """The distributor as an MMIO device (its banked registers are those of the CPU
    the board says accesses it: gic.accessing_cpu())."""
    name = "gic-distributor"

    def __init__(self, gic):
        self.gic = gic

    def read(self, off, size):
        return self.gic.dist_read(self.gic.accessing_cpu(), off, size)

    def write(self, off, size, value):
        self.gic.dist_write(self.gic.accessing_cpu(), off, size, value)


class GICCpuInterfaceView:
    """One CPU's interface as an MMIO device."""
    name = "gic-cpu-interface"

    def __init__(self, gic, cpu):
        self.gic = gic
        self.cpu = cpu

    def read(self, off, size):
        return self.gic.cpu_read(self.cpu, off, size)

    def write(self, off, size, value):
        self.gic.cpu_write(self.cpu, off, size, value)


class GICBankedCpuInterfaceView:
    """The CPU interface region as every CPU sees it: its own interface (the one of
    gic.accessing_cpu())."""
    name = "gic-cpu-interface"

    def __init__(self, gic):
        self.gic = gic

    def read(self, off, size):
        return self.gic.cpu_read(self.gic.accessing_cpu(), off, size)

    def write(self, off, size, value):
        self.gic.cpu_write(self.gic.accessing_cpu(), off, size, value)
