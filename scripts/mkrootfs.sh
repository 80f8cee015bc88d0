#!/bin/sh
# Build an ext4 root file system image around a static busybox, without root
# privileges (mkfs.ext4 -d copies a directory into the new file system):
#
#   scripts/mkrootfs.sh [BUSYBOX] [OUT] [SIZE]
#
# defaults: BUSYBOX=~/.cache/pyaarch64/guests/busybox, OUT=rootfs.ext4 here, SIZE=64M.
# Boot it with an initramfs from `scripts/mkinitramfs.sh BUSYBOX OUT MODULES_DIR`
# (Debian's kernel has virtio-blk and ext4 as modules) and `pyinit=root` on the
# kernel command line:
#
#   pyaarch64 run -M virt -m 512 -nographic -kernel Image -initrd initramfs-mods.cpio.gz \
#       -append "console=ttyAMA0 pyinit=root" \
#       -drive file=rootfs.ext4,format=raw,if=none,id=root -device virtio-blk-device,drive=root
#
# /sbin/init is busybox init: /etc/init.d/rcS mounts proc, sysfs and devtmpfs and
# prints PYAARCH64-ROOT-OK, then a shell runs on the console (`poweroff` unmounts
# and powers off).  Needs mkfs.ext4 (e2fsprogs 1.43+).
#
# PYAARCH64_ROOTFS_EXTRA=DIR copies DIR's contents into the root as well (e.g. /boot and
# /extlinux for a firmware's distro boot: scripts/mkbootdisk.sh).
set -eu

GUESTS=${PYAARCH64_GUESTS:-$HOME/.cache/pyaarch64/guests}
BUSYBOX=${1:-$GUESTS/busybox}
OUT=${2:-rootfs.ext4}
SIZE=${3:-64M}
if [ ! -s "$BUSYBOX" ]; then
    echo "mkrootfs: busybox '$BUSYBOX' not found (run scripts/fetch-guests.sh first)" >&2
    exit 1
fi
command -v mkfs.ext4 >/dev/null || { echo "mkrootfs: mkfs.ext4 not found (install e2fsprogs)" >&2; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
R=$T/root
mkdir -p "$R/bin" "$R/sbin" "$R/etc/init.d" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" \
    "$R/root" "$R/mnt" "$R/usr/bin" "$R/usr/sbin" "$R/data"
cp "$BUSYBOX" "$R/bin/busybox"
chmod 755 "$R/bin/busybox"
for a in sh mount umount ls cat echo sync poweroff mkdir; do ln -s busybox "$R/bin/$a"; done
ln -s ../bin/busybox "$R/sbin/init"
cat > "$R/etc/inittab" <<'EOT'
::sysinit:/etc/init.d/rcS
::respawn:/bin/busybox cttyhack /bin/sh -l
::shutdown:/bin/busybox umount -a -r
EOT
cat > "$R/etc/init.d/rcS" <<'EOT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox --install -s
/bin/busybox mount -o remount,rw /
echo PYAARCH64-ROOT-OK
echo "pyaarch64 root file system shell; poweroff to power off"
EOT
chmod 755 "$R/etc/init.d/rcS"
echo "written by mkrootfs" > "$R/data/hello.txt"
if [ -n "${PYAARCH64_ROOTFS_EXTRA:-}" ]; then
    cp -R "$PYAARCH64_ROOTFS_EXTRA"/. "$R"/
fi
rm -f "$OUT"
# fixed UUID, hash seed and timestamps: the same busybox gives the same image
E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -d "$R" -U 6a0b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c3 \
    -E hash_seed=0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5 -L pyaarch64-root "$OUT" "$SIZE"
echo "$OUT: $(wc -c < "$OUT") bytes"
