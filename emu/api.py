"""The embedding API: a Unicorn-shaped interface to a whole virt machine.

    import pyaarch64
    m = pyaarch64.Machine(cpu="cortex-a57")
    m.load_elf("prog.elf")
    stop = m.run(max_insns=1_000_000)      # -> StopReason(kind=..., code=..., pc=...)
    print(m.serial_output, m.reg_read("x0"), m.mem_read(0x40000000, 16))

Time is virtual (instructions retired), so runs are deterministic.
"""
import numpy as np

from pyaarch64.machine.virt import VirtMachine, StopReason  # noqa: F401  (re-exported)
from pyaarch64.errors import MachineError
from pyaarch64.machine.devices import Device, Region


KINDS = ("code", "block", "mem_read", "mem_write", "exception", "intr", "mem_invalid")


class MmioDevice:
    """Adapter for user MMIO callbacks: read_fn(offset, size) -> int,
    write_fn(offset, size, value)."""
    name = "map_mmio"

    def __init__(self, read_fn, write_fn):
        self.read_fn, self.write_fn = read_fn, write_fn

    def read(self, off, size):
        return self.read_fn(off, size) if self.read_fn else 0

    def write(self, off, size, value):
        if self.write_fn:
            self.write_fn(off, size, value)


class Machine:
    """A virt machine (one CPU unless smp= says more).  Output written to the PL011
    is collected in `serial_output` unless a `serial` callable (bytes -> None) is
    given."""

    def __init__(self, machine: str = "virt", cpu: str | None = None, ram_size: int = 128 << 20,
                 serial=None, semihosting: bool = False, cmdline: str | None = None,
                 no_reboot: bool = False, icount_shift: int = 0, realtime: bool = False,
                 gic_version: int | None = None, smp: int = 1):
        """machine: a machine type (virt-4.1 ... virt-10.0, or `virt`: the newest);
        cpu: a CPU model (cortex-a53, cortex-a57, cortex-a72, max; default the
        type's); ram_size: bytes of RAM at 0x4000_0000 (a multiple of 4 KiB);
        serial: callable(bytes) for the PL011's output (default: collected in
        serial_output); semihosting: answer HLT #0xF000 calls (cmdline: the
        program's command line for SYS_GET_CMDLINE); no_reboot: a guest reset
        (PSCI SYSTEM_RESET) stops run() with StopReason 'reset' instead of
        rebooting the machine; icount_shift: each instruction is 2**shift ns of
        virtual time (0..10); realtime: time as on the command line -- the shift
        adapts to the host clock and a sleeping guest waits in host time (runs are
        then not deterministic; docs/time.md); gic_version: 2 (the default: GICv2 +
        GICv2m) or 3 (GICv3, as -M virt,gic-version=3); smp: the number of CPUs
        (1..8, as -smp: CPU 0 starts, the others wait for PSCI CPU_ON; they take
        turns on one host thread, deterministically: machine/smp.py).  The register
        calls act on the CPU that ran last (or `cpu=`), coverage and run_inputs'
        batch path on CPU 0's view.  MachineError for what cannot be built."""
        if not 0 <= int(icount_shift) <= 10:
            raise MachineError(f"icount_shift {icount_shift}: from 0 to 10")
        self.serial_output = bytearray()
        self._m = VirtMachine(machine=machine, cpu=cpu, ram_size=ram_size,
                              serial=serial or self.serial_output.extend,
                              semihosting=semihosting, semihosting_cmdline=cmdline,
                              no_reboot=no_reboot, icount_shift=int(icount_shift),
                              icount_auto=bool(realtime), sleep=bool(realtime),
                              gic_version=gic_version, smp=int(smp))
        self._m.hooks.owner = self          # hook callbacks get this machine

    # --- identity ------------------------------------------------------------------
    @property
    def machine_type(self):
        """The concrete machine type (an alias such as `virt` is resolved at creation)."""
        return self._m.machine_type

    @property
    def cpu_model(self) -> str:
        """The CPU model's name (cortex-a57, ...)."""
        return self._m.cpu.model.name

    # --- loading ---------------------------------------------------------------------
    def load_elf(self, path: str) -> None:
        """Load an ELF executable as QEMU's -kernel does (its PT_LOAD segments at their
        physical addresses) and point the CPU at its entry.  KernelError if the file
        is not an ELF (load_kernel takes raw binaries and Linux Images)."""
        from pyaarch64.machine.loader import KernelError, ELF_MAGIC
        try:
            with open(path, "rb") as f:
                magic = f.read(4)
        except OSError as e:
            raise KernelError(f"cannot read '{path}': {e.strerror}") from None
        if magic != ELF_MAGIC:
            raise KernelError(f"'{path}' is not an ELF file (load_kernel loads raw binaries "
                              f"and Linux Images)")
        self._m.load_kernel(path)

    def load_kernel(self, path, initrd=None, append=None, dtb=None):
        """QEMU's -kernel/-initrd/-append/-dtb: an ELF, a Linux arm64 Image (gzip'd or
        not) or a raw binary, with the device tree and boot stub QEMU would use."""
        self._m.load_kernel(path, initrd=initrd, append=append, dtb=dtb)

    @property
    def dtb(self):
        """The device tree blob the guest was given (bytes), or None."""
        info = getattr(self._m, "boot_info", None)
        return getattr(info, "dtb", None) if info is not None else None

    # --- interrupts ----------------------------------------------------------------------
    def set_irq(self, intid: int, level) -> None:
        """Drive a GIC input: a PPI (16..31) of CPU 0 or an SPI (32 + n)."""
        try:
            self._m.gic.set_irq(intid, 1 if level else 0)
        except ValueError as e:
            raise MachineError(str(e)) from None

    # --- registers ----------------------------------------------------------------------
    @property
    def cpu_count(self) -> int:
        """How many CPUs the machine has (smp=)."""
        return len(self._m.cpus)

    @property
    def cpu_index(self) -> int:
        """The CPU that ran last (the one a hook or a stop happened on)."""
        return self._m.cpu_index

    def _cpu(self, cpu):
        if cpu is None:
            return self._m.cpu
        if not isinstance(cpu, int) or not 0 <= cpu < len(self._m.cpus):
            raise MachineError(f"CPU {cpu!r}: this machine has CPUs 0..{len(self._m.cpus) - 1}")
        return self._m.cpus[cpu]

    def reg_read(self, name: str, cpu: int | None = None) -> int:
        """x0..x30, w0..w30, sp, pc, lr, fp, nzcv, pstate (cpsr), el, v0..v31 (and
        q/d/s/h/b), or a system register by its Arm ARM name (SP_EL0, FPCR, FPSR,
        SCTLR_EL1, ...), of CPU `cpu` (default: the one that ran last).
        RegisterError for an unknown name."""
        return self._cpu(cpu).reg(name)

    def reg_write(self, name: str, value: int, cpu: int | None = None) -> None:
        """Write any register reg_read reads (pstate/el switch the stack pointer's bank
        as the CPU would).  The value must fit the register (negative: two's
        complement); RegisterError otherwise, or for unknown or read-only registers."""
        self._cpu(cpu).set_reg(name, value)
        self._m._step_key = None            # (a timer register may have changed)

    def sysregs(self):
        """Every readable system register of the CPU model, name -> value (the table
        of cpu/sysregs.py: stored registers and computed ones such as CurrentEL, DAIF,
        NZCV, the counters and the timers' ISTATUS)."""
        return self._m.cpu.sysregs()

    @property
    def pc(self) -> int:
        """The program counter (settable: where the next run() starts)."""
        return self._m.cpu.pc

    @pc.setter
    def pc(self, v):
        self._m.cpu.pc = v

    @property
    def icount(self):
        """Instructions retired since the machine was created (by all its CPUs)."""
        return self._m.icount_total()

    # --- memory ------------------------------------------------------------------------
    def mem_read(self, addr: int, size: int, virtual: bool = False) -> bytes:
        """`size` bytes of RAM at physical address `addr`, or with virtual=True at a
        virtual address through the current translation (as a debugger reads:
        page permissions do not matter).  MemoryAccessError when the range is not
        RAM or does not translate."""
        return self._m.read_memory(addr, size, virtual)

    def mem_write(self, addr: int, data: bytes, virtual: bool = False) -> None:
        """Write bytes to RAM at physical address `addr` (virtual=True: a virtual
        address, translated page by page).  Decoded code there is forgotten; the
        pages count as written for fast restores.  MemoryAccessError when the range
        is not RAM or does not translate."""
        self._m.write_memory(addr, data, virtual)

    def map_ram(self, address: int, size: int) -> None:
        """More RAM at guest physical [address, address+size) besides the board's
        (4 KiB aligned; up to 8 regions; not over the board's RAM or a device: for
        example code linked at 0).  Unicorn's mem_map.  Snapshots taken before no
        longer fit the machine; the ones taken after hold the region too."""
        self._m.map_ram(int(address), int(size))

    mem_map = map_ram

    def mem_protect(self, address: int, size: int, perms="rwx") -> None:
        """Forbid, on the RAM pages [address, address+size) (physical, 4 KiB aligned),
        the accesses `perms` leaves out: a string of r, w, x (or Unicorn's bits
        1 read, 2 write, 4 exec).  A forbidden access asks the mem_invalid hooks
        (access 'read-prot', 'write-prot' or 'fetch-prot'; True: try it again),
        else the run stops with StopReason 'protection' before the instruction.
        The guest's own MMU permissions are separate (its exceptions).  Host access
        (mem_read/mem_write) is not restricted."""
        if isinstance(perms, int):
            perms = "".join(c for c, b in (("r", 1), ("w", 2), ("x", 4)) if perms & b)
        self._m.protect(int(address), int(size), perms)

    def mem_regions(self) -> list:
        """[(begin, end, kind, name)] by physical address: 'ram' and each 'mmio'
        device (the board's and map_mmio's)."""
        return self._m.regions()

    def map_mmio(self, addr: int, size: int, read_fn=None, write_fn=None) -> None:
        """Put a device at [addr, addr+size): read_fn(offset, size) -> int,
        write_fn(offset, size, value).  Must not overlap RAM or another device;
        MachineError otherwise."""
        m = self._m
        if size <= 0 or addr < 0 or addr + size > 1 << 48:
            raise MachineError(f"MMIO range 0x{addr:x}+{size}: a size above 0 inside the "
                               f"48-bit physical address space")
        end = addr + size
        if addr < m.ram_base + m.ram_size and end > m.ram_base:
            raise MachineError(f"MMIO range 0x{addr:x}-0x{end:x} overlaps RAM")
        for base, length, dev in m.devices:
            if addr < base + length and end > base:
                raise MachineError(f"MMIO range 0x{addr:x}-0x{end:x} overlaps a device at 0x{base:x}")
        # a registry entry without state, device-tree node or timer
        dev = MmioDevice(read_fn, write_fn)
        m.registry.add(Device(f"map_mmio@0x{addr:x}", dev, (Region(addr, size, dev),)))

    def add_device(self, driver: str, **props) -> None:
        """Plug a virtio device into the next free virtio-mmio transport, as the command
        line's -device (QEMU's order: the first at 0x0a003e00):

            m.add_device("virtio-blk-device", file="disk.img", readonly=False,
                         snapshot=True, serial="")       # a raw image (snapshot: a
                                                         # throw-away overlay)
            m.add_device("virtio-rng-device", seed=0)    # host=True: host entropy

        Snapshots of the machine then hold the device (and a disk's state, see
        README "Disks").  MachineError for a bad device or property."""
        from pyaarch64.emu.deviceopts import BlockOptError, plug_devices
        m = self._m
        try:
            if driver == "virtio-blk-device":
                unknown = set(props) - {"file", "readonly", "snapshot", "serial", "id"}
                if unknown or "file" not in props:
                    raise MachineError(f"virtio-blk-device: give file= (and readonly=, "
                                       f"snapshot=, serial=, id=); not {sorted(unknown)}")
                did = props.get("id") or f"drive{len(m.drives)}"
                drive = {"id": did, "file": props["file"], "format": "raw",
                         "readonly": bool(props.get("readonly")),
                         "snapshot": bool(props.get("snapshot")), "opt": f"drive {did}"}
                dev = {"driver": driver, "drive": did, "serial": props.get("serial", "")}
                plug_devices(m, [drive], [dev])
            elif driver == "virtio-rng-device":
                unknown = set(props) - {"seed", "host"}
                if unknown:
                    raise MachineError(f"virtio-rng-device: seed= or host=, not {sorted(unknown)}")
                objs = [{"id": "_host", "kind": "rng-random"}] if props.get("host") else []
                dev = {"driver": driver, "seed": int(props.get("seed", 0))}
                if objs:
                    dev["rng"] = "_host"
                plug_devices(m, [], [dev], objects=objs)
            else:
                raise MachineError(f"add_device: '{driver}' is not available (virtio-blk-device, "
                                   f"virtio-rng-device)")
        except BlockOptError as e:
            raise MachineError(str(e)) from None

    # --- hooks and breakpoints --------------------------------------------------------
    _NO_DATA = object()

    def hook_add(self, kind, callback, begin=1, end=0, user_data=_NO_DATA):
        """Call `callback` as the guest runs; returns a handle for hook_del.  Kinds:

        'code'   callback(machine, address, size) before each instruction whose
                 address is in [begin, end] (inclusive; begin > end: everywhere)
        'block'  callback(machine, address, size) when a block starts in the range:
                 after a taken branch, an exception or the run's start (size: the
                 bytes to the block's first branch or the page end)

        'mem_read', 'mem_write'
                 callback(machine, access, address, size, value) for each load or
                 store (RAM or MMIO, by virtual address) that touches [begin, end]:
                 access 'read' (value: what was read) or 'write' (value: what is
                 about to be written)
        'exception'
                 callback(machine, info) after each exception entry (info: an
                 ExceptionInfo: kind svc/brk/undefined/data-abort/insn-abort/irq/...,
                 ec, esr, far, return_address, vector)
        'intr'   callback(machine, intno): the same with QEMU's exception number, as
                 Unicorn's UC_HOOK_INTR
        'mem_invalid'
                 callback(machine, access, address, size, value) -> bool for an
                 access ('read', 'write' or 'fetch') to a physical address with no RAM
                 and no device in [begin, end]: return True after mapping something
                 there (map_ram, map_mmio) and the instruction runs again; otherwise
                 the access fails as without the hook (a guest external abort)

        With user_data, it is passed as the last argument (Unicorn's shape).  The
        callback sees committed state; it may read and write registers and memory,
        call stop() (a code hook: the run stops before the instruction; a memory hook:
        after the access; an exception hook: before the vector's first instruction)
        or write the PC (a code hook: the instruction does not run; execution goes on
        there).  A hook costs nothing outside its range: hooked code decodes to a
        call into the host and hooked pages stay out of the soft TLB; the rest runs
        as before."""
        if kind not in KINDS:
            raise MachineError(f"unknown hook kind {kind!r} ({', '.join(KINDS)})")
        if not callable(callback):
            raise MachineError("hook callback is not callable")
        has = user_data is not Machine._NO_DATA
        return self._m.hooks.add(kind, callback, int(begin), int(end),
                                 user_data if has else None, has)

    def hook_del(self, handle):
        """Remove a hook hook_add returned; False if there is no such hook."""
        return self._m.hooks.remove(handle)

    def add_breakpoint(self, address):
        """Stop runs before the instruction at virtual address `address` executes
        (StopReason 'breakpoint'); running again continues from it."""
        self._m.hooks.add_breakpoint(int(address))

    def remove_breakpoint(self, address):
        """Remove a breakpoint; False if there was none at `address`."""
        return self._m.hooks.remove_breakpoint(int(address))

    @property
    def breakpoints(self) -> list:
        """The breakpoints' addresses, sorted."""
        return sorted(self._m.hooks.breakpoints)

    # --- coverage ----------------------------------------------------------------------
    def enable_coverage(self, size=65536):
        """Record AFL-shaped edge coverage from now on: at each taken branch the byte
        bitmap[hash(target) ^ prev] counts up (wrapping), prev = hash(target) >> 1.
        `size` is the bitmap's length (a power of two, 256 bytes to 1 MiB).  Each
        run() starts with a clear bitmap; `coverage` reads it.  Returns the bitmap (a
        numpy uint8 view, valid until coverage is disabled or resized).  Coverage off
        costs nothing (a separately compiled loop records it, compiled on first use)."""
        self._coverage = self._m.cpu.set_coverage(int(size))
        self._seen = None
        return self._coverage

    def disable_coverage(self) -> None:
        """Stop recording coverage (the normal loop runs again)."""
        self._m.cpu.set_coverage(0)
        self._coverage = None

    @property
    def coverage(self):
        """The edge bitmap of the last run (numpy uint8 array), or None when coverage
        is off."""
        return getattr(self, "_coverage", None)

    @property
    def coverage_seen(self):
        """The bitmap entries any run_inputs() run has reached since coverage was
        enabled (numpy uint8, 1 = reached; clear it to start over), or None when
        coverage is off."""
        cov = getattr(self, "_coverage", None)
        if cov is None:
            return None
        seen = getattr(self, "_seen", None)
        if seen is None or len(seen) != len(cov):
            seen = self._seen = np.zeros(len(cov), np.uint8)
        return seen

    # --- running ---------------------------------------------------------------------
    def run(self, max_insns=None, until=None, timeout=None):
        """Run until the guest powers off, exits, faults with no handler, `max_insns`
        instructions retire, the PC reaches `until` (before it runs), a breakpoint or
        hook stops it, or `timeout` seconds pass.  Returns a StopReason."""
        return self._m.run(max_insns=max_insns, until=until, timeout=timeout)

    def run_inputs(self, snap, inputs, address: int, max_insns: int = 10_000,
                   virtual: bool = False) -> list:
        """A fuzzer's loop in one call: for each input (bytes), restore `snap`, write
        the input at `address` (physical, or with virtual=True through the snapshot's
        translation), and run(max_insns=).  Returns one StopReason per input, as the
        loop in Python would.  With coverage on, each StopReason's new_edges counts
        the bitmap entries its run reached that no earlier run had (`coverage_seen`
        gets them) and `coverage` holds the last run's bitmap.

        Runs that power off or spend their budget without calling the host (no MMIO
        access, no hook) go round without Python in between: many times faster than
        the loop in Python.  Anything else (a fault, a stop, a device access, WFI,
        semihosting) is finished as run() would and the devices restored."""
        return self._m.run_inputs(snap, inputs, int(address), max_insns, virtual,
                                  self.coverage_seen)

    def step(self):
        """Execute one instruction (or take one exception); returns a StopReason."""
        return self._m.step()

    def stop(self):
        """Ask a running machine to stop (e.g. from an MMIO callback)."""
        from pyaarch64.cpu import ops as O
        self._m.cpu.ctl[O.C_STOP] = 1

    def reset(self) -> None:
        """System reset, as QEMU's system_reset: the CPU and the GIC to their reset
        state, RAM cleared and the kernel loaded again (with its device tree)."""
        self._m.reset()

    def powerdown(self) -> None:
        """Press the power button, as QEMU's system_powerdown: the board's gpio-key on
        the PL061's line 3, released 100 ms of virtual time later (Linux with gpio-keys
        sees KEY_POWER and, with a handler such as busybox acpid, shuts down)."""
        self._m.powerdown()

    def serial_input(self, data):
        """Bytes typed into the serial console (the PL011's receive FIFO takes what
        fits; the rest waits on the host side, as with a terminal)."""
        self._m.feed_input(bytes(data))

    # --- snapshots ---------------------------------------------------------------------
    def savevm(self, path):
        """Write the whole machine to a snapshot file (atomically); returns its size."""
        from pyaarch64.snapshot.format import write
        from pyaarch64.snapshot.state import save
        return write(path, save(self._m, copy_ram=False))

    def loadvm(self, path):
        """Load a snapshot file.  Raises SnapshotFileError or SnapshotError and leaves
        the machine untouched when the file is damaged or does not fit this machine."""
        from pyaarch64.snapshot.format import read
        self.restore(read(path))

    def snapshot(self):
        """The whole machine's state by name, in memory (pyaarch64.snapshot.state)."""
        from pyaarch64.snapshot.state import save
        return save(self._m)

    def restore(self, snap):
        """Go back to `snap`.  Raises SnapshotError (listing every problem) and leaves
        the machine untouched when the snapshot does not fit this machine."""
        from pyaarch64.snapshot.state import restore
        restore(self._m, snap)


def create_machine(**kw):
    return Machine(**kw)
