"""Fan-out (issue 14, item 7): the fuzz-loop harness (tests/cluster_harness.py hash64:
restore, write 64 bytes, run tests/guest/bench_parse.S) mapped over N inputs on a
local Dask cluster of 1 and of 2 worker processes; the clusters are started (and
warmed with one small map) before the clock starts.

    python benchmarks/cluster.py [--n 40000]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40_000)
    a = ap.parse_args(argv)
    import distributed
    import pyaarch64
    import cluster_harness as H
    from guestbuild import build
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(build("bench_parse.S"))
    snap = m.snapshot()
    inputs = [i.to_bytes(8, "little") * 8 for i in range(a.n)]
    t = time.perf_counter()
    for d in inputs[:5000]:
        m.restore(snap)
        H.hash64(m, d)
    local = 5000 / (time.perf_counter() - t)
    print("| setup | execs/s |")
    print("|---|---:|")
    print(f"| one machine, a plain loop in this process | {local:.0f} |")
    for n in (1, 2):
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
        client = distributed.Client(cluster)
        pyaarch64.map_harness(H.hash64, inputs[:200], snapshot=snap, client=client, progress=False)
        t = time.perf_counter()
        res = pyaarch64.map_harness(H.hash64, inputs, snapshot=snap, client=client, progress=False)
        dt = time.perf_counter() - t
        assert not res.errors
        print(f"| map_harness, local cluster of {n} worker{'s' if n > 1 else ''} | {a.n / dt:.0f} |")
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
