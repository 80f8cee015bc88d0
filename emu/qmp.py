"""The QMP server: QEMU 7.2's machine protocol over a unix or loopback TCP socket or
stdio (`-qmp`, `-mon chardev=ID,mode=control`).

`Qmp` holds the commands and the jobs (emu/qmp_server.py: the sessions and ports).
A session gets the greeting, must negotiate with `qmp_capabilities`, then runs
commands; each reply echoes the request's `id`.  Events (STOP, RESUME, RESET,
POWERDOWN, SHUTDOWN, JOB_STATUS_CHANGE) go to every negotiated session, before the
reply of the command that caused them, as QEMU sends them.  Commands run in the
emulator's thread between run slices (`poll()`), so each one sees a stopped CPU.

Snapshot jobs run to their end within the command (they take milliseconds): the
events and the reply come out in QEMU's order (created, running, [STOP, RESUME],
the reply, waiting, pending, concluded; a failure: the reply, aborting, concluded,
and the error in query-jobs).  Our snapshots live in the snapshot store, which stands
in for QEMU's block nodes: its node name is "snapshot-store" (see docs/qmp.md).
"""
import re
import threading
import time

from pyaarch64.emu.monitor import MonitorQuit, MonitorError

STORE_NODE = "snapshot-store"


class QmpError(Exception):
    def __init__(self, desc, cls="GenericError"):
        super().__init__(desc)
        self.cls = cls


def _version(v):
    nums = [int(x) for x in re.findall(r"\d+", v)[:3]] + [0, 0, 0]
    # QEMU's version object, with ours; the package (QEMU: the distribution's build)
    # names us, so that `info version` = qemu version + package, as in QEMU
    return {"qemu": {"major": nums[0], "minor": nums[1], "micro": nums[2]},
            "package": " (pyaarch64)"}


# --- argument checking, QAPI-style -----------------------------------------------------
_TYPES = {"str": (str, "string"), "int": (int, "integer"), "bool": (bool, "boolean"),
          "[str]": (list, "array")}


def check_args(args, schema):
    """schema: [(name, type, required)] in the QAPI member order.  QEMU's checks and
    words: missing, wrong type (members in order), then unexpected members."""
    for name, typ, required in schema:
        if name not in args:
            if required:
                raise QmpError(f"Parameter '{name}' is missing")
            continue
        v = args[name]
        pytype, word = _TYPES[typ]
        if not isinstance(v, pytype) or (typ == "int" and isinstance(v, bool)):
            raise QmpError(f"Invalid parameter type for '{name}', expected: {word}")
        if typ == "[str]":
            for i, item in enumerate(v):
                if not isinstance(item, str):
                    raise QmpError(f"Invalid parameter type for '{name}[{i}]', expected: string")
    known = {s[0] for s in schema}
    for name in args:
        if name not in known:
            raise QmpError(f"Parameter '{name}' is unexpected")


class Job:
    def __init__(self, jid, kind):
        self.id, self.type, self.status, self.error = jid, kind, "created", None

    def info(self):
        d = {"id": self.id, "type": self.type, "status": self.status,
             "current-progress": 1, "total-progress": 1}
        if self.error is not None:
            d["error"] = self.error
        return d


_JOB_ID = re.compile(r"[A-Za-z][A-Za-z0-9._-]*\Z")


