"""The GICv3's memory-mapped register files (machine/gicv3.py): the distributor and
the redistributors (RD_base and SGI_base frames per CPU), as QEMU 7.2 shows them
with one security state and affinity routing (the distributor's SGI/PPI registers,
GICD_ITARGETSR, GICD_SGIR, GICD_S/CPENDSGIR and GICD_NSACR RAZ/WI).  A mixin of
GICv3, on its state; accesses of a size a register does not have are guest errors,
RAZ/WI.  The register map's constants live here.
"""

GIC_INTERNAL = 32
IIDR = 0x43B
# CoreSight ID registers at 0xffd0..0xfffc (PIDR4..7, PIDR0..3, CIDR0..3); PIDR0 is
# 0x92 for the distributor, 0x93 for a redistributor
ID_REGS = (0x44, 0x00, 0x00, 0x00, None, 0xB4, 0x3B, 0x00, 0x0D, 0xF0, 0x05, 0xB1)
PIDR0_DIST, PIDR0_REDIST = 0x92, 0x93

GICD_SIZE = 0x10000
GICR_FRAME = 0x10000          # RD_base, then SGI_base
GICR_SIZE = 2 * GICR_FRAME    # per CPU

CTLR_EN_GRP0, CTLR_EN_GRP1 = 1, 2
GICD_CTLR_FIXED = 0x50        # ARE (bit 4) and DS (bit 6): read as one
GICD_TYPER_FIXED = (1 << 25) | (1 << 24) | (0xF << 19) | (1 << 17)   # No1N A3V IDbits LPIS
GICR_CTLR_CES = 2
GICR_TYPER_COMMON_LPI_AFF = 1 << 24
GICR_WAKER_SLEEP, GICR_WAKER_ASLEEP = 2, 4
SGI_EDGE = 0xFFFF                              # SGIs are edge-triggered
M32 = 0xFFFF_FFFF
M64 = (1 << 64) - 1


