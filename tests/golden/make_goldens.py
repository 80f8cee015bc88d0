"""Write the golden snapshots and schemas of machine types that have none yet (never
rewrite one).

    python tests/golden/make_goldens.py            # add goldens + schemas for new types
    python tests/golden/make_goldens.py --check    # what it would add, writes nothing

The schema of a type is `pyaarch64 snapshot schema -M <type>`: its platform identity,
sections, fields, versions and every system register's reset value and writable mask.
tests/test_golden.py regenerates each and requires byte identity: a released type's
snapshot contents never change -- except by additions that come with a new board
section version (snapshot/state.py BOARD_VERSION: devices QEMU's virt has that joined
the existing types, issue 16), which old snapshots load without (the devices at reset).
Each board version's schemas are committed once and never edited: version 1's at
schemas/<type>.json, version N's under schemas/board-v<N>/.  The test regenerates the
current version's byte for byte and checks that it holds every earlier version's
unchanged, plus only such additions.

A golden snapshot is taken from tests/guest/golden.c a few thousand instructions
after it prints "golden: ready": mid-computation, with the virtual timer's interrupt
pending at the GIC (IRQs masked), the PL011's receive FIFO holding "golden!\\n" and its
interrupt pending too.  The machine then runs on to power-off and MANIFEST.json
records what it printed after the snapshot point, with the file's SHA-256.

Goldens are evidence that every later release loads what this one saved: once
committed, a golden and its manifest entry never change (tests/test_golden.py checks
the hashes).  A new machine type gets its golden from the release that adds it.
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))            # tests/ (guestbuild)

MANIFEST = os.path.join(HERE, "MANIFEST.json")
SCHEMAS = os.path.join(HERE, "schemas")
AFTER_READY = 3000          # instructions between "ready" and the snapshot
INPUT = b"golden!\n"
# the default CPU for every type; the other stable models on the oldest type (`max` is
# a moving target by definition, as in QEMU: no migration promise, no golden)
EXTRA = (("virt-4.1", "cortex-a53"), ("virt-4.1", "cortex-a72"))


def golden_name(mtype, cpu):
    return f"{mtype}.snap" if cpu is None else f"{mtype}-{cpu}.snap"


def schema_text(mtype, cpu):
    from pyaarch64.emu.snapcmd import canonical_schema
    return json.dumps(canonical_schema(mtype, cpu), indent=1, sort_keys=True) + "\n"


def schema_dir(board_v=None):
    """Where the schemas of board version board_v (default: the current) are: those of
    version 1 -- the first releases -- at schemas/<type>.json, later ones under
    schemas/board-v<N>/.  A directory once committed is never edited."""
    if board_v is None:
        from pyaarch64.snapshot.state import BOARD_VERSION as board_v
    return SCHEMAS if board_v == 1 else os.path.join(SCHEMAS, f"board-v{board_v}")


def schema_path(mtype, cpu, board_v=None):
    return os.path.join(schema_dir(board_v), golden_name(mtype, cpu)[:-len(".snap")] + ".json")


def wanted():
    from pyaarch64.machine.types import TYPES
    return [(t, None) for t in TYPES] + list(EXTRA)


def run_to_snapshot_point(m, elf):
    """Load golden.elf into Machine m and run it to the snapshot point (RX input in)."""
    from pyaarch64.cpu import ops as O
    m.load_elf(elf)
    n = 0
    while b"golden: ready\n" not in m.serial_output:
        stop = m.run(max_insns=500)
        n += 500
        if stop.kind != "budget" or n > 50_000_000:
            raise RuntimeError(f"golden guest did not get ready: {stop}")
    stop = m.run(max_insns=AFTER_READY)
    assert stop.kind == "budget", stop
    vm = m._m
    assert vm.gic.pending[27] or vm.gic.level[27], "timer interrupt not pending at the GIC"
    assert vm.cpu.ctl[O.C_IRQ] & 1, "CPU IRQ line not up"
    assert vm.cpu.ctl[O.C_DAIF] & 2, "IRQs not masked at the snapshot point"
    m.serial_input(INPUT)
    assert vm.uart.rx == list(INPUT), vm.uart.rx
    assert vm.uart.ris & vm.uart.imsc, "PL011 RX interrupt not raised"


def main(argv):
    import pyaarch64
    from guestbuild import build
    check = "--check" in argv
    manifest = {}
    if os.path.exists(MANIFEST):
        with open(MANIFEST) as f:
            manifest = json.load(f)
    elf = build("golden.c", extra_sources=("vectors.S",))
    added = []
    os.makedirs(schema_dir(), exist_ok=True)
    for mtype, cpu in wanted():
        sp = schema_path(mtype, cpu)
        if not os.path.exists(sp):
            added.append(os.path.relpath(sp, HERE))
            if not check:
                with open(sp, "w") as f:
                    f.write(schema_text(mtype, cpu))
        name = golden_name(mtype, cpu)
        path = os.path.join(HERE, name)
        if name in manifest or os.path.exists(path):
            continue
        added.append(name)
        if check:
            continue
        m = pyaarch64.Machine(machine=mtype, cpu=cpu)
        run_to_snapshot_point(m, elf)
        before = bytes(m.serial_output)
        m.savevm(path)
        stop = m.run(max_insns=100_000_000)
        assert stop.kind == "poweroff", stop
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        manifest[name] = {
            "machine_type": m.machine_type, "cpu_model": m.cpu_model,
            "written_by": pyaarch64.__version__, "sha256": digest,
            "output_before": before.decode(),
            "output_after": bytes(m.serial_output)[len(before):].decode(),
        }
        print(f"wrote {name} ({os.path.getsize(path)} bytes)")
    if not check and added:
        with open(MANIFEST, "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
            f.write("\n")
    if check:
        print("would add: " + (", ".join(added) or "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
