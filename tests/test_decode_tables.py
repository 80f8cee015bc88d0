"""The decode tables are data: the committed generated decoder matches them."""
import numpy as np

from pyaarch64.cpu.isa import gen
from pyaarch64.cpu.isa import _decoder as D
from pyaarch64.cpu import ops as O


def test_generated_decoder_is_up_to_date():
    with open(gen.OUT) as f:
        assert f.read() == gen.render(gen.load_all()), \
            "cpu/isa/_decoder.py is stale: run python -m pyaarch64.cpu.isa.gen"


def test_table_errors_are_specific():
    import pytest
    with pytest.raises(ValueError, match=r"x.dec:1: BAD has 31 bits, not 32"):
        gen.parse_table("x", "BAD 0000000 rd:5 imm:19")
    with pytest.raises(ValueError, match=r"x.dec:2: bad token 'q:'"):
        gen.parse_table("x", "# comment\nBAD q: 1")


def test_patterns_are_consistent():
    for i in range(D.NPAT):
        assert D.VALUE[i] & ~D.MASK[i] == 0, D.NAMES[i]
        covered = int(D.MASK[i])
        for _, lsb, w in D.FIELDS[i]:
            fm = ((1 << w) - 1) << lsb
            assert covered & fm == 0, f"{D.NAMES[i]}: field overlaps fixed bits"
            covered |= fm
        assert covered | 0 <= 0xFFFFFFFF


def test_unallocated_encodings_are_undef():
    full = np.int64(-1)
    for word in (0x00000000, 0xFFFFFFFF, 0x0000FFFF):
        w0, w1 = D.predecode(word, full)
        assert int(w0) & 0x3FF == O.OP_UNDEF, hex(word)


def test_feature_gating():
    crc32x = 0x9AC24C20              # crc32x w0, w1, x2
    no_crc = D.predecode(crc32x, np.int64(0))[0]
    assert int(no_crc) & 0x3FF == O.OP_UNDEF
    with_crc = D.predecode(crc32x, np.int64(-1))[0]
    assert int(with_crc) & 0x3FF == O.OP_CRC32


# (encoding, assembly, generic op, hot-loop variant or None)
HOT_CASES = [
    (0xF9400441, "ldr x1, [x2, #8]", "LD", "LDX"),
    (0xB9400441, "ldr w1, [x2, #4]", "LD", "LDW"),
    (0x79400441, "ldrh w1, [x2, #2]", "LD", "LDH"),
    (0x39400441, "ldrb w1, [x2, #1]", "LD", "LDB"),
    (0xB9800041, "ldrsw x1, [x2]", "LD", None),
    (0xF8408441, "ldr x1, [x2], #8", "LD", None),
    (0xF8637841, "ldr x1, [x2, x3, lsl #3]", "LDRR", "LDRRX"),
    (0xB863D841, "ldr w1, [x2, w3, sxtw #2]", "LDRR", "LDRRW"),
    (0x78636841, "ldrh w1, [x2, x3]", "LDRR", "LDRRH"),
    (0x38636841, "ldrb w1, [x2, x3]", "LDRR", "LDRRB"),
    (0x38A36841, "ldrsb x1, [x2, x3]", "LDRR", None),
    (0xF100143F, "cmp x1, #5", "ADDSI", "SUBSI64"),
    (0x7100143F, "cmp w1, #5", "ADDSI", "SUBSI32"),
    (0xB1000421, "adds x1, x1, #1", "ADDSI", None),
]


def test_hot_loop_variants_map_back_to_the_generic_op():
    """cpu/hotloop.specialise() swaps common ops for their hot-loop variants after
    predecode; the executor's general path maps them back with generic().  The
    variant keeps every field, so both paths execute the same instruction."""
    from pyaarch64.cpu.hotloop import specialise, generic
    for word, asm, gop, hop in HOT_CASES:
        w0, _ = D.predecode(word, np.int64(-1))
        assert int(w0) & 0x3FF == getattr(O, "OP_" + gop), asm
        s = int(specialise(w0))
        if hop is None:
            assert s == int(w0), asm
            continue
        assert s & 0x3FF == getattr(O, "OP_" + hop), asm
        assert s & ~0x3FF == int(w0) & ~0x3FF, asm
        assert generic(s & 0x3FF) == getattr(O, "OP_" + gop), asm


def test_bcond_variant_carries_the_condition_truth_table():
    from pyaarch64.cpu.hotloop import specialise, generic
    from pyaarch64.cpu.alu import cond_holds
    for cond in range(16):
        word = 0x54000040 | cond          # b.<cond> .+8
        w0, _ = D.predecode(word, np.int64(-1))
        assert int(w0) & 0x3FF == O.OP_BCOND
        s = int(specialise(w0))
        assert s & 0x3FF == O.OP_BCONDM and generic(O.OP_BCONDM) == O.OP_BCOND
        aux = s >> 34
        assert aux & 15 == cond
        for nzcv in range(16):
            assert bool((aux >> (4 + nzcv)) & 1) == bool(cond_holds(cond, nzcv)), (cond, nzcv)
