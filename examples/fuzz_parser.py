"""A coverage-guided fuzzer in 40 lines: it finds the bug planted in a parser.

The target (tests/guest/parser.S) checks a 64-byte input one byte at a time and
crashes on "BUG!".  Each generation of mutants goes to Machine.run_inputs, which for
each one restores a snapshot taken at the entry (only the pages written since are
copied back), writes the input and runs to the end -- with no Python between runs
that end normally -- and says how many edges of the coverage bitmap each run
reached first; an input that reached new ones joins the corpus.  (The same loop
with restore(), mem_write() and run() a call each gives the same results, about
six times slower: benchmarks/restore.py.)

    python examples/fuzz_parser.py [--seed N] [--max-execs N]
"""
import argparse
import random
import time

import pyaarch64
from _guests import guest

INPUT = 0x4020_0000


def mutate(rng, data):
    d = bytearray(data)
    for _ in range(rng.choice((1, 1, 2))):
        i = rng.randrange(8)
        d[i] = rng.randrange(256) if rng.random() < 0.8 else d[i] ^ (1 << rng.randrange(8))
    return bytes(d)


def fuzz(seed=1, max_execs=200_000):
    path, _ = guest("parser.S")
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(path)
    start = m.snapshot()
    m.enable_coverage()
    corpus = [bytes(64)]
    rng = random.Random(seed)
    t0 = time.perf_counter()
    n = 0
    while n < max_execs:
        batch = [mutate(rng, rng.choice(corpus)) for _ in range(min(256, max_execs - n))]
        for data, stop in zip(batch, m.run_inputs(start, batch, INPUT, max_insns=10_000)):
            n += 1
            if stop.kind != "poweroff":
                return n, data, stop, time.perf_counter() - t0, len(corpus)
            if stop.new_edges:              # edges no input reached before
                corpus.append(data)
    return n, None, None, time.perf_counter() - t0, len(corpus)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-execs", type=int, default=200_000)
    a = ap.parse_args()
    n, data, stop, dt, kept = fuzz(a.seed, a.max_execs)
    if data is None:
        print(f"no crash in {n} executions ({dt:.1f} s, {kept} inputs kept)")
        return 1
    print(f"crash after {n} executions ({dt:.1f} s, {n / dt:.0f} execs/s, {kept} inputs kept)")
    print(f"input: {data[:8]!r}...")
    print(f"stop: {stop.kind}: {stop.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
