"""The snapshot file (snapshot/format.py): a file round trip resumes a guest to the
same end; save -> load -> save gives the same bytes (apart from nothing: the format
is canonical); damaged, truncated, foreign or newer files are refused with a
specific message; writes are atomic."""
import os

import pytest

import pyaarch64
from guestbuild import build, cli
from fuzz import rebuild
from pyaarch64.snapshot import format as F


def guest():
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(build("timer.c", extra_sources=("vectors.S",)))
    return m


def test_file_round_trip_resumes_to_the_same_end(tmp_path):
    ref = guest()
    ref.run(max_insns=50_000_000)
    m = guest()
    m.run(max_insns=400_000)
    before = bytes(m.serial_output)
    path = tmp_path / "s1.snap"
    n = F.write(str(path), m.snapshot())
    assert n == path.stat().st_size and n < 2 << 20          # 128 MiB of RAM, mostly zero
    m2 = guest()
    m2.restore(F.read(str(path)))
    assert m2.run(max_insns=50_000_000).kind == "poweroff"
    assert before + bytes(m2.serial_output) == bytes(ref.serial_output)
    assert m2.icount == ref.icount


def test_save_load_save_is_byte_identical(tmp_path):
    m = guest()
    m.run(max_insns=300_000)
    a = F.encode(m.snapshot())
    s, header = F.decode(a)
    m2 = guest()
    m2.restore(s)
    assert F.encode(m2.snapshot()) == a
    assert header["schema"]["cpu0"]["v0"] == "u128" and header["sections"]["cpu0"]["TTBR0_EL1"] == 0


