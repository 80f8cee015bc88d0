"""savevm / loadvm cost: wall time and file size of a snapshot file, for a 128 MiB
bare-metal guest mid-run and a 512 MiB Debian Linux guest at `Run /init`.

    python benchmarks/snapshot.py [--no-linux]
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)


def measure(vm, label, rows):
    from pyaarch64.snapshot import format as F
    from pyaarch64.snapshot.state import save, restore
    d = tempfile.mkdtemp()
    path = os.path.join(d, "s.snap")
    t0 = time.perf_counter()
    snap = save(vm, copy_ram=False)      # as the monitor's savevm
    size = F.write(path, snap)
    t1 = time.perf_counter()
    s2 = F.read(path)
    restore(vm, s2)
    t2 = time.perf_counter()
    os.unlink(path)
    rows.append((label, vm.ram_size >> 20, size, t1 - t0, t2 - t1))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-linux", action="store_true")
    a = ap.parse_args(argv)
    from guestbuild import build
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.cpu import ops as O
    rows = []
    vm = VirtMachine("virt-7.2", serial=lambda d: None)
    vm.load_kernel(build("timer.c", extra_sources=("vectors.S",)))
    vm.run(max_insns=1_000_000)
    measure(vm, "bare-metal timer.c at 1 M instructions", rows)
    if not a.no_linux:
        import boot                     # (benchmarks/boot.py: the kernel and this checkout's initramfs)
        kernel, initrd = boot.guest_paths()
        out = bytearray()

        def serial(data):
            out.extend(data)
            if b"Run /init" in out:
                vm.cpu.ctl[O.C_STOP] = 1
        vm = VirtMachine("virt-7.2", ram_size=512 << 20, serial=serial)
        vm.load_kernel(kernel, initrd=initrd,
                       append="console=ttyAMA0 cryptomgr.notests")
        vm.run(max_insns=1_000_000_000)
        measure(vm, "Debian Linux at 'Run /init'", rows)
    print("| guest | RAM MiB | file size | savevm s (capture + write) | loadvm s (read + check + restore) |")
    print("|---|---:|---:|---:|---:|")
    for label, ram, size, ts, tl in rows:
        print(f"| {label} | {ram} | {size / 2**20:.2f} MiB | {ts:.2f} | {tl:.2f} |")


if __name__ == "__main__":
    main()
