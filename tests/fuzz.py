"""Hostile inputs, shared by the fuzz tests (tests/test_fuzz.py) and the long campaign
(tests/fuzz_campaign.py): each `check_*` feeds one input to pyaarch64 the way a user
or a file would, and returns "ok" (accepted) or "refused" (a clean, specific error);
anything else -- another exception, a half-changed machine -- propagates or raises
AssertionError.  Mutations are drawn from a `random.Random`, so a campaign and a
hypothesis test can share them."""
import copy
import hashlib
import json
import os
import struct
import zlib

import pyaarch64
from guestbuild import build
from pyaarch64.emu import cli as CLI
from pyaarch64.machine.loader import KernelError
from pyaarch64.snapshot import format as F
from pyaarch64.snapshot.state import SnapshotError

# values a hostile writer puts anywhere (JSON)
NASTY = [None, True, False, 0, -1, 1, 255, 256, 2 ** 32, 2 ** 63, 2 ** 64, 2 ** 128, -(2 ** 63) - 1,
         1.5, "", "x", "\udcff", [], {}, [0], [True], [-1], [2 ** 64], [0] * 5000, {"a": 1}]


def rebuild(data, edit_header=None, edit_blobs=None):
    """A snapshot file with its header and/or RAM chunks edited and a valid checksum
    (what a buggy or hostile writer produces)."""
    hstart = len(F.MAGIC) + 12
    version, hlen = struct.unpack_from("<IQ", data, len(F.MAGIC))
    header = json.loads(data[hstart:hstart + hlen])
    blobs, p = [], hstart + hlen
    for _, n in header["ram"]["chunks"]:
        blobs.append(data[p:p + n])
        p += n
    if edit_blobs:
        blobs = edit_blobs(header, blobs)
        header["ram"]["chunks"] = [[i, len(b)] for (i, _), b in zip(header["ram"]["chunks"], blobs)]
    if edit_header:
        header = edit_header(header)
    hb = json.dumps(header).encode("utf-8", "surrogatepass")
    body = F.MAGIC + struct.pack("<IQ", version, len(hb)) + hb + b"".join(blobs)
    return body + hashlib.sha256(body).digest()


