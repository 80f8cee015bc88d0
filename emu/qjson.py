"""QMP's JSON, as QEMU 7.2 reads and writes it.

Reading: a byte *stream* (clients need not send newlines; two objects may arrive in
one write, one object in many).  `Splitter.feed(bytes)` yields each complete value
as ("value", obj) or ("error", message) with QEMU's "JSON parse error, ..." wording.

Writing: `dumps(obj)` gives QEMU's bytes: ", " and ": " separators, non-ASCII and
control characters as upper-case \\uXXXX, and object members in QEMU's QDict order.
A QDict iterates its 512 hash buckets in order, and a bucket lists the member put
last first; the hash is the one QDict uses (this reproduces every key order in the
reference transcripts).  So build dicts in the QAPI schema's member order and the
order on the wire comes out as QEMU's.
"""
import json

MAX_NESTING = 1024
MAX_SIZE = 64 << 20
_WS = b" \t\r\n"
_OPEN = b"{["
_CLOSE = b"}]"


class Splitter:
    def __init__(self):
        self._reset()

    def _reset(self):
        self.buf = bytearray()
        self.depth = 0
        self.in_str = False
        self.esc = False
        self.scalar = False

    def feed(self, data):
        out = []
        for b in data:
            self._byte(b, out)
        return out

    def _byte(self, b, out):
        if self.scalar:                          # a bare number/keyword at top level
            if b in _WS or b in _OPEN or b in _CLOSE or b == 0x22:
                self._emit(out)
            else:
                self.buf.append(b)
                return
        if not self.buf:
            if b in _WS:
                return
            self.buf.append(b)
            if b in _OPEN:
                self.depth = 1
            elif b == 0x22:
                self.in_str = True
            elif b in _CLOSE:                    # a stray '}' or ']'
                self._emit(out)
            else:
                self.scalar = True
            return
        self.buf.append(b)
        if len(self.buf) > MAX_SIZE:
            self._reset()
            out.append(("error", "JSON token size limit exceeded"))
            return
        if self.in_str:
            if self.esc:
                self.esc = False
            elif b == 0x5C:
                self.esc = True
            elif b == 0x22:
                self.in_str = False
                if self.depth == 0:
                    self._emit(out)
            return
        if b == 0x22:
            self.in_str = True
        elif b in _OPEN:
            self.depth += 1
            if self.depth > MAX_NESTING:
                self._reset()
                out.append(("error", "JSON nesting depth limit exceeded"))
        elif b in _CLOSE:
            self.depth -= 1
            if self.depth == 0:
                self._emit(out)

    def _emit(self, out):
        raw = bytes(self.buf)
        self._reset()
        out.append(parse(raw))


def parse(raw):
    """One complete JSON text -> ("value", obj) or ("error", QEMU's message)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ("error", "JSON parse error, invalid UTF-8 sequence in string")
    try:
        return ("value", json.loads(text, parse_constant=_no_constant))
    except json.JSONDecodeError as e:
        return ("error", "JSON parse error, " + _message(e, text))
    except RecursionError:
        return ("error", "JSON nesting depth limit exceeded")


def _no_constant(name):
    raise json.JSONDecodeError("Expecting value", name, 0)     # NaN, Infinity: not JSON


def _message(e, text):
    msg = e.msg
    if msg == "Expecting value":
        word = text[e.pos:e.pos + 16].split()[0] if text[e.pos:].strip() else ""
        if word[:1].isalpha():
            return f"invalid keyword '{word.rstrip(',}]')}'"
        return "expecting value"
    if msg.startswith("Expecting property name"):
        return "key is not a string in object"
    if msg == "Expecting ':' delimiter":
        return "missing : in object"
    if msg == "Expecting ',' delimiter":
        return "expected separator in dict" if _innermost(text, e.pos) == "{" else \
            "expected separator in list"
    if msg.startswith("Invalid control character"):
        return "invalid control character in string"
    if msg.startswith("Invalid \\"):
        return "invalid escape sequence in string"
    return msg[0].lower() + msg[1:]


def _innermost(text, pos):
    stack, in_str, esc = [], False, False
    for ch in text[:pos]:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


# --- writing -------------------------------------------------------------------------
def qdict_hash(key):
    b = key.encode()
    v = (0x238F13AF * len(b)) & 0xFFFFFFFF
    for i, c in enumerate(b):
        v = (v + (c << (i * 5 % 24))) & 0xFFFFFFFF
    return ((1103515243 * v + 12345) & 0xFFFFFFFF) % 512


def qdict_order(keys):
    """Keys (in the order they were put) in the order a QDict iterates them."""
    return sorted(keys, key=lambda k: (qdict_hash(k), -keys.index(k)))


def dumps(obj):
    if isinstance(obj, dict):
        keys = list(obj)
        return "{" + ", ".join(f"{_str(k)}: {dumps(obj[k])}" for k in qdict_order(keys)) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(dumps(v) for v in obj) + "]"
    if isinstance(obj, str):
        return _str(obj)
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if obj is None:
        return "null"
    if isinstance(obj, int):
        return str(obj)
    return repr(float(obj))


_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
        "\t": "\\t"}


def _str(s):
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch in _ESC:
            out.append(_ESC[ch])
        elif 0x20 <= cp < 0x7F:
            out.append(ch)
        elif cp > 0xFFFF:
            cp -= 0x10000
            out.append(f"\\u{0xD800 + (cp >> 10):04X}\\u{0xDC00 + (cp & 0x3FF):04X}")
        else:
            out.append(f"\\u{cp:04X}")
    out.append('"')
    return "".join(out)
