"""The one validator of snapshot values (snapshot/schema.py), constraint by constraint:
what each declaration accepts, what it refuses and how the refusal names the section
and field.  (The machine's own declarations are exercised through restore() in
test_snapshot_state.py and through files in test_snapshot_file.py and test_fuzz.py.)"""
import numpy as np
import pytest

from pyaarch64.snapshot.schema import Field, Section, validate, with_defaults


def sec(*fields, **kw):
    return Section("dev", kw.pop("version", 1), list(fields), **kw)


@pytest.mark.parametrize("field, value, problem", [
    (Field("a", "u8"), 255, None),
    (Field("a", "u8"), 256, "dev.a: 0x100 does not fit in u8"),
    (Field("a", "u8"), -1, "dev.a: -1 does not fit in u8"),
    (Field("a", "u8"), True, "dev.a: not an integer (True)"),
    (Field("a", "u8"), 1.0, "dev.a: not an integer (1.0)"),
    (Field("a", "i64"), -(1 << 63), None),
    (Field("a", "i64"), 1 << 63, "dev.a: 0x8000000000000000 does not fit in i64"),
    (Field("a", "u128"), (1 << 128) - 1, None),
    (Field("a", "u32", mask=0x70), 0x50, None),
    (Field("a", "u32", mask=0x70), 0x51, "dev.a: 0x51 has bits 0x1 set outside 0x70"),
    (Field("a", "u32", lo=1, hi=7), 7, None),
    (Field("a", "u32", lo=1, hi=7), 0, "dev.a: 0x0 is below 0x1"),
    (Field("a", "u32", lo=1, hi=7), 8, "dev.a: 0x8 is above 0x7"),
    (Field("a", "i64", lo=-1), -2, "dev.a: -2 is below -1"),
    (Field("a", "u8", choices=(0, 4)), 4, None),
    (Field("a", "u8", choices=(0, 4)), 2, "dev.a: 0x2 is not one of 0x0, 0x4"),
    (Field("a", "u8[]", mask=1), [1, 0, 1], None),
    (Field("a", "u8[]", mask=1), [1, 0, 3], "dev.a: entry 2: 0x3 has bits 0x2 set outside 0x1"),
    (Field("a", "u8[]"), [1, True], "dev.a: not a list of u8 values (an entry is True)"),
    (Field("a", "u8[]"), (1, 2), "dev.a: not a list of u8 values ((1, 2))"),
    (Field("a", "u8[]", max_len=2), [1, 2, 3], "dev.a: 3 entries, at most 2 fit"),
    (Field("a", "u8[]", length=2), [1], "dev.a: 1 entries, this machine has 2"),
    (Field("a", "u64[2][]"), [[1, 2], [3, 4]], None),
    (Field("a", "u64[2][]"), [[1, 2], [3]], "dev.a: not a list of u64[2] values (an entry is [3])"),
    (Field("a", "object{}"), {"x": {}}, None),
    (Field("a", "object{}"), {"x": 1}, "dev.a: not an object of object values ('x': 1)"),
    (Field("a", "u32{}", lo=1), {"x": 0}, "dev.a: entry x: 0x0 is below 0x1"),
    (Field("a", "str"), b"x", "dev.a: not a string (b'x')"),
    (Field("a", "bytes", length=4), np.zeros(4, np.uint8), None),
    (Field("a", "bytes", length=4), bytes(3), "dev.a: 3 bytes, this machine has 4"),
    (Field("a", "bytes"), np.zeros(4, np.uint16), "dev.a: not bytes (ndarray)"),
    (Field("a", "u8", rule=lambda v, s: "odd" if v & 1 else None), 3, "dev.a: odd"),
    (Field("a", "u8", rule=lambda v, s: ["x", "y"]), 2, "dev.a: x|dev.a: y"),
])
def test_each_constraint(field, value, problem):
    got = validate(sec(field), {"a": value})
    assert got == ([] if problem is None else problem.split("|"))


def test_a_rule_runs_only_on_a_value_of_the_right_type_and_range():
    seen = []
    f = Field("a", "u8", hi=9, rule=lambda v, s: seen.append(v))
    validate(sec(f), {"a": "x"})
    validate(sec(f), {"a": 10})
    validate(sec(f), {"a": 9})
    assert seen == [9]


def test_rules_see_the_whole_section():
    f = Field("rx", "u8[]", rule=lambda v, s: "too many" if len(v) > s["depth"] else None)
    s = sec(f, Field("depth", "u8"))
    assert validate(s, {"rx": [1, 2], "depth": 2}) == []
    assert validate(s, {"rx": [1, 2], "depth": 1}) == ["dev.rx: too many"]


def test_missing_unknown_since_optional():
    s = sec(Field("a", "u8"), Field("b", "u8", since=2, default=7), Field("c", "u8", optional=True,
                                                                              default=1), version=2)
    assert validate(s, {"a": 1, "b": 2}) == []                          # c is optional
    assert validate(s, {"a": 1}, version=1) == []                       # b came in version 2
    assert validate(s, {"a": 1}) == ["dev: missing field 'b'"]          # a version-2 file has it
    assert validate(s, {"a": 1, "b": 2, "z": 0}) == ["dev: unknown field 'z'"]
    assert validate(Section("dev", 1, [Field("a", "u8")], extra_ok=True), {"a": 1, "z": 0}) == []
    assert validate(s, [1]) == ["section 'dev' is not an object of fields"]
    assert with_defaults(s, {"a": 1}) == {"a": 1, "b": 7, "c": 1}


def test_top_level_rules_speak_for_themselves():
    top = Section("", 1, [Field("kind", "str", rule=lambda v, s: f"kind {v!r} is not ours")])
    assert validate(top, {"kind": "x"}) == ["kind 'x' is not ours"]
    assert validate(top, {"kind": 1}) == ["kind: not a string (1)"]


def test_unknown_types_are_a_declaration_error():
    with pytest.raises(ValueError, match="unknown snapshot field type 'float'"):
        Field("a", "float")
