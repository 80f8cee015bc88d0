"""Drives: raw disk images behind virtio-blk, and their state in snapshots.

A `Drive` is one `-drive file=...,format=raw` image, in 4 KiB clusters:

  * writable (the default): the guest's writes go straight to the file, as QEMU's;
  * read-only (`readonly=on`): writes fail with an I/O error in the device;
  * `snapshot=on` / `-snapshot`: writes go to a throw-away overlay in memory and the
    file is never changed (QEMU's temporary overlay); a snapshot's side map is then
    the overlay as it was, and nothing needs preserving later.

The drive records which clusters the guest has used (read or written): that is
what a snapshot's disk depends on.

**Disks in snapshots.**  A snapshot's disk is "the image file, except where the
snapshot's *side map* says otherwise" (cluster -> content).  When a snapshot is
taken, its side map starts with the drive's overlay (empty unless snapshot=on) and
the snapshot *watches* the drive: before the drive's view of a cluster changes
for the first time -- a guest write, or a loadvm of another snapshot -- the old
content is copied into the side map of every watching snapshot that lacks it
(copy-on-write, like an LVM snapshot).  So a snapshot stays exact however the disk
is written afterwards, in this process or -- its side map is a file in the snapshot
store, `<tag>.snap.disk-<drive id>`, and every process that opens the image watches
for the store's snapshots of it -- in a later one.

A snapshot also records the image's identity: its size and a SHA-256 over the
clusters the guest had used (the content the snapshot's disk shows there).  Loading
checks both and refuses a changed image by name, before anything is changed.
Loading then makes the drive's view the snapshot's disk (writing the side map's
clusters into the file, or into the overlay with snapshot=on), watched by that
snapshot from then on.
"""
import fcntl
import hashlib
import os
import struct
import weakref

from pyaarch64.errors import Error

CLUSTER = 4096
SECTOR = 512


class DriveError(Error, ValueError):
    """A drive that cannot be opened or a disk state that cannot be loaded."""


class DriveLocked(DriveError):
    """The image is in use (another drive or process writes it, or reads it while
    this one would write)."""


def ranges(indices):
    """Sorted cluster indices -> [[start, count], ...]."""
    out = []
    for c in sorted(indices):
        if out and out[-1][0] + out[-1][1] == c:
            out[-1][1] += 1
        else:
            out.append([c, 1])
    return out


def expand(rs):
    for start, n in rs:
        yield from range(start, start + n)


