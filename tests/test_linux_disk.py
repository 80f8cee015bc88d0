"""Issue 16 item 9: a real OS on a disk.  scripts/mkrootfs.sh builds an ext4 root file
system with busybox (no root needed: mkfs.ext4 -d); Debian's kernel, with its
virtio-blk and ext4 modules loaded from the initramfs (scripts/mkinitramfs.sh
MODULES_DIR, pyinit=root), mounts it from virtio-blk and switches to it.  A file is
written, `savevm` at the shell, more writes, power-off; then `-loadvm` in a new
process shows the file as it was at `savevm` -- also after dropping the page cache,
so from the disk -- and the image the second run leaves behind holds that state
and passes e2fsck.

Runs with --linux / PYAARCH64_LINUX=1 (guests from scripts/fetch-guests.sh).
"""
import os
import subprocess
import sys

import pytest

from shellconsole import Console
from test_linux_boot import BUSYBOX, ROOT, guest_files
from tools import need, have

pytestmark = pytest.mark.slow

APPEND = "console=ttyAMA0 cryptomgr.notests pyinit=root"
BANNER = rb"poweroff to power off\r?\n"
TIMEOUT = int(os.environ.get("PYAARCH64_LINUX_TIMEOUT", "600"))


@pytest.fixture(scope="module")
def guests(request, tmp_path_factory):
    return guest_files(request, tmp_path_factory, modules=True)


def rootfs(tmp_path):
    need("mkfs.ext4")
    img = str(tmp_path / "rootfs.ext4")
    r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "mkrootfs.sh"), BUSYBOX, img],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return img


# the system: two CPUs on a GICv3
SYSTEM = ("-smp", "2", "-M", "virt,gic-version=3")


def boot_args(image, initrd, img, machine="virt", system=()):
    if system:
        machine = None
    return [*(["-M", machine] if machine else []), *system,
            "-cpu", "cortex-a57", "-m", "512", "-nographic", "-kernel", image,
            "-initrd", initrd, "-append", APPEND,
            "-drive", f"file={img},format=raw,if=none,id=root",
            "-device", "virtio-blk-device,drive=root"]


def ours(*args):
    return Console([sys.executable, "-m", "pyaarch64.emu.cli", "run", *args])


def debugfs_cat(img, path):
    need("debugfs")
    r = subprocess.run(["debugfs", "-R", f"cat {path}", img], capture_output=True, text=True)
    return r.stdout


def poweroff(c):
    c.send("poweroff\n")
    c.expect(rb"reboot: Power down", TIMEOUT)
    assert c.wait(60) == 0


def monitor(c, line):
    c.send(b"\x01c")
    c.expect(rb"\(qemu\) ", 60)
    c.send(line.encode() + b"\r")
    out = c.expect(rb"\(qemu\) ", 300)
    c.send(b"\x01c")
    return out


