"""Fan-out over a cluster (issue 14, item 7): a harness mapped over inputs on a local
Dask cluster of two worker processes gives the results a sequential loop gives, in
order, with the coverage merged; the snapshot travels as bytes."""
import numpy as np
import pytest

import cluster_harness as H
import pyaarch64
from guestbuild import build


@pytest.fixture(scope="module")
def client():
    import distributed                    # (a test dependency: missing is a failure)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def start(name):
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(build(name))
    return m, m.snapshot()


def test_results_in_order_as_a_local_loop_gives_them(client):
    m, snap = start("bench_parse.S")
    inputs = [bytes([i]) * 64 for i in range(40)]
    want = []
    for d in inputs:
        m.restore(snap)
        want.append(H.hash64(m, d))
    res = pyaarch64.map_harness(H.hash64, inputs, snapshot=snap, client=client, progress=False)
    assert res.results == want and res.errors == [] and res.workers == 2


def test_coverage_merges_and_a_crash_is_found(client):
    m, snap = start("parser.S")
    inputs = [b"xxxx", b"Bxxx", b"BUxx", b"BUGx", b"BUG!"] * 3
    res = pyaarch64.map_harness(H.parse, inputs, snapshot=snap, client=client, coverage=65536,
                                batch=2, progress=False)
    assert res.results == (["poweroff"] * 4 + ["data-abort"]) * 3
    # the merged bitmap holds every edge of every input
    cov = m.enable_coverage(65536)
    union = np.zeros(65536, dtype=np.uint8)
    for d in set(inputs):
        m.restore(snap)
        H.parse(m, d)
        union = np.maximum(union, cov)
    assert np.array_equal(res.coverage, union)


def test_harness_errors_are_reported_with_their_index(client):
    res = pyaarch64.map_harness(H.broken, [b"a", b"boom", b"ccc"], client=client, progress=False)
    assert res.results == [1, None, 3] and res.errors == [(1, "RuntimeError: harness failed")]


def test_a_local_cluster_by_default():
    m, snap = start("bench_parse.S")
    res = pyaarch64.map_harness(H.hash64, [bytes(64)] * 4, snapshot=snap, workers=1, progress=False)
    assert len(set(res.results)) == 1 and res.workers == 1
