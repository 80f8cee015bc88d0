"""The snapshot file (DESIGN §5): self-describing, named, checksummed; no pickle and
no raw dtype dumps.

    "PYAARCH64-SNAPSHOT\\n"      magic (19 bytes)
    u32 LE                      format version (FORMAT_VERSION)
    u64 LE                      length of the header
    header                      UTF-8 JSON: machine type, CPU model, emulator version
                                (information only), platform identity, the named
                                sections with their values, the schema of every
                                section (field -> type), each section's version,
                                and the RAM index
    RAM                         RAM in 64 KiB chunks: all-zero chunks are left out,
                                the others zlib-compressed, in index order
    32 bytes                    SHA-256 of everything before it

Integers are JSON numbers (128-bit V registers too: JSON has no size limit).
Writes are atomic (a temporary file in the same directory, fsync, rename).
"""
import hashlib
import json
import os
import re
import struct
import tempfile
import time
import zlib

import numpy as np

from pyaarch64 import __version__
from pyaarch64.errors import Error
from pyaarch64.snapshot.schema import Field, Section, is_int, validate
from pyaarch64.snapshot.state import Snapshot

MAGIC = b"PYAARCH64-SNAPSHOT\n"
FORMAT_VERSION = 1
CHUNK = 64 * 1024
_HEAD = struct.Struct("<IQ")


MAX_RAM = 16 << 30          # the largest RAM the command line accepts (-m)


class SnapshotFileError(Error, ValueError):
    """A snapshot file that is damaged, truncated or not a pyaarch64 snapshot."""


def _ram_size_rule(size, _):
    if size % 4096:
        return f"{size} is not a RAM size (a multiple of 4 KiB)"


def _chunks_rule(chunks, ram):
    """Chunks in index order, each inside the RAM, none empty."""
    size = ram.get("size")
    if not is_int(size):
        return None                                   # (said of 'size')
    last = -1
    for idx, n in chunks:
        if not last < idx < (size + CHUNK - 1) // CHUNK or n == 0:
            return (f"RAM chunk {idx} (of {n} bytes) lies outside {size} bytes of RAM, "
                    f"is empty, repeats or is out of order")
        last = idx


# the header's JSON, declared (the same validator as a snapshot's state: schema.py);
# unknown header keys are ignored (information a later writer may add)
HEADER = Section("header", FORMAT_VERSION, [
    Field("format", "u32", optional=True), Field("emulator_version", "str", optional=True),
    Field("machine_type", "str"), Field("cpu_model", "str"), Field("identity", "object"),
    Field("sections", "object{}"), Field("schema", "object{}"),
    Field("versions", "object", optional=True, default={}), Field("ram", "object"),
], extra_ok=True)
RAM_INDEX = Section("ram", 1, [
    Field("size", "u64", hi=MAX_RAM, rule=_ram_size_rule),
    Field("chunk", "u32", choices=(CHUNK,)),
    Field("compression", "str", rule=lambda v, _: None if v == "zlib" else
          f"{v!r} is not a known compression (zlib)"),
    Field("chunks", "u64[2][]", rule=_chunks_rule),
])


def encode(snap):
    """The file's bytes for a Snapshot."""
    ram = np.frombuffer(snap.ram, dtype=np.uint8) if not isinstance(snap.ram, np.ndarray) else snap.ram
    index = []
    blobs = []
    nfull = len(ram) // CHUNK
    used = np.flatnonzero(ram[:nfull * CHUNK].reshape(nfull, CHUNK).any(axis=1)).tolist()
    if len(ram) % CHUNK and ram[nfull * CHUNK:].any():
        used.append(nfull)
    for c in used:
        z = zlib.compress(ram[c * CHUNK:(c + 1) * CHUNK].tobytes(), 1)
        index.append([c, len(z)])
        blobs.append(z)
    header = {
        "format": FORMAT_VERSION,
        "machine_type": snap.machine_type,
        "cpu_model": snap.cpu_model,
        "emulator_version": __version__,
        "identity": snap.identity,
        "sections": snap.sections,
        "schema": snap.schema,
        "versions": snap.versions,
        "ram": {"size": int(len(ram)), "chunk": CHUNK, "compression": "zlib", "chunks": index},
    }
    hb = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    body = MAGIC + _HEAD.pack(FORMAT_VERSION, len(hb)) + hb + b"".join(blobs)
    return body + hashlib.sha256(body).digest()


