"""Turn the ``*.dec`` decode tables into ``_decoder.py``.

Run ``python -m pyaarch64.cpu.isa.gen`` after editing a table.  The output is
plain Python that numba can cache; it is committed so that it can be reviewed
and so that read-only installs need no generation step.  The table syntax is
described in README.md beside this file.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Table files in decode order: (group module, table file).
GROUPS = ("dp_imm", "branch", "ldst", "dp_reg", "fp", "simdx", "simd")
OUT = os.path.join(HERE, "_decoder.py")
ATTRS = ("feat",)

# The two-level dispatch: predecode looks only at the lines that can match a word
# with the word's bits KEY_BITS (most significant first): op0 (28..25) and the bits
# around it that most lines fix.  Measured on the 824 lines of the first named tables:
# 2048 keys, 4166 candidate entries (the longest list 77); a random word looks at 1.7
# lines, a word of libc's .text at 1.3 (bits 28..21 alone: 6.0 and 3.1; a scan of
# all the lines in order: 560 and 134).
KEY_BITS = (31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(\d+)$")
_FIXED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=([01.]+)$")
_BITS = re.compile(r"^[01.]+$")


class Pattern:
    """One table line: fixed bits (mask, value), the decoder's arguments as fields
    (name, lsb, width) in the order written -- the fixed-value ones included -- and
    the decoder function's name."""

    def __init__(self, group, name, decoder, mask, value, fields, feat, line):
        self.group, self.name, self.decoder = group, name, decoder
        self.mask, self.value, self.fields = mask, value, fields
        self.feat, self.line = feat, line

    def field_bits(self):
        m = 0
        for _, lsb, w in self.fields:
            m |= ((1 << w) - 1) << lsb
        return m

    def skeleton(self):
        """(mask, value) of the fixed bits outside the fields: the same for every line
        of one decoder."""
        fb = self.field_bits()
        return self.mask & ~fb, self.value & ~fb


def parse_table(group, text):
    """Parse one table; returns a list of Pattern.  Raises ValueError on errors."""
    pats = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{group}.dec:{lineno}"
        toks = line.split()
        name, toks = toks[0], toks[1:]
        if not _NAME.match(name):
            raise ValueError(f"{where}: bad line name {name!r}")
        decoder = name
        if "->" in toks:
            k = toks.index("->")
            toks, tail = toks[:k], toks[k + 1:]
            if not tail or not _NAME.match(tail[0]):
                raise ValueError(f"{where}: {name}: '->' must be followed by a decoder name")
            decoder, attrs = tail[0], tail[1:]
        else:
            attrs = []
            while toks and "=" in toks[-1] and not _FIXED.match(toks[-1]):
                attrs.insert(0, toks.pop())
        feat = None
        for a in attrs:
            k, _, v = a.partition("=")
            if k not in ATTRS:
                raise ValueError(f"{where}: unknown attribute {k!r}" if v else
                                 f"{where}: bad token {a!r} after the decoder name")
            feat = v
        pos = 32
        mask = value = 0
        fields = []
        for t in toks:
            m = _FIELD.match(t)
            f = _FIXED.match(t)
            if m:
                w = int(m.group(2))
                if w == 0:
                    raise ValueError(f"{where}: field {t!r} has no bits")
                pos -= w
                fields.append((m.group(1), pos, w))
            elif f:
                bits = f.group(2)
                pos -= len(bits)
                fields.append((f.group(1), pos, len(bits)))
                for k, ch in enumerate(bits):
                    if ch != ".":
                        b = pos + len(bits) - 1 - k
                        mask |= 1 << b
                        value |= int(ch) << b
            elif _BITS.match(t):
                for ch in t:
                    pos -= 1
                    if ch != ".":
                        mask |= 1 << pos
                        value |= int(ch) << pos
            else:
                raise ValueError(f"{where}: bad token {t!r}")
        if pos != 0:
            raise ValueError(f"{where}: {name} has {32 - pos} bits, not 32")
        names = [n for n, _, _ in fields]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"{where}: {name}: field {dup[0]!r} appears twice")
        pats.append(Pattern(group, name, decoder, mask, value, fields, feat, lineno))
    return pats


