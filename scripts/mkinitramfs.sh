#!/bin/sh
# Build a small, reproducible initramfs around a static busybox:
#
#   scripts/mkinitramfs.sh [BUSYBOX] [OUT] [MODULES_DIR]
#
# defaults: BUSYBOX=~/.cache/pyaarch64/guests/busybox (from scripts/fetch-guests.sh),
#           OUT=~/.cache/pyaarch64/guests/initramfs.cpio.gz
#           MODULES_DIR: none; given (e.g. ~/.cache/pyaarch64/guests/modules from
#           scripts/fetch-guests.sh), its .ko files and modules.load go into
#           /lib/modules and /init loads them all (insmod, in modules.load order) before
#           anything else: the drivers of virtio-mmio, virtio-blk/console/rng,
#           gpio-keys and ext4 are modules in Debian's kernel
#
# The archive is a gzip'd "newc" cpio written by the Python below (no root, no mknod,
# no cpio binary): directories, /bin/busybox, /init and a /dev/console character
# device (5,1).  Every timestamp is 0, owners are root, inode numbers are sequential
# and the gzip header carries no name or time, so the same busybox gives the same
# bytes every time.
#
# /init mounts proc, sysfs and devtmpfs, installs the busybox applets as symlinks,
# prints PYAARCH64-INIT-OK, runs a few commands (uname -a, /proc/cpuinfo, ls /,
# $((6*7))), prints PYAARCH64-DONE and powers off (poweroff -f: reboot syscall, then
# PSCI SYSTEM_OFF), so every boot ends by itself.  Kernel command-line switches,
# pyinit=a,b,...:
#   quick   power off right after the marker
#   shell   after the checks, busybox init runs a login shell on the console
#           (etc/inittab; `poweroff` in the shell powers the machine off)
#   root    (with MODULES_DIR) right after the marker, mount the ext4 root file
#           system on /dev/vda (virtio-blk; pyroot=/dev/vda1 for a partition) and
#           switch_root to its /sbin/init (scripts/mkrootfs.sh builds one)
#   acpid   (needs MODULES_DIR: gpio-keys and evdev) before anything else, start
#           busybox acpid on the input devices with /etc/acpi/PWRF/00000080 running
#           `poweroff`: the power button (QEMU's system_powerdown) shuts the system
#           down through init as `poweroff` in the shell does
set -eu

GUESTS=${PYAARCH64_GUESTS:-$HOME/.cache/pyaarch64/guests}
BUSYBOX=${1:-$GUESTS/busybox}
OUT=${2:-$GUESTS/initramfs.cpio.gz}
MODULES=${3:-}
if [ -n "$MODULES" ] && [ ! -s "$MODULES/modules.load" ]; then
    echo "mkinitramfs: no modules.load in '$MODULES' (run scripts/fetch-guests.sh)" >&2
    exit 1
fi

if [ ! -s "$BUSYBOX" ]; then
    echo "mkinitramfs: busybox '$BUSYBOX' not found (run scripts/fetch-guests.sh first)" >&2
    exit 1
fi
PY=$(command -v python3 || command -v python)
mkdir -p "$(dirname "$OUT")"

"$PY" - "$BUSYBOX" "$OUT" "$MODULES" <<'PYEOF'
import gzip
import io
import os
import sys

INIT = r'''#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox --install -s
if [ -f /lib/modules/modules.load ]; then
    for m in $(cat /lib/modules/modules.load); do insmod /lib/modules/$m; done
fi
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TERM=vt100
opts=
rootdev=/dev/vda
for a in $(cat /proc/cmdline); do
    case "$a" in
        pyinit=*) opts=$(echo "${a#pyinit=}" | tr , ' ');;
        pyroot=*) rootdev=${a#pyroot=};;
    esac
done
has() { for o in $opts; do [ "$o" = "$1" ] && return 0; done; return 1; }
if has acpid; then
    mkdir -p /etc/acpi/PWRF
    printf '#!/bin/sh\necho PYAARCH64-POWER-BUTTON\nexec poweroff\n' > /etc/acpi/PWRF/00000080
    chmod 755 /etc/acpi/PWRF/00000080
    acpid -d &
fi
echo PYAARCH64-INIT-OK
if has quick; then poweroff -f; fi
if has root; then
    mkdir -p /newroot
    mount -t ext4 $rootdev /newroot && exec switch_root /newroot /sbin/init
    echo "PYAARCH64-NO-ROOT"
    poweroff -f
fi
uname -a
cat /proc/cpuinfo
ls /
echo $((6*7))
echo PYAARCH64-DONE
if has shell; then
    echo "pyaarch64 initramfs shell; poweroff to power off"
    exec /bin/busybox init
fi
poweroff -f
'''

# busybox init (pyinit=shell): a login shell on the console, started again when it exits;
# `poweroff` (or reboot) goes through init, which unmounts and powers the machine off
INITTAB = """::respawn:/bin/cttyhack /bin/sh -l
::shutdown:/bin/umount -a -r
"""

S_IFDIR, S_IFREG, S_IFCHR, S_IFLNK = 0o040000, 0o100000, 0o020000, 0o120000


def entry(out, ino, name, mode, data=b"", rdev=(0, 0), nlink=1):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
    out.write(name_b)
    out.write(b"\0" * (-(110 + len(name_b)) % 4))
    out.write(data)
    out.write(b"\0" * (-len(data) % 4))


busybox, dest, modules = sys.argv[1], sys.argv[2], sys.argv[3]
with open(busybox, "rb") as f:
    bb = f.read()
buf = io.BytesIO()
ino = 1
for d in ("bin", "dev", "etc", "proc", "root", "sbin", "sys", "tmp", "usr", "usr/bin",
          "usr/sbin", "mnt"):
    entry(buf, ino, d, S_IFDIR | 0o755, nlink=2)
    ino += 1
entry(buf, ino, "dev/console", S_IFCHR | 0o600, rdev=(5, 1)); ino += 1
entry(buf, ino, "bin/busybox", S_IFREG | 0o755, bb); ino += 1
entry(buf, ino, "bin/sh", S_IFLNK | 0o777, b"busybox"); ino += 1
entry(buf, ino, "init", S_IFREG | 0o755, INIT.encode()); ino += 1
entry(buf, ino, "etc/inittab", S_IFREG | 0o644, INITTAB.encode()); ino += 1
if modules:
    for d in ("lib", "lib/modules"):
        entry(buf, ino, d, S_IFDIR | 0o755, nlink=2); ino += 1
    with open(os.path.join(modules, "modules.load")) as f:
        names = f.read().split()
    for n in names + ["modules.load"]:
        with open(os.path.join(modules, n), "rb") as f:
            entry(buf, ino, "lib/modules/" + n, S_IFREG | 0o644, f.read()); ino += 1
entry(buf, 0, "TRAILER!!!", 0, nlink=1)
raw = buf.getvalue()
raw += b"\0" * (-len(raw) % 512)
tmp = dest + ".tmp"
with open(tmp, "wb") as f:
    with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as g:
        g.write(raw)
os.replace(tmp, dest)
print(f"{dest}: {os.path.getsize(dest)} bytes")
PYEOF
