"""The generic timer's host side: output lines and deadlines of the EL1 physical and
virtual timers, derived from their CTL/CVAL registers and the virtual counter.

The counter is virtual time: `instructions retired << icount_shift` ns plus the
time the PE slept in WFI (C_IDLE_NS), divided by the tick length of CNTFRQ.  The
numba side reads and writes the registers (cpu/sysreg_access.py) and exits with
EXIT_TIMER after a write; the board then calls `lines()` and `next_deadline_ns()`
and runs the CPU no further than that deadline, so an interrupt fires at exactly
the instruction count it is due (deterministic).
"""
from pyaarch64.cpu import ops as O
from pyaarch64.cpu import sysregs as SR

M64 = (1 << 64) - 1

# name -> (CTL slot, CVAL slot)
TIMERS = {
    "phys": (SR.S_CNTP_CTL, SR.S_CNTP_CVAL),
    "virt": (SR.S_CNTV_CTL, SR.S_CNTV_CVAL),
}


class GenericTimer:
    def __init__(self, cpu):
        self.cpu = cpu

    def now_ns(self):
        """Virtual time in ns, 64 bits wide as the jitted side computes it."""
        ctl = self.cpu.ctl
        return ((int(ctl[O.C_ICOUNT]) << int(ctl[O.C_ICOUNT_SHIFT])) + int(ctl[O.C_IDLE_NS])) & M64

    def ns_per_tick(self):
        return int(self.cpu.ctl[O.C_NS_PER_TICK])

    def counter(self):
        return self.now_ns() // self.ns_per_tick()

    def _regs(self, name):
        sctl, scval = TIMERS[name]
        sysr = self.cpu.sysr
        return int(sysr[sctl, SR.R_VAL]), int(sysr[scval, SR.R_VAL])

    def lines(self):
        """{'phys': level, 'virt': level}: ENABLE and not IMASK and counter >= CVAL."""
        cnt = self.counter()
        out = {}
        for name in TIMERS:
            c, cval = self._regs(name)
            out[name] = bool((c & 1) and not (c & 2) and cnt >= cval)
        return out

    def next_deadline_ns(self):
        """Earliest virtual time at which an enabled, unmasked timer's condition
        becomes true, or None.  A compare value past the largest count 64-bit
        virtual time reaches (about 584 years) is never met: no deadline."""
        cnt = self.counter()
        best = None
        tick = self.ns_per_tick()
        last = M64 // tick
        for name in TIMERS:
            c, cval = self._regs(name)
            if (c & 1) and not (c & 2) and cnt < cval <= last:
                t = cval * tick
                if best is None or t < best:
                    best = t
        return best

    def sleep_until(self, ns):
        """WFI: let virtual time jump to `ns` without retiring instructions."""
        now = self.now_ns()
        if ns > now:
            # modulo 2**64, as the core computes virtual time: the idle term may hold
            # what a change of -icount shift=auto folded into it, "negative" included
            self.cpu.ctl[O.C_IDLE_NS] = (int(self.cpu.ctl[O.C_IDLE_NS]) + ns - now) & M64
