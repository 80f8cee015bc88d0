"""The decode tables are data: the committed generated decoder matches them."""
import numpy as np
import pytest

from pyaarch64.cpu.isa import gen
from pyaarch64.cpu.isa import _decoder as D
from pyaarch64.cpu import ops as O
from pyaarch64.cpu import opids as OI


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
    with pytest.raises(ValueError, match=r"x.dec:1: bad token 'op=12'"):
        gen.parse_table("x", "BAD op=12 000000 rd:5 imm:19")
    with pytest.raises(ValueError, match=r"x.dec:1: BAD: '->' must be followed by a decoder name"):
        gen.parse_table("x", "BAD op=1 0000000 rd:5 imm:19 ->")
    with pytest.raises(ValueError, match=r"x.dec:1: unknown attribute 'feet'"):
        gen.parse_table("x", "BAD op=1 0000000 rd:5 imm:19 -> DEC feet=FP")
    with pytest.raises(ValueError, match=r"x.dec:1: unknown attribute 'feet'"):
        gen.parse_table("x", "BAD op=1 0000000 rd:5 imm:19 feet=FP")
    with pytest.raises(ValueError, match=r"x.dec:1: BAD: field 'rd' appears twice"):
        gen.parse_table("x", "BAD rd=1 0000000 rd:5 imm:19")
    with pytest.raises(ValueError, match=r"x.dec:2: TWO -> ONE: fields op@31:1 rd@26:5 imm@0:19 "
                                         r"differ from ONE's \(x.dec:1\)"):
        gen.check_decoders(gen.parse_table(
            "x", "ONE op:1 0000000 rd:5 imm:19\nTWO op=1 rd:5 0000000 imm:19 -> ONE"))
    with pytest.raises(ValueError, match=r"x.dec:2: TWO -> ONE: fixed bits outside the fields "
                                         r"differ from ONE's"):
        gen.check_decoders(gen.parse_table(
            "x", "ONE op:1 0000000 rd:5 imm:19\nTWO op=1 0000001 rd:5 imm:19 -> ONE"))
    with pytest.raises(ValueError, match=r"x.dec:2: ONE already names x.dec:1"):
        gen.check_decoders(gen.parse_table("x", "ONE op:1 0000000 rd:5 imm:19\nONE op:1 "
                                                "0000001 rd:5 imm:19"))


def test_fixed_value_fields():
    """`name=bits` is matched as fixed bits and passed to the decoder as that field;
    `.` in it is a don't-care bit; `-> DEC` names the decoder function."""
    (p,) = gen.parse_table("x", "LDRSB size=00 111 0 01 opc=1. imm12:12 rn:5 rt:5 -> LDST_UIMM feat=FP")
    assert (p.name, p.decoder, p.feat) == ("LDRSB", "LDST_UIMM", "FP")
    assert p.fields == [("size", 30, 2), ("opc", 22, 2), ("imm12", 10, 12), ("rn", 5, 5), ("rt", 0, 5)]
    assert p.mask == 0xFF800000 and p.value == 0x39800000
    assert p.skeleton() == (0x3F000000, 0x39000000)


def test_patterns_are_consistent():
    for i in range(D.NPAT):
        assert D.VALUE[i] & ~D.MASK[i] == 0, D.NAMES[i]
        k = int(D.DEC[i])
        assert D.FIELDS[i] == D.DEC_FIELDS[k]
        fields = 0
        for _, lsb, w in D.FIELDS[i]:
            fm = ((1 << w) - 1) << lsb
            assert fields & fm == 0, f"{D.NAMES[i]}: fields overlap"
            fields |= fm
        assert fields <= 0xFFFFFFFF
        # a line is its decoder's class with some of the fields fixed
        assert int(D.MASK[i]) & ~fields == int(D.DEC_MASK[k]), D.NAMES[i]
        assert int(D.VALUE[i]) & ~fields == int(D.DEC_VALUE[k]), D.NAMES[i]
        assert D.GROUP_OF[i] == D.DEC_GROUP[k]