def check_decoders(pats):
    """Every line of one decoder passes it the same fields from the same bits, and
    has the same fixed bits outside them; line names are unique."""
    first = {}
    seen = {}
    for p in pats:
        if p.name in seen:
            q = seen[p.name]
            raise ValueError(f"{p.group}.dec:{p.line}: {p.name} already names "
                             f"{q.group}.dec:{q.line}")
        seen[p.name] = p
        key = (p.group, p.decoder)
        q = first.setdefault(key, p)
        if p.fields != q.fields:
            raise ValueError(
                f"{p.group}.dec:{p.line}: {p.name} -> {p.decoder}: fields "
                f"{' '.join(f'{n}@{l}:{w}' for n, l, w in p.fields)} differ from {q.name}'s "
                f"({q.group}.dec:{q.line}): {' '.join(f'{n}@{l}:{w}' for n, l, w in q.fields)}")
        if p.skeleton() != q.skeleton():
            raise ValueError(f"{p.group}.dec:{p.line}: {p.name} -> {p.decoder}: fixed bits "
                             f"outside the fields differ from {q.name}'s ({q.group}.dec:{q.line})")
    return pats


def load_all():
    pats = []
    for g in GROUPS:
        with open(os.path.join(HERE, g + ".dec")) as f:
            pats += parse_table(g, f.read())
    return check_decoders(pats)


def key_of(x, bits=KEY_BITS):
    k = 0
    for b in bits:
        k = (k << 1) | ((x >> b) & 1)
    return k


def buckets(pats, bits=KEY_BITS):
    """For each key value, the indices of the lines that can match a word with that
    key, in table order (so the first match is the same as in a scan of all lines)."""
    nb = len(bits)
    out = []
    for key in range(1 << nb):
        kmask = kval = 0
        for j, b in enumerate(bits):
            kmask |= 1 << b
            kval |= ((key >> (nb - 1 - j)) & 1) << b
        out.append([i for i, p in enumerate(pats)
                    if (p.value ^ kval) & p.mask & kmask == 0])
    return out


def _key_expr(bits):
    """Python/numba expression of key_of(x) for runs of adjacent bits."""
    runs = []
    for b in bits:
        if runs and runs[-1][1] == b + 1:
            runs[-1][1] = b
        else:
            runs.append([b, b])
    terms, pos = [], len(bits)
    for hi, lo in runs:
        w = hi - lo + 1
        pos -= w
        t = f"((x >> {lo}) & 0x{(1 << w) - 1:x})"
        terms.append(f"({t} << {pos})" if pos else t)
    return " | ".join(terms)


def _wrap(prefix, items, suffix, width=100):
    """prefix + comma-separated items + suffix, wrapped for review."""
    out, line = [], prefix
    for it in items:
        piece = it + ", "
        if len(line) + len(piece) > width:
            out.append(line.rstrip())
            line = "    "
        line += piece
    out.append(line.rstrip() + suffix)
    return out


