"""Snapshot declarations and the one validator that checks values against them.

A `Field` declares one named value: its type, the section version that added it
(`since`; a file of an older version lacks it and it takes `default`) and what it may
hold beyond its type's width:

    mask      the bits that may be set (of an integer, or of each list entry)
    lo, hi    an inclusive range (each list entry)
    choices   the only values allowed
    max_len   a variable-length list holds at most this many entries; any other list
              has exactly `length` entries (None: the length is not fixed)
    optional  the field may be absent whatever the version (it takes `default`)
    rule      callable(value, section values) -> problem text, a list of them or
              None, for what the others cannot say (a mode field, bits tied to
              another field, a comparison with this machine); it runs only on a
              value of the right type and range

Types: u8 u16 u32 u64 u128 i64 (integers, never booleans), str, object (a JSON
object), bytes (bytes or a 1-D uint8 array); `T[]` is a list of T, `T[N]` a list of
exactly N, `T{}` an object whose values are T (so `u64[2][]` is a list of pairs).

A `Section` is a named, versioned list of fields.  `validate` checks a section's
values against it and returns every problem, each naming the section and the
field; it never raises for what the values hold.  The same declarations write the
state (snapshot/state.py: capture, restore, the schema a file embeds) and check the
file's header (snapshot/format.py): there are no other value checks.
"""
import functools
import re
from dataclasses import dataclass, field as dc_field

import numpy as np

INT_TYPES = {"u8": (False, 8), "u16": (False, 16), "u32": (False, 32), "u64": (False, 64),
             "u128": (False, 128), "i64": (True, 64)}
_TYPE_RE = re.compile(r"([a-z0-9]+)((?:\[\d*\]|\{\})*)")
_SHAPE_RE = re.compile(r"\[\d*\]|\{\}")


@functools.lru_cache(maxsize=None)
def parse_type(t):
    """'u64[2][]' -> ('u64', ('[2]', '[]')) (the last suffix is the outermost)."""
    m = _TYPE_RE.fullmatch(t) if isinstance(t, str) else None
    if not m or (m.group(1) not in INT_TYPES and m.group(1) not in ("str", "object", "bytes")):
        raise ValueError(f"unknown snapshot field type {t!r}")
    return m.group(1), tuple(_SHAPE_RE.findall(m.group(2)))


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _fmt(v):
    return hex(v) if is_int(v) and v >= 0 else repr(v) if not is_int(v) else str(v)


def _short(v):
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    since: int = 1
    default: object = None
    mask: int | None = None
    lo: int | None = None
    hi: int | None = None
    choices: tuple | None = None
    max_len: int | None = None
    length: int | None = None
    optional: bool = False          # may be absent whatever the version: takes `default`
    rule: object = dc_field(default=None, compare=False)

    def __post_init__(self):
        parse_type(self.type)

    @property
    def is_list(self):
        return self.type.endswith("]")

    def problems(self, v, section=None, rule=True):
        """What is wrong with value `v` of this field (a list of texts without the
        section and field name); rule=False: its type and range only."""
        base, shape = parse_type(self.type)
        if shape == ("[]",) and base in INT_TYPES and _plain_ints(v, base, self):
            return self.rule_problems(v, section) if rule else []     # (the common case, fast)
        p = _type_problem(v, base, shape)
        if p:
            return [p]
        out = []
        if base == "bytes" and self.length is not None and len(v) != self.length:
            out.append(f"{len(v)} bytes, this machine has {self.length}")
        if shape and shape[-1] == "[]":
            if self.max_len is not None and len(v) > self.max_len:
                out.append(f"{len(v)} entries, at most {self.max_len} fit")
            elif self.length is not None and len(v) != self.length:
                out.append(f"{len(v)} entries, this machine has {self.length}")
        if base in INT_TYPES:
            for i, x in _ints(v, shape):
                p = self._value_problem(x)
                if p:
                    out.append(p if i is None else f"entry {i}: {p}")
                    break                     # one bad entry says enough
        if not out and rule:
            out += self.rule_problems(v, section)
        return out

    def rule_problems(self, v, section=None):
        if self.rule is None:
            return []
        p = self.rule(v, section if section is not None else {})
        return [p] if isinstance(p, str) else list(p or ())

    def _value_problem(self, x):
        if self.choices is not None and x not in self.choices:
            return f"{_fmt(x)} is not one of {', '.join(_fmt(c) for c in self.choices)}"
        if self.mask is not None and x & ~self.mask:
            return f"{_fmt(x)} has bits {x & ~self.mask:#x} set outside {self.mask:#x}"
        if self.lo is not None and x < self.lo:
            return f"{_fmt(x)} is below {_fmt(self.lo)}"
        if self.hi is not None and x > self.hi:
            return f"{_fmt(x)} is above {_fmt(self.hi)}"
        return None


