#!/bin/sh
# A disk a firmware can boot by distro boot (U-Boot's `virtio0` target): an MBR
# partition table with one bootable Linux partition at 1 MiB holding the ext4 root of
# scripts/mkrootfs.sh plus /boot/Image, /boot/initrd.gz and /extlinux/extlinux.conf.
#
#   scripts/mkbootdisk.sh KERNEL INITRD OUT [APPEND] [BUSYBOX] [SIZE]
#
# INITRD: an initramfs from `scripts/mkinitramfs.sh BUSYBOX OUT MODULES_DIR` (it loads
# the virtio/ext4 modules); APPEND defaults to "console=ttyAMA0 pyinit=root
# pyroot=/dev/vda1" (the initramfs mounts the partition and switches to it).
# No root privileges needed.
set -eu

KERNEL=$1
INITRD=$2
OUT=$3
APPEND=${4:-console=ttyAMA0 pyinit=root pyroot=/dev/vda1}
GUESTS=${PYAARCH64_GUESTS:-$HOME/.cache/pyaarch64/guests}
BUSYBOX=${5:-$GUESTS/busybox}
SIZE=${6:-96M}
HERE=$(cd "$(dirname "$0")" && pwd)

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
mkdir -p "$T/extra/boot" "$T/extra/extlinux"
cp "$KERNEL" "$T/extra/boot/Image"
cp "$INITRD" "$T/extra/boot/initrd.gz"
cat > "$T/extra/extlinux/extlinux.conf" <<EOT
default pyaarch64
timeout 0
label pyaarch64
    kernel /boot/Image
    initrd /boot/initrd.gz
    append $APPEND
EOT
PYAARCH64_ROOTFS_EXTRA="$T/extra" sh "$HERE/mkrootfs.sh" "$BUSYBOX" "$T/part.ext4" "$SIZE" >/dev/null
PY=$(command -v python3 || command -v python)
"$PY" - "$T/part.ext4" "$OUT" <<'PYEOF'
import os, struct, sys
part, out = sys.argv[1], sys.argv[2]
n = os.path.getsize(part) // 512
mbr = bytearray(512)
struct.pack_into("<I", mbr, 440, 0x50594136)        # disk signature "PYA6"
# one entry: bootable, CHS fields unused (0xFE 0xFF 0xFF = past CHS), type 0x83, LBA 2048
mbr[446:462] = bytes([0x80, 0xFE, 0xFF, 0xFF, 0x83, 0xFE, 0xFF, 0xFF]) + struct.pack("<II", 2048, n)
mbr[510:512] = b"\x55\xaa"
with open(out, "wb") as f, open(part, "rb") as p:
    f.write(bytes(mbr) + bytes(2048 * 512 - 512))
    while True:
        b = p.read(1 << 20)
        if not b:
            break
        f.write(b)
print(f"{out}: {os.path.getsize(out)} bytes")
PYEOF