def render(pats):
    from pyaarch64.cpu.models import FEATURES
    decs = []                      # (group, decoder name, first line), in table order
    dec_index = {}
    for p in pats:
        if (p.group, p.decoder) not in dec_index:
            dec_index[(p.group, p.decoder)] = len(decs)
            decs.append((p.group, p.decoder, p))
    feats = []
    for p in pats:
        if p.feat is None:
            feats.append(-1)
        else:
            if p.feat not in FEATURES:
                raise ValueError(f"{p.group}.dec:{p.line}: unknown feature {p.feat}")
            feats.append(FEATURES.index(p.feat))
    bk = buckets(pats)
    starts, cand = [0], []
    for lst in bk:
        cand += lst
        starts.append(len(cand))

    out = ['"""GENERATED by cpu/isa/gen.py from the *.dec tables -- do not edit."""',
           "import numpy as np",
           "from numba import njit",
           "from pyaarch64.cpu.isa.common import UNDEF_W0",
           ]
    for g in GROUPS:
        out.append(f"from pyaarch64.cpu.isa import {g} as _{g}")
    out.append("")
    out.append("# --- the table lines, in decode order (the first line that matches wins) ---")
    out.append(f"NPAT = {len(pats)}")
    out += _wrap("NAMES = (", [repr(p.name) for p in pats], ")")
    out += _wrap("MASK = np.array([", [f"0x{p.mask:08x}" for p in pats], "], dtype=np.int64)")
    out += _wrap("VALUE = np.array([", [f"0x{p.value:08x}" for p in pats], "], dtype=np.int64)")
    out += _wrap("FEAT = np.array([", [str(f) for f in feats], "], dtype=np.int64)")
    out.append("# the decoder function each line calls (an index into DECODERS)")
    out += _wrap("DEC = np.array([", [str(dec_index[(p.group, p.decoder)]) for p in pats],
                 "], dtype=np.int64)")
    out += _wrap("GROUP_OF = (", [repr(p.group) for p in pats], ")")
    out.append("")
    out.append("# --- the decoder functions d_<name> of the group modules: the fields they")
    out.append("# take (name, lsb, width), and the fixed bits outside those fields")
    out += _wrap("DECODERS = (", [repr(d) for _, d, _ in decs], ")")
    out += _wrap("DEC_GROUP = (", [repr(g) for g, _, _ in decs], ")")
    out += _wrap("DEC_MASK = np.array([", [f"0x{p.skeleton()[0]:08x}" for _, _, p in decs],
                 "], dtype=np.int64)")
    out += _wrap("DEC_VALUE = np.array([", [f"0x{p.skeleton()[1]:08x}" for _, _, p in decs],
                 "], dtype=np.int64)")
    out.append("DEC_FIELDS = (")
    for _, _, p in decs:
        out.append("    (" + "".join(f"({n!r}, {l}, {w}), " for n, l, w in p.fields) + "),")
    out.append(")")
    out.append("FIELDS = tuple(DEC_FIELDS[d] for d in DEC)   # of each line")
    out.append("")
    out.append(f"# --- two-level dispatch: a word's bits {', '.join(map(str, KEY_BITS))} select the")
    out.append("# lines that can match it: CAND[BUCKET[key]:BUCKET[key + 1]], in table order")
    out += _wrap("BUCKET = np.array([", [str(s) for s in starts], "], dtype=np.int32)")
    out += _wrap("CAND = np.array([", [str(c) for c in cand],
                 "], dtype=np.int16)" if len(pats) < 32768 else "], dtype=np.int32)")
    out.append("")
    ends = []
    for g in GROUPS:
        idx = [k for k, (dg, _, _) in enumerate(decs) if dg == g]
        if not idx:
            continue
        ends.append((g, idx[-1] + 1))
        out.append("")
        out.append("@njit(cache=True)")
        out.append(f"def _dec_{g}(k, x):")
        for n, k in enumerate(idx):
            _, name, p = decs[k]
            args = ", ".join(f"(x >> {l}) & 0x{(1 << w) - 1:x}" for _, l, w in p.fields)
            kw = "if" if n == 0 else "elif"
            out.append(f"    {kw} k == {k}:")
            out.append(f"        return _{g}.d_{name}({args})")
        out.append("    return UNDEF_W0, np.uint64(0)")
    out.append("")
    out.append("")
    out.append("@njit(cache=True)")
    out.append("def predecode(insn, feat):")
    out.append('    """Decode one instruction word to (w0, w1); feat is the CPU model\'s feature mask."""')
    out.append("    x = np.int64(insn) & 0xffffffff")
    out.append(f"    key = {_key_expr(KEY_BITS)}")
    out.append("    for j in range(BUCKET[key], BUCKET[key + 1]):")
    out.append("        i = CAND[j]")
    out.append("        if (x & MASK[i]) == VALUE[i]:")
    out.append("            f = FEAT[i]")
    out.append("            if f >= 0 and ((feat >> f) & 1) == 0:")
    out.append("                return UNDEF_W0, np.uint64(0)")
    out.append("            k = DEC[i]")
    for n, (g, end) in enumerate(ends):
        kw = "if" if n == 0 else "elif"
        out.append(f"            {kw} k < {end}:")
        out.append(f"                return _dec_{g}(k, x)")
    out.append("            break")
    out.append("    return UNDEF_W0, np.uint64(0)")
    out.append("")
    out.append("")
    out.append("def match(insn):")
    out.append('    """Index of the first line matching insn, or -1 (pure Python, for tools)."""')
    out.append("    x = int(insn) & 0xffffffff")
    out.append(f"    key = {_key_expr(KEY_BITS)}")
    out.append("    for j in range(int(BUCKET[key]), int(BUCKET[key + 1])):")
    out.append("        i = int(CAND[j])")
    out.append("        if (x & int(MASK[i])) == int(VALUE[i]):")
    out.append("            return i")
    out.append("    return -1")
    out.append("")
    out.append("")
    out.append("def decoder_of(insn):")
    out.append('    """Index into DECODERS of the first matching line\'s decoder, or -1 (for tools)."""')
    out.append("    i = match(insn)")
    out.append("    return -1 if i < 0 else int(DEC[i])")
    return "\n".join(out) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    text = render(load_all())
    if argv and argv[0] == "--check":
        with open(OUT) as f:
            if f.read() != text:
                print("_decoder.py is stale: run python -m pyaarch64.cpu.isa.gen", file=sys.stderr)
                return 1
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