def test_root_on_disk_savevm_more_writes_loadvm(guests, tmp_path):
    """With -smp 2 -M virt,gic-version=3, as the issue asks."""
    img = rootfs(tmp_path)
    store = str(tmp_path / "snaps")
    c = ours(*boot_args(*guests, img, system=SYSTEM), "--snapshot-store", store)
    try:
        c.expect(rb"PYAARCH64-ROOT-OK", TIMEOUT)
        c.expect(BANNER, TIMEOUT)
        c.shell_ready(TIMEOUT)
        assert c.command("mount | grep ' / '", TIMEOUT) == "/dev/vda on / type ext4 (rw,relatime)\n"
        assert c.command("cat /sys/devices/system/cpu/online; grep -c 'GICv3.*virtio' "
                         "/proc/interrupts", TIMEOUT) == "0-1\n1\n"
        assert c.command("cat /data/hello.txt", TIMEOUT) == "written by mkrootfs\n"
        assert c.command("echo one > /data/f; sync; cat /data/f", TIMEOUT) == "one\n"
        monitor(c, "savevm disk1")
        assert c.command("echo two > /data/f; echo more > /data/g; sync; cat /data/f /data/g",
                         TIMEOUT) == "two\nmore\n"
        poweroff(c)
    finally:
        c.close()
    assert debugfs_cat(img, "/data/f") == "two\n"
    assert sorted(os.listdir(store)) == ["disk1.snap", "disk1.snap.disk-root"]

    c = ours(*boot_args(*guests, img, system=SYSTEM), "--snapshot-store", store, "-loadvm", "disk1")
    try:
        assert c.command("cat /data/f; ls -1 /data", TIMEOUT) == "one\nf\nhello.txt\n"
        # from the disk, not the page cache the snapshot's RAM holds
        assert c.command("sync; dmesg -n 1; echo 3 > /proc/sys/vm/drop_caches; cat /data/f; ls -1 /data",
                         TIMEOUT) == "one\nf\nhello.txt\n"
        poweroff(c)
    finally:
        c.close()
    assert debugfs_cat(img, "/data/f") == "one\n"
    assert debugfs_cat(img, "/data/g") == ""
    need("e2fsck")
    r = subprocess.run(["e2fsck", "-fn", img], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

    # the snapshot is still exact after the second run wrote the disk: load it once more
    c = ours(*boot_args(*guests, img, system=SYSTEM), "--snapshot-store", store, "-loadvm", "disk1")
    try:
        assert c.command("dmesg -n 1; echo 3 > /proc/sys/vm/drop_caches; cat /data/f", TIMEOUT) == "one\n"
        poweroff(c)
    finally:
        c.close()


def test_changed_image_is_refused_by_loadvm(guests, tmp_path):
    img = rootfs(tmp_path)
    store = str(tmp_path / "snaps")
    c = ours(*boot_args(*guests, img), "--snapshot-store", store)
    try:
        c.expect(BANNER, TIMEOUT)
        c.shell_ready(TIMEOUT)
        monitor(c, "savevm s")
        c.send(b"\x01x")
        assert c.wait(60) == 0
    finally:
        c.close()
    fresh = rootfs(tmp_path / "..")              # another image under the same name
    os.replace(fresh, img)
    with open(img, "r+b") as f:                  # (and one the guest had read differs)
        f.seek(1024)
        sb = bytearray(f.read(1024))
        sb[0x78:0x88] = b"another-label\0\0\0"   # the volume name in the superblock
        f.seek(1024)
        f.write(sb)
    r = subprocess.run([sys.executable, "-m", "pyaarch64.emu.cli", "run",
                        *boot_args(*guests, img), "--snapshot-store", store, "-loadvm", "s"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert f"drive 'root': image {img} changed since the snapshot was taken" in r.stderr, r.stderr


def test_snapshot_option_boots_from_disk_and_leaves_it_untouched(guests, tmp_path):
    img = rootfs(tmp_path)
    with open(img, "rb") as f:
        before = f.read()
    c = ours(*boot_args(*guests, img), "-snapshot")
    try:
        c.expect(BANNER, TIMEOUT)
        c.shell_ready(TIMEOUT)
        assert c.command("echo scratch > /data/s; sync; cat /data/s", TIMEOUT) == "scratch\n"
        poweroff(c)
    finally:
        c.close()
    with open(img, "rb") as f:
        assert f.read() == before


def test_uboot_distro_boot_from_the_virtio_disk(guests, tmp_path):
    """Issue 16 item 4's end: Debian's U-Boot (qemu_arm64) in flash autoboots -- its
    distro boot finds /extlinux/extlinux.conf on the virtio disk's ext4 partition, loads
    the kernel and the initramfs from it -- and Linux mounts that partition as its root,
    as under QEMU 7.2 (scripts/mkbootdisk.sh builds the disk)."""
    from tools import UBOOT
    need(UBOOT, "mkfs.ext4")
    img = str(tmp_path / "boot.img")
    r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "mkbootdisk.sh"), guests[0],
                        guests[1], img], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    argv = ["-M", "virt", "-cpu", "cortex-a57", "-m", "512", "-nographic", "-bios", UBOOT,
            "-drive", f"file={img},format=raw,if=none,id=d0", "-device",
            "virtio-blk-device,drive=d0", "-snapshot"]
    runs = [[sys.executable, "-m", "pyaarch64.emu.cli", "run", *argv]]
    if have("qemu-system-aarch64"):
        runs.append(["qemu-system-aarch64", *argv])
    seen = []
    for cmd in runs:
        c = Console(cmd)
        try:
            c.expect(rb"Scanning virtio 0:1\.\.\.", TIMEOUT)
            c.expect(rb"Found /extlinux/extlinux.conf", TIMEOUT)
            got = c.expect(rb"Starting kernel \.\.\.", TIMEOUT).replace(b"\r", b"")
            c.expect(rb"PYAARCH64-ROOT-OK", TIMEOUT)
            c.expect(BANNER, TIMEOUT)
            c.shell_ready(TIMEOUT)
            seen.append((got, c.command("cat /data/hello.txt; mount | grep ' / '; cat /proc/cmdline",
                                        TIMEOUT)))
            poweroff(c)
        finally:
            c.close()
    assert seen[0][1] == ("written by mkrootfs\n/dev/vda1 on / type ext4 (rw,relatime)\n"
                          "console=ttyAMA0 pyinit=root pyroot=/dev/vda1\n")
    assert b"Retrieving file: /boot/Image" in seen[0][0]
    for other in seen[1:]:
        assert other == seen[0]                  # what U-Boot said and what Linux shows
