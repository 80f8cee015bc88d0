"""Harness functions for tests/test_cluster.py and benchmarks/cluster.py: module-level,
so Dask ships them to its workers by name."""
INPUT = 0x4020_0000


def parse(m, data):
    """Run tests/guest/parser.S on one input: the stop kind and the coverage's edges."""
    m.mem_write(INPUT, data.ljust(64, b"\0"))
    r = m.run(max_insns=10_000)
    return r.kind


def hash64(m, data):
    """tests/guest/bench_parse.S on one input: the hash it stores."""
    m.mem_write(INPUT, data)
    r = m.run(max_insns=10_000)
    assert r.kind == "poweroff", r
    return int.from_bytes(m.mem_read(INPUT + 64, 8), "little")


def broken(m, data):
    if data == b"boom":
        raise RuntimeError("harness failed")
    return len(data)
