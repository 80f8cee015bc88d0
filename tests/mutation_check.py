"""Mutation check: break one arm of each execution path and show that a test fails.

    python tests/mutation_check.py                 # every mutation, every path it names
    python tests/mutation_check.py --only madd,div # some of them
    python tests/mutation_check.py --list

Each mutation edits one line of a copy of the package (in a temporary directory,
never the checkout), then runs the guest programs and the differential sample
(tests/test_exec_paths.py SUITE) through the execution paths it names, with
`--exec-path`.  A mutation is *caught* on a path when that pytest run fails.
Every row must say caught; the script exits 1 otherwise.  Each mutation compiles
the modules that depend on the edited one (cpu/jitcache.py keys the cache per
module), so a full run takes a while; the result is recorded in
tests/README-mutation.md (`python -m pyaarch64.cpu.jitcache --prune` drops the
mutated modules' cache entries afterwards).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from test_exec_paths import SUITE  # noqa: E402

ALL = ("fast", "general", "tlbflush", "step")

# name -> (file, original text (must occur exactly once), mutated text, paths, what it
# breaks[, the test files that must catch it: default SUITE])
DEVICE_TESTS = ("test_virtio.py", "test_disk_snapshots.py")
GPIO_TESTS = ("test_pl061.py", "test_dtb.py")
SMP_TESTS = ("test_smp.py",)
GICV3_TESTS = ("test_gicv3.py",)
MUTATIONS = {
    # devices (machine/): one path is enough, they are host code
    "virtio-event": ("machine/virtio/transport.py",
                     "        if empty or q.need_interrupt(old, self.page(), self.event_idx):\n",
                     "        if q.need_interrupt(old, self.page(), self.event_idx):\n", ("fast",),
                     "virtio: no interrupt when the queue runs empty (NOTIFY_ON_EMPTY)", DEVICE_TESTS),
    "virtio-indirect": ("machine/virtio/queue.py",
                        "                table, size, i, seen, indirect = addr, n // 16, 0, 0, True\n",
                        "                table, size, i, seen, indirect = addr, n // 16, 1, 0, True\n",
                        ("fast",), "virtio: an indirect table is read from its second entry",
                        DEVICE_TESTS),
    "blk-range": ("machine/virtio/blk.py",
                  "        return nbytes % SECTOR == 0 and sector + nbytes // SECTOR <= self.drive.sectors\n",
                  "        return nbytes % SECTOR == 0\n", ("fast",),
                  "virtio-blk: requests past the end of the disk are not refused", DEVICE_TESTS),
    "disk-cow": ("machine/blockdev.py", "                    s.preserve(c, old)\n", "                    pass\n",
                 ("fast",), "a write after a snapshot does not preserve the old cluster", DEVICE_TESTS),
    "disk-load": ("snapshot/state.py", "    _apply_ram(vm, snap)\n    _apply_disks(vm, snap)\n",
                  "    _apply_ram(vm, snap)\n", ("fast",),
                  "a checked (file) restore leaves the disk as it is", DEVICE_TESTS),
    "disk-ident": ("machine/blockdev.py", "        if mine[\"sha256\"] != ident.get(\"sha256\"):\n",
                   "        if False:\n", ("fast",), "a changed image is not refused", DEVICE_TESTS),
    "rng-pos": ("machine/virtio/rng.py", "        self.pos += n\n", "", ("fast",),
                "virtio-rng: the stream never moves on", DEVICE_TESTS),
    "smp-code": ("machine/smp.py", "                    c.pslot[pages[used]] = -1\n",
                 "                    pass\n", ("fast",),
                 "code one CPU rewrote runs stale on another", SMP_TESTS),
    "smp-tlbi": ("machine/smp.py", "                c.tlb[0::2] = INVALID\n",
                 "                pass\n", ("fast",),
                 "a TLBI broadcast leaves the other CPUs' soft TLBs", SMP_TESTS),
    "smp-excl": ("machine/smp.py", "        cpu.ctl[O.C_EXCL_ADDR] = M64          # (the exclusive monitor is lost)\n",
                 "        pass\n", ("fast",),
                 "a store-exclusive succeeds over another CPU's writes", SMP_TESTS),
    "smp-clock": ("machine/smp.py", "        _set_clock(cpu, now)\n        if self.power[b] == ON_PENDING:",
                  "        if self.power[b] == ON_PENDING:", ("fast",),
                  "each CPU keeps its own clock (time is not one monotonic clock)", SMP_TESTS),
    "smp-wfe": ("machine/smp.py", "        if any(self.runnable(i) for i in range(len(self.cpus)) if i != cur):\n            self.turn_end = 0\n",
                "        if any(self.runnable(i) for i in range(len(self.cpus)) if i != cur):\n            pass\n", ("fast",),
                "a CPU spinning in WFE keeps its turn", SMP_TESTS),
    "smp-event": ("cpu/hotloop.py", "            ctl[C_EVENT] = U1\n", "            pass\n", ("fast",),
                  "SEVL sets no event: the first WFE of a wait ends the turn", SMP_TESTS),
    "gdb-step-cpu": ("emu/gdbstub.py", "            vm.smp.pin = i\n", "            pass\n", ("fast",),
                     "gdb's stepi steps whichever CPU's turn it is", ("test_gdbstub.py",)),
    "smp-target": ("machine/smp.py", "        return psci.INVALID_PARAMETERS if i is None else self.power[i]",
                   "        return psci.INVALID_PARAMETERS if i is None else self.power[0]", ("fast",),
                   "AFFINITY_INFO answers for CPU 0", SMP_TESTS),
    "pl061-edge": ("machine/pl061.py", "(edge & ~self.ibe & ~(self.data ^ self.iev))",
                   "(edge & ~self.ibe & (self.data ^ self.iev))", ("fast",),
                   "the PL061 detects the edge IEV does not select", GPIO_TESTS),
    "pl061-mask": ("machine/pl061.py", "            mask = (off >> 2) & self.dir\n",
                   "            mask = off >> 2\n", ("fast",),
                   "a PL061 data write changes input lines too", GPIO_TESTS),
    "v2m-typer": ("machine/gicv2m.py", "return ((self.base_spi + GIC_INTERNAL) << 16) | self.num_spi",
                  "return (self.base_spi << 16) | self.num_spi", ("fast",),
                  "GICv2m TYPER gives the SPI number without the 32 SGIs/PPIs", GPIO_TESTS),
    "v2m-pulse": ("machine/virt_devices.py", "        gic.set_irq(intid, 0)\n", "", ("fast",),
                  "an MSI raises its SPI and never lowers it (no edge for the next)", GPIO_TESTS),
    # the GICv3 (machine/gicv3.py) and its system-register path (cpu/sysreg_access.py)
    "gicv3-route": ("machine/gicv3.py", "            if affinity(c) == aff:\n",
                    "            if affinity(c) == aff & 0xFF:\n", ("fast",),
                    "GICD_IROUTER routes by Aff0 alone (Aff1..3 ignored)", GICV3_TESTS),
    "gicv3-drop": ("machine/gicv3.py", "                aprs[k] &= aprs[k] - 1\n",
                   "                aprs[k] &= aprs[k] >> 1\n", ("fast",),
                   "ICC_EOIR drops the wrong preemption level", GICV3_TESTS),
    "gicv3-sgi-target": ("machine/gicv3.py",
                         "                       if affinity(o) >> 8 == aff and tl >> (affinity(o) & 0xFF) & 1]\n",
                         "                       if affinity(o) >> 8 == aff]\n", ("fast",),
                         "ICC_SGI1R_EL1 ignores its target list", GICV3_TESTS),
    "gicv3-sgi-group": ("machine/gicv3.py",
                        "            if (self.gicr_igroupr0[o] >> irq) & 1 == grp:\n",
                        "            if True:\n", ("fast",),
                        "an SGI becomes pending whatever group it is configured in", GICV3_TESTS),
    "gicv3-bpr1": ("machine/gicv3.py", "            bpr = self.icc_bpr1[c] - 1\n",
                   "            bpr = self.icc_bpr1[c]\n", ("fast",),
                   "group 1's binary point is ICC_BPR1 itself (not one less)", GICV3_TESTS),
    "gicv3-hppir-pmr": ("machine/gicv3.py", "        if not self._enabled_hppi(c) or self._hppi[c][2] != grp:\n",
                        "        if not self._can_preempt(c) or self._hppi[c][2] != grp:\n", ("fast",),
                        "ICC_HPPIR honours the priority mask and running priority", GICV3_TESTS),
    "icc-sysreg-pc": ("cpu/sysreg_access.py",
                      "        regs[rt] = np.uint64(v)\n    ctl[C_PC] = pc + np.uint64(4)\n    return 0\n",
                      "        regs[rt] = np.uint64(v)\n    return 0\n", ("fast",),
                      "an ICC_* access does not advance the PC", GICV3_TESTS),
    "key-latency": ("machine/pl061.py", "    LATENCY_MS = 100\n", "    LATENCY_MS = 10\n",
                    ("fast",), "the power button is released after 10 ms", GPIO_TESTS),
    # the hot loop's arms: the one definition every path executes
    "addsr": ("cpu/hotloop.py", "                r = a - b if sub else a + b\n                if w:\n"
              "                    r &= M32\n            st[rd] = r\n        elif op == OP_MOVI:",
              "                r = a - b if sub else a + b + U1\n                if w:\n"
              "                    r &= M32\n            st[rd] = r\n        elif op == OP_MOVI:",
              ALL, "ADD (shifted register) adds one more"),
    "madd": ("cpu/hotloop.py", "            r = acc - p if sub else acc + p\n",
             "            r = acc - p if sub else acc + p + U1\n", ALL, "MADD adds one more"),
    "csinc": ("cpu/hotloop.py", "                if kind == 1:\n                    r = r + U1\n",
              "                if kind == 1:\n                    r = r + U2\n", ALL, "CSINC increments by two"),
    "ldsx": ("cpu/hotloop.py", "            st[rd] = sx_load(ld_sized(mem, maddr + st[TOFF + e + U1], msize), msize, sign)\n",
             "            st[rd] = ld_sized(mem, maddr + st[TOFF + e + U1], msize)\n",
             ("fast", "general"), "the hot loop's sign-extending loads do not sign-extend"),
    "fpq": ("cpu/hotloop.py", "                            st64u(mem, h + U8, st[vi + U1])\n",
            "                            st64u(mem, h + U8, st[vi])\n", ("fast", "general"),
            "the hot loop's Q-register store writes the low half twice"),
    # stores into a page that holds decoded code (self-modifying code, data next to code)
    "smc-hit": ("cpu/hotloop.py", "        if st[base + (np.uint64(k) << U1)] != U0:\n            return False\n",
                "        if st[base + (np.uint64(k) << U1)] != U0:\n            return True\n",
                ("fast", "general", "step"), "the fast loops' stores overwrite decoded words without leaving"),
    "smc-forget": ("cpu/memory.py", "                forget_words(bus.dcache, s, off, size)\n", "",
                   ALL, "the slow path's stores into decoded code forget nothing"),
    # dirty tracking for fast restores (tests/test_restore.py)
    "dirty-store": ("cpu/memory.py", "            bus.dirty[page] = 1             # (written in this snapshot epoch: Cpu.new_epoch)\n",
                    "", ("fast", "tlbflush"), "stores do not mark the pages they write"),
    "dirty-zva": ("cpu/sysinsn.py", "                bus.dirty[hoff >> 12] = 1\n", "", ("fast",),
                  "DC ZVA does not mark the page it zeroes"),
    "dirty-epoch": ("cpu/core.py", "        self.tlb[2 * TLB_ENTRIES * T_WRITE:2 * TLB_ENTRIES * (T_WRITE + 1):2] = INVALID\n",
                    "", ("fast",), "an epoch keeps the write TLB: pages written through it go unmarked"),
    "dirty-host": ("cpu/core.py", "        self.dirty[p0:p1 + 1] = 1\n", "", ("fast",),
                   "host writes (mem_write, loaders) are not marked"),
    # run_inputs (tests/test_run_inputs.py)
    "batch-host": ("cpu/batch.py", "        if ctl[C_HOST_CALLS] != calls:\n            return i, ex\n", "",
                   ("fast",), "a batch run that called the host goes on without the devices restored"),
    "batch-input": ("cpu/batch.py", "                dirty[p] = 1                 # (written: the next put_back copies it back)\n",
                    "", ("fast",), "the pages an input is written to are not marked"),
    "batch-timer": ("machine/virt.py", "                fast = None                    # (a timer fires within the budget: run() copes)\n",
                    "                pass\n", ("fast",), "run_inputs batches runs a timer deadline falls in"),
    "batch-go-on": ("machine/virt.py", "        if cpu.ctl[O.C_COV_ON] and not go_on:\n",
                    "        if cpu.ctl[O.C_COV_ON]:\n", ("fast",),
                    "a run the host finishes for run_inputs loses the coverage it had"),
    # hooks and coverage (tests/test_hooks.py, tests/test_coverage.py)
    "hook-back": ("cpu/executor.py", "            if bus.slotpage[hk_slot] == hk_page:\n                dcache[hk_di] = HOOK_W0\n",
                  "            if bus.slotpage[hk_slot] == hk_page:\n                pass\n", ("fast", "general"),
                  "a hooked instruction keeps its real words after its step: later visits skip the hook"),
    # the debug architecture (cpu/debug.py; tests/test_debug_arch.py)
    "dbg-bp-decode": ("cpu/executor.py", "                        or ((ctl[C_DBG] & np.uint64(DBG_BP)) != U0 and bp_armed_at(sysr, pc))):\n",
                      "                        or False):\n", ALL,
                      "an armed breakpoint's address does not decode to OP_HOOK: it never fires"),
    "dbg-ss-ex": ("cpu/executor.py", "                exitc = step_exc(regs, ctl, sysr, pc, isv == 1, isv == 1 and ss_ex)\n",
                  "                exitc = step_exc(regs, ctl, sysr, pc, isv == 1, False)\n", ALL,
                  "a step after a load-exclusive reports ESR.EX = 0"),
    "dbg-wp-page": ("cpu/memory.py", "        fill = fill and not wpage\n", "", ("fast", "general"),
                    "a watched page enters the soft TLB: later accesses to it skip the check"),
    "cov-fall": ("cpu/hotloop.py", "        if COVER and (npc != pc + U4 or IS_BRANCH[op]):\n",
                 "        if COVER and npc != pc + U4:\n", ("fast",),
                 "coverage records taken branches only: a branch not taken starts no edge"),
    # the vector loop's own code (cpu/hotvec.py) and the whole-word SIMD forms
    "vec-ld1": ("cpu/hotvec.py", "        st[rn] = addr + offs\n", "        st[rn] = addr\n",
                ("fast", "general"), "the vector loop's LD1/ST1 forget the post-index writeback"),
    "vec-fcmp": ("cpu/hotvec.py", "        return np.int64(ctl[C_NZCV])\n", "        return nzcv\n",
                 ("fast", "general"), "the vector loop drops the NZCV an FCMP sets"),
    "swar-cmhs": ("cpu/simd_swar.py", "        return spread(~below(a ^ s, b ^ s, eb) & h, eb), True",
                  "        return spread(below(a ^ s, b ^ s, eb) & h, eb), True",
                  ("fast", "step"), "CMGE/CMHS (register) give the opposite answer"),
    "swar-addlp": ("cpu/simd_swar.py", "        r = a + b                          # (no carry",
                   "        r = a + b + U1                     # (no carry",
                   ("fast",), "UADDLP/UADALP add one more"),
    # the general path's own code
    "slow-sign": ("cpu/executor.py", "            v = sx_load(v, msize, sign)\n",
                  "            v = v\n", ("tlbflush",), "the memory slow path does not sign-extend"),
    "slow-wb": ("cpu/executor.py", "    writeback(regs, rn, mode, maddr, w1)\n    ctl[C_PC] = pc + np.uint64(4)\n",
                "    ctl[C_PC] = pc + np.uint64(4)\n", ("tlbflush",),
                "the memory slow path forgets pre/post-index writeback"),
    "slow-pair": ("cpu/executor.py", "                regs[ra] = v\n", "                regs[ra] = v + U1\n",
                  ("tlbflush",), "the memory slow path loads a pair's second register wrong"),
    "crc32": ("cpu/executor.py", "            regs[rd] = crc32(regs[rn], regs[rm], 1 << size, c)\n",
              "            regs[rd] = crc32(regs[rn], regs[rm], 1 << size, c) + U1\n",
              ALL, "CRC32 (the general path's own arm) is one too big"),
    "div": ("cpu/hotloop.py", "            st[rd] = sdiv(a, b, w) if signed else udiv(a, b, w)\n",
            "            st[rd] = sdiv(a, b, w) if signed else udiv(a, b, w) + U1\n",
            ALL, "UDIV is one too big"),
    "excl": ("cpu/exclusive.py", "    regs[rs] = U0 if ok else U1\n", "    regs[rs] = U0\n",
             ("fast", "general", "step"),       # (tlbflush: never a soft-TLB hit, never run)
             "a store-exclusive on a soft-TLB hit always reports success"),
    "mrs": ("cpu/sysread.py", "        return True, ctl[C_DAIF] << np.uint64(6)\n",
            "        return True, ctl[C_DAIF] << np.uint64(5)\n", ALL, "MRS DAIF reads the bits shifted"),
    # the step path's own code
    "step": ("cpu/core.py", "            n = 1 if step else budget", "            n = 2 if step else budget",
             ("step",), "the step path runs one instruction more than asked"),
    # firmware in flash and fw_cfg (tests/test_firmware.py, tests/guest/flash.c, fwcfg.c):
    # a sixth entry names the tests to run instead of SUITE
    "rom-store": ("cpu/memory.py", "        off = np.int64(-1)      # a ROM device's page: the write goes to the device (MMIO)\n",
                  "        pass\n", ("fast",),
                  "a store to a flash bank in read-array mode writes its bytes",
                  ["test_firmware.py::test_stores_to_flash_in_read_array_mode_never_change_it",
                   "test_firmware.py::test_flash_guest"]),
    "flash-code": ("machine/virt.py", "        self.cpu.forget_code(self._flash_off(unit) + off, n)\n", "",
                   ("fast",), "code decoded from flash survives a program or erase there",
                   ["test_firmware.py::test_flash_guest"]),
    "cfi-width": ("machine/pflash.py", "    return v | (v << 16)\n", "    return v\n", ("fast",),
                  "the second device of a bank does not answer ID and CFI queries",
                  ["test_firmware.py::test_flash_guest"]),
    "fwcfg-dma": ("machine/fwcfg.py", "                self.cur_offset += n\n", "", ("fast",),
                  "a DMA read or skip leaves the item's offset where it was",
                  ["test_guests.py::test_guest_matches_expected[fwcfg.c]",
                   "test_firmware.py::test_firmware_boot_hands_over_what_qemu_does"]),
}


def mutate(dst, rel, old, new):
    p = os.path.join(dst, rel)
    with open(p) as f:
        src = f.read()
    n = src.count(old)
    if n != 1:
        raise SystemExit(f"mutation text occurs {n} times in {rel} (expected once): {old!r}")
    with open(p, "w") as f:
        f.write(src.replace(old, new))


def run_one(name, paths, keep_going):
    rel, old, new, _, _, *tests = MUTATIONS[name]
    tests = tests[0] if tests else SUITE
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"mut-{name}-") as tmp:
        pkg = os.path.join(tmp, "pyaarch64")
        shutil.copytree(ROOT, pkg, ignore=shutil.ignore_patterns(
            "__pycache__", ".git", "*.egg-info", "results", ".pytest_cache"))
        mutate(pkg, rel, old, new)
        # the usual cache: modules the mutation leaves alone (and all that depends only
        # on them) load from it, see cpu/jitcache.py; the mutated ones get new entries
        env = dict(os.environ, PYTHONPATH=tmp)
        env.pop("PYAARCH64_EXEC_PATH", None)
        for path in paths:
            t = time.time()
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                f"--exec-path={path}", *tests], cwd=os.path.join(pkg, "tests"),
                               env=env, capture_output=True, text=True)
            failed = r.returncode != 0 and " failed" in r.stdout
            first = next((ln for ln in r.stdout.splitlines() if ln.startswith("FAILED")), "")
            rows.append((name, path, "caught" if failed else "MISSED", time.time() - t, first[:110]))
            print(f"{name:10} {path:9} {rows[-1][2]:7} {rows[-1][3]:6.0f}s  {first[:110]}", flush=True)
            if r.returncode not in (0, 1):
                print(r.stdout[-3000:], r.stderr[-3000:], file=sys.stderr)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated mutation names")
    ap.add_argument("--paths", default="", help="comma-separated paths (default: each mutation's own)")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        for k, (rel, _, _, paths, what, *_) in MUTATIONS.items():
            print(f"{k:10} {rel:18} {','.join(paths):28} {what}")
        return 0
    names = [n for n in a.only.split(",") if n] or list(MUTATIONS)
    rows = []
    for n in names:
        paths = [p for p in a.paths.split(",") if p] or MUTATIONS[n][3]
        rows += run_one(n, paths, False)
    missed = [r for r in rows if r[2] != "caught"]
    print(f"{len(rows) - len(missed)} of {len(rows)} mutation runs caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
