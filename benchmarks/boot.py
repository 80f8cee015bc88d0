"""Boot Debian's arm64 kernel to a console marker on pyaarch64 and on QEMU 7.2 in the
same run; report wall time, CPU time and (for pyaarch64) guest instructions and MIPS.

    python benchmarks/boot.py [--marker 'Run /init as init process'] [--notests] [--machine virt-7.2]
                              [--no-qemu] [--runs N]
    python benchmarks/boot.py --shell [--notests]     # boot to the busybox shell's prompt
    python benchmarks/boot.py --disk [--notests]      # ... from an ext4 root on virtio-blk

The guests come from scripts/fetch-guests.sh and scripts/mkinitramfs.sh (cache dir
~/.cache/pyaarch64/guests, or $PYAARCH64_GUESTS).  pyaarch64 runs in-process (the numba
core is loaded from its cache first, and that load is not counted); QEMU runs as
`qemu-system-aarch64 -M <machine> -cpu cortex-a57 -m 512 -nographic ...` and is timed
from process start to the marker on its console.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import time

GUESTS = os.environ.get("PYAARCH64_GUESTS", os.path.expanduser("~/.cache/pyaarch64/guests"))


HERE = os.path.dirname(os.path.abspath(__file__))
INITRD = []
DISK = {}


def disk_paths():
    """(initramfs with the kernel's modules, ext4 root image) built from this checkout's
    scripts (mkinitramfs.sh MODULES_DIR, mkrootfs.sh); both engines boot the image with
    -snapshot, so it stays as built."""
    if not DISK:
        b = os.path.join(HERE, "build")
        os.makedirs(b, exist_ok=True)
        bb = os.path.join(GUESTS, "busybox")
        DISK["initrd"] = os.path.join(b, "initramfs-mods.cpio.gz")
        DISK["root"] = os.path.join(b, "rootfs.ext4")
        subprocess.run(["sh", os.path.join(HERE, "..", "scripts", "mkinitramfs.sh"), bb,
                        DISK["initrd"], os.path.join(GUESTS, "modules")], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["sh", os.path.join(HERE, "..", "scripts", "mkrootfs.sh"), bb,
                        DISK["root"]], check=True, stdout=subprocess.DEVNULL)
    return DISK["initrd"], DISK["root"]


def disk_args():
    _, root = disk_paths()
    return ["-drive", f"file={root},format=raw,if=none,id=root",
            "-device", "virtio-blk-device,drive=root"]


def guest_paths():
    k = os.path.join(GUESTS, "Image")
    if not INITRD:
        # built from this checkout's scripts/mkinitramfs.sh (its /init is what we measure)
        out = os.path.join(HERE, "build", "initramfs.cpio.gz")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([os.path.join(HERE, "..", "scripts", "mkinitramfs.sh"),
                        os.path.join(GUESTS, "busybox"), out], check=True, stdout=subprocess.DEVNULL)
        INITRD.append(out)
    if not os.path.exists(k):
        sys.exit(f"boot.py: {k} is missing: run scripts/fetch-guests.sh")
    return k, INITRD[0]


def run_pyaarch64(machine, append, marker, max_insns, disk=False, smp=1, gic=2):
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.cpu import ops as O
    kernel, initrd = guest_paths()
    if disk:
        initrd = disk_paths()[0]
    out = bytearray()
    box = {}

    def serial(data):
        out.extend(data)
        if "t" not in box and marker.encode() in out:
            box["t"] = time.perf_counter()
            m.cpu.ctl[O.C_STOP] = 1        # stop at the next instruction boundary

    # warm the numba cache outside the timed region
    from pyaarch64.emu.api import Machine
    w = Machine()
    w.load_elf(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "guest", "hello.elf"))
    w.run(max_insns=10_000)            # compiles or loads the numba core
    t0 = time.perf_counter()
    c0 = time.process_time()
    m = VirtMachine(machine, cpu="cortex-a57", ram_size=512 << 20, serial=serial, smp=smp,
                    gic_version=gic)
    if disk:
        from pyaarch64.emu.deviceopts import parse_drive, parse_device, plug_devices
        a = disk_args()
        plug_devices(m, [parse_drive(a[1], 0)], [parse_device(a[3])], snapshot=True)
    m.load_kernel(kernel, initrd=initrd, append=append)
    r = m.run(max_insns=max_insns)
    t1 = box.get("t", time.perf_counter())
    return {"engine": "pyaarch64", "reached": "t" in box, "wall_s": t1 - t0,
            "cpu_s": time.process_time() - c0, "insns": m.icount_total(),
            "mips": m.icount_total() / (t1 - t0) / 1e6, "stop": str(r)}


def run_qemu(machine, append, marker, timeout, disk=False, smp=1, gic=2):
    kernel, initrd = guest_paths()
    extra = []
    if disk:
        initrd = disk_paths()[0]
        extra = disk_args() + ["-snapshot"]
    cmd = ["qemu-system-aarch64", "-M", f"{machine},gic-version={gic}", "-smp", str(smp),
           "-cpu", "cortex-a57", "-m", "512", "-nographic",
           "-monitor", "none", "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
           "-append", append, *extra]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    buf = b""
    t1 = None
    while True:
        chunk = p.stdout.read1(4096)
        if not chunk:
            break
        buf += chunk
        if marker.encode() in buf:
            t1 = time.perf_counter()
            break
        if time.perf_counter() - t0 > timeout:
            break
    p.kill()
    p.wait()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {"engine": "qemu-7.2", "reached": t1 is not None,
            "wall_s": (t1 or time.perf_counter()) - t0, "cpu_s": cpu}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--marker", default="Run /init as init process")
    ap.add_argument("--notests", action="store_true", help="add cryptomgr.notests to the command line")
    ap.add_argument("--machine", default="virt-7.2")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--max-insns", type=int, default=3_000_000_000)
    ap.add_argument("--shell", action="store_true",
                    help="boot to the shell prompt (pyinit=shell, marker '/ # ')")
    ap.add_argument("--disk", action="store_true",
                    help="boot to the shell of an ext4 root on virtio-blk (pyinit=root)")
    ap.add_argument("--smp", type=int, default=1, help="CPUs (-smp)")
    ap.add_argument("--gic-version", type=int, default=2, choices=(2, 3))
    a = ap.parse_args(argv)
    append = "console=ttyAMA0" + (" cryptomgr.notests" if a.notests else "")
    if a.shell:
        append += " pyinit=shell"
        a.marker = "/ # "
    if a.disk:
        append += " pyinit=root"
        a.marker = "poweroff to power off"
    rows = []
    for _ in range(a.runs):
        rows.append(run_pyaarch64(a.machine, append, a.marker, a.max_insns, a.disk, a.smp,
                                  a.gic_version))
        if not a.no_qemu and shutil.which("qemu-system-aarch64"):
            rows.append(run_qemu(a.machine, append, a.marker, 600, a.disk, a.smp, a.gic_version))
    print(f"boot to {a.marker!r}, -M {a.machine},gic-version={a.gic_version} -smp {a.smp} "
          f"-cpu cortex-a57 -m 512, -append {append!r}")
    print("| engine | reached | wall s | CPU s | guest insns | MIPS |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['engine']} | {'yes' if r['reached'] else 'NO'} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} "
              f"| {r.get('insns', '-'):,} | {r['mips']:.0f} |" if "insns" in r else
              f"| {r['engine']} | {'yes' if r['reached'] else 'NO'} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | - | - |")


if __name__ == "__main__":
    main()