def affinity(cpu):
    """Aff3.Aff2.Aff1.Aff0 of CPU `cpu` on QEMU's virt with a GICv3: clusters of 16."""
    return ((cpu // 16) << 8) | (cpu % 16)


class GICv3Registers:
    """GICD_* and GICR_* for GICv3 (its state attributes, _route, _log)."""

    # --- the distributor ---------------------------------------------------------------
    def _bad(self, what, off, size):
        self._log(f"gicv3_{what}: invalid guest {'read' if what.endswith('read') else 'write'} "
                  f"at offset 0x{off:016x} size {size}\n")

    def dist_read(self, off, size):
        v = self._dist_read(off, size)
        if v is None:
            self._bad("dist_read", off, size)
            return 0
        return v

    def _dist_read(self, off, size):
        if 0x400 <= off < 0xC00:                                  # IPRIORITYR, ITARGETSR: bytes
            if size == 8:
                return None
            if off >= 0x800:
                return 0                                          # ITARGETSR: RAZ/WI (ARE)
            v = 0
            for i in range(size):
                irq = off - 0x400 + i
                if GIC_INTERNAL <= irq < self.num_irq:
                    v |= self.gicd_ipriorityr[irq] << (8 * i)
            return v
        if 0x6000 <= off < 0x7FE0:                                # IROUTER<n>
            irq = (off - 0x6000) >> 3
            if size not in (4, 8) or off & (size - 1):
                return None
            v = self.gicd_irouter[irq] if GIC_INTERNAL <= irq < self.num_irq else 0
            return (v >> (8 * (off & 4))) & (M64 if size == 8 else M32)
        if size != 4 or off & 3:
            return None
        if off == 0:
            return self.gicd_ctlr | GICD_CTLR_FIXED
        if off == 4:
            return GICD_TYPER_FIXED | ((self.num_irq - GIC_INTERNAL) // 32 - 1)
        if off == 8:
            return IIDR
        if off in (0xC, 0x10):                                    # TYPER2, STATUSR
            return 0
        if 0x80 <= off < 0x400 or 0xD00 <= off < 0xD80:
            w = (off & 0x7F) >> 2
            if w == 0 or w >= self.num_irq // 32:
                return 0                                          # SGIs/PPIs: RAZ (ARE)
            kind = (off >> 7) if off < 0x400 else 0x1A
            if kind == 1:
                return self.gicd_igroupr[w]
            if kind in (2, 3):
                return self.gicd_ienabler[w]
            if kind in (4, 5):
                return self.gicd_ipendr[w] | (self.gicd_level[w] & ~self.gicd_edge[w])
            if kind in (6, 7):
                return self.gicd_iactiver[w]
            return self.gicd_igrpmodr[w]
        if 0xC00 <= off < 0xD00:                                  # ICFGR
            irq = (off - 0xC00) * 4
            if irq < GIC_INTERNAL or irq >= self.num_irq:
                return 0
            e = self.gicd_edge[irq >> 5] >> (irq & 31)
            return sum(2 << (2 * i) for i in range(16) if e >> i & 1)
        if 0xD80 <= off < 0xF30:                                  # NSACR, SGIR, S/CPENDSGIR
            return 0
        if 0xFFD0 <= off:
            return self._id_reg(off, PIDR0_DIST)
        return None

    @staticmethod
    def _id_reg(off, pidr0):
        v = ID_REGS[(off - 0xFFD0) >> 2]
        return pidr0 if v is None else v

    def dist_write(self, off, size, value):
        if not self._dist_write(off, size, value):
            self._bad("dist_write", off, size)
        self._update()

    def _dist_write(self, off, size, value):
        if 0x400 <= off < 0xC00:
            if size == 8:
                return False
            if off < 0x800:
                for i in range(size):
                    irq = off - 0x400 + i
                    if GIC_INTERNAL <= irq < self.num_irq:
                        self.gicd_ipriorityr[irq] = (value >> (8 * i)) & 0xFF
            return True
        if 0x6000 <= off < 0x7FE0:
            irq = (off - 0x6000) >> 3
            if size not in (4, 8) or off & (size - 1):
                return False
            if GIC_INTERNAL <= irq < self.num_irq:
                if size == 4:
                    sh = 8 * (off & 4)
                    value = (self.gicd_irouter[irq] & ~(M32 << sh)) | ((value & M32) << sh)
                self.gicd_irouter[irq] = value & M64
                self._target[irq] = self._route(self.gicd_irouter[irq])
            return True
        if size != 4 or off & 3:
            return False
        value &= M32
        if off == 0:
            self.gicd_ctlr = value & (CTLR_EN_GRP0 | CTLR_EN_GRP1)
            return True
        if 0x80 <= off < 0x400 or 0xD00 <= off < 0xD80:
            w = (off & 0x7F) >> 2
            if w == 0 or w >= self.num_irq // 32:
                return True
            kind = (off >> 7) if off < 0x400 else 0x1A
            if kind == 1:
                self.gicd_igroupr[w] = value
            elif kind == 2:
                self.gicd_ienabler[w] |= value
            elif kind == 3:
                self.gicd_ienabler[w] &= ~value
            elif kind == 4:
                self.gicd_ipendr[w] |= value
            elif kind == 5:
                self.gicd_ipendr[w] &= ~value
            elif kind == 6:
                self.gicd_iactiver[w] |= value
            elif kind == 7:
                self.gicd_iactiver[w] &= ~value
            else:
                self.gicd_igrpmodr[w] = value
            return True
        if 0xC00 <= off < 0xD00:
            irq = (off - 0xC00) * 4
            if GIC_INTERNAL <= irq < self.num_irq:
                e = sum(1 << i for i in range(16) if value >> (2 * i + 1) & 1)
                sh = irq & 31
                w = irq >> 5
                self.gicd_edge[w] = (self.gicd_edge[w] & ~(0xFFFF << sh)) | (e << sh)
            return True
        if 0xD80 <= off < 0xF30:
            return True                                  # NSACR, SGIR, S/CPENDSGIR: WI
        return off in (4, 8, 0xC, 0x10)                  # read-only: ignored

    # --- the redistributors ----------------------------------------------------------------
    def redist_read(self, off, size):
        c, off = divmod(off, GICR_SIZE)
        v = self._redist_read(c, off, size) if c < self.num_cpu else None
        if v is None:
            self._bad("redist_read", off, size)
            return 0
        return v

    def _typer(self, c):
        return ((affinity(c) << 32) | GICR_TYPER_COMMON_LPI_AFF | (c << 8)
                | ((c == self.num_cpu - 1) << 4) | 1)

    def _redist_read(self, c, off, size):
        if GICR_FRAME + 0x400 <= off < GICR_FRAME + 0x420:       # IPRIORITYR: bytes too
            if size == 8:
                return None
            base = c * GIC_INTERNAL + off - GICR_FRAME - 0x400
            return sum(self.gicr_ipriorityr[base + i] << (8 * i) for i in range(size))
        if size == 8 and off in (0x8, 0x70, 0x78):
            return {0x8: self._typer(c), 0x70: self.gicr_propbaser[c],
                    0x78: self.gicr_pendbaser[c]}[off]
        if size != 4 or off & 3:
            return None
        if off < GICR_FRAME:
            if off == 0:
                return self.gicr_ctlr[c] | GICR_CTLR_CES
            if off == 4:
                return IIDR
            if off in (8, 0xC):
                return (self._typer(c) >> (8 * (off - 8))) & M32
            if off == 0x10:
                return 0
            if off == 0x14:
                return self.gicr_waker[c]
            if 0x70 <= off < 0x80:
                v = self.gicr_propbaser[c] if off < 0x78 else self.gicr_pendbaser[c]
                return (v >> (8 * (off & 4))) & M32
            if 0xFFD0 <= off:
                return self._id_reg(off, PIDR0_REDIST)
            return None
        off -= GICR_FRAME
        if off == 0x80:
            return self.gicr_igroupr0[c]
        if off in (0x100, 0x180):
            return self.gicr_ienabler0[c]
        if off in (0x200, 0x280):
            return self.gicr_ipendr0[c] | (self.gicr_level[c] & ~self.gicr_edge[c])
        if off in (0x300, 0x380):
            return self.gicr_iactiver0[c]
        if off == 0xC00:
            return 0xAAAA_AAAA
        if off == 0xC04:
            e = self.gicr_edge[c] >> 16
            return sum(2 << (2 * i) for i in range(16) if e >> i & 1)
        if off == 0xD00:
            return self.gicr_igrpmodr0[c]
        if off == 0xE00:
            return 0
        return None

    def redist_write(self, off, size, value):
        c, off = divmod(off, GICR_SIZE)
        if c >= self.num_cpu or not self._redist_write(c, off, size, value):
            self._bad("redist_write", off, size)
        self._update()

    def _redist_write(self, c, off, size, value):
        if GICR_FRAME + 0x400 <= off < GICR_FRAME + 0x420:
            if size == 8:
                return False
            base = c * GIC_INTERNAL + off - GICR_FRAME - 0x400
            for i in range(size):
                self.gicr_ipriorityr[base + i] = (value >> (8 * i)) & 0xFF
            return True
        if size == 8 and off in (0x70, 0x78):
            (self.gicr_propbaser if off == 0x70 else self.gicr_pendbaser)[c] = value & M64
            return True
        if size != 4 or off & 3:
            return False
        value &= M32
        if off < GICR_FRAME:
            if off == 0:
                self.gicr_ctlr[c] = value & 1           # EnableLPIs (no LPIs act)
            elif off == 0x14:
                sleep = value & GICR_WAKER_SLEEP
                self.gicr_waker[c] = sleep | (GICR_WAKER_ASLEEP if sleep else 0)
            elif 0x70 <= off < 0x80:
                lst = self.gicr_propbaser if off < 0x78 else self.gicr_pendbaser
                sh = 8 * (off & 4)
                lst[c] = (lst[c] & ~(M32 << sh)) | (value << sh)
            return off in (0, 4, 8, 0xC, 0x10, 0x14, 0x70, 0x74, 0x78, 0x7C) or off >= 0xFFD0
        off -= GICR_FRAME
        if off == 0x80:
            self.gicr_igroupr0[c] = value
        elif off == 0x100:
            self.gicr_ienabler0[c] |= value
        elif off == 0x180:
            self.gicr_ienabler0[c] &= ~value
        elif off == 0x200:
            self.gicr_ipendr0[c] |= value
        elif off == 0x280:
            self.gicr_ipendr0[c] &= ~value
        elif off == 0x300:
            self.gicr_iactiver0[c] |= value
        elif off == 0x380:
            self.gicr_iactiver0[c] &= ~value
        elif off == 0xC04:
            e = sum(1 << i for i in range(16) if value >> (2 * i + 1) & 1)
            self.gicr_edge[c] = SGI_EDGE | (e << 16)
        elif off == 0xD00:
            self.gicr_igrpmodr0[c] = value
        elif off not in (0xC00, 0xE00):
            return False
        return True
