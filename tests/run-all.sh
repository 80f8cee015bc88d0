#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, then runs pytest.
# Extra arguments go to pytest (e.g. `tests/run-all.sh -k cli`, `--diff-samples 100000`).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu)
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
command -v dtc >/dev/null || need+=(device-tree-compiler)
command -v gdb-multiarch >/dev/null || need+=(gdb-multiarch)
command -v mkfs.ext4 >/dev/null && command -v debugfs >/dev/null || need+=(e2fsprogs)
[ -e /usr/lib/u-boot/qemu_arm64/u-boot.bin ] || need+=(u-boot-qemu)
# In CI (CI set, as CI services do) or with PYAARCH64_REQUIRE_TOOLS=1 a missing tool is a
# failure, not a skip (tests/tools.py does the same for each test).
ci="${CI:-}"
if [ -n "$ci" ] && [ "$ci" != 0 ] && [ "${ci,,}" != false ] || [ "${PYAARCH64_REQUIRE_TOOLS:-}" = 1 ]; then
    require_tools=1
else
    require_tools=0
fi
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    elif [ $require_tools = 1 ]; then
        echo "run-all: missing ${need[*]}: install them with apt-get (CI needs every tool)" >&2
        exit 1
    else
        echo "run-all: missing ${need[*]} (install them with apt-get; tests needing them are skipped)" >&2
    fi
fi
python3 -m pip install -q -e '.[test]' 2>&1 | grep -v -e '^WARNING: Running pip as' -e 'notice' || true
python3 -c 'import pyaarch64, numba, capstone, unicorn, distributed, tqdm, qemu.qmp' # fail loudly if the install did not work
# The Linux boot tests (tests/test_linux_boot.py) need Debian's arm64 kernel and
# busybox-static, fetched once into ~/.cache/pyaarch64/guests (about 60 MB; never
# into the repository).  PYAARCH64_LINUX=0 leaves them out.
if [ "${PYAARCH64_LINUX:-1}" = 1 ]; then
    if [ "$(id -u)" = 0 ] || dpkg --print-foreign-architectures 2>/dev/null | grep -qx arm64; then
        scripts/fetch-guests.sh >/dev/null      # a failure here fails the run
        export PYAARCH64_LINUX=1
    else
        echo "run-all: not root and no arm64 dpkg architecture: the Linux boot tests are skipped" \
             "(run scripts/fetch-guests.sh with sudo once)" >&2
    fi
fi
exec python3 -m pytest -q -ra "$@"