def test_dispatch_finds_the_first_matching_line():
    """The key buckets give the same first match as a scan of every line in order."""
    import random
    rng = random.Random(7)

    def scan(w):
        for i in range(D.NPAT):
            if w & int(D.MASK[i]) == int(D.VALUE[i]):
                return i
        return -1
    words = [rng.getrandbits(32) for _ in range(3000)]
    for i in range(D.NPAT):
        words += [int(D.VALUE[i]) | (rng.getrandbits(32) & ~int(D.MASK[i]) & 0xFFFFFFFF)
                  for _ in range(4)]
    for w in words:
        assert D.match(w) == scan(w), hex(w)


# A reader greps the tables for a mnemonic and finds its line.
GREP = ("UMAXP", "LDAXR", "FMADD", "LDR", "STP", "CMEQ", "ADDV", "TBL", "ZIP1", "FCVTZS",
        "SCVTF", "MOVI", "DUP", "INS", "UMOV", "SMOV", "LD1", "ST1", "LD4R", "CASAL", "LDADD",
        "SWPAL", "MRS", "MSR", "SVC", "ERET", "ADD", "SUBS", "MADD", "UBFM", "CSEL", "CCMP",
        "CRC32CX", "LDXP", "STLR", "PRFM", "FMOV", "FCVT", "FRINTX", "FCMP", "FMLA", "EXT",
        "SHRN", "SQDMULH", "PMULL", "AESE", "SHA256H2", "NOP", "WFI", "DMB", "TBNZ", "BLR")


def test_every_mnemonic_has_a_line():
    import os
    heads = {n.split("_")[0] for n in D.NAMES}
    assert not [m for m in GREP if m not in heads]
    text = "".join(open(os.path.join(gen.HERE, g + ".dec")).read() for g in gen.GROUPS)
    for m in GREP:
        assert ("\n" + m + " ") in text or ("\n" + m + "_") in text, m


# capstone prints these aliases for words of the line named on the left
ALIASES = {
    "ADD": {"MOV"}, "ADDS": {"CMN"}, "SUB": {"NEG"}, "SUBS": {"CMP", "NEGS"},
    "ORR": {"MOV"}, "ORN": {"MVN"}, "ANDS": {"TST"}, "MOVN": {"MOV"}, "MOVZ": {"MOV"},
    "SBFM": {"ASR", "SBFIZ", "SBFX", "SXTB", "SXTH", "SXTW"}, "BFM": {"BFI", "BFXIL", "BFC"},
    "UBFM": {"LSL", "LSR", "UBFIZ", "UBFX", "UXTB", "UXTH"}, "EXTR": {"ROR"},
    "SBC": {"NGC"}, "SBCS": {"NGCS"}, "CSINC": {"CINC", "CSET"}, "CSINV": {"CINV", "CSETM"},
    "CSNEG": {"CNEG"}, "LSLV": {"LSL"}, "LSRV": {"LSR"}, "ASRV": {"ASR"}, "RORV": {"ROR"},
    "MADD": {"MUL"}, "MSUB": {"MNEG"}, "SMADDL": {"SMULL"}, "SMSUBL": {"SMNEGL"},
    "UMADDL": {"UMULL"}, "UMSUBL": {"UMNEGL"},
    "SYS": {"AT", "DC", "IC", "TLBI", "CFP", "DVP", "CPP"}, "DSB": {"SSBB", "PSSBB", "DFB"},
    "HINT": {"ESB", "PSB", "TSB", "CSDB", "BTI", "DGH", "XPACLRI", "PACIA1716", "PACIB1716",
             "AUTIA1716", "AUTIB1716", "PACIAZ", "PACIASP", "PACIBZ", "PACIBSP", "AUTIAZ",
             "AUTIASP", "AUTIBZ", "AUTIBSP", "CLRBHB"},
    "INS": {"MOV"}, "UMOV": {"MOV"}, "DUP": {"MOV"}, "NOT": {"MVN"},
    "SSHLL": {"SXTL"}, "USHLL": {"UXTL"},
}
# LDADD{L}{B,H} and the rest print as STADD{L}{B,H} when they discard the loaded value
for _op in ("ADD", "CLR", "EOR", "SET", "SMAX", "SMIN", "UMAX", "UMIN"):
    for _o in ("", "L"):
        for _s in ("", "B", "H"):
            ALIASES["LD" + _op + _o + _s] = {"ST" + _op + _o + _s}


