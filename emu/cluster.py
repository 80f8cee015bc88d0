"""Fan a harness out over a cluster (Dask distributed): one function, many inputs or
snapshots, a machine per worker process.

    from pyaarch64 import map_harness

    def harness(m, data):                  # a module-level function: it travels by name
        m.mem_write(INPUT, data)
        return m.run(max_insns=10_000).kind

    res = map_harness(harness, inputs, snapshot=start, coverage=65536)
    res.results                            # in the order of `inputs`
    res.coverage                           # the edge bitmaps of every run, merged (max)

Each task carries a batch of items; a worker builds its machine once (same arguments,
same snapshot: cached per process), restores the snapshot before each item -- a fast
restore: only the pages the previous item wrote are copied back -- and calls the
harness.  The snapshot travels as the bytes of a snapshot file and is checked once
per worker, as any loaded file is.  Without a scheduler address a local cluster is
started, one single-threaded worker process per core (the CPU core is not
thread-safe and holds the GIL); with `scheduler="tcp://host:8786"` (or a Client) the
tasks go to an existing one, whose workers need pyaarch64 installed.  Why Dask: a
plain `client.map` over batches is all this needs; its LocalCluster gives the same
code path on one machine and on many, and it is a pure-Python install (Ray would
bring a large binary runtime for the same map).
"""
import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from pyaarch64.errors import MachineError

_MACHINES = {}          # per worker process: key -> (Machine, snapshot restored in it)


@dataclass
class Results:
    results: list
    coverage: np.ndarray = None            # merged bitmap (max per edge), or None
    errors: list = field(default_factory=list)   # (index, repr of the exception)
    workers: int = 0


def _machine(key, machine_kwargs, snap_bytes, coverage):
    """This process's machine for `key` (built and loaded once)."""
    import pyaarch64
    from pyaarch64.snapshot import format as F
    got = _MACHINES.get(key)
    if got is None:
        m = pyaarch64.Machine(**machine_kwargs)
        snap = None
        if snap_bytes is not None:
            snap = F.decode(snap_bytes, "snapshot")[0]
            snap.owned = False
            m.restore(snap)                    # checked here, once per worker
        if coverage:
            m.enable_coverage(coverage)
        got = _MACHINES[key] = (m, snap)
    return got


def _run_batch(harness, batch, key, machine_kwargs, snap_bytes, coverage, setup):
    m, snap = _machine(key, machine_kwargs, snap_bytes, coverage)
    out = []
    merged = None
    for i, item in batch:
        if snap is not None:
            m.restore(snap)
        if setup is not None:
            setup(m)
        try:
            out.append((i, harness(m, item), None))
        except Exception as e:             # noqa: BLE001 -- reported with its index
            out.append((i, None, f"{type(e).__name__}: {e}"))
        if coverage and m.coverage is not None:
            merged = m.coverage.copy() if merged is None else np.maximum(merged, m.coverage)
    return out, merged


def map_harness(harness, items, snapshot=None, machine=None, coverage=None, setup=None,
                scheduler=None, client=None, workers=None, batch=None, progress=True):
    """harness(machine, item) -> result for every item, on a Dask cluster.

    snapshot: a Snapshot (or snapshot-file bytes) every item starts from;
    machine: Machine(**machine) arguments (default: the snapshot's machine type and
    CPU, else virt); coverage: a bitmap size to record and merge edge coverage;
    setup(machine): called before each item (after the restore); scheduler: an
    address, or client: a distributed.Client (default: a local cluster with
    `workers` processes, one per core); batch: items per task (default: about 8
    tasks per worker); progress: a progress bar (tqdm) on stderr."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise MachineError("map_harness needs Dask distributed: pip install 'dask[distributed]'") from None
    items = list(items)
    snap_bytes = None
    kwargs = dict(machine or {})
    if snapshot is not None:
        from pyaarch64.snapshot import format as F
        snap_bytes = snapshot if isinstance(snapshot, (bytes, bytearray)) else F.encode(snapshot)
        snap_bytes = bytes(snap_bytes)
        if not machine:
            s = F.decode(snap_bytes)[0]
            kwargs = {"machine": s.machine_type, "cpu": s.cpu_model, "ram_size": len(s.ram)}
    key = hashlib.sha256(repr(sorted(kwargs.items())).encode() + (snap_bytes or b"")
                         + repr(coverage).encode()).hexdigest()
    own = None
    if client is None:
        if scheduler is not None:
            client = own = Client(scheduler)
        else:
            n = workers or os.cpu_count() or 1
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=":0")
            client = own = Client(cluster)
    try:
        nworkers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
        size = batch or max(1, len(items) // (8 * nworkers) or 1)
        batches = [list(enumerate(items))[k:k + size] for k in range(0, len(items), size)]
        snap_f = client.scatter(snap_bytes, broadcast=True) if snap_bytes is not None else None
        futs = [client.submit(_run_batch, harness, b, key, kwargs, snap_f, coverage, setup,
                              pure=False) for b in batches]
        results = [None] * len(items)
        errors = []
        merged = None
        bar = _bar(len(items), progress)
        for fut in as_completed(futs):
            out, cov = fut.result()
            for i, r, err in out:
                results[i] = r
                if err is not None:
                    errors.append((i, err))
            if cov is not None:
                merged = cov if merged is None else np.maximum(merged, cov)
            bar.update(len(out))
        bar.close()
        return Results(results, merged, sorted(errors), nworkers)
    finally:
        if own is not None:
            cluster = getattr(own, "cluster", None)
            own.close()
            if cluster is not None:
                cluster.close()


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _bar(total, progress):
    if not progress:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, unit="run", desc="pyaarch64", leave=False)
