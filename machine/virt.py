"""QEMU's `virt` board: RAM at 0x4000_0000, PL011 at 0x0900_0000, PSCI over HVC,
semihosting on HLT #0xF000 when enabled.  (GIC, timer, RTC, virtio and the
device tree come with the system-level work.)"""
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from pyaarch64.cpu import ops as O
from pyaarch64.cpu import opids as OI
from pyaarch64.cpu.core import Cpu
from pyaarch64.cpu.timer import GenericTimer
from pyaarch64.cpu.models import get_model
from pyaarch64.cpu import sysregs as SR
from pyaarch64.machine.gicv3 import cpu_model as gicv3_cpu_model
from pyaarch64.machine import types as T
from pyaarch64.machine.devices import Registry
from pyaarch64.machine.virt_devices import attach_devices, reset_devices
from pyaarch64.machine import psci
from pyaarch64.machine import loader
from pyaarch64.machine.hooks import Hooks, RETRY, ProtectionFault
from pyaarch64.errors import MachineError, MemoryAccessError
from pyaarch64.machine.semihosting import Semihosting, SemihostingExit, HLT_SEMIHOSTING

_OFF_MESSAGE = "guest powered off (PSCI SYSTEM_OFF)"
SLICE = 2_000_000          # instructions per run() call between host-side checks


@dataclass
class StopReason:
    """Why Machine.run() returned.

    kind: 'poweroff' | 'reset' | 'semihosting-exit' | 'budget' | 'undefined' |
          'fetch-abort' | 'data-abort' | 'exception-loop' | 'stopped' | 'halted' |
          'breakpoint' | 'until' | 'timeout' | 'protection' | 'callback-error'
          (and 'killed', which only the command line's gdb stub returns: gdb's kill)
    error: for 'callback-error', the exception a hook or device callback raised
    new_edges: for Machine.run_inputs with coverage on, the bitmap entries this run
          reached that no run before it had
    """
    kind: str
    code: int = 0
    pc: int = 0
    address: int = 0
    insn: int = 0
    message: str = ""
    error: BaseException = field(default=None, repr=False, compare=False)
    new_edges: int = 0

    def __str__(self):
        return self.message or self.kind


def _flash_offset(ram_len):
    """Where the flash banks start in the memory array: after `ram_len` bytes of RAM,
    aligned to 8 pages (the dirty map's words: snapshot restores scan the RAM's)."""
    return (ram_len + 0x7FFF) & ~0x7FFF


def _copy_sparse(dst, src, chunk=1 << 18):
    """dst[:] = src where src is not zero (dst is fresh zeros): untouched pages stay
    untouched."""
    for a in range(0, len(src), chunk):
        part = src[a:a + chunk]
        if part.any():
            dst[a:a + chunk] = part


def _replace_sparse(dst, src, chunk=1 << 16):
    """dst[:] = src, copying only the chunks that differ from zero on either side (a
    snapshot file's RAM is mostly untouched zero pages: they stay untouched here)."""
    n = len(src) // chunk * chunk
    d2, s2 = dst[:n].reshape(-1, chunk), src[:n].reshape(-1, chunk)
    snz, dnz = s2.any(axis=1), d2.any(axis=1)
    for i in np.flatnonzero(snz):
        d2[i] = s2[i]
    for i in np.flatnonzero(dnz & ~snz):
        d2[i] = 0
    dst[n:] = src[n:]


