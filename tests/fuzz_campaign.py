"""A long fuzz campaign over pyaarch64's hostile inputs, with a summary.

    python tests/fuzz_campaign.py                       # 2,000 of each kind
    python tests/fuzz_campaign.py --n 100000 --kinds snapshot-values,stream --seed 7

Kinds: snapshot, snapshot-values, snapshot-ram (mutants of a real snapshot file -- its
header edited anywhere, its state's values bit by bit, its RAM chunks -- loaded into a
running machine, which must then run 20,000 instructions if it accepted them), elf (ELF header and program-header mutants as a kernel), argv (command
lines through the parser), cli (whole `pyaarch64 run` command lines with real and
hostile files, one process each: it must end by itself with no traceback; slow, not
in the default kinds), stream (random instruction words at EL0 and EL1, 20,000
instructions each).
For each kind it prints how many inputs were tried, accepted, refused cleanly, and
anything else (an exception that is not the clean refusal, or a refused snapshot
that changed the machine), with the seed of each failure to replay it.  Exits 1 if
there was anything else.  The mutators are tests/fuzz.py's, shared with
tests/test_fuzz.py.
"""
import argparse
import collections
import os
import random
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fuzz  # noqa: E402


def campaign(kind, n, seed, tmp):
    out = collections.Counter()
    failures = []
    if kind in ("snapshot", "snapshot-values", "snapshot-ram"):
        import pyaarch64
        from guestbuild import build
        from pyaarch64.snapshot import format as F
        m = pyaarch64.Machine(machine="virt-7.2", ram_size=16 << 20)   # (cheap to compare)
        m.load_elf(build("timer.c", extra_sources=("vectors.S",)))
        m.run(max_insns=300_000)
        data = F.encode(m.snapshot())
        base = F.decode(data)[0]
        base.owned = False              # (restored again and again: never adopted as RAM)
        before = fuzz.fingerprint(m)
        machine = [m]

        def one(rng):
            try:
                return one_snapshot(rng, machine[0])
            except Exception:
                # whatever went wrong, the next input starts from a fresh machine (one
                # failure must not make every later input fail)
                fresh = pyaarch64.Machine(machine="virt-7.2", ram_size=16 << 20)
                fresh.restore(F.decode(data)[0])
                machine[0] = fresh
                raise

        def one_snapshot(rng, m):
            if kind == "snapshot":
                bad = fuzz.rebuild(data, edit_header=lambda h: fuzz.mutate_header(rng, h, rng.randrange(1, 6)))
            elif kind == "snapshot-values":
                bad = fuzz.rebuild(data, edit_header=lambda h: fuzz.mutate_values(rng, h, rng.randrange(1, 4)))
            else:
                bad = fuzz.rebuild(data, edit_blobs=lambda h, b: fuzz.mutate_ram(rng, h, b))
            r = fuzz.check_snapshot_bytes(m, bad, before, run=20_000)
            if r == "ok":
                m.restore(base)
            return r
    elif kind == "elf":
        from guestbuild import build
        good = open(build("cli_timerfar.S"), "rb").read()

        def one(rng):
            return fuzz.check_elf_bytes(tmp, fuzz.mutate_elf(rng, good))
    elif kind == "argv":
        def one(rng):
            return fuzz.check_argv(fuzz.argv_of(rng))
    elif kind == "cli":
        words = fuzz.cli_words(tmp)

        def one(rng):
            return fuzz.check_cli([rng.choice(words) for _ in range(rng.randrange(1, 8))])
    elif kind == "stream":
        sm = fuzz.StreamMachine()

        def one(rng):
            words = [rng.getrandbits(32) for _ in range(rng.randrange(1, 512))]
            sm.run(words, rng.random() < 0.5)
            return "ok"
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    t0 = time.time()
    for i in range(n):
        s = seed * 1_000_003 + i
        try:
            out[one(random.Random(s))] += 1
        except Exception:       # noqa: BLE001 -- that is what we are looking for
            out["other"] += 1
            failures.append((s, traceback.format_exc(limit=3).strip().splitlines()[-1]))
    return out, failures, time.time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="inputs per kind")
    ap.add_argument("--kinds", default="snapshot,snapshot-values,snapshot-ram,elf,argv,stream")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    bad = 0
    print("| kind | tried | accepted | refused cleanly | other | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            out, failures, dt = campaign(kind, args.n, args.seed, tmp)
            print(f"| {kind} | {args.n} | {out['ok']} | {out['refused']} | {out['other']} | {dt:.0f} |",
                  flush=True)
            for s, line in failures[:20]:
                print(f"    seed {s}: {line}", file=sys.stderr)
            bad += out["other"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