class Qmp:
    """The commands and the jobs, shared by every QMP port of one emulator."""

    def __init__(self, monitor, machine_name):
        self.mon = monitor
        self.vm = monitor.vm
        self.machine_name = machine_name        # the concrete type, e.g. virt-7.2
        self.jobs = {}
        self.sessions = []
        monitor.listeners.append(self.event)
        self.commands = {
            "qmp_capabilities": ([("enable", "[str]", False)], self.q_capabilities),
            "query-status": ([], self.q_status),
            "stop": ([], lambda a: self.mon.stop()),
            "cont": ([], self.q_cont),
            "system_reset": ([], lambda a: self.mon.system_reset()),
            "system_powerdown": ([], lambda a: self.mon.system_powerdown()),
            "quit": ([], lambda a: self.mon.quit()),
            "human-monitor-command": ([("command-line", "str", True), ("cpu-index", "int", False)],
                                      self.q_hmp),
            "query-version": ([], lambda a: _version(self.mon.version)),
            "query-machines": ([], self.q_machines),
            "query-cpus-fast": ([], self.q_cpus),
            "query-commands": ([], lambda a: [{"name": n} for n in self.commands]),
            "query-name": ([], lambda a: {} if self.mon.name is None else {"name": self.mon.name}),
            "query-jobs": ([], lambda a: [j.info() for j in self.jobs.values()]),
            "job-dismiss": ([("id", "str", True)], self.q_dismiss),
            "snapshot-save": (_SNAP_ARGS, lambda a: self.snapshot_job("snapshot-save", a)),
            "snapshot-load": (_SNAP_ARGS, lambda a: self.snapshot_job("snapshot-load", a)),
            "snapshot-delete": ([a for a in _SNAP_ARGS if a[0] != "vmstate"],
                                lambda a: self.snapshot_job("snapshot-delete", a)),
        }

    def greeting(self):
        return {"QMP": {"version": _version(self.mon.version), "capabilities": ["oob"]}}

    def event(self, name, data=None):
        t = time.time()
        ev = {"event": name, "data": data, "timestamp": {
            "seconds": int(t), "microseconds": int(t * 1e6) % 1000000}}
        if data is None:
            del ev["data"]
        for s in list(self.sessions):
            if s.negotiated:
                s.send(ev)

    # --- commands ------------------------------------------------------------------
    def q_capabilities(self, args, session):
        for i, cap in enumerate(args.get("enable", [])):
            if cap != "oob":
                raise QmpError(f"Parameter 'enable[{i}]' does not accept value '{cap}'")
        if session.negotiated:
            raise QmpError("Capabilities negotiation is already complete, command ignored",
                           "CommandNotFound")
        session.negotiated = True
        session.oob = "oob" in args.get("enable", [])
        return {}

    def q_status(self, args):
        return {"running": not self.vm.paused, "singlestep": False, "status": self.mon.status()}

    def q_cont(self, args):
        try:
            self.mon.cont()
        except MonitorError as e:
            raise QmpError(str(e)) from None

    def q_hmp(self, args):
        if args.get("cpu-index", 0) != 0:
            raise QmpError("Parameter 'cpu-index' expects a CPU number")
        try:
            return self.mon.execute(args["command-line"])
        except MonitorQuit:         # `quit` through HMP: the reply, then we leave
            return _Quit("")

    def q_machines(self, args):
        from pyaarch64.machine.types import TYPES, NEWEST
        out = []
        for name, t in TYPES.items():
            d = {"name": name}
            if name == NEWEST:
                d["alias"] = "virt"
            d.update({"cpu-max": 1, "hotpluggable-cpus": False, "numa-mem-supported": False,
                      "deprecated": False, "default-cpu-type": f"{t.default_cpu}-arm-cpu",
                      "default-ram-id": "mach-virt.ram"})
            out.append(d)
        return out

    def q_cpus(self, args):
        vm = self.mon.vm
        topo = getattr(vm, "topology", None)
        th, co, cl = (topo.threads, topo.cores, topo.clusters) if topo else (1, 1, 1)
        out = []
        for i in range(len(getattr(vm, "cpus", None) or [0])):
            out.append({"cpu-index": i, "qom-path": f"/machine/unattached/device[{i}]",
                        "thread-id": threading.main_thread().native_id,     # (one host thread)
                        "props": {"socket-id": i // (cl * co * th), "cluster-id": i // (co * th) % cl,
                                  "core-id": i // th % co, "thread-id": i % th},
                        "target": "aarch64"})
        return out

    def q_dismiss(self, args):
        job = self.jobs.get(args["id"])
        if job is None:
            raise QmpError("Job not found")
        self._job_status(job, "null")
        del self.jobs[job.id]
        return {}

    # --- snapshot jobs -------------------------------------------------------------
    def _job_status(self, job, status):
        job.status = status
        self.event("JOB_STATUS_CHANGE", {"id": job.id, "status": status})

    def snapshot_job(self, kind, args):
        jid = args["job-id"]
        if not _JOB_ID.match(jid):
            raise QmpError(f"Invalid job ID '{jid}'")
        if jid in self.jobs:
            raise QmpError(f"Job ID '{jid}' already in use")
        job = self.jobs[jid] = Job(jid, kind)
        self._job_status(job, "created")
        self._job_status(job, "running")
        try:
            self._snapshot(kind, args)
        except QmpError as e:
            job.error = str(e)
        return _After(lambda: self._conclude(job))

    def _conclude(self, job):
        for st in (("aborting",) if job.error is not None else ("waiting", "pending")):
            self._job_status(job, st)
        self._job_status(job, "concluded")

    def _snapshot(self, kind, args):
        """Check everything first, so a job that fails leaves the VM as it was (QEMU
        leaves a failed load paused in restore-vm: we do not, as HMP's loadvm)."""
        from pyaarch64.snapshot import format as F
        from pyaarch64.snapshot.state import save
        from pyaarch64.snapshot.store import StoreError
        tag, store = args["tag"], self.mon.store
        for node in args["devices"] + ([args["vmstate"]] if "vmstate" in args else []):
            if node != STORE_NODE:
                raise QmpError(f"No block device node '{node}' (pyaarch64 has no disks: its "
                               f"snapshots go to the snapshot store, node '{STORE_NODE}')")
        try:
            store.path_of(tag)
        except StoreError as e:
            raise QmpError(str(e)) from None
        if kind == "snapshot-delete":
            if store.exists(tag):   # as QEMU: deleting a missing snapshot succeeds
                store.delete(tag)
            return
        if kind == "snapshot-save":
            if store.exists(tag):
                raise QmpError(f"Snapshot '{tag}' already exists in one or more devices")
            snap = None
        else:
            try:
                snap = store.load(tag)
            except StoreError:
                raise QmpError(f"Snapshot '{tag}' does not exist in one or more devices") from None
            except F.SnapshotFileError as e:
                raise QmpError(str(e)) from None
            from pyaarch64.snapshot.state import check
            problems = check(self.vm, snap)
            if problems:
                raise QmpError("; ".join(problems))
        was_running = not self.vm.paused
        if was_running:
            self.mon.stop()
        try:
            if snap is None:
                store.save(tag, save(self.vm, copy_ram=False))
            else:
                self.mon.load(snap)
        except OSError as e:
            raise QmpError(f"cannot write the snapshot: {e.strerror} (snapshot store "
                           f"{store.path})") from None
        finally:
            if was_running:
                self.mon.cont()

    # --- one request ---------------------------------------------------------------
    def dispatch(self, req, session):
        """-> (reply dict, after) where after() runs once the reply is sent (or None)."""
        if not isinstance(req, dict):
            return error_reply("QMP input must be a JSON object"), None
        rid = req.get("id", _NO_ID)
        try:
            name = self._check_request(req, session)
            cmd = self.commands.get(name)
            if cmd is None or (not session.negotiated and name != "qmp_capabilities"):
                if not session.negotiated:
                    raise QmpError("Expecting capabilities negotiation with 'qmp_capabilities'",
                                   "CommandNotFound")
                raise QmpError(f"The command {name} has not been found", "CommandNotFound")
            if "exec-oob" in req:
                raise QmpError(f"The command {name} does not support OOB")
            schema, fn = cmd
            args = req.get("arguments", {})
            check_args(args, schema)
            ret = fn(args, session) if name == "qmp_capabilities" else fn(args)
        except QmpError as e:
            return error_reply(str(e), e.cls, rid), None
        except MonitorQuit:
            ret = _Quit({})
        except Exception as e:      # noqa: BLE001 -- no request ends the VM: report, go on
            return error_reply(f"internal error in '{req.get('execute')}': "
                               f"{type(e).__name__}: {e} (the VM goes on; please report this)",
                               rid=rid), None
        after = None
        if isinstance(ret, _After):
            ret, after = {}, ret.fn
        if isinstance(ret, _Quit):
            ret, after = ret.value, _quit
        rsp = {"return": {} if ret is None else ret}
        if rid is not _NO_ID:
            rsp["id"] = rid
        return rsp, after

    def _check_request(self, req, session):
        name = key = None
        for k, v in req.items():
            if k == "execute" or (k == "exec-oob" and session.oob):
                if not isinstance(v, str):
                    raise QmpError(f"QMP input member '{k}' must be a string")
                if name is not None:
                    raise QmpError(f"QMP input member '{k}' clashes with '{key}'")
                name, key = v, k
            elif k == "arguments":
                if not isinstance(v, dict):
                    raise QmpError("QMP input member 'arguments' must be an object")
            elif k != "id":
                raise QmpError(f"QMP input member '{k}' is unexpected")
        if name is None:
            raise QmpError("QMP input lacks member 'execute'")
        return name


_SNAP_ARGS = [("job-id", "str", True), ("tag", "str", True), ("vmstate", "str", True),
              ("devices", "[str]", True)]
_NO_ID = object()


class _After:
    def __init__(self, fn):
        self.fn = fn


class _Quit:
    def __init__(self, value):
        self.value = value


def _quit():
    raise MonitorQuit()


def error_reply(desc, cls="GenericError", rid=_NO_ID):
    rsp = {"error": {"class": cls, "desc": desc}}
    if rid is not _NO_ID:
        rsp["id"] = rid
    return rsp