def test_line_names_agree_with_capstone():
    """For random words of each line that we decode, capstone names the same mnemonic (or
    an alias of it in ALIASES; "2" marks the upper-half forms): the names stay honest."""
    import random
    import capstone
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    rng = random.Random(3)
    full = np.int64(-1)
    bad, unnamed = [], []
    for i in range(D.NPAT):
        name = D.NAMES[i]
        mn = name.split("_")[0]
        ok = {mn, mn + "2"} | ALIASES.get(mn, set())
        mask = int(D.MASK[i])
        named = 0
        for _ in range(150):
            w = int(D.VALUE[i]) | (rng.getrandbits(32) & ~mask & 0xFFFFFFFF)
            for _, lsb, width in D.FIELDS[i]:      # all-ones fields (XZR/SP, SBO) and zeros
                r = rng.random()
                fm = ((1 << width) - 1) << lsb & ~mask
                if r < 0.2:
                    w |= fm
                elif r < 0.5:
                    w &= ~fm
            if D.match(w) != i or int(D.predecode(w, full)[0]) & 0x3FF == OI.OP_UNDEF:
                continue
            ins = list(md.disasm(w.to_bytes(4, "little"), 0))
            if not ins:
                continue                 # CONSTRAINED UNPREDICTABLE forms capstone refuses
            got = ins[0].mnemonic.split(".")[0].upper()
            named += 1
            if got not in ok:
                bad.append(f"{name} {w:#010x}: capstone says {ins[0].mnemonic} {ins[0].op_str}")
        if not named:
            unnamed.append(name)
    assert not unnamed, f"lines without a word that we and capstone decode: {unnamed}"
    assert not bad, f"{len(bad)} words:\n" + "\n".join(bad[:40])


def test_unallocated_encodings_are_undef():
    full = np.int64(-1)
    for word in (0x00000000, 0xFFFFFFFF, 0x0000FFFF):
        w0, w1 = D.predecode(word, full)
        assert int(w0) & 0x3FF == OI.OP_UNDEF, hex(word)


def test_feature_gating():
    crc32x = 0x9AC24C20              # crc32x w0, w1, x2
    no_crc = D.predecode(crc32x, np.int64(0))[0]
    assert int(no_crc) & 0x3FF == OI.OP_UNDEF
    with_crc = D.predecode(crc32x, np.int64(-1))[0]
    assert int(with_crc) & 0x3FF == OI.OP_CRC32


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
        assert int(w0) & 0x3FF == getattr(OI, "OP_" + gop), asm
        s = int(specialise(w0))
        if hop is None:
            assert s == int(w0), asm
            continue
        assert s & 0x3FF == getattr(OI, "OP_" + hop), asm
        assert s & ~0x3FF == int(w0) & ~0x3FF, asm
        assert generic(s & 0x3FF) == getattr(OI, "OP_" + gop), asm


def test_bcond_variant_carries_the_condition_truth_table():
    from pyaarch64.cpu.hotloop import specialise, generic
    from pyaarch64.cpu.alu import cond_holds
    for cond in range(16):
        word = 0x54000040 | cond          # b.<cond> .+8
        w0, _ = D.predecode(word, np.int64(-1))
        assert int(w0) & 0x3FF == OI.OP_BCOND
        s = int(specialise(w0))
        assert s & 0x3FF == OI.OP_BCONDM and generic(OI.OP_BCONDM) == OI.OP_BCOND
        aux = s >> 34
        assert aux & 15 == cond
        for nzcv in range(16):
            assert bool((aux >> (4 + nzcv)) & 1) == bool(cond_holds(cond, nzcv)), (cond, nzcv)


