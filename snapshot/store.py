"""The snapshot store: `savevm`/`loadvm`/`delvm`/`info snapshots` without any disk.

One file per tag (`<tag>.snap`, snapshot/format.py) in a directory chosen by the
user (`--snapshot-store DIR`) or, by default, `<kernel>.snapshots/` next to the
kernel.  Writes are atomic; the listing reads each file's header.
"""
import datetime
import json
import os
import re
import struct

from pyaarch64.snapshot import format as F

TAG_RE = re.compile(r"^[A-Za-z0-9_.+-][A-Za-z0-9_.+:-]{0,127}$")


class StoreError(ValueError):
    pass


def default_store_for(kernel_path):
    return os.path.abspath(kernel_path) + ".snapshots"


class SnapshotStore:
    def __init__(self, path):
        self.path = path

    def _file(self, tag):
        if not TAG_RE.match(tag) or tag in (".", ".."):
            raise StoreError(f"invalid snapshot tag '{tag}'")
        return os.path.join(self.path, tag + ".snap")

    def save(self, tag, snap):
        os.makedirs(self.path, exist_ok=True)
        return F.write(self._file(tag), snap)

    def exists(self, tag):
        try:
            return os.path.exists(self._file(tag))
        except StoreError:
            return False

    def load(self, tag):
        path = self._file(tag)
        if not os.path.exists(path):
            raise StoreError(f"Snapshot '{tag}' does not exist")
        return F.read(path)

    def delete(self, tag):
        path = self._file(tag)
        if not os.path.exists(path):
            raise StoreError(f"Snapshot '{tag}' does not exist")
        os.unlink(path)

    def list(self):
        """[(tag, size in bytes, mtime, virtual clock ns)] oldest first."""
        out = []
        if not os.path.isdir(self.path):
            return out
        for name in os.listdir(self.path):
            if not name.endswith(".snap"):
                continue
            p = os.path.join(self.path, name)
            try:
                clock = _vm_clock(p)
            except (OSError, ValueError):
                continue
            st = os.stat(p)
            out.append((name[:-5], st.st_size, st.st_mtime, clock))
        out.sort(key=lambda e: (e[2], e[0]))
        return out


def _vm_clock(path):
    with open(path, "rb") as f:
        head = f.read(len(F.MAGIC) + 12)
        if not head.startswith(F.MAGIC):
            raise ValueError("not a snapshot")
        _, hlen = struct.unpack_from("<IQ", head, len(F.MAGIC))
        header = json.loads(f.read(hlen))
    cpu = header["sections"]["cpu0"]
    return cpu.get("time.virtual_ns", cpu["time.instructions"] + cpu["time.idle_ns"])


def format_listing(entries):
    """QEMU 7.2's `info snapshots` table (the newer layout), lines without endings."""
    if not entries:
        return ["There is no snapshot available."]
    lines = ["List of snapshots present on all disks:",
             "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT"]
    for tag, size, mtime, clock in entries:
        date = datetime.datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M:%S")
        secs, ns = divmod(clock, 10**9)
        h, rem = divmod(secs, 3600)
        m, s = divmod(rem, 60)
        vmclock = f"{h:02d}:{m:02d}:{s:02d}.{ns // 10**6:03d}"
        lines.append(f"{'--':<9} {tag:<16} {_size(size):>8}{date:>20}{vmclock:>13}{'':>11}")
    return lines


def _size(n):
    """QEMU's size_to_str: three significant digits and a binary unit."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    i = 0
    v = float(n)
    while v >= 1024 and i < len(units) - 1:
        v /= 1024
        i += 1
    return f"{v:.3g} {units[i]}"