def _paths(obj, prefix=()):
    """Every path into a JSON value (dict keys, list indices), the value's own first."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list) and len(obj) <= 64:
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def mutate_header(rng, header, n=1):
    """n edits at random places of a snapshot header: a value replaced by a nasty one,
    a key deleted or added, a list cut or grown."""
    header = copy.deepcopy(header)
    for _ in range(n):
        paths = [p for p in _paths(header) if p]
        path = rng.choice(paths)
        parent = header
        for k in path[:-1]:
            parent = parent[k]
        k = path[-1]
        what = rng.randrange(4)
        if what == 0 and isinstance(parent, dict):
            del parent[k]
        elif what == 1 and isinstance(parent[k], list) and parent[k]:
            parent[k] = parent[k][:rng.randrange(len(parent[k]))] if rng.random() < 0.5 else \
                parent[k] + [rng.choice(parent[k])] * rng.randrange(1, 40)
        elif what == 2 and isinstance(parent, dict):
            parent["fuzz" + str(rng.randrange(100))] = copy.deepcopy(rng.choice(NASTY))
        else:
            parent[k] = copy.deepcopy(rng.choice(NASTY))
    return header


def mutate_values(rng, header, n=1):
    """n single-bit edits of the machine state (a bit flipped, or set just past a
    field's bound, in a register, device field or list entry): the values a file
    damaged inside valid JSON holds; many load (a flipped bit in x5 is a state like
    any other) and must then run."""
    header = copy.deepcopy(header)
    secs = header["sections"]
    for _ in range(n):
        name = rng.choice(sorted(secs))
        fields = secs[name]
        if not fields:
            continue
        f = rng.choice(sorted(fields))
        v = fields[f]
        if isinstance(v, list):
            if not v:
                continue
            i = rng.randrange(len(v))
            v[i] = v[i] ^ (1 << rng.randrange(10))
        elif isinstance(v, int):
            k = rng.choice([rng.randrange(8), rng.randrange(32), rng.randrange(66), 127, 128])
            fields[f] = v ^ (1 << k) if rng.random() < 0.8 else (1 << k) - rng.randrange(2)
    return header


def mutate_ram(rng, header, blobs):
    """The RAM part edited (the header's chunk index follows the blobs' lengths unless
    the edit is to the index itself): a chunk cut, padded, replaced by one that
    inflates to one byte less or more, to 64 MiB, or by garbage; chunks dropped,
    repeated, swapped or moved outside RAM."""
    chunks = header["ram"]["chunks"]
    blobs = list(blobs)
    i = rng.randrange(len(blobs))
    what = rng.randrange(9)
    if what == 0:
        blobs[i] = blobs[i][:rng.randrange(len(blobs[i]))] or b"x"
    elif what == 1:
        blobs[i] = blobs[i] + bytes(rng.randrange(1, 9))
    elif what == 2:
        blobs[i] = zlib.compress(bytes(F.CHUNK + rng.choice([-1, 1, F.CHUNK, 1 << 26])))
    elif what == 3:
        blobs[i] = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 64)))
    elif what == 4 and len(blobs) > 1:
        del blobs[i], chunks[i]
    elif what == 5:
        blobs.insert(i, blobs[i])
        chunks.insert(i, list(chunks[i]))
    elif what == 6 and len(blobs) > 1:
        j = rng.randrange(len(blobs))
        chunks[i][0], chunks[j][0] = chunks[j][0], chunks[i][0]
    elif what == 7:
        chunks[i][0] = rng.choice([-1, header["ram"]["size"] // F.CHUNK, 2 ** 64, chunks[i][0] + 1])
    else:
        blobs[i] = bytearray(blobs[i])
        k = rng.randrange(len(blobs[i]))
        blobs[i][k] ^= 1 << rng.randrange(8)
        blobs[i] = bytes(blobs[i])
    return blobs


def mutate_snapshot(rng, data):
    """One hostile snapshot file made from a good one (`data`): its header edited
    anywhere, its state's values edited bit by bit, or its RAM."""
    kind = rng.randrange(3)
    if kind == 0:
        return "header", rebuild(data, edit_header=lambda h: mutate_header(rng, h, rng.randrange(1, 6)))
    if kind == 1:
        return "values", rebuild(data, edit_header=lambda h: mutate_values(rng, h, rng.randrange(1, 4)))
    return "ram", rebuild(data, edit_blobs=lambda h, b: mutate_ram(rng, h, b))


def fingerprint(m):
    s = m.snapshot()
    return json.dumps(s.sections, sort_keys=True), hashlib.sha256(bytes(s.ram)).hexdigest()


def check_snapshot_bytes(m, data, before=None, run=0):
    """Decode a snapshot file's bytes and load them into machine m: 'ok' (and, with
    run=N, the loaded state runs: run() comes back within N instructions), or
    'refused' with m exactly as it was."""
    try:
        snap = F.decode(data)[0]
    except F.SnapshotFileError:
        return "refused"
    before = before or fingerprint(m)
    try:
        m.restore(snap)
    except SnapshotError:
        assert fingerprint(m) == before, "a refused snapshot changed the machine"
        return "refused"
    if run:
        r = m.run(max_insns=run)
        assert isinstance(r, pyaarch64.StopReason) and isinstance(r.kind, str), r
    return "ok"


def check_elf_bytes(tmpdir, data):
    """Load an ELF's bytes as a kernel: 'ok' or 'refused' (KernelError)."""
    path = os.path.join(tmpdir, "fuzz.elf")
    with open(path, "wb") as f:
        f.write(data)
    m = pyaarch64.Machine(machine="virt-7.2", ram_size=16 << 20)
    try:
        m.load_elf(path)
    except KernelError:
        return "refused"
    return "ok"


def mutate_elf(rng, data):
    """An ELF with a few header or program-header fields overwritten."""
    d = bytearray(data)
    phoff = struct.unpack_from("<Q", d, 0x20)[0]
    fields = [(0x04, 1), (0x05, 1), (0x10, 2), (0x12, 2), (0x18, 8), (0x20, 8), (0x28, 8), (0x36, 2),
              (0x38, 2)] + [(phoff + o, w) for o, w in ((0, 4), (8, 8), (0x10, 8), (0x18, 8), (0x20, 8),
                                                         (0x28, 8))]
    for _ in range(rng.randrange(1, 4)):
        off, w = rng.choice(fields)
        if off + w > len(d):
            continue
        v = rng.choice([0, 1, (1 << (8 * w)) - 1, 1 << (8 * w - 1), rng.getrandbits(8 * w),
                        len(d), len(d) + 1, 0x40000000, 0x48000000])
        d[off:off + w] = (v & ((1 << (8 * w)) - 1)).to_bytes(w, "little")
    if rng.random() < 0.2:
        d = d[:rng.randrange(len(d))]
    return bytes(d)


WORDS = ["-M", "virt", "virt-7.2", "virt,gic-version=2", "-machine", "help", "dumpdtb=", "-cpu",
         "max", "cortex-a57", "-m", "128M", "0", "1", "-1", "1G", "99999999999999999999999",
         "16G", "17G", "4097", "-kernel", "-append", "-initrd", "-dtb", "-serial", "stdio",
         "null", "file:", "-monitor", "unix:", "none", "-d", "in_asm,int", "help", "-D",
         "-icount", "shift=3", "shift=99", "--max-insns", "-S", "-loadvm", "-nographic",
         "-semihosting-config", "enable=on,arg=x", "--snapshot-store", "-smp", "2", "-display",
         "-accel", "tcg", "-", "--", "=", "\udcff\udcfe", "x" * 300, ""]


def argv_of(rng):
    return [rng.choice(WORDS) for _ in range(rng.randrange(1, 7))]


def check_argv(argv):
    """Parse a command line: 'ok' or 'refused' (a UsageError's one line)."""
    try:
        CLI.parse_args(argv)
    except CLI.UsageError as e:
        assert str(e) and "\n" not in str(e), repr(str(e))
        return "refused"
    return "ok"


class StreamMachine:
    """A machine that runs random instruction words at EL1 or EL0 (fuzz_stream.S)."""

    def __init__(self):
        self.m = pyaarch64.Machine(machine="virt-7.2", ram_size=16 << 20)
        self.elf = build("fuzz_stream.S")
        self.m.load_elf(self.elf)
        self.stream = _symbol(self.elf, "stream")
        self.start = self.m.snapshot()

    def run(self, words, el0, max_insns=20_000):
        """Run the words; returns the StopReason's kind (whatever it is: the property
        is that run() returns, with no exception)."""
        self.m.restore(self.start)
        self.m.reg_write("x0", 1 if el0 else 0)
        self.m.mem_write(self.stream, b"".join(struct.pack("<I", w & 0xFFFFFFFF) for w in words))
        return self.m.run(max_insns=max_insns).kind


def _symbol(elf, name):
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as f:
        for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            if s.name == name:
                return s["st_value"]
    raise KeyError(name)


def cli_words(tmpdir):
    """Words for whole command lines: real files and hostile ones."""
    hello = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "hello.elf")
    return [hello, hello, "-kernel", hello, "/dev/zero", tmpdir, os.path.join(tmpdir, "nope"),
            "-M", "virt-7.2", "virt-9.0", "virt,gic-version=3", "-cpu", "max", "-m", "1G", "3M",
            "64K", "-append", "console=ttyAMA0 \udcff", "-initrd", "-dtb", "-serial", "null",
            "stdio", "file:/dev/full", f"file:{tmpdir}", "-monitor", "none", "stdio",
            f"unix:{tmpdir}/m.sock,server=on,wait=off", f"unix:{tmpdir}/{'x' * 120}", "-d",
            "int,guest_errors", "unimp,nope", "-D", "/nonexistent/dir/log", f"{tmpdir}/log",
            "-icount", "shift=2", "shift=200", "--max-insns", "1000", "-1", "-loadvm", "s1",
            "--snapshot-store", tmpdir, "/dev/null", "-nographic", "-no-reboot", "-S",
            "-semihosting", "-semihosting-config", "enable=on,arg=a", "-machine", "dumpdtb=",
            f"dumpdtb={tmpdir}/x.dtb", "-smp", "1", "-display", "none"]


def check_cli(argv, timeout=60):
    """`pyaarch64 run ARGV` as a user runs it (no input): it must end by itself with a
    status, and print no traceback.  Returns 'ok' (status 0) or 'refused'."""
    import subprocess
    import sys
    r = subprocess.run([os.fsencode(sys.executable), b"-m", b"pyaarch64.emu.cli", b"run",
                        b"--max-insns", b"200000"] + [os.fsencode(a) for a in argv],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    err = r.stderr.decode("latin-1")
    assert "Traceback" not in err, err[-2000:]
    return "ok" if r.returncode == 0 else "refused"
