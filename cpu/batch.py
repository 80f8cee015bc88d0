"""Many runs from one snapshot in one jitted call: the core of Machine.run_inputs.

For each input in turn `run_inputs` puts the snapshot back (cpu/epoch.py: the CPU's
arrays and the pages written since), writes the input into RAM, and runs the
executor; a run that ends the simple way -- PSCI SYSTEM_OFF through HVC, or its
instruction budget spent -- is recorded and the next input starts, with no Python in
between.  Anything else returns to the host with the run still live: an exit the
board must handle (WFI, other PSCI calls, semihosting, faults, stops, a group to
load), a budget cut short by a timer deadline, and any run that called the host
(an MMIO access or a hook: the devices' state may have changed, and only the host
can put that back).  The board finishes that run and calls again from the next
input (machine/virt.py, VirtMachine.run_inputs).

With edge coverage on, each run starts with the bitmap clear and counts the bitmap
entries no earlier run reached (`seen`, updated), as AFL checks its virgin map.

The executor is called through the address of its compiled code (as the groups
are, cpu/groups.py): calling it by name would compile all of it again into this
unit (40 s cold); through its address this unit compiles in a few seconds.
"""
import numpy as np
from numba import njit, types, config
from numba.core.extending import intrinsic

from pyaarch64.cpu.epoch import put_back
from pyaarch64.cpu.groups import call_at_codegen
from pyaarch64.cpu.ops import (C_PC, C_ICOUNT, C_STOP, C_EXC_RUN, C_TLB_EL, C_EL, C_COV_ON,
                               C_COV_PREV, C_HOST_CALLS, EXIT_BUDGET, EXIT_HVC, C_DBG, DBG_BP,
                               DBG_WP)
from pyaarch64.cpu.memory import flush_decode, tlb_flush

U0 = np.uint64(0)
PSCI_SYSTEM_OFF = np.uint64(0x84000008)
# out[i, 0]: how input i's run ended
END_POWEROFF = 1
END_BUDGET = 2
COV_BLOCK = 32       # coverage-map words OR-ed together before looking inside


@intrinsic
def executor_at(typingctx, addr, regs, ctl, sysr, sysmap, bus, budget, state):
    """executor.run(regs, ctl, sysr, sysmap, bus, budget, state) compiled at `addr`."""
    return types.int64(addr, regs, ctl, sysr, sysmap, bus, budget, state), call_at_codegen(types.int64)


if config.DISABLE_JIT:
    def executor_at(addr, *args):  # noqa: F811
        from pyaarch64.cpu.executor import run
        return run(*args)


def executor_address(cpu):
    """The address of the executor compiled for this CPU's arguments (cpu.run compiles
    or loads it first, with the cold start's progress and helpers)."""
    from pyaarch64.cpu.executor import run
    from numba import typeof
    if config.DISABLE_JIT:
        return 1
    args = cpu._args + (0, cpu.state)
    sig = tuple(typeof(a) for a in args)
    if sig not in run.overloads:
        cpu.run(0)
    cres = run.overloads[sig]
    assert cres.signature.return_type == types.int64, cres.signature
    return cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)


@njit(cache=True, _nrt=False)
def new_edges(cov, seen, clear):
    """Bitmap entries set in `cov` and not in `seen` (which then gets them); with
    `clear`, cov is left all zero.  A block of words at a time: the runs reach a few
    hundred entries of a 64 KiB map, and OR-ing a clean block is vectorised."""
    c64 = cov.view(np.uint64)
    s64 = seen.view(np.uint64)
    nw = c64.shape[0]
    n = 0
    for b in range((nw + COV_BLOCK - 1) // COV_BLOCK):
        b0 = b * COV_BLOCK
        b1 = min(b0 + COV_BLOCK, nw)
        acc = U0
        if b1 - b0 == COV_BLOCK:
            for w in range(COV_BLOCK):
                acc |= c64[b0 + w]
        else:
            for w in range(b0, b1):
                acc |= c64[w]
        if acc == U0:
            continue
        for w in range(b0, b1):
            c = c64[w]
            if c == U0:
                continue
            if clear:
                c64[w] = U0
            s = s64[w]
            for k in range(8):
                sh = np.uint64(8 * k)
                if (c >> sh) & np.uint64(0xFF) != U0 and (s >> sh) & np.uint64(0xFF) == U0:
                    n += 1
                    s |= np.uint64(1) << sh
            s64[w] = s
    return n


@njit(cache=True, _nrt=False)
def run_batch(exe, regs, ctl, sysr, sysmap, bus, state, f_regs, f_sysr, idx, f_ctl, base,
              data, lens, chunks, start, budget, out, cov, seen):
    """With the executor at address `exe`: inputs start.. (rows of `data`, `lens`
    bytes each, written into the RAM array ranges `chunks` (offset, length) in turn),
    each from the snapshot (f_regs, f_sysr, f_ctl at ctl[idx], RAM `base`),
    each run for at most `budget` instructions.  Fills out[i] = (end, pc, new edges)
    and returns (the first input it did not finish, its exit code): at that input
    the run is live, for the host to finish."""
    mem = bus.mem
    dirty = bus.dirty
    pslot = bus.pslot
    slotpage = bus.slotpage
    d64 = dirty.view(np.uint64)
    cover = ctl[C_COV_ON] != U0
    if cover:
        cov[:] = 0
    last = data.shape[0] - 1
    for i in range(start, data.shape[0]):
        put_back(regs, f_regs, sysr, f_sysr, ctl, idx, f_ctl, d64, mem, base, pslot, slotpage,
                 bus.tlb)
        if (ctl[C_DBG] & np.uint64(DBG_BP | DBG_WP)) != U0:
            flush_decode(pslot, slotpage)    # armed guest breakpoints/watchpoints (cpu/debug.py):
            tlb_flush(bus.tlb)               # the decode cache and soft TLB as they say now
        ctl[C_STOP] = U0
        ctl[C_EXC_RUN] = U0
        ctl[C_TLB_EL] = ctl[C_EL]
        left = lens[i]
        j = 0
        for c in range(chunks.shape[0]):     # (where the input goes: RAM array ranges)
            if left <= 0:
                break
            o = chunks[c, 0]
            k = min(chunks[c, 1], left)
            for t in range(k):
                mem[o + t] = data[i, j + t]
            for p in range(o >> 12, ((o + k - 1) >> 12) + 1):
                dirty[p] = 1                 # (written: the next put_back copies it back)
                s = pslot[p]
                if s >= 0:                   # (decoded code there is forgotten)
                    slotpage[s] = -1
                    pslot[p] = -1
            j += k
            left -= k
        if cover:
            ctl[C_COV_PREV] = U0             # (the bitmap is clear: see below)
        calls = ctl[C_HOST_CALLS]
        ic0 = ctl[C_ICOUNT]
        ex = executor_at(exe, regs, ctl, sysr, sysmap, bus, budget, state)
        if ctl[C_HOST_CALLS] != calls:
            return i, ex
        if ex == EXIT_HVC and (regs[0] & np.uint64(0xFFFFFFFF)) == PSCI_SYSTEM_OFF:
            out[i, 0] = END_POWEROFF
        elif ex == EXIT_BUDGET and ctl[C_ICOUNT] - ic0 >= np.uint64(budget):
            out[i, 0] = END_BUDGET
        else:
            return i, ex
        out[i, 1] = np.int64(ctl[C_PC])
        if cover:                            # (cleared as counted; the last run's stays)
            out[i, 2] = new_edges(cov, seen, i != last)
    return data.shape[0], 0
