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