def test_fp_fields_are_decoded_once():
    """FPDP carries the fields its executor needs (cpu/isa/fp.py's layout), not the word."""
    from pyaarch64.cpu import ops as F        # the encoding classes (K_*), one definition

    def fields(word):
        w0, w1 = (int(v) for v in D.predecode(word, np.int64(-1)))
        assert w0 & 0x3FF == OI.OP_FPDP
        aux = w0 >> 34
        return ((w0 >> 10) & 63, (w0 >> 16) & 63, (w0 >> 22) & 63, (w0 >> 28) & 63,
                aux & 31, (aux >> 5) & 3, (aux >> 7) & 7, (aux >> 10) & 255, (aux >> 18) & 1, w1)
    # fmadd d0, d1, d2, d3: rd rn rm ra, K_DP3, double, 1 element, o1:o0 = 00
    assert fields(0x1F420C20) == (0, 1, 2, 3, F.K_DP3, 1, 1, 0, 0, 0)
    # fmov x0, d1: Xd a slot, FMOV to general (opcode 6), sf
    assert fields(0x9E660020) == (0, 1, 0, 0, F.K_INT, 1, 1, 6, 1, 0)
    assert fields(0x9E66003F)[0] == O.SINK                      # fmov xzr, d1
    # fmov s0, #1.0: the expanded value
    assert fields(0x1E2E1000) == (0, 0, 0, 0, F.K_IMM, 0, 1, 0, 0, 0x3F800000)
    # fmul v5.4s, v5.4s, v3.s[2]: 4 single elements, U:opcode = 9, element index 2 in w1
    assert fields(0x4F8398A5) == (5, 5, 3, 0, F.K_VELEM, 0, 4, 9, 0, 2)


# --- the op table (cpu/isa/ops.tab -> cpu/opids.py) -----------------------------------
def test_generated_opids_are_up_to_date():
    from pyaarch64.cpu.isa import genops
    with open(genops.OUT) as f:
        assert f.read() == genops.render(*genops.load()), \
            "cpu/opids.py is stale: run python -m pyaarch64.cpu.isa.genops"


def test_op_table_errors_name_the_line():
    from pyaarch64.cpu.isa import genops
    with pytest.raises(ValueError, match="line 2: bad field 'W:x'"):
        genops.parse("[ops]\nNONE W:x\n")
    with pytest.raises(ValueError, match="line 4: ADD declared twice"):
        genops.parse("[ops]\nNONE\nADD\nADD W:1\n")
    with pytest.raises(ValueError, match="more than 30 bits"):
        genops.parse("[ops]\nNONE\nBIG a:16 b:15\n")
    with pytest.raises(ValueError, match="unknown generic op NOPE"):
        genops.parse("[ops]\nNONE\n[hot]\nX = NOPE\n")
    with pytest.raises(ValueError, match="first op must be NONE"):
        genops.parse("[ops]\nADD\n")


def test_pack_and_unpack_round_trip_every_layout():
    """unpack_<OP>(pack_<OP>(fields)) gives the fields back, for every op with a layout
    (random values over each field's full width), and the fields do not overlap."""
    import random
    from pyaarch64.cpu import opids as OI
    rng = random.Random(12)
    for name, lay in OI.LAYOUT.items():
        owner = name if hasattr(OI, "pack_" + name) else OI.HOT_GENERIC[OI.HOT_NAMES.index(name)]
        pack, unpack = getattr(OI, "pack_" + owner), getattr(OI, "unpack_" + owner)
        covered = 0
        for _, lsb, width in lay:
            assert covered & (((1 << width) - 1) << lsb) == 0, name
            covered |= ((1 << width) - 1) << lsb
        assert covered < 1 << 30, name
        for _ in range(50):
            vals = [rng.randrange(1 << w) for _, _, w in lay]
            aux = int(pack(*vals))
            got = unpack(aux)
            got = list(got) if isinstance(got, tuple) else [got]
            assert [int(g) for g in got] == vals, (name, vals, got)