class Drive:
    def __init__(self, id, path, readonly=False, snapshot=False):
        self.id = id
        self.filename = path               # as the user gave it (info block)
        self.device_index = 0              # its device's place among -device (info block)
        self.path = os.path.abspath(path)
        self.readonly = bool(readonly)
        self.snapshot = bool(snapshot)
        try:
            self.fd = os.open(self.path, os.O_RDONLY if readonly or snapshot else os.O_RDWR)
        except OSError as e:
            raise DriveError(f"Could not open '{path}': {e.strerror}") from None
        # as QEMU's image locking: a writer has the image to itself, readers share it
        # (two writers would also break each other's snapshots' copy-on-write)
        try:
            fcntl.flock(self.fd, (fcntl.LOCK_SH if readonly or snapshot else fcntl.LOCK_EX)
                        | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            kind = "shared \"write\"" if readonly or snapshot else "\"write\""
            raise DriveLocked(f"Failed to get {kind} lock\nIs another process using the image "
                              f"[{path}]?") from None
        self.size = os.fstat(self.fd).st_size
        self.overlay = {}          # snapshot=on: cluster -> bytes (the guest's writes)
        self.used = set()          # clusters the guest read or wrote
        self.watchers = []         # weakrefs to the Side maps of snapshots of this disk
        self.kept = []             # side maps in files (the store's): watched while open

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    @property
    def sectors(self):
        return self.size // SECTOR

    # --- the view -----------------------------------------------------------------
    def _file_read(self, off, n):
        data = os.pread(self.fd, n, off)
        return data + bytes(n - len(data))            # (past the end of the file: zeros)

    def cluster(self, c):
        """The drive's current content of cluster c (CLUSTER bytes)."""
        got = self.overlay.get(c)
        return got if got is not None else self._file_read(c * CLUSTER, CLUSTER)

    def read(self, off, n):
        first, last = off // CLUSTER, (off + n - 1) // CLUSTER
        self.used.update(range(first, last + 1))
        if not self.overlay:
            return self._file_read(off, n)
        data = b"".join(self.cluster(c) for c in range(first, last + 1))
        at = off - first * CLUSTER
        return data[at:at + n]

    def write(self, off, data):
        """Write `data` at byte `off` (the device checked range and read-only)."""
        n = len(data)
        if n == 0:
            return
        first, last = off // CLUSTER, (off + n - 1) // CLUSTER
        self._before_change(range(first, last + 1))
        self.used.update(range(first, last + 1))
        if not self.snapshot:
            os.pwrite(self.fd, data, off)
            return
        at = 0
        for c in range(first, last + 1):
            base = c * CLUSTER
            lo, hi = max(off, base), min(off + n, base + CLUSTER)
            cur = bytearray(self.cluster(c))
            cur[lo - base:hi - base] = data[at:at + hi - lo]
            at += hi - lo
            self.overlay[c] = bytes(cur)

    def flush(self):
        if not self.snapshot and not self.readonly:
            os.fsync(self.fd)

    # --- snapshots -------------------------------------------------------------------
    def watch(self, side):
        self.watchers = [w for w in self.watchers if w() is not None and w() is not side]
        self.watchers.append(weakref.ref(side))
        side.drive = weakref.ref(self)
        if side.path is not None:
            self.keep(side)

    def keep(self, side):
        """Watch a side map in a file for as long as the drive is open (one per file:
        a side map written again to the same file replaces the old)."""
        for old in self.kept:
            if old is not side and old.path == side.path:
                old.closed = True
        self.kept = [k for k in self.kept if not k.closed and k is not side] + [side]

    def watch_files(self, paths):
        """Watch the side maps in `paths` that are of this drive's image (a later
        process keeps the snapshot store's snapshots of the disk exact)."""
        for p in paths:
            if Side.image_of(p) == self.path:
                side = Side.open(p)
                if side.error() is None:
                    self.watch(side)

    def unwatch(self, side):
        self.watchers = [w for w in self.watchers if w() is not None and w() is not side]

    def _before_change(self, clusters):
        if self.snapshot:
            return       # (the file never changes: every snapshot's disk stays exact)
        sides = [w() for w in self.watchers]
        sides = [s for s in sides if s is not None and not s.closed]
        if not sides:
            return
        for c in clusters:
            old = None
            for s in sides:
                if c not in s:
                    if old is None:
                        old = self.cluster(c)
                    s.preserve(c, old)

    def identity(self, used=None, content=None):
        """{"size", "used" (ranges), "sha256"} over the clusters in `used` (default: the
        drive's); content(c) gives a cluster's content (default: the drive's view)."""
        used = sorted(self.used if used is None else used)
        content = content or self.cluster
        h = hashlib.sha256()
        for c in used:
            h.update(content(c))
        return {"size": self.size, "used": ranges(used), "sha256": h.hexdigest()}

    def take(self):
        """A snapshot of the disk now: its Side (watching this drive) and identity."""
        side = Side(dict(self.overlay))
        self.watch(side)
        return side, self.identity()

    def problems(self, ident, side):
        """Why the disk of a snapshot (identity, side map) cannot be this drive's."""
        if side is None:
            return [f"drive '{self.id}': the snapshot's disk state is missing"]
        err = side.error()
        if err:
            return [f"drive '{self.id}': {err}"]
        if ident.get("size") != self.size:
            return [f"drive '{self.id}': image {self.path} is {self.size} bytes, the "
                    f"snapshot's was {ident.get('size')} bytes"]
        used = list(expand(ident.get("used", [])))
        mine = self.identity(used, lambda c: side.get(c) if c in side else
                             self._file_read(c * CLUSTER, CLUSTER))
        if mine["sha256"] != ident.get("sha256"):
            return [f"drive '{self.id}': image {self.path} changed since the snapshot was "
                    f"taken (the content of the {len(used)} clusters the guest had used "
                    f"differs)"]
        return []

    def load(self, ident, side):
        """Make the drive's view the snapshot's disk (checked by problems() first)."""
        if self.snapshot:
            self.overlay = {c: side.get(c) for c in side.clusters()}
        else:
            want = {c: side.get(c) for c in side.clusters()}
            changed = sorted(c for c, data in want.items() if self.cluster(c) != data)
            self._before_change(changed)
            for c in changed:
                os.pwrite(self.fd, want[c][:max(0, min(CLUSTER, self.size - c * CLUSTER))],
                          c * CLUSTER)
        self.used = set(expand(ident.get("used", [])))
        self.watch(side)


class Side:
    """A snapshot's side map: cluster -> the snapshot's content there, in memory or,
    once persisted, in an append-only file (header, then records of cluster index +
    content; the index is read once)."""
    MAGIC = b"PYA64DSK"
    _REC = struct.Struct("<Q")

    def __init__(self, data=None):
        self.data = dict(data or {})       # in memory: cluster -> bytes
        self.path = None                   # persisted: the file; index: cluster -> offset
        self.index = {}
        self.closed = False
        self._error = None
        self.drive = None                  # weakref to the drive it watches

    def __contains__(self, c):
        return c in self.data or c in self.index

    def clusters(self):
        return set(self.data) | set(self.index)

    def error(self):
        return self._error

    def get(self, c):
        if c in self.data:
            return self.data[c]
        with open(self.path, "rb") as f:
            f.seek(self.index[c])
            return f.read(CLUSTER)

    def preserve(self, c, content):
        if self.path is None:
            self.data[c] = bytes(content)
            return
        if not os.path.exists(self.path):
            self.closed = True               # (deleted with its snapshot: delvm)
            return
        with open(self.path, "ab") as f:
            f.write(self._REC.pack(c) + bytes(content))
            self.index[c] = f.tell() - CLUSTER

    def persist(self, path, image):
        """Write this side map to `path` (atomically) and go on appending there."""
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            head = os.fsencode(image)
            f.write(self.MAGIC + struct.pack("<I", len(head)) + head)
            index = {}
            for c in sorted(self.clusters()):
                content = self.get(c)
                f.write(self._REC.pack(c))
                index[c] = f.tell()
                f.write(content)
        os.replace(tmp, path)
        self.path, self.index, self.data = path, index, {}
        drive = self.drive() if self.drive is not None else None
        if drive is not None:
            drive.keep(self)

    @classmethod
    def open(cls, path):
        """The side map in file `path` (a missing or damaged file: error() says so)."""
        side = cls()
        side.path = path
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except OSError as e:
            side._error = f"its disk state file {path} cannot be read ({e.strerror})"
            return side
        if not blob.startswith(cls.MAGIC) or len(blob) < 12:
            side._error = f"its disk state file {path} is not one (bad magic)"
            return side
        n = struct.unpack_from("<I", blob, 8)[0]
        side.image = os.fsdecode(blob[12:12 + n])
        at = 12 + n
        rec = cls._REC.size + CLUSTER
        while at + rec <= len(blob):
            c = cls._REC.unpack_from(blob, at)[0]
            side.index[c] = at + cls._REC.size
            at += rec
        if at != len(blob):
            side._error = f"its disk state file {path} is truncated"
        return side

    @staticmethod
    def image_of(path):
        """The image path a side-map file is of (None when it is not one)."""
        try:
            with open(path, "rb") as f:
                head = f.read(12)
                if not head.startswith(Side.MAGIC) or len(head) < 12:
                    return None
                return os.fsdecode(f.read(struct.unpack_from("<I", head, 8)[0]))
        except OSError:
            return None