def decode(data, what="snapshot"):
    """A Snapshot from file bytes; SnapshotFileError says exactly what is wrong."""
    if not data.startswith(MAGIC):
        raise SnapshotFileError(f"{what}: not a pyaarch64 snapshot (bad magic)")
    if len(data) < len(MAGIC) + _HEAD.size + 32:
        raise SnapshotFileError(f"{what}: truncated ({len(data)} bytes)")
    version, hlen = _HEAD.unpack_from(data, len(MAGIC))
    if version != FORMAT_VERSION:
        raise SnapshotFileError(f"{what}: format version {version} is not supported "
                                f"(this pyaarch64 reads version {FORMAT_VERSION})")
    data = memoryview(data)
    body, digest = data[:-32], bytes(data[-32:])
    hstart = len(MAGIC) + _HEAD.size
    if hstart + hlen > len(body):
        raise SnapshotFileError(f"{what}: truncated (header of {hlen} bytes does not fit)")
    try:
        header = json.loads(bytes(body[hstart:hstart + hlen]))
    except ValueError as e:
        if hashlib.sha256(body).digest() != digest:
            raise SnapshotFileError(f"{what}: checksum mismatch: the file is damaged or truncated") from None
        raise SnapshotFileError(f"{what}: unreadable header ({e})") from None
    if not isinstance(header, dict):
        raise SnapshotFileError(f"{what}: the header is not an object")
    problems = validate(HEADER, header)
    if not problems:
        problems = validate(RAM_INDEX, header["ram"])
    if problems:
        if hashlib.sha256(body).digest() != digest:
            raise SnapshotFileError(f"{what}: checksum mismatch: the file is damaged or truncated")
        raise SnapshotFileError(f"{what}: " + "; ".join(problems))
    ram_info = header["ram"]
    chunks, size, chunk = ram_info["chunks"], ram_info["size"], ram_info["chunk"]
    need = hstart + hlen + sum(n for _, n in chunks)
    if need > len(body):
        raise SnapshotFileError(f"{what}: truncated (RAM needs {need - len(body)} more bytes)")
    if hashlib.sha256(body).digest() != digest:
        raise SnapshotFileError(f"{what}: checksum mismatch: the file is damaged")
    if need != len(body):
        raise SnapshotFileError(f"{what}: {len(body) - need} unexpected bytes after the RAM")
    ram = np.zeros(size, dtype=np.uint8)          # untouched pages cost nothing
    p = hstart + hlen
    for idx, n in chunks:
        want = min(chunk, size - idx * chunk)
        d = zlib.decompressobj()
        try:
            c = d.decompress(body[p:p + n], want + 1)     # bounded: never inflates past its size
        except zlib.error as e:
            raise SnapshotFileError(f"{what}: RAM chunk {idx} is corrupt ({e})") from None
        if len(c) != want or not d.eof or d.unused_data or d.unconsumed_tail:
            raise SnapshotFileError(f"{what}: RAM chunk {idx} does not inflate to exactly {want} bytes")
        ram[idx * chunk:idx * chunk + want] = np.frombuffer(c, dtype=np.uint8)
        p += n
    return Snapshot(header["machine_type"], header["cpu_model"], header["identity"],
                    header["sections"], ram, header["schema"],
                    versions=header.get("versions", {})), header



TMP_RE = re.compile(r"^\.snapshot-(?:(\d+)-)?[A-Za-z0-9_]+$")
LEGACY_TMP_AGE = 3600       # seconds: a temporary file without a pid (older releases) is stale


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphans(d):
    """Remove the temporary files of writes whose process died (kill -9 during a
    savevm); a live process's file in progress is left alone."""
    try:
        names = os.listdir(d)
    except OSError:
        return
    now = time.time()
    for name in names:
        m = TMP_RE.match(name)
        if not m:
            continue
        p = os.path.join(d, name)
        try:
            if m.group(1) is not None:
                stale = not _pid_alive(int(m.group(1)))
            else:
                stale = now - os.stat(p).st_mtime > LEGACY_TMP_AGE
            if stale:
                os.unlink(p)
        except OSError:
            pass


def _fsync_dir(d):
    try:
        fd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write(path, snap):
    """Write atomically: a crash leaves either the old file or the new one (a
    temporary file in the same directory, named after this process, fsync, rename,
    fsync of the directory); temporary files of dead writers are removed first."""
    data = encode(snap)
    d = os.path.dirname(os.path.abspath(path))
    remove_orphans(d)
    fd, tmp = tempfile.mkstemp(prefix=f".snapshot-{os.getpid()}-", dir=d)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)        # as an ordinary new file (mkstemp gives 0600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(d)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # the disks: each drive's side map beside the file, appended to from now on
    for did, side in sorted(getattr(snap, "disks", {}).items()):
        drive = side.drive() if side.drive is not None else None
        side.persist(disk_path(path, did), drive.path if drive is not None else "")
    return len(data)


def disk_path(path, drive_id):
    """The file of a snapshot's disk side map for one drive."""
    return f"{path}.disk-{drive_id}"


def read(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SnapshotFileError(f"cannot read snapshot '{path}': {e.strerror}") from None
    snap = decode(data, f"snapshot '{path}'")[0]
    snap.owned = True          # its RAM array belongs to nobody else: restore may adopt it
    drives = snap.sections.get("drives")
    if isinstance(drives, dict):
        from pyaarch64.machine.blockdev import Side
        snap.disks = {did: Side.open(disk_path(path, did)) for did in drives}
    return snap
