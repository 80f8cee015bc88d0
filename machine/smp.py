"""Several CPUs on one host thread (-smp N, N > 1): their power states, the
round-robin schedule, PSCI's CPU_ON / CPU_OFF / AFFINITY_INFO, and what keeps the
CPUs' private caches coherent.  A board with one CPU has none of this (its run
loop is the single-CPU one, unchanged).

Time.  The board has one virtual clock, and every instruction any CPU retires
moves it by 2**shift ns (QEMU's -icount with its round-robin TCG: the CPUs share
one clock).  A CPU's own clock -- instructions << shift + idle ns, what its
counter and timers read (cpu/timer.py) -- is set to the board's before it runs,
so every counter any CPU reads belongs to one monotonic clock, as on hardware
whose counters are synchronised (Linux's timekeeping relies on it).  The board's
clock is the latest of the CPUs' (state: each CPU's section holds its own).

Quantum.  The running CPU keeps the host thread until it has retired QUANTUM
instructions in its turn, or it waits for an interrupt (WFI, PSCI CPU_SUSPEND),
powers off or stops the run; then the next CPU, in index order, that can run
takes over (one waiting for an interrupt can run once one is pending).  100,000
instructions are 100 us of virtual time at the default 1 ns per instruction
(-icount shift=N: 2**N times that; counted in instructions, not ns, so that
-icount shift=auto, which lengthens the instruction when the guest runs behind
the host clock, cannot shrink the quantum to a few instructions and the run to a
crawl): an IPI or a spin-wait on another CPU progresses within one round -- with
four busy CPUs 400 us, a tenth of Linux's 4 ms tick -- while a switch costs the
host about 20 us against the ~2.5 ms the quantum takes to run: under 1%.  The order is a function of the state alone (the running CPU and where its
turn ends are state: the `smp` section), so a run is deterministic and one cut
by a snapshot resumes exactly as it would have gone on.

WFE.  A CPU waiting in WFE for another CPU (Linux's spinlocks and its waits for
another CPU's answer do) would spin out its whole quantum while the CPU it waits
for cannot run.  So with several CPUs a WFE with no event pending (SEV/SEVL set
the event register, a WFE consumes it) ends the run (EXIT_WFE) and ends the
CPU's turn when another CPU can run; when none can, WFE is a NOP for the rest of
the turn (the CPU spins on as it would alone, its clock running).

Coherence, at each switch away from CPU A:
  * decoded code: the RAM pages A wrote during its turn (its page map `dirty`,
    which with several CPUs marks the pages written since A's last switch: A's
    write TLB is emptied with it) are forgotten in the other CPUs' decode caches;
  * soft TLBs: when A executed a TLB maintenance instruction (ctl[C_TLBI]) the
    other CPUs' soft TLBs are emptied;
  * the exclusive monitor: A's is cleared (the architecture lets a monitor be
    lost at any time); a store-exclusive after a switch fails and the guest's
    loop tries again, so a load/store-exclusive pair never spans another CPU's
    writes.
In-memory snapshots of an SMP board restore all of RAM (no dirty-page restore).
"""
import functools

import numpy as np

from pyaarch64.cpu import ops as O
from pyaarch64.cpu.memory import INVALID, TLB_ENTRIES, T_WRITE
from pyaarch64.machine import psci
from pyaarch64.snapshot.schema import Field

QUANTUM = 100_000        # instructions
MAX_CPUS = 8
M64 = (1 << 64) - 1

# PSCI's power states (AFFINITY_INFO's answers)
ON, OFF, ON_PENDING = 0, 1, 2


