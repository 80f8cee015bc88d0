"""Advanced SIMD integer/bitwise instructions (cpu/isa/simd.dec, cpu/simd_int.py)
against unicorn: hand-picked lines for every mnemonic and arrangement, then random
valid encodings of our SIMD patterns, with V register lanes biased to saturating
edges (0, 1, -1, INT_MIN/INT_MAX of every lane size, 0x80..) and FPSR.QC compared.

The CI sample is small; `--diff-samples N` runs N random encodings instead.
"""
import random

import pytest

import ucdiff

M64 = (1 << 64) - 1
TRIALS = 3
DEFAULT_SAMPLES = 1500

# --- operands -------------------------------------------------------------------------

def _lane_edges(eb):
    m = (1 << eb) - 1
    h = 1 << (eb - 1)
    return [0, 1, m, h, h - 1, h + 1, m - 1, 2, 0x80 & m, 0x7F, (h >> 1), m ^ (h >> 1)]


SHIFT_AMOUNTS = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127,
                 0xFF, 0xFE, 0xF9, 0xF8, 0xF7, 0xF1, 0xF0, 0xEF, 0xE1, 0xE0, 0xDF, 0xC1, 0xC0,
                 0xBF, 0x80, 0x81]


def rand_v(rng):
    """A 128-bit value: lanes of one random size, each an edge value, a shift amount
    (low byte) or random."""
    k = rng.random()
    if k < 0.1:
        return rng.getrandbits(128)
    eb = rng.choice((8, 16, 32, 64))
    v = 0
    for i in range(128 // eb):
        r = rng.random()
        if r < 0.55:
            x = rng.choice(_lane_edges(eb))
        elif r < 0.7:
            x = rng.choice(SHIFT_AMOUNTS) & ((1 << eb) - 1)
            if rng.random() < 0.5 and eb > 8:
                x |= ((1 << eb) - 1) ^ 0xFF          # sign-extended negative amount
        elif r < 0.8:
            x = rng.getrandbits(min(eb, 4))
        else:
            x = rng.getrandbits(eb)
        v |= x << (i * eb)
    return v


def rand_vregs(rng):
    return [rand_v(rng) for _ in range(32)]


def rand_fpsr(rng):
    return (1 << 27) if rng.random() < 0.2 else 0     # QC already set: stays set


# --- hand-picked lines ------------------------------------------------------------------

ALL = ("8b", "16b", "4h", "8h", "2s", "4s", "2d")
NO2D = ALL[:-1]
HS = ("4h", "8h", "2s", "4s")
BYTES = ("8b", "16b")
NARROW = {"8b": "8h", "4h": "4s", "2s": "2d"}     # narrow -> wide
UPPER = {"8b": "16b", "4h": "8h", "2s": "4s"}     # lower -> upper half form
EB = {"b": 8, "h": 16, "s": 32, "d": 64}


def _three(ops, arrs):
    return [f"{op} v0.{a}, v1.{a}, v2.{a}" for op in ops for a in arrs]


THREE_SAME = (
    _three(("add", "sub", "sqadd", "uqadd", "sqsub", "uqsub", "cmgt", "cmhi", "cmge", "cmhs",
            "cmeq", "cmtst", "sshl", "ushl", "sqshl", "uqshl", "srshl", "urshl", "sqrshl",
            "uqrshl", "addp"), ALL)
    + _three(("shadd", "uhadd", "srhadd", "urhadd", "shsub", "uhsub", "smax", "umax", "smin",
              "umin", "sabd", "uabd", "saba", "uaba", "mla", "mls", "mul", "smaxp", "umaxp",
              "sminp", "uminp"), NO2D)
    + _three(("sqdmulh", "sqrdmulh"), HS)
    + _three(("pmul", "and", "bic", "orr", "orn", "eor", "bsl", "bit", "bif"), BYTES)
    + ["mov v0.16b, v1.16b", "mov v3.8b, v3.8b", "orr v5.16b, v5.16b, v5.16b"]
)

S3SAME = (
    [f"{op} {r}0, {r}1, {r}2" for op in ("sqadd", "uqadd", "sqsub", "uqsub", "sqshl", "uqshl",
                                         "sqrshl", "uqrshl") for r in "bhsd"]
    + [f"{op} d0, d1, d2" for op in ("cmgt", "cmhi", "cmge", "cmhs", "sshl", "ushl", "srshl",
                                     "urshl", "add", "sub", "cmtst", "cmeq")]
    + [f"{op} {r}0, {r}1, {r}2" for op in ("sqdmulh", "sqrdmulh") for r in "hs"]
)


def _long(ops, wide_first=False):
    out = []
    for n, w in NARROW.items():
        u = UPPER[n]
        if wide_first:
            out += [f"{op} v0.{w}, v1.{w}, v2.{n}" for op in ops]
            out += [f"{op}2 v0.{w}, v1.{w}, v2.{u}" for op in ops]
        else:
            out += [f"{op} v0.{w}, v1.{n}, v2.{n}" for op in ops]
            out += [f"{op}2 v0.{w}, v1.{u}, v2.{u}" for op in ops]
    return out


THREE_DIFF = (
    _long(("saddl", "uaddl", "ssubl", "usubl", "sabal", "uabal", "sabdl", "uabdl", "smlal",
           "umlal", "smlsl", "umlsl", "smull", "umull"))
    + _long(("saddw", "uaddw", "ssubw", "usubw"), wide_first=True)
    + [f"{op} v0.{n}, v1.{w}, v2.{w}" for op in ("addhn", "raddhn", "subhn", "rsubhn")
       for n, w in NARROW.items()]
    + [f"{op}2 v0.{UPPER[n]}, v1.{w}, v2.{w}" for op in ("addhn", "raddhn", "subhn", "rsubhn")
       for n, w in NARROW.items()]
    + [ln for ln in _long(("sqdmlal", "sqdmlsl", "sqdmull")) if ".8h" not in ln]
    + ["pmull v0.8h, v1.8b, v2.8b", "pmull2 v0.8h, v1.16b, v2.16b"]
    + [f"{op} {w}0, {n}1, {n}2" for op in ("sqdmlal", "sqdmlsl", "sqdmull") for n, w in ("hs", "sd")]
)
# PMULL/PMULL2 1Q (FEAT_PMULL) as words: the assembler wants +crypto
PMULL64_WORDS = [0x0EE0E000 | (2 << 16) | (1 << 5), 0x4EE0E000 | (2 << 16) | (1 << 5),
                 0x4EE0E000 | (0 << 16) | (0 << 5) | 0]

TWO_MISC = (
    [f"rev64 v0.{a}, v1.{a}" for a in NO2D[:4] + ("2s", "4s")]
    + [f"rev32 v0.{a}, v1.{a}" for a in ("8b", "16b", "4h", "8h")]
    + [f"rev16 v0.{a}, v1.{a}" for a in BYTES]
    + [f"{op} v0.{w}, v1.{n}" for op in ("saddlp", "uaddlp", "sadalp", "uadalp")
       for w, n in (("4h", "8b"), ("8h", "16b"), ("2s", "4h"), ("4s", "8h"), ("1d", "2s"),
                    ("2d", "4s"))]
    + [f"{op} v0.{a}, v1.{a}" for op in ("suqadd", "usqadd", "sqabs", "sqneg", "abs", "neg")
       for a in ALL]
    + [f"{op} v0.{a}, v1.{a}, #0" for op in ("cmgt", "cmge", "cmeq", "cmle", "cmlt") for a in ALL]
    + [f"{op} v0.{a}, v1.{a}" for op in ("cls", "clz") for a in NO2D]
    + [f"{op} v0.{a}, v1.{a}" for op in ("cnt", "not", "rbit") for a in BYTES]
    + [f"{op} v0.{n}, v1.{w}" for op in ("xtn", "sqxtn", "uqxtn", "sqxtun") for n, w in NARROW.items()]
    + [f"{op} v0.{a}, v1.{a}" for op in ("urecpe", "ursqrte") for a in ("2s", "4s")]
    + [f"{op}2 v0.{UPPER[n]}, v1.{w}" for op in ("xtn", "sqxtn", "uqxtn", "sqxtun")
       for n, w in NARROW.items()]
    + [f"shll v0.{w}, v1.{n}, #{EB[n[-1]]}" for n, w in NARROW.items()]
    + [f"shll2 v0.{w}, v1.{UPPER[n]}, #{EB[n[-1]]}" for n, w in NARROW.items()]
    + [f"{op} {r}0, {r}1" for op in ("suqadd", "usqadd", "sqabs", "sqneg") for r in "bhsd"]
    + [f"{op} d0, d1, #0" for op in ("cmgt", "cmge", "cmeq", "cmle", "cmlt")]
    + ["abs d0, d1", "neg d0, d1"]
    + [f"{op} {n}0, {w}1" for op in ("sqxtn", "uqxtn", "sqxtun") for n, w in ("bh", "hs", "sd")]
)

ACROSS = (
    [f"{op} {r}0, v1.{a}" for op in ("addv", "smaxv", "umaxv", "sminv", "uminv")
     for r, a in (("b", "8b"), ("b", "16b"), ("h", "4h"), ("h", "8h"), ("s", "4s"))]
    + [f"{op} {r}0, v1.{a}" for op in ("saddlv", "uaddlv")
       for r, a in (("h", "8b"), ("h", "16b"), ("s", "4h"), ("s", "8h"), ("d", "4s"))]
    + ["addp d0, v1.2d", "addp d3, v3.2d"]
)


def _shifts(eb, left):
    return (0, 1, eb // 2, eb - 1) if left else (1, 2, eb // 2, eb - 1, eb)


SHIFT = (
    [f"{op} v0.{a}, v1.{a}, #{s}" for op in ("sshr", "ushr", "ssra", "usra", "srshr", "urshr",
                                             "srsra", "ursra", "sri")
     for a in ALL for s in _shifts(EB[a[-1]], False)]
    + [f"{op} v0.{a}, v1.{a}, #{s}" for op in ("shl", "sli", "sqshl", "uqshl", "sqshlu")
       for a in ALL for s in _shifts(EB[a[-1]], True)]
    + [f"{op} v0.{n}, v1.{w}, #{s}" for op in ("shrn", "rshrn", "sqshrn", "uqshrn", "sqrshrn",
                                               "uqrshrn", "sqshrun", "sqrshrun")
       for n, w in NARROW.items() for s in _shifts(EB[n[-1]], False)]
    + [f"{op}2 v0.{UPPER[n]}, v1.{w}, #{s}" for op in ("shrn", "sqrshrn", "uqshrn", "sqshrun")
       for n, w in NARROW.items() for s in (1, EB[n[-1]])]
    + [f"{op} v0.{w}, v1.{n}, #{s}" for op in ("sshll", "ushll") for n, w in NARROW.items()
       for s in _shifts(EB[n[-1]], True)]
    + [f"{op}2 v0.{w}, v1.{UPPER[n]}, #{s}" for op in ("sshll", "ushll") for n, w in NARROW.items()
       for s in (0, 3)]
    + [f"{op} v0.{w}, v1.{n}" for op in ("sxtl", "uxtl") for n, w in NARROW.items()]
    # scalar
    + [f"{op} d0, d1, #{s}" for op in ("sshr", "ushr", "ssra", "usra", "srshr", "urshr", "srsra",
                                       "ursra", "sri") for s in (1, 31, 63, 64)]
    + [f"{op} d0, d1, #{s}" for op in ("shl", "sli") for s in (0, 1, 32, 63)]
    + [f"{op} {r}0, {r}1, #{s}" for op in ("sqshl", "uqshl", "sqshlu") for r in "bhsd"
       for s in _shifts(EB[r], True)]
    + [f"{op} {n}0, {w}1, #{s}" for op in ("sqshrn", "uqshrn", "sqrshrn", "uqrshrn", "sqshrun",
                                           "sqrshrun") for n, w in ("bh", "hs", "sd")
       for s in _shifts(EB[n], False)]
)


def _elem_lines():
    out = []
    for a, t, idx in (("4h", "h", 7), ("8h", "h", 2), ("2s", "s", 3), ("4s", "s", 1)):
        for op in ("mul", "mla", "mls", "sqdmulh", "sqrdmulh"):
            out.append(f"{op} v0.{a}, v1.{a}, v2.{t}[{idx}]")
        out.append(f"mul v0.{a}, v1.{a}, v15.{t}[0]")
    out.append("mla v0.4s, v1.4s, v31.s[2]")
    for n, w, t, idx in (("4h", "4s", "h", 5), ("2s", "2d", "s", 2)):
        u = UPPER[n]
        for op in ("smull", "umull", "smlal", "umlal", "smlsl", "umlsl", "sqdmull", "sqdmlal",
                   "sqdmlsl"):
            out.append(f"{op} v0.{w}, v1.{n}, v2.{t}[{idx}]")
            out.append(f"{op}2 v0.{w}, v1.{u}, v2.{t}[{idx ^ 1}]")
    for op in ("sqdmull", "sqdmlal", "sqdmlsl"):
        out += [f"{op} s0, h1, v2.h[6]", f"{op} d0, s1, v2.s[1]", f"{op} d0, s1, v19.s[3]"]
    for op in ("sqdmulh", "sqrdmulh"):
        out += [f"{op} h0, h1, v2.h[3]", f"{op} s0, s1, v2.s[2]", f"{op} s0, s1, v25.s[0]"]
    return out


ELEM = _elem_lines()

GROUPS = {"3same": THREE_SAME + S3SAME, "3diff": THREE_DIFF, "2misc": TWO_MISC,
          "across": ACROSS, "shift": SHIFT, "elem": ELEM}

# the ones glibc's string functions use: checked first (and with more trials)
STRING_OPS = ["cmeq v0.16b, v1.16b, v2.16b", "cmeq v0.16b, v1.16b, #0", "cmeq v0.8b, v1.8b, #0",
              "cmhs v0.16b, v1.16b, v2.16b", "umaxp v0.16b, v1.16b, v2.16b",
              "uminp v0.16b, v1.16b, v2.16b", "addp v0.16b, v1.16b, v2.16b",
              "addp v0.2d, v1.2d, v2.2d", "shrn v0.8b, v1.8h, #4", "bit v0.16b, v1.16b, v2.16b",
              "and v0.16b, v1.16b, v2.16b", "orr v0.16b, v1.16b, v2.16b",
              "bic v0.16b, v1.16b, v2.16b", "sub v0.16b, v1.16b, v2.16b", "umaxp v0.4s, v1.4s, v2.4s"]


@pytest.fixture(scope="module")
def h():
    return ucdiff.Harness(seed=11)


def _state(rng):
    regs = ucdiff.rand_regs(rng)
    return regs, rng.randrange(16), rand_vregs(rng), rand_fpsr(rng)


def check(h, w, regs, nzcv, v, fpsr):
    """Differences between ours and unicorn for one word; a fault on either side counts
    (every word here is a valid integer SIMD instruction)."""
    ours, theirs = h.step([w], regs, ucdiff.PTR, nzcv, v=v, fpsr=fpsr)
    d = ours.diff(theirs)
    if ours.fault or theirs.fault:
        d = [f"fault: ours={ours.fault} unicorn={theirs.fault}"] + d
    if d:
        h.sync_data()
    return d


def run_words(h, items, trials, seed):
    """items: (label, word); returns failures."""
    rng = random.Random(seed)
    failures = []
    for label, w in items:
        for _ in range(trials):
            regs, nzcv, v, fpsr = _state(rng)
            d = check(h, w, regs, nzcv, v, fpsr)
            if d:
                failures.append(f"{label} ({w:#010x}) fpsr={fpsr:#x}: {'; '.join(d[:4])}")
                break
    return failures


def test_string_ops(h):
    f = run_words(h, zip(STRING_OPS, ucdiff.assemble(STRING_OPS)), 20, "string")
    assert not f, "\n".join(f)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_handpicked(h, group):
    lines = GROUPS[group]
    f = run_words(h, zip(lines, ucdiff.assemble(lines)), TRIALS, group)
    assert not f, f"{len(f)} mismatches:\n" + "\n".join(f[:40])


def test_pmull64(h):
    from pyaarch64.cpu.models import FEATURES
    if not (h.feat >> FEATURES.index("PMULL")) & 1:
        pytest.skip("no FEAT_PMULL")
    f = run_words(h, [(f"pmull 1q {w:#x}", w) for w in PMULL64_WORDS], 10, "pmull")
    assert not f, "\n".join(f)


def simd_patterns():
    """The decoders (encoding classes) of simd.dec."""
    from pyaarch64.cpu.isa import _decoder as dec
    return {nm for nm, g in zip(dec.DECODERS, dec.DEC_GROUP) if g == "simd"}


def random_simd(h, n, seed, max_per_pattern=5):
    from pyaarch64.cpu.isa import _decoder as dec
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu import opids as OI
    rng = random.Random(seed)
    pats = simd_patterns()
    failures = {}
    seen = set()
    for _ in range(n):
        name, w, f = ucdiff.random_encoding(rng, dec, dec.predecode, h.feat, OI.OP_UNDEF,
                                            patterns=pats)
        seen.add(name)
        regs, nzcv, v, fpsr = _state(rng)
        d = check(h, w, regs, nzcv, v, fpsr)
        if d:
            lst = failures.setdefault(name, [])
            if len(lst) < max_per_pattern:
                lst.append(f"{w:#010x} {f} fpsr={fpsr:#x}: {'; '.join(d[:3])}")
    return failures, seen


def test_random_simd_encodings(h, request):
    n = request.config.getoption("--diff-samples") or DEFAULT_SAMPLES
    failures, seen = random_simd(h, n, request.config.getoption("--diff-seed"))
    assert not failures, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in failures.items())
    if n >= 500:
        from pyaarch64.cpu.isa import _decoder as dec
        enabled = {dec.DECODERS[dec.DEC[i]] for i in range(dec.NPAT) if dec.GROUP_OF[i] == "simd"
                   and (dec.FEAT[i] < 0 or (h.feat >> int(dec.FEAT[i])) & 1)}
        assert enabled <= seen, f"never sampled: {enabled - seen}"


def test_fp_trap(h):
    """With CPACR_EL1.FPEN = 0 an integer SIMD instruction takes the FP access trap."""
    w = ucdiff.assemble(["add v0.4s, v1.4s, v2.4s"])[0]
    h.cpu.set_reg("CPACR_EL1", 0)
    try:
        ours, _ = h.step([w], [0] * 31, ucdiff.PTR, 0)
    finally:
        h.cpu.set_reg("CPACR_EL1", 3 << 20)
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu import opids as OI
    assert ours.fault == "exception-loop"
    assert int(h.cpu.ctl[O.C_EXIT_B]) >> 26 == 0x07


# --- the decoder's split: every integer word decodes, everything it refuses is FP-typed,
# another group's, or unallocated (unicorn faults on it) --------------------------------

def fp_typed(name, f):
    """Words of our classes that are the "fp" group's (or the modified-immediate class of
    "simdx"): UNDEF from this group by design."""
    op = f.get("opcode")
    if name in ("SIMD_3SAME", "SIMD_S3SAME"):
        return op >= 0x18
    if name in ("SIMD_2MISC", "SIMD_S2MISC"):
        # FCMxx #0 / FABS / FNEG; FCVTN/FCVTL/FCVTXN, FRINT*, FCVT*, SCVTF, URECPE/URSQRTE,
        # FRECPE, FRSQRTE, FSQRT (URECPE/URSQRTE use the FP estimate tables: "fp")
        return (0x0c <= op <= 0x0f and f["size"] >= 2) or op >= 0x16
    if name == "SIMD_ACROSS":
        return op in (0x0c, 0x0f)
    if name == "SIMD_SPAIR":
        return op in (0x0c, 0x0d, 0x0f)
    if name in ("SIMD_SHIFT", "SIMD_SSHIFT"):
        return f["immh"] == 0 or op in (0x1c, 0x1f)
    if name in ("SIMD_ELEM", "SIMD_SELEM"):
        return op in (1, 5, 9)
    return False


def _class_words(dec, k, full=False):
    """Words of decoder k's class over its non-register fields (immb and the element index
    bits fixed unless full), but those an earlier class's line decodes: the words whose
    first matching line calls decoder k and the words of the class no line matches."""
    import itertools
    fields = [fl for fl in dec.DEC_FIELDS[k] if fl[0] not in ("rd", "rn", "rm")]
    has_rm = any(fl[0] == "rm" for fl in dec.DEC_FIELDS[k])
    fixed = {} if full else {"immb": (5,), "L": (1,), "M": (0,), "H": (1,), "immh": (0, 1, 3, 4, 8, 15)}
    ranges = [fixed.get(n, range(1 << w)) for n, _, w in fields]
    for vals in itertools.product(*ranges):
        w = int(dec.DEC_VALUE[k]) | (1 << 5) | ((2 << 16) if has_rm else 0)
        for (_, lsb, _), v in zip(fields, vals):
            w |= v << lsb
        if dec.decoder_of(w) in (k, -1):
            yield w, dict(zip([fl[0] for fl in fields], vals))


def test_decode_split(h, request):
    """Exhaustive over the non-register fields of every SIMD pattern: a word we decode runs
    on unicorn without fault; a word we refuse faults on unicorn unless it is FP-typed."""
    from pyaarch64.cpu.isa import _decoder as dec
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu import opids as OI
    bad = []
    n = 0
    for k, name in enumerate(dec.DECODERS):
        if dec.DEC_GROUP[k] != "simd":
            continue
        for w, f in _class_words(dec, k, full=bool(request.config.getoption("--diff-samples"))):
            w0, _ = dec.predecode(w, h.feat)
            ours_undef = (int(w0) & 0x3FF) == OI.OP_UNDEF
            if ours_undef and fp_typed(name, f):
                continue
            n += 1
            ours, theirs = h.step([w], [0] * 31, ucdiff.PTR, 0)
            if bool(ours.fault) != bool(theirs.fault) or (not ours_undef and ours.fault):
                bad.append(f"{name} {w:#010x} {f}: ours={ours.fault} unicorn={theirs.fault}")
    assert n > 1500
    assert not bad, f"{len(bad)} words:\n" + "\n".join(bad[:40])


def test_random_simd_sequences(h):
    """Runs of 4 random SIMD words: results (and QC) flow from one to the next."""
    from pyaarch64.cpu.isa import _decoder as dec
    from pyaarch64.cpu import ops as O
    from pyaarch64.cpu import opids as OI
    rng = random.Random("seq")
    pats = simd_patterns()
    failures = []
    for _ in range(150):
        seq = []
        for _ in range(4):
            name, w, f = ucdiff.random_encoding(rng, dec, dec.predecode, h.feat, OI.OP_UNDEF,
                                                patterns=pats)
            w = (w & ~0x3FF) | (rng.randrange(4) << 5) | rng.randrange(4)   # Vn, Vd in V0..V3
            if dec.decoder_of(w) == dec.DECODERS.index(name):
                w0, _ = dec.predecode(w, h.feat)
                if (int(w0) & 0x3FF) != OI.OP_UNDEF:
                    seq.append(w)
        regs, nzcv, v, fpsr = _state(rng)
        ours, theirs = h.step(seq, regs, ucdiff.PTR, nzcv, v=v, fpsr=fpsr)
        d = ours.diff(theirs)
        if ours.fault or theirs.fault or d:
            failures.append(" ; ".join(f"{w:#010x}" for w in seq) + f": {ours.fault} {theirs.fault} "
                            + "; ".join(d[:3]))
            h.sync_data()
    assert not failures, "\n".join(failures[:20])


# Regressions: bugs the differential test found, with the operands that showed them.
REGRESSIONS = [
    # SQSHLU of a non-negative 64-bit lane whose shifted value exceeds INT64_MAX but fits
    # in 64 unsigned bits saturated to INT64_MAX (it must not saturate)
    ("sqshlu v0.2d, v1.2d, #1", 0x7000000000000000_4000000000000000),
    ("sqshlu d0, d1, #63", 0x0000000000000001),
    ("sqshlu d0, d1, #32", 0x00000000FFFFFFFF),
]


@pytest.mark.parametrize("line,v1", REGRESSIONS)
def test_regression(h, line, v1):
    w = ucdiff.assemble([line])[0]
    v = [0x5A5A5A5A5A5A5A5A_A5A5A5A5A5A5A5A5] * 32
    v[1] = v1
    d = check(h, w, [0] * 31, 0, v, 0)
    assert d == [], d
