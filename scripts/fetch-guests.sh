#!/bin/sh
# Fetch the real guests the Linux boot tests use: Debian 12's arm64 kernel
# (package linux-image-arm64 -> its current linux-image-<abi>-arm64 dependency) and
# busybox-static for arm64.  Everything goes into a cache directory outside the
# repository (default ~/.cache/pyaarch64/guests); nothing is ever committed.
#
#   scripts/fetch-guests.sh [CACHE_DIR]
#
# Produces in CACHE_DIR:  Image (raw arm64 kernel Image), vmlinuz (as shipped),
# kernel-config, busybox (static arm64), VERSIONS (package names and versions), and
# modules/: the kernel's modules for the board's devices that Debian builds as modules
# (virtio-mmio and its blk/console/rng drivers, gpio-keys + evdev for the power
# button, ext4 and what it needs, qemu_fw_cfg), with modules/modules.load listing
# them in an order insmod can load them (each after the modules it depends on).
# Idempotent: does nothing when all outputs exist (delete them to refetch).
# Environment: KERNEL_PKG=linux-image-6.1.0-56-arm64 pins the kernel package.
#
# Needs apt-get/dpkg-deb.  The first run adds the arm64 architecture to dpkg and runs
# `apt-get update` (root needed for that step only; run with sudo if you are not root).
set -eu

CACHE=${1:-${PYAARCH64_GUESTS:-$HOME/.cache/pyaarch64/guests}}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

if [ -s "$CACHE/Image" ] && [ -s "$CACHE/busybox" ] && [ -s "$CACHE/VERSIONS" ] &&
        [ -s "$CACHE/modules/modules.load" ]; then
    echo "guests already in $CACHE"
    cat "$CACHE/VERSIONS"
    exit 0
fi

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "adding the arm64 architecture to dpkg"
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update
elif ! apt-cache show busybox-static:arm64 >/dev/null 2>&1; then
    $SUDO apt-get update
fi

# linux-image-arm64 is a meta package: resolve the real kernel package it depends on
if [ -z "${KERNEL_PKG:-}" ]; then
    KERNEL_PKG=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n 1)
    if [ -z "$KERNEL_PKG" ]; then
        echo "fetch-guests: cannot resolve linux-image-arm64:arm64 (is the arm64 apt list present?)" >&2
        exit 1
    fi
fi

WORK=$(mktemp -d)
chmod 755 "$WORK"        # apt-get download runs as _apt where it can
trap 'rm -rf "$WORK"' EXIT INT TERM
cd "$WORK"
apt-get download "$KERNEL_PKG:arm64" busybox-static:arm64 >/dev/null

KDEB=$(ls "$KERNEL_PKG"_*_arm64.deb)
BDEB=$(ls busybox-static_*_arm64.deb)
mkdir k b
dpkg-deb -x "$KDEB" k
dpkg-deb -x "$BDEB" b

VMLINUZ=$(ls k/boot/vmlinuz-* | head -n 1)
cp "$VMLINUZ" vmlinuz
# Debian 12 ships the raw Image; a gzip'd one (1f 8b) is decompressed
if [ "$(head -c 2 vmlinuz | od -An -tx1 | tr -d ' \n')" = "1f8b" ]; then
    gzip -dc vmlinuz > Image
else
    cp vmlinuz Image
fi
if [ "$(dd if=Image bs=1 skip=56 count=4 2>/dev/null | od -An -tx1 | tr -d ' \n')" != "41524d64" ]; then
    echo "fetch-guests: $VMLINUZ is not an arm64 Image (no ARM\\x64 magic at 0x38)" >&2
    exit 1
fi
cp k/boot/config-* kernel-config 2>/dev/null || true
cp b/bin/busybox busybox
chmod 755 busybox

# the modules, with the ones they depend on (the .modinfo "depends=" of each), in load order
PY=$(command -v python3 || command -v python)
mkdir modules
"$PY" - k/lib/modules modules <<'PYEOF'
import os, shutil, sys
src, out = sys.argv[1], sys.argv[2]
WANT = ["virtio_mmio", "virtio_blk", "virtio_console", "virtio-rng", "evdev", "gpio_keys",
        "crc32c_generic", "ext4", "qemu_fw_cfg"]
found = {}
for root, _, files in os.walk(src):
    for f in files:
        if f.endswith(".ko"):
            found[f[:-3]] = os.path.join(root, f)
def depends(name):
    data = open(found[name], "rb").read()
    for item in data.split(b"\0"):
        if item.startswith(b"depends="):
            return [d for d in item[8:].decode().split(",") if d]
    return []
order = []
def visit(name):
    key = name if name in found else name.replace("_", "-")
    if key not in found:
        key = name.replace("-", "_")
    if key not in found:
        sys.exit(f"fetch-guests: module {name} is not in the kernel package")
    if key in order:
        return
    for d in depends(key):
        visit(d)
    order.append(key)
for w in WANT:
    visit(w)
for m in order:
    shutil.copy(found[m], os.path.join(out, m + ".ko"))
with open(os.path.join(out, "modules.load"), "w") as f:
    f.write("".join(m + ".ko\n" for m in order))
PYEOF

{
    echo "kernel $KERNEL_PKG $(dpkg-deb -f "$KDEB" Version) $(basename "$VMLINUZ")"
    echo "busybox busybox-static $(dpkg-deb -f "$BDEB" Version)"
    echo "sha256 Image $(sha256sum Image | cut -d' ' -f1)"
    echo "sha256 busybox $(sha256sum busybox | cut -d' ' -f1)"
} > VERSIONS

# move into place last (a partial download never looks complete)
for f in vmlinuz Image kernel-config busybox; do
    [ -e "$f" ] && mv -f "$f" "$CACHE/$f"
done
rm -rf "$CACHE/modules" && mv modules "$CACHE/modules"
mv -f VERSIONS "$CACHE/VERSIONS"
echo "guests in $CACHE"
cat "$CACHE/VERSIONS"