class VirtMachine:
    ram_base = T.RAM_BASE

    def __init__(self, machine="virt", cpu=None, ram_size=128 << 20, serial=None,
                 semihosting=False, semihosting_cmdline=None, icount_shift=0, tracer=None,
                 no_reboot=False, semihosting_userspace=False, icount_auto=False,
                 sleep=False, rtc_base=None, rtc_clock="vm", smp=1, topology=None,
                 gic_version=None):
        """icount_shift: each instruction is 2**shift ns of virtual time; icount_auto:
        the shift adapts so that virtual time keeps up with the host clock (as QEMU's
        -icount shift=auto); sleep: an idle guest (WFI) waits for its next timer in
        host time instead of jumping there (the CLI's default; the embedding API's is
        False: deterministic).  rtc_base: the RTC's start (epoch seconds; None: now),
        rtc_clock: 'vm' (the RTC counts virtual time) or 'host' (host time).  smp: the
        number of CPUs (1..8; CPU 0 boots, the others wait for PSCI CPU_ON: see
        machine/smp.py for how they share the host thread); topology: their -smp
        topology (emu/smpopts.py Topology; default: one socket of `smp` cores), which
        the device tree's cpu-map shows.  gic_version: 2 (GICv2 + GICv2m) or 3
        (GICv3: the CPU interface is system registers); None: the machine type's (2,
        as QEMU's virt)."""
        self.type = T.resolve(machine)
        self.machine_type = self.type.name
        self.gic_version = self.type.gic_version if gic_version is None else gic_version
        if self.gic_version not in (2, 3):
            raise MachineError(f"gic-version {gic_version}: the board has a GICv2 or a GICv3 "
                               f"(2 or 3)")
        model = get_model(cpu or self.type.default_cpu)
        if self.gic_version == 3:
            model = gicv3_cpu_model(model, self.type.gicv3_priority_bits)
        ns_per_tick = max(1, 1_000_000_000 // self.type.cntfrq)
        overrides = dict(self.type.sysreg_overrides)
        overrides.setdefault("CNTFRQ_EL0", {})
        overrides["CNTFRQ_EL0"] = dict(overrides["CNTFRQ_EL0"], reset=self.type.cntfrq)
        from pyaarch64.machine.smp import MAX_CPUS, mpidr_affinity
        if not (isinstance(smp, int) and 1 <= smp <= MAX_CPUS):
            raise MachineError(f"{smp} CPUs: this board has 1 to {MAX_CPUS}")
        from pyaarch64.emu.smpopts import default as default_topology
        self.topology = topology or default_topology(smp)
        if self.topology.cpus != smp:
            raise MachineError(f"-smp topology of {self.topology.cpus} CPUs for {smp} CPUs")
        self.cpus = []
        for i in range(smp):
            mine = overrides
            if smp > 1:      # (MPIDR_EL1: bit 31 RES1, the affinity QEMU's virt gives)
                mine = dict(overrides, MPIDR_EL1={"reset": 0x8000_0000 | mpidr_affinity(i)})
            self.cpus.append(Cpu(model, mine, ns_per_tick, icount_shift,
                                 debug_arch=self.type.props.get("cpu.debug-arch", 0) == 1))
        self.cpu = self.cpus[0]          # the CPU running (or last run): all of them see
        self.cpu_index = 0               # the board through this one while it runs
        self.cpu_timers = [GenericTimer(c) for c in self.cpus]
        self.timer = self.cpu_timers[0]
        self.smp = None                  # machine/smp.py's Smp when there are several
        if ram_size <= 0 or ram_size % 4096:
            raise MachineError(f"RAM size {ram_size}: a positive multiple of 4 KiB")
        self.ram_size = ram_size
        # the CPU's memory array `mem`: the board's RAM, the regions map_ram adds
        # (extra_ram: (guest base, size, offset in the array)) -- together `ram`, a
        # view, what snapshots hold -- then, 32 KiB aligned, the flash banks' bytes
        # (flash_storage; not RAM: mapped as ROM devices, machine/pflash.py)
        self.flash_base, flash_len = self.type.memmap["flash"]
        self._flash_len = flash_len
        self.mem = np.zeros(_flash_offset(ram_size) + flash_len, dtype=np.uint8)
        self.ram = self.mem[:ram_size]
        self.extra_ram = []
        self.pflash = {}
        self._romd = {}
        self._mapped_units = []
        self.serial = serial
        # the devices, each declared once (machine/devices.py, virt_devices.py); the
        # registry keeps the MMIO dispatch table (base, length, handler) and the
        # host-side timers (objects with deadline_ns() -> absolute virtual ns or None,
        # and expire(now_ns); the run loop stops at the earliest deadline) in step
        self.registry = Registry()
        self.drives = {}          # drive id -> Drive (machine/blockdev.py), plugged devices' disks
        self.devices = self.registry.mmio
        self.timers = self.registry.timers
        self._timed = self.registry.timed
        attach_devices(self)
        self.attach_ram()
        for c in self.cpus:
            c.attach_mmio(self._mmio)
        self.hooks = Hooks(self)
        self.semihosting = Semihosting(self, semihosting_cmdline) if semihosting else None
        self.semihosting_userspace = semihosting_userspace
        self.tracer = tracer
        if tracer is not None and hasattr(tracer, "attach"):
            tracer.attach(self)
        self.no_reboot = no_reboot
        self.start_time = int(time.time()) if rtc_base is None else int(rtc_base)
        self.sleep = sleep
        self.icount_auto = icount_auto
        for c in self.cpus:
            c.icount_auto = icount_auto
        self._pace = None         # icount_auto: (host ns, virtual ns) at the last adjustment
        self._drift = 0           # icount_auto: virtual minus host time, accumulated (ns)
        if rtc_clock == "host":
            self.rtc.use_host_clock(self.virtual_ns)
        self.entry = self.ram_base
        self.image_end = self.ram_base
        self._kernel = None
        self.rx_pending = bytearray()
        self.poll = None          # host-side callback between run slices (console input)
        self.wait_input = None    # wait_input(timeout) -> False when no input can ever come
        self.paused = False       # the monitor's `stop`: the run loop only polls the host
        # can_wake() -> True while something outside the guest may still act on it (a
        # monitor, QMP or gdb connection): a WFI nothing can end then waits, not halts
        self.can_wake = None
        # called with the StopReason when the guest is stuck in an exception loop; None:
        # run() returns it (a front end with a monitor pauses instead, see emu/cli.py)
        self.on_stuck = None
        self.on_guest_reset = None    # called after the guest reset the machine (PSCI)
        self.state_gen = 0        # bumped when the whole state is replaced (loadvm, reset)
        # weakref to the in-memory snapshot whose RAM this RAM is, but for the pages the
        # CPU's dirty map marks (snapshot/state.py: restoring it copies only those)
        self.ram_match = None
        self.restore_pages = None     # RAM pages the last restore copied (-1: all)
        self.off_gen = None           # state_gen when the guest powered off / exited
        self._step_key = None         # step(): the state_gen its timer deadline is for
        self._step_deadline = None

    # --- memory ----------------------------------------------------------------
    def _ram_off(self, addr, n):
        off = addr - self.ram_base
        if 0 <= off and off + n <= self.ram_size:
            return off
        for base, size, at in self.extra_ram:
            if base <= addr and addr + n <= base + size:
                return at + addr - base
        raise MemoryAccessError(f"guest address range 0x{addr:x}+{n} is not RAM")

    def is_ram(self, addr, n):
        try:
            self._ram_off(addr, n)
            return True
        except MemoryAccessError:
            return False

    def attach_ram(self):
        """(Re)attach the memory array to the CPU.  A `ram` that was replaced (a
        snapshot file's RAM adopted) is copied into the array first: the flash banks
        live in the same array, after the RAM."""
        n = len(self.ram)
        if self.ram.__array_interface__["data"][0] != self.mem.__array_interface__["data"][0]:
            view = self.mem[:n]
            _replace_sparse(view, self.ram)
            self.ram = view
        self._mapped_units = self._rom_units()
        for c in self.cpus:
            c.attach_ram(self.mem, self.ram_base, self.ram_size, self._mapped())
            for unit in self.pflash:
                off = self._flash_off(unit)
                c.set_rom(off, len(self.flash_storage(unit)))

    # --- the flash banks (ROM devices: machine/pflash.py) ------------------------------
    def _flash_off(self, unit):
        from pyaarch64.machine.pflash import BANK_SIZE
        return _flash_offset(len(self.ram)) + unit * BANK_SIZE

    def flash_storage(self, unit):
        """The bytes of flash bank `unit` (a view of the memory array)."""
        from pyaarch64.machine.pflash import BANK_SIZE
        off = self._flash_off(unit)
        return self.mem[off:off + BANK_SIZE]

    def _mapped(self):
        """The CPU's RAM regions besides the board's RAM: map_ram's, then each flash
        bank in read-array mode (its reads and fetches are RAM)."""
        from pyaarch64.machine.pflash import BANK_SIZE
        out = list(self.extra_ram)
        for unit in self._rom_units():
            out.append((self.flash_base + unit * BANK_SIZE, BANK_SIZE, self._flash_off(unit)))
        return out

    def _rom_units(self):
        """The banks mapped as ROM devices: in read-array mode and holding something
        (an image, a file, or what the guest programmed).  A blank bank (QEMU's
        zeros) stays MMIO: its reads give the same zeros, but the CPU does not
        execute it -- in QEMU a jump there runs UDF #0 in an endless loop of
        exceptions (an exception vector at VBAR_EL1 = 0 with no firmware); here it
        stops the run with the fault, as before the flash existed -- and RAM an
        embedder maps over it (map_ram) takes its place."""
        return [u for u in sorted(self.pflash) if self._romd.get(u, True) and self.pflash[u].used]

    def flash_romd(self, unit, on):
        """Bank `unit` enters (on) or leaves read-array mode: RAM-backed reads, or
        every access to the device (QEMU's memory_region_rom_device_set_romd)."""
        self._romd[unit] = on
        self._remap_flash()

    def _remap_flash(self):
        units = self._rom_units()
        if units != self._mapped_units:
            self._mapped_units = units
            for c in self.cpus:
                c.set_regions(self._mapped())

    def flash_changed(self, unit, off, n):
        """Bank `unit`'s bytes [off, off+n) changed (program, erase, load): decoded
        code there is forgotten (they do not count as written RAM)."""
        for c in self.cpus:
            c.forget_code(self._flash_off(unit) + off, n)
        if unit in self.pflash:
            self._remap_flash()            # (a blank bank that now holds something)

    def mmio_error(self):
        """A device refuses the access in progress (the CPU takes an external abort)."""
        self.cpu.ctl[O.C_MMIO_ERR] = 1

    def dma_write(self, addr, data):
        """A device writes guest RAM (fw_cfg's DMA); MemoryAccessError if not RAM."""
        self.write_memory(addr, data)

    def map_ram(self, base, size):
        """Add RAM at guest physical [base, base+size) (4 KiB aligned), where it collides
        with neither the board's RAM, another region nor a device.  The RAM array is
        reallocated (its contents kept); decoded code and the soft TLB start afresh,
        and in-memory snapshots taken before no longer match the machine (a restore
        is refused: the platform now has this region)."""
        from pyaarch64.cpu.ops import XRAM_MAX
        if size <= 0 or base % 4096 or size % 4096 or base < 0 or base + size > 1 << 48:
            raise MachineError(f"RAM region 0x{base:x}+0x{size:x}: base and size must be "
                               f"multiples of 4 KiB, size above 0, inside 48 bits")
        most = XRAM_MAX - len(self.pflash)        # (the flash banks take the rest)
        if len(self.extra_ram) >= most:
            raise MachineError(f"at most {most} RAM regions besides the board's")
        blank = {f"virt.flash{u}" for u, d in self.pflash.items() if not d.used}
        for b, e, kind, name in self.regions():
            if base < e and b < base + size and name not in blank:   # (RAM over blank flash)
                raise MachineError(f"RAM region 0x{base:x}-0x{base + size:x} collides with "
                                   f"{name} at 0x{b:x}-0x{e:x}")
        at = len(self.ram)
        old = [self.flash_storage(u) for u in sorted(self.pflash)]
        mem = np.zeros(_flash_offset(at + size) + self._flash_len, dtype=np.uint8)
        mem[:at] = self.ram
        self.mem, self.ram = mem, mem[:at + size]
        for u, prev in zip(sorted(self.pflash), old):
            dev = self.pflash[u]
            dev.storage = self.flash_storage(u)
            _copy_sparse(dev.storage, prev)
        self.extra_ram.append((base, size, at))
        self.ram_match = None
        self.attach_ram()
        for c in self.cpus:
            c.invalidate_code()

    def read_memory(self, addr, n, virtual=False, cpu=None):
        """Guest memory (virtual: through the translation of `cpu`, default the CPU
        that ran last)."""
        if virtual:
            return b"".join(self.read_memory(pa, k) for pa, k in self._pages(addr, n, cpu))
        try:
            off = self._ram_off(addr, n)
        except MemoryAccessError:
            from pyaarch64.machine.pflash import BANK_SIZE
            unit, at = divmod(addr - self.flash_base, BANK_SIZE)
            if unit not in self.pflash or not self.pflash[unit].used or at + n > BANK_SIZE:
                raise
            # the flash banks' bytes (what read-array mode reads), for the monitor,
            # gdb and messages
            return self.flash_storage(unit)[at:at + n].tobytes()
        return self.ram[off:off + n].tobytes()

    def write_memory(self, addr, data, virtual=False, cpu=None):
        if virtual:
            data = bytes(data)
            at = 0
            for pa, k in self._pages(addr, len(data), cpu):
                self.write_memory(pa, data[at:at + k])
                at += k
            return
        off = self._ram_off(addr, len(data))
        self.ram[off:off + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)
        for c in self.cpus:
            c.mark_written(off, len(data))         # (decoded code there is forgotten)

    def translate(self, va, cpu=None):
        """The physical address of virtual address va in the current translation regime
        (as a debugger sees it: page permissions do not matter).  MemoryAccessError
        when the walk faults."""
        from pyaarch64.cpu.memory import translate, A_READ, FSC_PERM
        va &= 0xFFFFFFFFFFFFFFFF
        cpu = cpu or self.cpu
        fsc, pa, _ = translate(cpu.ctl, cpu.sysr, cpu.mem, np.uint64(va), A_READ, 1)
        if fsc >= 0 and (fsc & ~3) != FSC_PERM:
            raise MemoryAccessError(f"virtual address 0x{va:x} does not translate (fault status "
                                    f"0x{int(fsc):02x})")
        return int(pa)

    def _pages(self, va, n, cpu=None):
        """(physical address, length) for the page-sized pieces of [va, va+n)."""
        out = []
        while n > 0:
            k = min(n, 0x1000 - (va & 0xFFF))
            out.append((self.translate(va, cpu), k))
            va, n = va + k, n - k
        return out

    def protect(self, addr, size, perms):
        """Forbid what `perms` (r, w, x) leaves out on the RAM pages [addr, addr+size)
        (physical, 4 KiB aligned, RAM only); perms 'rwx' allows everything again."""
        from pyaarch64.cpu.hooks import PROT_NO_R, PROT_NO_W, PROT_NO_X
        if addr % 4096 or size % 4096 or size <= 0:
            raise MachineError(f"mem_protect 0x{addr:x}+0x{size:x}: 4 KiB aligned, size above 0")
        if set(perms) - set("rwx"):
            raise MachineError(f"mem_protect: perms {perms!r} is not a subset of 'rwx'")
        off = self._ram_off(addr, size)
        if self._ram_off(addr + size - 4096, 4096) != off + size - 4096:
            raise MachineError(f"mem_protect 0x{addr:x}+0x{size:x} spans more than one RAM region")
        forbid = ((0 if "r" in perms else PROT_NO_R) | (0 if "w" in perms else PROT_NO_W)
                  | (0 if "x" in perms else PROT_NO_X))
        for c in self.cpus:
            c.protect(off, size, forbid)

    def regions(self):
        """[(begin, end, kind, name)]: RAM and every device, by physical address
        (kind 'ram', 'mmio', or 'romd' for a flash bank in read-array mode)."""
        out = [(self.ram_base, self.ram_base + self.ram_size, "ram", "ram")]
        out += [(b, b + n, "ram", f"ram@0x{b:x}") for b, n, _ in self.extra_ram]
        roms = {id(self.pflash[u]) for u in self._rom_units()}
        for r in self.registry.regions():
            out.append((r.base, r.end, "romd" if id(r.handler) in roms else "mmio",
                        r.region_name))
        return sorted(out)

    # --- devices -----------------------------------------------------------------
    def _uart_tx(self, data):
        if self.serial is not None:
            self.serial(data)

    def _mmio(self, addr, size, is_write, value):
        if addr >= O.SYSREG_IO:
            return self._sysreg_io(addr - O.SYSREG_IO, is_write, value)
        for base, length, dev in self.devices:
            if base <= addr < base + length:
                if is_write:
                    if dev in self._timed:
                        before = dev.deadline_ns()
                        dev.write(addr - base, size, value)
                        if dev.deadline_ns() != before and not int(self.cpu.ctl[O.C_STOP]):
                            self.cpu.ctl[O.C_STOP] = 2     # new deadline: re-plan the slice
                        return 0
                    dev.write(addr - base, size, value)
                    return 0
                if dev in self._timed:
                    before = dev.deadline_ns()
                    v = dev.read(addr - base, size)
                    if dev.deadline_ns() != before and not int(self.cpu.ctl[O.C_STOP]):
                        self.cpu.ctl[O.C_STOP] = 2
                    return v
                return dev.read(addr - base, size)
        if self.hooks.invalid and self.hooks.invalid_access(
                "write" if is_write else "read", addr, size, value):
            return 0                # (the access is tried again: Hooks.invalid_access)
        if self.tracer is not None:
            self.tracer.guest_error(
                f"Invalid {'write' if is_write else 'read'} at addr 0x{addr:X}, size {size}, "
                f"region '(null)', reason: rejected\n")
        self.cpu.ctl[O.C_MMIO_ERR] = 1
        return 0

    def _sysreg_io(self, key, is_write, value):
        """A system register the GIC answers (cpu/sysregs.py H_GIC rows: the GICv3's
        CPU interface), accessed by the CPU executing (board.cpu_index; 0 with one)."""
        name = SR.by_key(key).name
        cpu = getattr(self, "cpu_index", 0)
        if is_write:
            self.gic.icc_write(cpu, name, value)
            return 0
        return self.gic.icc_read(cpu, name)

    def feed_input(self, data):
        """Host-side bytes typed into the serial console."""
        self.rx_pending += data
        self._step_key = None               # (a receive timeout may start)
        self._deliver_rx()

    def _deliver_rx(self):
        while self.rx_pending and self.uart.can_receive():
            self.uart.push_rx(self.rx_pending[0])
            del self.rx_pending[0]

    # --- boot --------------------------------------------------------------------
    @property
    def cpu_model(self):
        return self.cpu.model.name

    def load_kernel(self, path, initrd=None, append=None, dtb=None):
        """QEMU's -kernel/-initrd/-append/-dtb: load the kernel (ELF, arm64 Image, or
        raw binary), the initrd and the device tree, and point the CPU at the boot
        stub or entry (see machine/loader.py).  Raises loader.KernelError."""
        self._kernel = path
        self._firmware = False
        self._boot_args = (initrd, append, dtb)
        self._boot()

    # --- firmware in flash (machine/pflash.py) -------------------------------------
    def load_bios(self, path):
        """QEMU's -bios FILE: the image at the start of flash bank 0 (the rest of the
        bank zeros; the guest may program it, a system reset copies the image back).
        Raises loader.KernelError."""
        from pyaarch64.machine.pflash import BANK_SIZE
        if not os.path.exists(path):
            raise loader.KernelError(f"could not find ROM image '{path}': No such file or "
                                     f"directory")
        data = loader._read(path, "ROM image")
        if len(data) > BANK_SIZE:
            raise loader.KernelError(f"could not load ROM image '{path}': {len(data)} bytes do "
                                     f"not fit in the {BANK_SIZE >> 20} MiB flash bank")
        self.pflash[0].load_image(data, readonly=False)
        self.pflash[0].image_path = path

    def attach_pflash(self, unit, path, readonly=False, snapshot=False):
        """QEMU's -drive if=pflash,file=PATH,format=raw,unit=UNIT[,readonly=on]: the
        file (exactly one bank, 64 MiB) is the bank's contents; a writable drive
        keeps what the guest programs (snapshot=True, -snapshot: the file is left
        untouched, what the guest programs lives as long as the machine).  Raises
        loader.KernelError."""
        from pyaarch64.machine.pflash import BANK_SIZE
        if unit not in self.pflash:
            raise loader.KernelError(f"machine type does not support if=pflash,bus=0,unit={unit}")
        try:
            size = os.path.getsize(path)
            with open(path, "rb" if readonly else "r+b") as f:
                data = f.read(BANK_SIZE + 1) if size == BANK_SIZE else b""
        except OSError as e:
            raise loader.KernelError(f"could not open '{path}': {e.strerror}") from None
        if size != BANK_SIZE:
            raise loader.KernelError(f"pflash{unit} '{path}': the flash bank needs {BANK_SIZE} "
                                     f"bytes, the file has {size}")
        if readonly:
            self.pflash[unit].load_image(data, readonly=True)
        else:
            self.pflash[unit].attach_file(None if snapshot else path, data)
        self.pflash[unit].image_path = path
        self.pflash[unit].drive = f"pflash{unit}"

    def boot_firmware(self, kernel=None, initrd=None, append=None, dtb=None):
        """Boot the firmware in flash bank 0, as QEMU does with -bios or a pflash
        drive for bank 0: the CPU starts at the flash's start, the device tree is at
        the start of RAM, and -kernel/-initrd/-append are handed to the firmware
        through fw_cfg.  Raises loader.KernelError."""
        self._kernel = kernel
        self._firmware = True
        self._boot_args = (initrd, append, dtb)
        self._boot()

    def _boot(self):
        self.state_gen += 1              # (a new guest: whatever ran before is gone)
        initrd, append, dtb = self._boot_args
        if getattr(self, "_firmware", False):
            self.boot_info = loader.firmware_boot(self, self._kernel, initrd=initrd,
                                                  append=append, dtb=dtb)
            k, rd, cmdline = self.boot_info.fw_cfg
            if self._kernel is not None:
                self.fw_cfg.set_kernel(k, rd, cmdline)
            self.entry, self.image_end = self.boot_info.pc, self.ram_base
        else:
            self.boot_info = loader.boot(self, self._kernel, initrd=initrd, append=append, dtb=dtb)
            self.entry, self.image_end = self.boot_info.pc, self.boot_info.image_high
        self._boot_cpu()

    def _boot_cpu(self):
        if self.smp is not None:         # (CPU 0 boots; the others are off, reset)
            self.smp.secondary_reset()
            self.smp.reset()
        self.cpu.reset()
        self.cpu.pc = self.entry
        info = getattr(self, "boot_info", None)
        if info is not None:
            for name, value in info.regs.items():      # x0 = DTB for raw kernels
                self.cpu.set_reg(name, value)

    def reset(self):
        """System reset: devices and CPU to reset state, kernel reloaded."""
        self.state_gen += 1
        self.ram[:] = 0
        for c in self.cpus:
            c.dirty[:(len(self.ram) + 4095) >> 12] = 1         # (the RAM's pages: not the flash)
        # as QEMU 7.2: the GIC resets; the PL011 and PL031 keep their registers (each
        # device's declaration says which it does)
        reset_devices(self)
        if self._kernel or getattr(self, "_firmware", False):
            self._boot()        # kernel, initrd, DTB and stub again (or the firmware's DTB)
        else:
            self._boot_cpu()

    def powerdown(self):
        """Press the power button (QEMU's system_powerdown on virt: the gpio-key on
        the PL061's line 3, released 100 ms of virtual time later); a guest with a
        driver for it (Linux's gpio-keys) sees KEY_POWER.  False when the board has
        no power button."""
        key = getattr(self, "power_button", None)
        if key is None:
            return False
        key.press()
        self._step_key = None           # (a new deadline: the release)
        return True

    def virtual_ns(self):
        """Virtual time: instructions retired (<< icount shift) plus time slept in WFI
        (with several CPUs: the board's clock, machine/smp.py)."""
        if self.smp is not None:
            return self.smp.now_ns()
        return self.timer.now_ns()

    def icount_total(self):
        """Instructions retired by all the CPUs."""
        return sum(c.icount for c in self.cpus)

    def _sync_timers(self):
        """Expire due host-side timers, drive the generic timer's PPIs, and return the
        next deadline (virtual ns) or None."""
        now = self.smp.sync_clocks() if self.smp is not None else self.timer.now_ns()
        for t in self.timers:
            d = t.deadline_ns()
            if d is not None and d <= now:
                t.expire(now)
        gic = getattr(self, "gic", None)
        deadline = None
        ppis = self.type.timer_ppis
        for i, timer in enumerate(self.cpu_timers):
            if gic is not None:
                lines = timer.lines()
                gic.set_irq(16 + ppis[1], lines["phys"], i)
                gic.set_irq(16 + ppis[2], lines["virt"], i)
            d = timer.next_deadline_ns()
            if d is not None and (deadline is None or d < deadline):
                deadline = d
        for t in self.timers:
            d = t.deadline_ns()
            if d is not None and (deadline is None or d < deadline):
                deadline = d
        return deadline

    def heapinfo(self):
        """SYS_HEAPINFO as QEMU 7.2 answers: heap from the end of the loaded image
        to the top of RAM, stack from the top of RAM down to the image end."""
        top = self.ram_base + self.ram_size
        return self.image_end, top, top, self.image_end

    # --- running -----------------------------------------------------------------
    def run(self, max_insns=None, until=None, timeout=None, go_on=False):
        """Run until the guest stops the machine, `max_insns` instructions retire, the
        PC reaches `until` (before that instruction runs), a breakpoint or hook stops
        it, or `timeout` seconds of host time pass (checked between slices).  go_on:
        the same run goes on (its edge coverage is not cleared: run_inputs)."""
        cpu = self.cpu
        if self.off_gen is not None and self.off_gen == self.state_gen:
            raise MachineError("the guest has powered off: reset() or restore() the machine "
                               "(or load a kernel) before running it again")
        start = self.icount_total()
        tracer = self.tracer
        hooks = self.hooks
        if until is not None or hooks.until is not None:
            hooks.set_until(until)
        if cpu.ctl[O.C_COV_ON] and not go_on:
            cpu.reset_coverage()            # (edge coverage is per run)
        deadline_host = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline_host is not None and time.monotonic() >= deadline_host:
                return StopReason("timeout", 0, cpu.pc, message=(
                    f"time limit of {timeout} s reached at PC 0x{cpu.pc:x}"))
            if self.paused:
                if self.poll is not None:
                    self.poll()
                if self.wait_input is None or not self.wait_input(0.05):
                    time.sleep(0.05)
                continue
            budget = SLICE
            deadline = self._timers()
            if self.smp is not None:
                turn = self.smp.schedule()         # (self.cpu: the CPU whose turn it is)
                if turn is None:
                    r = self._wfi()                # every CPU waits for an interrupt
                    if r is not None:
                        return self._ended(r)
                    continue
                cpu = self.cpu
                budget = turn
            if deadline is not None:
                shift = int(cpu.ctl[O.C_ICOUNT_SHIFT])
                ahead = deadline - self.timer.now_ns()
                budget = max(1, min(budget, (ahead + (1 << shift) - 1) >> shift))
            if deadline_host is not None:
                budget = min(budget, 200_000)
            tracer = self.tracer              # (the monitor's `log` may change it)
            if max_insns is not None:
                left = max_insns - (self.icount_total() - start)
                if left <= 0:
                    return StopReason("budget", pc=cpu.pc, message=(
                        f"instruction budget of {max_insns} spent at PC 0x{cpu.pc:x}"))
                budget = min(budget, left)
            if tracer is not None and tracer.step_mode:
                budget = 1
                tracer.before(self)
            exc0 = int(cpu.ctl[O.C_EXC_COUNT])
            und0 = int(cpu.ctl[O.C_UNDEF_COUNT])
            ex = cpu.run(budget)
            if tracer is not None:
                if int(cpu.ctl[O.C_UNDEF_COUNT]) != und0:
                    tracer.undefined(self)
                if int(cpu.ctl[O.C_EXC_COUNT]) != exc0:
                    tracer.exception(self)
            gen = self.state_gen
            if self.poll is not None:
                self.poll()
            if self.rx_pending:
                self._deliver_rx()
            if self.icount_auto:
                self._pace_shift()
            if self.state_gen != gen:
                continue        # a front end replaced the state (reset, loadvm): ex was the old one's
            if ex == O.EXIT_TIMER:
                self._step_key = None           # a device re-planned its deadline
                continue
            if ex == O.EXIT_BUDGET:
                continue
            r = self._handle_exit(ex)
            if r is not None:
                return self._ended(r)

    def _ended(self, r):
        if r.kind in ("poweroff", "semihosting-exit"):
            self.off_gen = self.state_gen       # run() refuses until reset/restore/boot
        return r

    def _timers(self):
        """_sync_timers() when something may have changed since the last call -- the
        state was replaced, a device re-planned (EXIT_TIMER), input arrived, the host
        wrote a register, or virtual time reached the deadline it returned -- else
        that deadline again (a run() or step() of a fuzz loop pays ~3 us less)."""
        d = self._step_deadline
        if self.state_gen != self._step_key or (d is not None and self.timer.now_ns() >= d):
            d = self._step_deadline = self._sync_timers()
            self._step_key = self.state_gen
        return d

    def step(self):
        """Run one instruction (or take one exception): run(max_insns=1) without the
        per-call work a single instruction cannot need -- the host-side timers are
        synchronised only when virtual time could reach their next deadline, when
        the state was replaced or a device re-planned (EXIT_TIMER)."""
        cpu = self.cpu
        if self.tracer is not None or self.paused or self.poll is not None or (
                self.off_gen is not None and self.off_gen == self.state_gen) or self.smp:
            return self.run(max_insns=1)
        self._timers()
        ex = cpu.run(1)
        if self.rx_pending:
            self._deliver_rx()
        if ex == O.EXIT_BUDGET:
            return StopReason("budget", pc=cpu.pc, message="instruction budget of 1 spent")
        self._step_key = None
        if ex == O.EXIT_TIMER:
            return StopReason("budget", pc=cpu.pc, message="instruction budget of 1 spent")
        r = self._handle_exit(ex)
        if r is None:
            return StopReason("budget", pc=cpu.pc, message="instruction budget of 1 spent")
        return self._ended(r)

    def run_inputs(self, snap, inputs, address, max_insns, virtual=False, seen=None):
        """For each input: restore `snap`, write the input at `address` (physical, or
        virtual through the snapshot's translation), run(max_insns=).  Returns one
        StopReason per input; with coverage on, each carries new_edges (bitmap entries
        `seen` did not have; `seen` gets them).  Runs that end by powering off or
        spending their budget without calling the host go round in one jitted loop
        (cpu/batch.py); any other run is finished here, as run() would, and the
        devices are restored before the next input."""
        from pyaarch64.snapshot.state import restore, fast_of
        from pyaarch64.cpu import batch as B
        from pyaarch64.cpu.groups import compile_progress
        cpu = self.cpu
        max_insns = int(max_insns)
        if max_insns <= 0:
            raise MachineError(f"max_insns must be above 0 (got {max_insns})")
        datas = [d if type(d) is bytes else bytes(d) for d in inputs]
        if not datas:
            return []
        lens = np.fromiter(map(len, datas), np.int64, len(datas))
        n, width = len(datas), max(1, int(lens.max()))
        cover = bool(cpu.ctl[O.C_COV_ON])
        cov = cpu._cov[:int(cpu.ctl[O.C_COV_MASK]) + 1] if cover else np.zeros(8, np.uint8)
        if seen is None or not cover:
            seen = np.zeros(len(cov), np.uint8)
        if not virtual:
            self._ram_off(address, width)      # (refused before anything changes)
        restore(self, snap)                    # (checked once per machine, then remembered)
        if self.hooks.until is not None:
            self.hooks.set_until(None)
        pages = list(self._pages(address, width)) if virtual else [(address, width)]
        chunks = np.array([(self._ram_off(pa, k), k) for pa, k in pages], np.int64)
        fast = fast_of(self, snap)
        deadline = self._timers()
        if deadline is not None:
            shift = int(cpu.ctl[O.C_ICOUNT_SHIFT])
            if (deadline - self.timer.now_ns()) >> shift < max_insns:
                fast = None                    # (a timer fires within the budget: run() copes)
        if (fast is None or self.tracer is not None or self.paused or self.smp is not None
                or self.poll is not None or cpu.exec_path == "step"):
            return self._run_inputs_slowly(snap, datas, address, max_insns, virtual, cov, seen,
                                           cover)
        f, idx = fast
        data = np.frombuffer(b"".join(d.ljust(width, b"\0") for d in datas),
                             np.uint8).reshape(n, width)
        out = np.zeros((n, 3), np.int64)
        results = [None] * n
        ic0 = self.cpu.icount
        if cpu._args is None:
            cpu._args = (cpu.regs, cpu.ctl, cpu.sysr, cpu.sysmap, cpu.bus())
        exe = B.executor_address(cpu)
        cpu._fill_groups()
        i = 0
        while i < n:
            with compile_progress("the batch runner") if not B.run_batch.signatures else nullcontext():
                i, ex = B.run_batch(np.uint64(exe), *cpu._args, cpu.state, f.regs, f.sysr, idx, f.ctl, f.ram, data,
                                    lens, chunks, i, max_insns, out, cov, seen)
            self.state_gen += 1
            if i >= n:
                break
            r = self._finish_input(ex, max_insns, ic0)
            if cover:
                r.new_edges = int(B.new_edges(cov, seen, False))
            results[i] = r
            i += 1
            if i < n:
                restore(self, snap)            # (the devices too: the run called the host)
        budget_msgs = {}
        for k, (end, pc, new) in enumerate(out.tolist()):
            if results[k] is None:
                if end == B.END_POWEROFF:
                    results[k] = StopReason("poweroff", 0, pc, message=_OFF_MESSAGE, new_edges=new)
                else:
                    msg = budget_msgs.get(pc)
                    if msg is None:
                        msg = budget_msgs[pc] = (f"instruction budget of {max_insns} spent at "
                                                 f"PC 0x{pc:x}")
                    results[k] = StopReason("budget", 0, pc, message=msg, new_edges=new)
        self.off_gen = (self.state_gen if results[-1].kind in ("poweroff", "semihosting-exit")
                        else None)
        return results

    def _finish_input(self, ex, max_insns, ic0):
        """Finish the run a batch left live at exit `ex` (its input's run started at
        instruction count ic0), as run(max_insns=) would have."""
        cpu = self.cpu
        r = None
        if ex == O.EXIT_GROUP:
            cpu._load_group(int(cpu.ctl[O.C_EXIT_A]))
        elif ex == O.EXIT_TIMER:
            self._step_key = None
        elif ex != O.EXIT_BUDGET:
            r = self._handle_exit(ex)
            if r is not None:
                return self._ended(r)
        left = max_insns - (cpu.icount - ic0)
        if left > 0:
            r = self.run(max_insns=left, go_on=True)
            if r.kind != "budget":
                return r
        return StopReason("budget", pc=cpu.pc, message=(
            f"instruction budget of {max_insns} spent at PC 0x{cpu.pc:x}"))

    def _run_inputs_slowly(self, snap, datas, address, max_insns, virtual, cov, seen, cover):
        """run_inputs one run() at a time (a tracer, a paused board, the step path, or
        a timer due within the budget)."""
        from pyaarch64.snapshot.state import restore
        from pyaarch64.cpu.batch import new_edges
        results = []
        for k, d in enumerate(datas):
            if k:
                restore(self, snap)
            self.write_memory(address, d, virtual)
            r = self.run(max_insns=max_insns)
            if cover:
                r.new_edges = int(new_edges(cov, seen, False))
            results.append(r)
        return results

    def _handle_exit(self, ex):
        cpu = self.cpu
        ctl = cpu.ctl
        if ex == O.EXIT_HVC:
            what = psci.call(cpu, self.type.psci_version, self.smp)
            if what == "off" and self.smp is not None:
                self.smp.cpu_off()
                return None
            if what == "poweroff" or what == "off":
                return StopReason("poweroff", 0, cpu.pc, message=_OFF_MESSAGE)
            if what == "wfi":
                return None if int(cpu.ctl[O.C_IRQ]) & 3 else self._wait()
            if what == "reset":
                if self.no_reboot:
                    return StopReason("reset", 0, cpu.pc, message="guest requested a reset (PSCI SYSTEM_RESET)")
                self.reset()
                if self.on_guest_reset is not None:
                    self.on_guest_reset()       # (the CLI: QMP's RESET event)
            return None
        if ex == O.EXIT_SMC:
            # no EL3: SMC is UNDEFINED
            cpu.pc = int(ctl[O.C_EXIT_B])
            return self._undef_here()
        if ex == O.EXIT_HLT:
            imm = int(ctl[O.C_EXIT_A])
            # semihosting from EL0 only with -semihosting-config userspace=on (as QEMU)
            if (self.semihosting is not None and imm == HLT_SEMIHOSTING
                    and (int(ctl[O.C_EL]) != 0 or self.semihosting_userspace)):
                try:
                    self.semihosting.call(cpu)
                except SemihostingExit as e:
                    cpu.pc = cpu.pc + 4
                    return StopReason("semihosting-exit", e.code, cpu.pc,
                                      message=f"guest exited through semihosting with status {e.code}")
                except ValueError as e:
                    cpu.pc = cpu.pc + 4
                    return StopReason("data-abort", 1, cpu.pc, message=f"semihosting call failed: {e}")
                cpu.pc = cpu.pc + 4
                ctl[O.C_ICOUNT] += 1
                return None
            return self._undef_here()
        if ex == O.EXIT_WFI:
            return self._wait()
        if ex == O.EXIT_WFE:             # (only with several CPUs: machine/smp.py)
            self.smp.wfe()
            return None
        if ex in (O.EXIT_CB_ERROR, O.EXIT_STOP) and isinstance(cpu.callback_error, ProtectionFault):
            f, cpu.callback_error = cpu.callback_error, None
            ctl[O.C_CB_ERR] = 0
            ctl[O.C_STOP] = 0
            return StopReason("protection", 1, cpu.pc, address=f.address,
                              message=f"{f} (PC 0x{cpu.pc:x})")
        if ex in (O.EXIT_CB_ERROR, O.EXIT_STOP) and cpu.callback_error is RETRY:
            cpu.callback_error = None       # an invalid-memory hook mapped something: again
            ctl[O.C_CB_ERR] = 0
            ctl[O.C_STOP] = 0
            return None
        if ex == O.EXIT_STOP and cpu.callback_error is None:
            r, self.hooks.stop_reason = self.hooks.stop_reason, None
            return r or StopReason("stopped", 0, cpu.pc, message="stopped")
        if ex == O.EXIT_CB_ERROR or ex == O.EXIT_STOP:
            err = cpu.callback_error
            cpu.callback_error = None
            ctl[O.C_CB_ERR] = 0
            ctl[O.C_STOP] = 0
            return StopReason("callback-error", 1, cpu.pc, message=(
                f"a callback raised at PC 0x{cpu.pc:x}: {err!r}"), error=err)
        if ex == O.EXIT_FETCH_ABORT:
            a = int(ctl[O.C_EXIT_A])
            return StopReason("fetch-abort", 1, a, address=a, message=(
                f"guest is executing from unmapped memory at PC 0x{a:x}"))
        if ex == O.EXIT_DATA_ABORT:
            a, pc = int(ctl[O.C_EXIT_A]), int(ctl[O.C_EXIT_B])
            return StopReason("data-abort", 1, pc, address=a, message=(
                f"guest data abort at address 0x{a:x} (PC 0x{pc:x}) with no exception vector to take it"))
        if ex == O.EXIT_UNDEF:
            pc = int(ctl[O.C_EXIT_A])
            insn = int(ctl[O.C_EXIT_B]) if int(ctl[O.C_EXIT_B]) else self._insn_at(pc)
            return StopReason("undefined", 1, pc, insn=insn, message=(
                f"undefined instruction 0x{insn:08x} at PC 0x{pc:x} with no exception vector to take it"))
        if ex == O.EXIT_EXC_LOOP:
            pc = int(ctl[O.C_EXIT_A])
            esr = int(ctl[O.C_EXIT_B])
            ec = esr >> 26
            kind = {0x00: "undefined", 0x21: "fetch-abort", 0x20: "fetch-abort",
                    0x25: "data-abort", 0x24: "data-abort"}.get(ec, "exception-loop")
            vbar = cpu.reg("VBAR_EL1")
            if kind == "undefined":
                insn = self._insn_at(pc)
                msg = (f"undefined instruction 0x{insn:08x} at PC 0x{pc:x} "
                       f"(exception vector at VBAR_EL1=0x{vbar:x} is not mapped)")
                return StopReason(kind, 1, pc, insn=insn, message=msg)
            if kind == "fetch-abort":
                return StopReason(kind, 1, pc, address=pc, message=(
                    f"guest is executing from unmapped memory at PC 0x{pc:x}"))
            if kind == "data-abort":
                return StopReason(kind, 1, pc, address=int(cpu.ctl[O.C_EXIT_C]), message=(
                    f"guest data abort at PC 0x{pc:x} (exception vector at VBAR_EL1=0x{vbar:x} is not mapped)"))
            return StopReason(kind, 1, pc, message=(
                f"exception (ESR 0x{esr:x}) at PC 0x{pc:x} but the vector at VBAR_EL1=0x{vbar:x} is not mapped"))
        if ex == O.EXIT_EXC_STUCK:
            r = self._stuck_reason()
            if self.tracer is not None:
                self.tracer.guest_error(r.message + "\n")
            if self.on_stuck is not None:
                self.on_stuck(r)        # (the CLI with a monitor: pause, the user acts)
                return None
            return r
        if ex == O.EXIT_INTERNAL:
            pc, op = int(ctl[O.C_EXIT_A]), int(ctl[O.C_EXIT_B])
            name = OI.OP_NAMES[op] if op < len(OI.OP_NAMES) else str(op)
            raise RuntimeError(f"emulator defect: the hot loop refused op {name} at PC 0x{pc:x} "
                               f"and the general path cannot run it (please report it)")
        raise RuntimeError(f"unexpected exit code {ex}")

    def _stuck_reason(self):
        """The StopReason of EXIT_EXC_STUCK: what faults where, in words a guest
        developer can act on."""
        ctl = self.cpu.ctl
        pc, esr, far = int(ctl[O.C_EXIT_A]), int(ctl[O.C_EXIT_B]), int(ctl[O.C_EXIT_C])
        first = int(ctl[O.C_EXC_FIRST])
        ec = esr >> 26
        what = {0x00: f"undefined instruction 0x{self._insn_at(pc):08x}",
                0x0E: "illegal execution state", 0x20: "instruction abort", 0x21: "instruction abort",
                0x22: "PC alignment fault", 0x24: f"data abort at address 0x{far:x}",
                0x25: f"data abort at address 0x{far:x}",
                0x26: "SP alignment fault"}.get(ec, f"exception class 0x{ec:02x}")
        vbar = self.cpu.reg("VBAR_EL1")
        return StopReason("exception-loop", 1, pc, address=far, message=(
            f"guest is stuck in an exception loop: {what} at PC 0x{pc:x} (ESR 0x{esr:x}), and "
            f"the exception vector it enters (VBAR_EL1=0x{vbar:x}) faults again before any "
            f"instruction completes; the first of these exceptions was taken at PC 0x{first:x}"))

    def _insn_at(self, pc):
        """The instruction word at virtual address pc (0 when it cannot be read)."""
        from pyaarch64.cpu.memory import translate, A_READ
        import numpy as np
        fsc, pa, _ = translate(self.cpu.ctl, self.cpu.sysr, self.cpu.mem, np.uint64(pc), A_READ, 1)
        if fsc >= 0:
            return 0
        try:
            return int.from_bytes(self.read_memory(int(pa), 4), "little")
        except ValueError:
            return 0

    def _undef_here(self):
        r = self.cpu.take_undefined()
        if r:
            return self._handle_exit(r)
        return None

    def _wait(self):
        """The running CPU waits for an interrupt: with several CPUs the others go on
        (machine/smp.py), with one the board sleeps (_wfi)."""
        if self.smp is not None:
            self.smp.wait()
            return None
        return self._wfi()

    def _wfi(self):
        """WFI with nothing pending (on every CPU): sleep until the next timer
        deadline -- virtual time jumps there (deterministic), or with `sleep` it
        passes in host time -- or, with none armed, until console input or a front
        end acts; if nothing can ever end the wait, stop and say so."""
        cpu = self.cpu
        smp = self.smp
        if smp is not None and smp.all_off():
            return StopReason("halted", 1, cpu.pc, message=(
                "every CPU is powered off (PSCI CPU_OFF): nothing can run any more"))
        while True:
            deadline = self._sync_timers()
            if (smp.idle_woken() if smp is not None else int(cpu.ctl[O.C_IRQ]) & 3):
                return None
            if int(cpu.ctl[O.C_STOP]) == 1:
                cpu.ctl[O.C_STOP] = 0
                return StopReason("stopped", 0, cpu.pc, message="stopped")
            if deadline is not None and not self.sleep:
                self.timer.sleep_until(deadline)
                continue
            wait = 0.05
            if deadline is not None:
                wait = min(wait, max(0, deadline - self.timer.now_ns()) / 1e9)
            t0 = time.monotonic_ns()
            if self.wait_input is not None and self.wait_input(wait):
                pass
            elif deadline is not None or (self.can_wake is not None and self.can_wake()):
                if self.wait_input is not None:     # (no input can come: it returned at once)
                    time.sleep(wait)
            else:
                where = (f"WFI at PC 0x{cpu.pc - 4:x}" if smp is None else
                         "every CPU in WFI or off")
                return StopReason("halted", 1, cpu.pc, message=(
                    f"guest is waiting for an interrupt ({where}) "
                    f"but none can arrive: no timer will fire and no input is pending"))
            if deadline is not None:                # (virtual time passes as host time did)
                self.timer.sleep_until(min(deadline, self.timer.now_ns()
                                           + time.monotonic_ns() - t0))
            gen = self.state_gen
            if self.poll is not None:
                self.poll()
            if self.rx_pending:
                self._deliver_rx()
            if self.paused or self.state_gen != gen:
                return None     # the monitor stopped the machine or replaced its state

    # --- -icount shift=auto -------------------------------------------------------
    PACE_SLACK_NS = 20_000_000      # drift (either way) that moves the shift by one

    def _pace_shift(self):
        """icount_auto, between slices: keep virtual time near the host clock.  The
        drift (virtual minus host time since the last call, summed; intervals of
        half a second or more -- a pause, a monitor command -- are left out) moves
        the shift down when virtual time runs ahead and up when it falls behind."""
        now_h, now_v = time.monotonic_ns(), self.timer.now_ns()
        if self._pace is not None:
            dh, dv = now_h - self._pace[0], now_v - self._pace[1]
            if 0 <= dh < 500_000_000 and 0 <= dv < 1 << 62:
                self._drift = max(-10**9, min(10**9, self._drift + dv - dh))
                shift = int(self.cpu.ctl[O.C_ICOUNT_SHIFT])
                if self._drift > self.PACE_SLACK_NS and shift > 0:
                    self.set_icount_shift(shift - 1)
                    self._drift = 0
                elif self._drift < -self.PACE_SLACK_NS and shift < 10:
                    self.set_icount_shift(shift + 1)
                    self._drift = 0
        self._pace = (now_h, now_v)

    def set_icount_shift(self, shift):
        """Change the instruction's length in virtual time without moving the clock
        now: the difference goes into the idle-time term (modulo 2**64, as the
        jitted side computes virtual time)."""
        for c in self.cpus:
            ctl = c.ctl
            n, old = int(ctl[O.C_ICOUNT]), int(ctl[O.C_ICOUNT_SHIFT])
            ctl[O.C_IDLE_NS] = (int(ctl[O.C_IDLE_NS]) + (n << old) - (n << shift)) & ((1 << 64) - 1)
            ctl[O.C_ICOUNT_SHIFT] = shift
        self._step_key = None