def mpidr_affinity(index, cluster_size=8):
    """MPIDR_EL1's affinity fields of CPU `index` as QEMU's virt assigns them
    (clusters of 8 CPUs with a GICv2, of 16 with a GICv3)."""
    return ((index // cluster_size) << 8) | (index % cluster_size)


class Smp:
    """The board's CPUs, as a device of the registry (section `smp`, on boards
    with more than one CPU): power states, who waits for an interrupt, who runs
    and until when."""

    name = "smp"
    STATE_FIELDS = (
        Field("power", "u8[]", hi=ON_PENDING),
        Field("waiting", "u8[]", mask=1),
        Field("current", "u8", hi=lambda smp: len(smp.cpus) - 1),
        Field("turn_end", "u64"),          # the running CPU's instruction count then
        Field("entry", "u64[]"),
        Field("context", "u64[]"),
        Field("event", "u8[]", mask=1),       # each CPU's event register (WFE)
        Field("wfe_exit", "u8[]", mask=1),    # its WFE ends the run (see WFE above)
    )

    def __init__(self, board):
        self.board = board
        self.cpus = board.cpus
        self.affinity = [mpidr_affinity(i) for i in range(len(self.cpus))]
        self._tlbi = [0] * len(self.cpus)
        for i, cpu in enumerate(self.cpus):     # (the interrupt controller's outputs)
            cpu.set_irq_line = functools.partial(self._irq_line, i, cpu.set_irq_line)
        self.reset()

    def _irq_line(self, i, drive, which, level):
        """CPU i's IRQ/FIQ input changes; one that wakes a waiting CPU ends the
        running CPU's turn at its next instruction (as QEMU's round-robin kicks the
        running vCPU), so the interrupt is taken without waiting out a quantum."""
        drive(which, level)
        if level and self.waiting[i] and i != self.current:
            self.turn_end = 0
            run = self.cpus[self.current].ctl
            if not int(run[O.C_STOP]):
                run[O.C_STOP] = 2

    def reset(self):
        """Power-on: CPU 0 runs, the others are off until PSCI CPU_ON."""
        n = len(self.cpus)
        self.power = [ON] + [OFF] * (n - 1)
        self.waiting = [0] * n
        self.current = 0
        self.turn_end = 0
        self.entry = [0] * n          # CPU_ON's entry point and context id, while pending
        self.context = [0] * n
        self.event = [0] * n
        self.wfe_exit = [1] * n
        self.pin = None               # the debugger's: run this CPU next (not state)

    def post_load(self):
        # (the section's checks bound the lists' lengths and `current` by the CPUs)
        self._tlbi = [int(c.ctl[O.C_TLBI]) for c in self.cpus]
        self._select(self.current)

    # the WFE state lives in each CPU's ctl (the executor's): the section's lists are views
    @property
    def event(self):
        return [int(c.ctl[O.C_EVENT]) for c in self.cpus]

    @event.setter
    def event(self, values):
        for c, v in zip(self.cpus, values):
            c.ctl[O.C_EVENT] = v

    @property
    def wfe_exit(self):
        return [int(c.ctl[O.C_WFE_EXIT]) for c in self.cpus]

    @wfe_exit.setter
    def wfe_exit(self, values):
        for c, v in zip(self.cpus, values):
            c.ctl[O.C_WFE_EXIT] = v

    # --- time ---------------------------------------------------------------------
    def now_ns(self):
        """The board's clock: the latest of the CPUs' clocks."""
        return max(_clock(c) for c in self.cpus)

    def sync_clocks(self):
        """Set every CPU's clock to the board's (their timers then read it)."""
        now = self.now_ns()
        for c in self.cpus:
            _set_clock(c, now)
        return now

    # --- scheduling -------------------------------------------------------------------
    def runnable(self, i):
        if self.power[i] == OFF:
            return False
        return not self.waiting[i] or bool(int(self.cpus[i].ctl[O.C_IRQ]) & 3)

    def schedule(self):
        """Choose the CPU to run now (the board's `cpu` becomes it) and return the
        instructions left in its turn; None when no CPU can run (all wait for an
        interrupt or are off)."""
        cur = self.current
        pin = self.pin
        if pin is not None and pin != cur and self.runnable(pin):
            self._switch(cur, pin, self.now_ns())        # (gdb steps this CPU)
            self.turn_end = self.cpus[pin].icount + QUANTUM
            cur = pin
        if not (self.runnable(cur) and self.cpus[cur].icount < self.turn_end):
            now = self.now_ns()
            n = len(self.cpus)
            for k in range(1, n + 1):
                c = (cur + k) % n
                if self.runnable(c):
                    break
            else:
                return None
            self._switch(cur, c, now)
            self.turn_end = self.cpus[c].icount + QUANTUM
            cur = c
        self.waiting[cur] = 0
        return max(1, self.turn_end - self.cpus[cur].icount)

    def _switch(self, a, b, now):
        """CPU a's turn ends, CPU b's begins (at the board's clock `now`)."""
        if a != b:
            self._leave(a)
        cpu = self.cpus[b]
        _set_clock(cpu, now)
        cpu.ctl[O.C_WFE_EXIT] = 1             # (a new turn: WFE may end it)
        if self.power[b] == ON_PENDING:
            self._power_on(b)
        self._select(b)

    def _select(self, i):
        self.current = i
        b = self.board
        b.cpu = self.cpus[i]
        b.cpu_index = i
        b.timer = b.cpu_timers[i]

    def _leave(self, a):
        cpu = self.cpus[a]
        others = [c for k, c in enumerate(self.cpus) if k != a]
        pages = _marked(cpu.dirty)
        if len(pages):
            cpu.dirty[pages] = 0
            cpu.tlb[2 * TLB_ENTRIES * T_WRITE:2 * TLB_ENTRIES * (T_WRITE + 1):2] = INVALID
            for c in others:
                slots = c.pslot[pages]
                used = slots >= 0
                if used.any():
                    c.slotpage[slots[used]] = -1
                    c.pslot[pages[used]] = -1
        t = int(cpu.ctl[O.C_TLBI])
        if t != self._tlbi[a]:
            self._tlbi[a] = t
            for c in others:
                c.tlb[0::2] = INVALID
        cpu.ctl[O.C_EXCL_ADDR] = M64          # (the exclusive monitor is lost)

    def wfe(self):
        """The running CPU executed a WFE with no event (EXIT_WFE): its turn ends if
        another CPU can run, else WFE is a NOP for the rest of its turn."""
        cur = self.current
        if any(self.runnable(i) for i in range(len(self.cpus)) if i != cur):
            self.turn_end = 0
        else:
            self.cpus[cur].ctl[O.C_WFE_EXIT] = 0

    def wait(self):
        """The running CPU waits for an interrupt (WFI, CPU_SUSPEND)."""
        self.waiting[self.current] = 1

    def idle_woken(self):
        """Some CPU that waits has an interrupt pending (or a CPU can run)."""
        return any(self.runnable(i) for i in range(len(self.cpus)))

    def all_off(self):
        return all(p == OFF for p in self.power)

    # --- PSCI -------------------------------------------------------------------------
    def find(self, mpidr):
        """The index of the CPU with MPIDR affinity `mpidr`, or None."""
        try:
            return self.affinity.index(mpidr)
        except ValueError:
            return None

    def affinity_info(self, mpidr, level):
        if level != 0:
            return psci.SUCCESS        # (as QEMU: every affinity level above 0 is on)
        i = self.find(mpidr)
        return psci.INVALID_PARAMETERS if i is None else self.power[i]

    def cpu_on(self, mpidr, entry, context):
        """PSCI CPU_ON as QEMU's virt: the target starts at EL1h (AArch64, MMU off,
        DAIF masked) at `entry` with x0 = `context` when it is next scheduled (until
        then AFFINITY_INFO says ON_PENDING)."""
        i = self.find(mpidr)
        if i is None:
            return psci.INVALID_PARAMETERS
        if self.power[i] == ON:
            return psci.ALREADY_ON
        if self.power[i] == ON_PENDING:
            return psci.ON_PENDING
        self.power[i] = ON_PENDING
        self.entry[i] = entry & M64
        self.context[i] = context & M64
        self.waiting[i] = 0
        return psci.SUCCESS

    def _power_on(self, i):
        cpu = self.cpus[i]
        clock = _clock(cpu)
        cpu.reset()
        _set_clock(cpu, clock)
        cpu.ctl[O.C_EVENT] = 0
        cpu.pc = self.entry[i]
        cpu.set_reg("x0", self.context[i])
        self.power[i] = ON
        self.entry[i] = self.context[i] = 0
        self._tlbi[i] = int(cpu.ctl[O.C_TLBI])

    def cpu_off(self):
        """PSCI CPU_OFF of the running CPU: it stops until a CPU_ON."""
        self.power[self.current] = OFF
        self.waiting[self.current] = 0
        self.turn_end = 0                 # (its turn is over)

    def secondary_reset(self):
        """A system reset: the CPUs other than CPU 0 to their reset state, off."""
        for i, cpu in enumerate(self.cpus[1:], 1):
            clock = _clock(cpu)
            cpu.reset()
            _set_clock(cpu, clock)
            self._tlbi[i] = int(cpu.ctl[O.C_TLBI])


def _marked(dirty):
    """The indices of the nonzero bytes of a page map, scanned as 64-bit words (for
    512 MiB of RAM with a few hundred pages marked: ~70 us instead of ~250 us)."""
    n = len(dirty) & ~7
    words = np.flatnonzero(dirty[:n].view(np.uint64))
    near = (words[:, None] * 8 + np.arange(8)).ravel()      # the bytes of those words
    pages = near[dirty[near] != 0]
    tail = np.flatnonzero(dirty[n:]) + n
    return np.concatenate((pages, tail)) if len(tail) else pages


def _clock(cpu):
    ctl = cpu.ctl
    return ((int(ctl[O.C_ICOUNT]) << int(ctl[O.C_ICOUNT_SHIFT])) + int(ctl[O.C_IDLE_NS])) & M64


def _set_clock(cpu, ns):
    ctl = cpu.ctl
    ctl[O.C_IDLE_NS] = (ns - (int(ctl[O.C_ICOUNT]) << int(ctl[O.C_ICOUNT_SHIFT]))) & M64