def test_damaged_files_are_refused_with_a_reason(tmp_path):
    m = guest()
    m.run(max_insns=100_000)
    data = F.encode(m.snapshot())
    with pytest.raises(F.SnapshotFileError, match="not a pyaarch64 snapshot"):
        F.decode(b"QEVM" + data[4:])
    with pytest.raises(F.SnapshotFileError, match="truncated"):
        F.decode(data[:len(data) // 2])
    with pytest.raises(F.SnapshotFileError, match="truncated"):
        F.decode(data[:30])
    flipped = bytearray(data)
    flipped[len(data) - 100] ^= 1                                   # inside the RAM
    with pytest.raises(F.SnapshotFileError, match="checksum mismatch"):
        F.decode(bytes(flipped))
    newer = bytearray(data)
    newer[len(F.MAGIC)] = 9
    with pytest.raises(F.SnapshotFileError, match="format version 9 is not supported"):
        F.decode(bytes(newer))
    with pytest.raises(F.SnapshotFileError, match="cannot read snapshot"):
        F.read(str(tmp_path / "nope.snap"))


def test_hostile_ram_encodings_are_refused(tmp_path):
    """Valid checksums, edited content: chunk indices outside RAM, repeated or not
    integers, chunks that inflate to one byte less or more than their size or to 64 MB
    (bounded: refused without inflating it), a header that is not an object."""
    import zlib
    m = guest()
    m.run(max_insns=100_000)
    data = F.encode(m.snapshot())
    F.decode(rebuild(data))                         # the rebuild itself is faithful

    def chunks(f):
        def e(h):
            h["ram"]["chunks"] = f(h["ram"]["chunks"])
            return h
        return e
    cases = [
        (chunks(lambda c: [[-1, c[0][1]]] + c[1:]), "ram.chunks: not a list of u64\\[2\\] values"),
        (chunks(lambda c: [[2048, c[0][1]]] + c[1:]), "ram.chunks: RAM chunk 2048 .* lies outside"),
        (chunks(lambda c: [c[0], [c[0][0], c[1][1]]] + c[2:]), "repeats or is out of order"),
        (chunks(lambda c: [[c[0][0], 0]] + c[1:]), "ram.chunks: RAM chunk .* is empty"),
        (chunks(lambda c: [[True, c[0][1]]] + c[1:]), "ram.chunks: not a list of u64\\[2\\] values"),
        (chunks(lambda c: [c[0] + [1]] + c[1:]), "ram.chunks: not a list of u64\\[2\\] values"),
        (lambda h: dict(h, ram=dict(h["ram"], size=12345)), "ram.size: 12345 is not a RAM size"),
        (lambda h: dict(h, ram=dict(h["ram"], size=1 << 40)), "ram.size: 0x10000000000 is above"),
        (lambda h: dict(h, ram=dict(h["ram"], compression="lz4")), "ram.compression: 'lz4' is not"),
        (lambda h: dict(h, ram=dict(h["ram"], chunk=4096)), "ram.chunk: 0x1000 is not one of 0x10000"),
        (lambda h: dict(h, sections=None), "header.sections: not an object of object values"),
        (lambda h: dict(h, sections=dict(h["sections"], gic=7)),
         "header.sections: not an object of object values \\('gic': 7\\)"),
        (lambda h: {k: v for k, v in h.items() if k != "cpu_model"}, "header: missing field 'cpu_model'"),
        (lambda h: dict(h, versions=[1]), "header.versions: not an object"),
        (lambda h: [h], "the header is not an object"),
    ]
    for edit, msg in cases:
        with pytest.raises(F.SnapshotFileError, match=msg):
            F.decode(rebuild(data, edit_header=edit))
    blob_cases = [
        (lambda h, b: [zlib.compress(bytes(65535))] + b[1:], "does not inflate to exactly 65536 bytes"),
        (lambda h, b: [zlib.compress(bytes(65537))] + b[1:], "does not inflate to exactly 65536 bytes"),
        (lambda h, b: [zlib.compress(bytes(1 << 26))] + b[1:], "does not inflate to exactly 65536 bytes"),
    ]
    for edit, msg in blob_cases:
        with pytest.raises(F.SnapshotFileError, match=msg):
            F.decode(rebuild(data, edit_blobs=edit))


def test_write_is_atomic(tmp_path, monkeypatch):
    m = guest()
    path = tmp_path / "s.snap"
    F.write(str(path), m.snapshot())
    old = path.read_bytes()
    m.run(max_insns=50_000)

    def boom(*a):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        F.write(str(path), m.snapshot())
    assert path.read_bytes() == old                                 # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["s.snap"]       # no temporary left


def test_temporary_files_of_dead_writers_are_removed(tmp_path, monkeypatch):
    """A savevm killed with -9 leaves its temporary file (150 MB for a Linux guest); the
    next save removes it, but not the file a live process is writing; the directory
    is fsynced after the rename."""
    import subprocess
    import time
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f".snapshot-{dead.pid}-abc123"
    mine = tmp_path / f".snapshot-{os.getpid()}-live99"
    legacy_old = tmp_path / ".snapshot-oldstyl"
    legacy_new = tmp_path / ".snapshot-newstyl"
    for p in (orphan, mine, legacy_old, legacy_new):
        p.write_bytes(b"x" * 100)
    os.utime(legacy_old, (time.time() - 2 * F.LEGACY_TMP_AGE,) * 2)
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.path.isdir(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    F.write(str(tmp_path / "s.snap"), guest().snapshot())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["s.snap", mine.name, legacy_new.name])
    assert synced == [False, True]              # the file, then the directory


def test_embedded_schema_is_checked(tmp_path):
    m = guest()
    snap = m.snapshot()
    snap.schema["cpu0"]["SCTLR_EL1"] = "u32"
    m2 = guest()
    with pytest.raises(ValueError, match="cpu0.SCTLR_EL1: type u32 in the snapshot, u64 here"):
        m2.restore(F.decode(F.encode(snap))[0])


def test_snapshot_inspect_prints_every_section_and_field_by_name(tmp_path):
    m = guest()
    m.run(max_insns=100_000)
    path = str(tmp_path / "s.snap")
    F.write(path, m.snapshot())
    rc, out, err = cli("snapshot", "inspect", path)
    assert rc == 0, err
    assert "machine type:     virt-7.2" in out and "cpu model:        cortex-a57" in out
    for line in ("[identity]", "  MIDR_EL1 = 0x411fd070", "[cpu0]", "  TTBR0_EL1 (u64) = 0x0",
                 "[gic]", "[pl011]", "[pl031]", "[board]"):
        assert line in out, line
    assert f"  pc (u64) = {hex(m.pc)}" in out
    assert "load check:       pyaarch64 " in out and "virt-7.2 with cortex-a57 and 128 MiB: loads" in out
    rc, _, err = cli("snapshot", "inspect", str(tmp_path / "missing.snap"))
    assert rc == 1 and "cannot read snapshot" in err


def test_snapshot_inspect_reports_what_loadvm_refuses(tmp_path):
    """A file whose container is sound but whose state is not: inspect lists it and
    then refuses it with the problems loading would name (exit status 1)."""
    m = guest()
    m.run(max_insns=100_000)
    data = F.encode(m.snapshot())

    def edit(h):
        h["sections"]["pl011"]["lcr"] = 0x1FF
        h["sections"]["gic"]["abpr"] = [0]
        h["machine_type"] = "virt-7.1"
        return h
    path = tmp_path / "bad.snap"
    path.write_bytes(rebuild(data, edit_header=edit))
    rc, out, err = cli("snapshot", "inspect", str(path))
    assert rc == 1 and "[pl011]" in out and "load check:       pyaarch64" in out
    assert "virt-7.1 with cortex-a57 and 128 MiB: cannot be loaded" in out
    assert err.count("pl011.lcr: 0x1ff has bits 0x100 set outside 0xff") == 1
    assert "gic.abpr: entry 0: 0x0 is below 0x1" in err
    assert "machine type" not in err and "identity" not in err   # checked against a virt-7.1
    m2 = guest()
    with pytest.raises(ValueError) as e:
        m2.restore(F.read(str(path)))
    assert "pl011.lcr: 0x1ff has bits 0x100 set outside 0xff" in str(e.value)
    path.write_bytes(rebuild(data, edit_header=lambda h: dict(h, machine_type="virt-1.0")))
    rc, out, err = cli("snapshot", "inspect", str(path))
    assert rc == 1 and "no such machine" in out and "virt-1.0" in err


def test_snapshot_schema_by_machine_type():
    import json
    rc, out, err = cli("snapshot", "schema", "-M", "virt-9.0")
    assert rc == 0, err
    s90 = json.loads(out)
    s91 = json.loads(cli("snapshot", "schema", "-M", "virt-9.1")[1])
    assert s90["identity"]["CNTFRQ_EL0.reset"] == 62_500_000
    assert s91["identity"]["CNTFRQ_EL0.reset"] == 1_000_000_000
    assert s90["sections"]["cpu0"]["fields"]["v31"] == "u128" and "priority" in s90["sections"]["gic"]["fields"]
    assert s90["system_registers"]["VBAR_EL1"] == {"reset": "0x0", "writable": "0xffffffffffffffe0"}
    assert "enc" not in out and "op0" not in out           # encodings never leave the table
    assert cli("snapshot", "schema", "-M", "virt")[1] == cli("snapshot", "schema", "-M", "virt-10.0")[1]
    rc, _, err = cli("snapshot", "schema", "-M", "virt-3.0")
    assert rc == 1 and "virt-4.1" in err


def test_a_file_snapshot_loads_once_without_a_copy_then_says_so(tmp_path):
    """read() gives a snapshot whose RAM array nobody else holds: restore adopts it (no
    128 MiB copy).  Restoring the same object again must not silently keep the RAM the
    guest has written since: it is refused with the reason."""
    from pyaarch64.snapshot.state import SnapshotError
    m = guest()
    m.run(max_insns=100_000)
    path = str(tmp_path / "s.snap")
    F.write(path, m.snapshot())
    snap = F.read(path)
    m2 = guest()
    m2.restore(snap)
    assert m2._m.ram is not None and snap.ram is None
    with pytest.raises(SnapshotError, match="loaded from its file once"):
        m2.restore(snap)
    m2.restore(F.read(path))                         # read again: fine