def _plain_ints(v, base, f):
    """True when v is a list of integers of type `base` that needs no entry-by-entry
    look: within the type, the mask and the bounds, of an allowed length (whole-list
    checks; any doubt -> False and the slow path says what is wrong)."""
    if type(v) is not list or (f.max_len is not None and len(v) > f.max_len) or (
            f.max_len is None and f.length is not None and len(v) != f.length) or f.choices:
        return False
    if not v:
        return True
    if not all(type(x) is int for x in v):
        return False
    signed, bits = INT_TYPES[base]
    lo, hi = min(v), max(v)
    tlo, thi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if lo < max(tlo, f.lo if f.lo is not None else tlo) or hi > min(thi, f.hi if f.hi is not None else thi):
        return False
    if f.mask is not None:
        acc = 0
        for x in v:
            acc |= x
        if acc & ~f.mask:
            return False
    return True


def _ints(v, shape):
    """(index or None, integer) for every integer in a value of this shape."""
    if not shape:
        yield None, v
        return
    items = v.items() if shape[-1] == "{}" else enumerate(v)
    for k, x in items:
        for _, y in _ints(x, shape[:-1]):
            yield k, y


def _type_problem(v, base, shape):
    if shape:
        outer, inner = shape[-1], shape[:-1]
        what = _describe(base, inner)
        if outer == "{}":
            if not isinstance(v, dict):
                return f"not an object of {what} values ({_short(v)})"
            for k, x in v.items():
                if _type_problem(x, base, inner):
                    return f"not an object of {what} values ('{k}': {_short(x)})"
            return None
        n = outer[1:-1]
        if not isinstance(v, list) or (n and len(v) != int(n)):
            return f"not a list of {n + ' ' if n else ''}{what} values ({_short(v)})"
        for x in v:
            if _type_problem(x, base, inner):
                return f"not a list of {n + ' ' if n else ''}{what} values (an entry is {_short(x)})"
        return None
    if base in INT_TYPES:
        signed, bits = INT_TYPES[base]
        if not is_int(v):
            return f"not an integer ({_short(v)})"
        lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
        if not lo <= v < hi:
            return f"{_fmt(v)} does not fit in {base}"
        return None
    if base == "str":
        return None if isinstance(v, str) else f"not a string ({_short(v)})"
    if base == "object":
        return None if isinstance(v, dict) else f"not an object ({_short(v)})"
    if isinstance(v, (bytes, bytearray)) or (
            isinstance(v, np.ndarray) and v.dtype == np.uint8 and v.ndim == 1):
        return None
    return f"not bytes ({type(v).__name__})"


def _describe(base, shape):
    return base + "".join(shape)


@dataclass
class Section:
    """A named, versioned list of fields.  `owner` is the object the values are read
    from and written to (a device; None for sections the snapshot layer fills);
    `needed`: the owner's method that says whether an optional subsection is written."""
    name: str
    version: int
    fields: list
    owner: object = None
    needed: str | None = None
    extra_ok: bool = False          # unknown fields are ignored (the file header only)
    since: int = 1                  # the board section version from which snapshots hold
                                    # it (older files: absent, the device at its reset)

    def types(self):
        return {f.name: f.type for f in self.fields}


def validate(sec, got, version=None):
    """Every problem of values `got` (a dict) against section declaration `sec`, each
    as '<section>.<field>: ...' or '<section>: ...' (a section named '' holds
    top-level values: '<field>: ...', and its rules' texts stand alone).  version: the section version the
    values were written with (fields added later may be absent); None: the
    declaration's own."""
    if not isinstance(got, dict):
        return [f"section '{sec.name}' is not an object of fields"]
    version = sec.version if version is None else version
    problems = []
    names = {f.name for f in sec.fields}
    if not sec.extra_ok:
        for name in got:
            if name not in names:
                problems.append(f"{sec.name}: unknown field '{name}'")
    for f in sec.fields:
        if f.name not in got:
            if f.since > version or f.optional:
                continue
            problems.append(f"{sec.name}: missing field '{f.name}'")
            continue
        where = f"{sec.name}.{f.name}" if sec.name else f.name
        bad = f.problems(got[f.name], got, rule=False)
        problems += [f"{where}: {p}" for p in bad]
        if not bad:
            problems += [p if not sec.name else f"{where}: {p}"
                         for p in f.rule_problems(got[f.name], got)]
    return problems


def with_defaults(sec, got):
    """got's values with every absent field's declared default."""
    out = dict(got)
    for f in sec.fields:
        out.setdefault(f.name, f.default)
    return out
