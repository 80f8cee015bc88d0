"""Evidence that snapshots survive releases (issue 4, DESIGN §4-§5):

- the committed schema of every machine type regenerates byte for byte;
- every type's golden snapshot (tests/golden/, never regenerated) is unchanged, loads and
  runs to the end it reached when it was written -- and that end is the one an
  uninterrupted run of the guest reaches;
- QEMU's three failure classes cannot hit us: a register's access encoding changes, a
  writable mask widens in the newest type only, internal enums are reordered -- old
  goldens still load and old machine types still behave as before.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

import pyaarch64
from guestbuild import build

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
sys.path.insert(0, GOLDEN)
import make_goldens as G  # noqa: E402

with open(G.MANIFEST) as _f:
    MANIFEST = json.load(_f)
NAMES = sorted(MANIFEST)


def run_golden(name, machine=None):
    e = MANIFEST[name]
    m = pyaarch64.Machine(machine=machine or e["machine_type"],
                          cpu=None if machine else e["cpu_model"])
    if machine is None:
        assert m.cpu_model == e["cpu_model"]
    m.loadvm(os.path.join(GOLDEN, name))
    stop = m.run(max_insns=50_000_000)
    assert stop.kind == "poweroff", stop
    return bytes(m.serial_output).decode()


# --- schemas and completeness ---------------------------------------------------------
@pytest.mark.parametrize("mtype,cpu", G.wanted(), ids=lambda v: str(v))
def test_schema_regenerates_byte_identical(mtype, cpu):
    path = G.schema_path(mtype, cpu)
    assert os.path.exists(path), f"no schema for {mtype}: run python tests/golden/make_goldens.py"
    with open(path) as f:
        committed = f.read()
    assert G.schema_text(mtype, cpu) == committed, \
        f"the snapshot schema of released type {mtype} changed (see {path})"


def _history():
    """(board version, schema file) of every earlier board version's schemas (version
    1: schemas/<type>.json; N: schemas/board-v<N>/<type>.json)."""
    from pyaarch64.snapshot.state import BOARD_VERSION
    out = []
    for v in range(1, BOARD_VERSION):
        d = G.schema_dir(v)
        out += [(v, os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".json")]
    return out


@pytest.mark.parametrize("board_v,rel", _history(),
                         ids=lambda v: os.path.relpath(v, G.SCHEMAS) if isinstance(v, str) else str(v))
def test_schema_history_is_kept_and_only_added_to(board_v, rel):
    """A type's schema as board version N left it is still there, unchanged: the same
    sections in the same versions and fields, the same identity, the same system
    registers; what is new is a device that came with a later board version (sections
    marked 'board since' > N, identity entries only those devices have)."""
    from pyaarch64.snapshot import state as S
    with open(rel) as f:
        old = json.load(f)
    with open(os.path.join(G.schema_dir(), os.path.basename(rel))) as f:
        new = json.load(f)
    assert new["system_registers"] == old["system_registers"]
    assert (new["machine_type"], new["cpu_model"], new["format"]) == \
        (old["machine_type"], old["cpu_model"], old["format"])
    for name, sec in old["sections"].items():
        if name == "board":
            assert new["sections"][name]["fields"] == sec["fields"]
            continue
        assert new["sections"].get(name) == sec, f"section {name} changed"
    added = {n for n, sec in new["sections"].items() if n not in old["sections"]}
    for n in added:
        assert new["sections"][n].get("board since", 1) > board_v, \
            f"section {n} is new in {rel} without a board version that adds it"
    assert new["sections"]["board"]["version"] == S.BOARD_VERSION > board_v or \
        new["sections"]["board"]["version"] == board_v
    from pyaarch64.machine.virt import VirtMachine
    allowed = S._added_identity(VirtMachine(machine=old["machine_type"], cpu=old["cpu_model"]),
                                board_v)
    for k, v in new["identity"].items():
        if k in old["identity"]:
            assert old["identity"][k] == v, f"identity {k} changed"
        else:
            assert k in allowed, f"identity {k} is new without a device that adds it"
    assert set(old["identity"]) <= set(new["identity"])


def test_every_machine_type_has_a_golden():
    missing = [G.golden_name(t, c) for t, c in G.wanted() if G.golden_name(t, c) not in MANIFEST]
    assert not missing, f"no golden snapshot for {missing}: run python tests/golden/make_goldens.py"


# --- goldens ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_golden_is_unchanged_and_resumes_to_its_end(name):
    e = MANIFEST[name]
    with open(os.path.join(GOLDEN, name), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == e["sha256"], \
            f"{name} was changed: goldens are never regenerated"
    assert run_golden(name) == e["output_after"]


def test_golden_end_is_the_uninterrupted_end():
    """Built from source and run straight through (the same input at the same point),
    the guest prints what every golden printed after its snapshot."""
    elf = build("golden.c", extra_sources=("vectors.S",))
    for mtype in ("virt-4.1", "virt"):
        m = pyaarch64.Machine(machine=mtype)
        G.run_to_snapshot_point(m, elf)
        at = len(m.serial_output)
        assert m.run(max_insns=50_000_000).kind == "poweroff"
        tail = bytes(m.serial_output)[at:].decode()
        for name in NAMES:
            assert MANIFEST[name]["output_after"] == tail, name
    assert "golden: crc " in tail and "golden: line golden!" in tail
    assert "timer irqs seen 1, uart irqs seen 1, other 0" in tail


def test_golden_refuses_another_machine_type():
    from pyaarch64.snapshot.state import SnapshotError
    m = pyaarch64.Machine(machine="virt-9.1")
    before = m.snapshot()
    with pytest.raises(SnapshotError) as e:
        m.loadvm(os.path.join(GOLDEN, "virt-9.2.snap"))
    p = "\n".join(e.value.problems)
    assert "snapshot is of machine type 'virt-9.2', this machine is 'virt-9.1'" in p
    assert "prop.pl011.trm-rx-interrupts: snapshot 0x1, this machine 0x0" in p
    assert m.snapshot().sections == before.sections


# --- failure class 1: a register's access encoding changes -------------------------------
def test_access_encoding_change_does_not_matter(monkeypatch):
    """QEMU 4.1 -> 5.2: CBAR's encoding was fixed and the saved register list no longer
    matched.  Ours is saved by name: move VBAR_EL1 (the guest's interrupt vectors, used
    after the resume) and CBAR_EL1 to other encodings and every golden still loads and
    takes its interrupts through the restored VBAR."""
    from pyaarch64.cpu import sysregs as SR
    rows = list(SR.ROWS)
    for name, enc in (("VBAR_EL1", (3, 0, 12, 0, 7)), ("CBAR_EL1", (3, 1, 15, 3, 1))):
        i = SR.SLOT[name]
        rows[i] = rows[i]._replace(enc=enc)
    monkeypatch.setattr(SR, "ROWS", tuple(rows))
    m = pyaarch64.Machine(machine="virt-4.1")
    assert m._m.cpu.sysmap[SR.key(3, 0, 12, 0, 0)] == -1          # the old encoding is gone
    assert m._m.cpu.sysmap[SR.key(3, 0, 12, 0, 7)] == SR.SLOT["VBAR_EL1"]
    for name in NAMES:
        assert run_golden(name) == MANIFEST[name]["output_after"], name


# --- failure class 2: a writable mask widens in the newest type only ----------------------
def wmask_type():
    """What a release that makes ACTLR_EL1[7:0] writable would add: a new newest type."""
    from pyaarch64.machine import types as T
    return T.apply(T.TYPES[T.NEWEST], "virt-test-next",
                   {"qemu_version": "99.0", "sysreg_overrides": {"ACTLR_EL1": {"wmask": 0xFF}}})


def actlr_readback(machine):
    m = pyaarch64.Machine(machine=machine)
    m.load_elf(build("wmask.S"))
    assert m.run(max_insns=100_000).kind == "poweroff"
    return int(bytes(m.serial_output).decode().split("actlr ")[1], 16)


def test_widened_mask_only_in_the_new_type():
    from pyaarch64.snapshot.state import SnapshotError
    new = wmask_type()
    # old types behave as their schema says (all-ones written, reset | writable read)
    for mtype in ("virt-4.1", "virt-7.2", "virt-9.2"):
        with open(G.schema_path(mtype, None)) as f:
            r = json.load(f)["system_registers"]["ACTLR_EL1"]
        assert actlr_readback(mtype) == int(r["reset"], 16) | int(r["writable"], 16) == 0
    assert actlr_readback(new) == 0xFF
    # old goldens load unchanged
    for name in NAMES:
        assert run_golden(name) == MANIFEST[name]["output_after"], name
    # a state using the new bits is refused by the type that does not have them, by name
    m = pyaarch64.Machine(machine=new)
    m.reg_write("ACTLR_EL1", 0xA5)
    snap = m.snapshot()
    assert snap.sections["cpu0"]["ACTLR_EL1"] == 0xA5
    snap.machine_type = snap.identity["machine_type"] = "virt-9.2"
    old = pyaarch64.Machine(machine="virt-9.2")
    with pytest.raises(SnapshotError) as e:
        old.restore(snap)
    assert "cpu0.ACTLR_EL1: bits 0xa5 differ from their fixed values" in str(e.value)


# --- failure class 3: internal enums are reordered ------------------------------------------
REORDER = r'''
import re, sys
pkg = sys.argv[1]
def patch(rel, old, new):
    p = pkg + "/" + rel
    s = open(p).read()
    assert old in s, (rel, old)
    open(p, "w").write(s.replace(old, new, 1))
# the feature bits (QEMU's failure: a feature bitmask saved raw)
patch("cpu/models.py", 'FEATURES = ("CRC32", "LSE", "AES", "SHA1", "SHA256", "PMULL", "FP", "ASIMD")',
      'FEATURES = ("ASIMD", "FP", "PMULL", "SHA256", "SHA1", "AES", "LSE", "CRC32")')
# the executor's op ids (reverse all but NONE = 0, which a fresh cache slot means)
# (cpu/opids.py is generated from cpu/isa/ops.tab: regenerated below)
patch("cpu/isa/genops.py", "    return ops, hot\n", "    ops = ops[:1] + ops[1:][::-1]\n    return ops, hot\n")
# the system registers' storage slots (rotated: the timer rows stay one range)
patch("cpu/sysregs.py", "NAMES = tuple(r[0] for r in ROWS)",
      "ROWS = ROWS[7:] + ROWS[:7]\nNAMES = tuple(r[0] for r in ROWS)")
'''

RUN = r'''
import json, os, sys
import pyaarch64
from pyaarch64.cpu import opids as OI, models as M, sysregs as SR
assert OI.OP_NAMES[1] != "UNDEF" and M.FEATURES[0] == "ASIMD" and SR.SLOT["SP_EL0"] == len(SR.ROWS) - 7
man = json.load(open(sys.argv[1]))
for name in sys.argv[2:]:
    e = man[name]
    m = pyaarch64.Machine(machine=e["machine_type"], cpu=e["cpu_model"])
    m.loadvm(os.path.join(os.path.dirname(sys.argv[1]), name))
    assert m.run(max_insns=10_000_000).kind == "poweroff"
    out = bytes(m.serial_output).decode()
    assert out == e["output_after"], (name, out)
    print("ok", name)
'''


def test_reordered_internal_enums_still_load_goldens(tmp_path):
    """A copy of pyaarch64 with the feature bits, op ids and system-register slots all in
    another order (decoder regenerated) loads the goldens and runs them to the same end.
    Pure Python (NUMBA_DISABLE_JIT=1): a compile of the copy is not needed to show it."""
    src = os.path.dirname(os.path.abspath(pyaarch64.__file__))
    pkg = tmp_path / "pyaarch64"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "tests", "benchmarks", ".git", "*.egg-info", "results"))
    env = dict(os.environ, PYTHONPATH=str(tmp_path), NUMBA_DISABLE_JIT="1")
    env.pop("NUMBA_CACHE_DIR", None)
    subprocess.run([sys.executable, "-c", REORDER, str(pkg)], check=True, env=env)
    subprocess.run([sys.executable, "-m", "pyaarch64.cpu.isa.gen"], check=True, env=env,
                   cwd=tmp_path, capture_output=True)
    subprocess.run([sys.executable, "-m", "pyaarch64.cpu.isa.genops"], check=True, env=env,
                   cwd=tmp_path, capture_output=True)
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", RUN, G.MANIFEST,
                        "virt-4.1.snap", "virt-9.2.snap", "virt-4.1-cortex-a53.snap"],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["ok", "virt-4.1.snap", "ok", "virt-9.2.snap",
                                "ok", "virt-4.1-cortex-a53.snap"]
