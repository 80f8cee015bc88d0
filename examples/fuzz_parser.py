"""A coverage-guided fuzzer in 40 lines: it finds the bug planted in a parser.

The target (tests/guest/parser.S) checks a 64-byte input one byte at a time and
crashes on "BUG!".  Each run restores a snapshot taken at the entry (only the pages
written since are copied back), writes the input, runs to the end, and keeps the
input when the edge bitmap shows an edge no input reached before.

    python examples/fuzz_parser.py [--seed N] [--max-execs N]
"""
import argparse
import random
import time

import numpy as np

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
    cov = m.enable_coverage()
    seen = np.zeros(len(cov), dtype=bool)          # edges any input has reached
    corpus = [bytes(64)]
    rng = random.Random(seed)
    t0 = time.perf_counter()
    for n in range(1, max_execs + 1):
        data = mutate(rng, rng.choice(corpus))
        m.restore(start)
        m.mem_write(INPUT, data)
        stop = m.run(max_insns=10_000)
        if stop.kind != "poweroff":
            return n, data, stop, time.perf_counter() - t0, len(corpus)
        new = (cov != 0) & ~seen
        if new.any():
            seen |= cov != 0
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
