"""The snapshot store: `savevm`/`loadvm`/`delvm`/`info snapshots`.

One file per tag (`<tag>.snap`, snapshot/format.py) in a directory chosen by the
user (`--snapshot-store DIR`) or, by default, `<kernel>.snapshots/` next to the
kernel; beside it, for a machine with drives, one `<tag>.snap.disk-<drive id>` per
drive: the snapshot's disk side map (machine/blockdev.py), deleted with the tag.
Writes are atomic; the listing reads each file's header.
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


def default_store_for(*paths):
    """The store a run keeps its snapshots in when --snapshot-store is not given:
    `<file>.snapshots` beside the first of `paths` (the command line's files, most
    specific first: a writable disk, then the kernel or firmware) whose directory this
    user may write and that is not a system directory; else a directory of the user's
    own named after the first file ($XDG_DATA_HOME or ~/.local/share, pyaarch64/snapshots/
    <name>-<hash of its path>): a firmware from /usr/lib/u-boot never gets a store there."""
    paths = [os.path.abspath(p) for p in paths if p]
    for p in paths:
        d = os.path.dirname(p)
        if os.access(d, os.W_OK) and not d.startswith(SYSTEM_DIRS):
            return p + ".snapshots"
    import hashlib
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    first = paths[0] if paths else "guest"
    tag = hashlib.sha256(first.encode()).hexdigest()[:8]
    return os.path.join(base, "pyaarch64", "snapshots",
                        f"{os.path.basename(first)}-{tag}.snapshots")


SYSTEM_DIRS = ("/usr/", "/lib/", "/bin/", "/sbin/", "/etc/", "/boot/", "/opt/")


class SnapshotStore:
    def __init__(self, path):
        self.path = path

    def path_of(self, tag):
        """The file of `tag` (StoreError if the tag cannot name one)."""
        return self._file(tag)

    def _file(self, tag):
        if not TAG_RE.match(tag) or tag in (".", ".."):
            raise StoreError(f"invalid snapshot tag '{tag}'")
        return os.path.join(self.path, tag + ".snap")

    def save(self, tag, snap):
        os.makedirs(self.path, exist_ok=True)
        path = self._file(tag)
        n = F.write(path, snap)
        keep = {F.disk_path(path, d) for d in getattr(snap, "disks", {})}
        for p in self.disk_files(tag):
            if p not in keep:
                os.unlink(p)               # (a drive the tag's earlier snapshot had)
        return n

    def disk_files(self, tag=None):
        """The disk side-map files of `tag` (None: of every snapshot in the store)."""
        try:
            names = os.listdir(self.path)
        except OSError:
            return []
        pre = None if tag is None else os.path.basename(self._file(tag)) + ".disk-"
        return [os.path.join(self.path, n) for n in sorted(names)
                if (".snap.disk-" in n if pre is None else n.startswith(pre))
                and not n.endswith(".tmp")]

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
        for p in self.disk_files(tag):
            os.unlink(p)

    def list(self):
        """[(tag, size in bytes, mtime, virtual clock ns)] oldest first (the size
        includes the snapshot's disk side maps)."""
        return self.scan()[0]

    def scan(self):
        """(the snapshots as list() gives them, [(tag, why it cannot be listed)] for the
        damaged, foreign or unreadable .snap files) -- one bad file never stops the
        listing."""
        out, bad = [], []
        if not os.path.isdir(self.path):
            return out, bad
        try:
            names = os.listdir(self.path)
        except OSError as e:
            return out, [("", f"cannot list {self.path}: {e.strerror}")]
        for name in sorted(names):
            if not name.endswith(".snap"):
                continue
            p = os.path.join(self.path, name)
            try:
                clock = _vm_clock(p)
                st = os.stat(p)
            except OSError as e:
                bad.append((name[:-5], f"cannot read it: {e.strerror}"))
                continue
            except Exception as e:      # noqa: BLE001 -- whatever is in the file, list it as bad
                bad.append((name[:-5], str(e) if isinstance(e, ValueError) and str(e) else
                            "damaged header"))
                continue
            disks = 0
            for d in self.disk_files(name[:-5]):
                try:
                    disks += os.path.getsize(d)
                except OSError:
                    pass
            out.append((name[:-5], st.st_size + disks, st.st_mtime, clock))
        out.sort(key=lambda e: (e[2], e[0]))
        return out, bad


def _vm_clock(path):
    """The VM clock a snapshot file records (its header only); ValueError says why a
    file has none."""
    with open(path, "rb") as f:
        head = f.read(len(F.MAGIC) + 12)
        if not head.startswith(F.MAGIC):
            raise ValueError("not a pyaarch64 snapshot")
        if len(head) < len(F.MAGIC) + 12:
            raise ValueError("truncated")
        version, hlen = struct.unpack_from("<IQ", head, len(F.MAGIC))
        if version != F.FORMAT_VERSION:
            raise ValueError(f"format version {version} is not supported")
        if hlen > os.fstat(f.fileno()).st_size:
            raise ValueError("truncated")
        try:
            header = json.loads(f.read(hlen))
        except ValueError:
            raise ValueError("damaged header") from None
    secs = header.get("sections") if isinstance(header, dict) else None
    cpus = [v for k, v in secs.items() if re.fullmatch(r"cpu\d+", k)] if isinstance(secs, dict) else []
    if not cpus or "cpu0" not in secs:
        raise ValueError("damaged header (no VM clock)")
    clocks = []
    for cpu in cpus:
        try:
            n, idle, shift = (cpu["time.instructions"], cpu["time.idle_ns"],
                              cpu.get("time.icount_shift", 0))
        except (TypeError, KeyError, AttributeError):
            raise ValueError("damaged header (no VM clock)") from None
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                   for v in (n, idle, shift)) or shift > 63:
            raise ValueError("damaged header (bad VM clock)")
        # virtual time as the CPU computes it (cpu/timer.py): modulo 2**64, the idle
        # term holding what a change of -icount shift=auto folded into it
        clocks.append(((n << shift) + idle) & ((1 << 64) - 1))
    return max(clocks)        # (several CPUs: the board's clock is the latest, machine/smp.py)


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
