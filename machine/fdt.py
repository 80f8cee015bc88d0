"""A small flattened-device-tree (DTB) writer and reader.

Follows the Devicetree Specification's blob format, version 17 (last compatible 16):
a 40-byte big-endian header, the memory reservation map, the structure block
(FDT_BEGIN_NODE / FDT_PROP / FDT_END_NODE / FDT_NOP / FDT_END tokens, 4-byte aligned)
and the strings block (property names, each stored once).

    root = Node("")
    root.set("#address-cells", 2)                  # int -> one u32 cell
    root.set("compatible", ["a,b", "c"])            # list of str -> string list
    intc = root.add("intc@8000000")
    tree = Fdt(root)
    intc.set("phandle", tree.alloc_phandle())
    root.set("interrupt-parent", intc.get_u32("phandle"))
    blob = tree.to_blob()
    tree2 = Fdt.from_blob(blob)                     # validates; FdtError on a bad blob

Property values: None (empty), bytes (raw), str (NUL-terminated), a list/tuple of str
(string list), int (one u32 cell), a list/tuple of int (u32 cells); `u64(...)` and
`cells(...)` build cell arrays explicitly.  Nodes and properties keep their order.
"""
import struct

MAGIC = 0xD00DFEED
VERSION = 17
LAST_COMP_VERSION = 16
HEADER_SIZE = 40

FDT_BEGIN_NODE = 1
FDT_END_NODE = 2
FDT_PROP = 3
FDT_NOP = 4
FDT_END = 9


class FdtError(ValueError):
    pass


def cells(*values):
    """u32 cells, big-endian."""
    return b"".join(struct.pack(">I", v & 0xFFFFFFFF) for v in values)


def u64(*values):
    """Each value as two u32 cells (high, low)."""
    return b"".join(struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF) for v in values)


def encode(value):
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape") + b"\0"   # (argv bytes as given)
    if isinstance(value, bool):
        raise TypeError("use None for an empty (boolean) property")
    if isinstance(value, int):
        return cells(value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value) and value:
            return b"".join(v.encode("utf-8", "surrogateescape") + b"\0" for v in value)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return cells(*value)
    raise TypeError(f"cannot encode a property value of type {type(value).__name__}")


class Node:
    def __init__(self, name):
        if "/" in name or "\0" in name:
            raise ValueError(f"bad node name {name!r}")
        self.name = name
        self.props = []          # [(name, bytes)]
        self.children = []      # [Node]

    # --- properties ------------------------------------------------------------
    def _index(self, name):
        for i, (n, _) in enumerate(self.props):
            if n == name:
                return i
        return -1

    def set(self, name, value=None, first=False):
        """Set a property (replaced in place if present; else appended, or inserted
        before the others with first=True, which is where libfdt puts new ones)."""
        data = encode(value)
        i = self._index(name)
        if i >= 0:
            self.props[i] = (name, data)
        elif first:
            self.props.insert(0, (name, data))
        else:
            self.props.append((name, data))
        return self

    def get(self, name):
        i = self._index(name)
        return None if i < 0 else self.props[i][1]

    def has(self, name):
        return self._index(name) >= 0

    def remove(self, name):
        i = self._index(name)
        if i >= 0:
            del self.props[i]

    def get_u32(self, name):
        v = self.get(name)
        if v is None or len(v) != 4:
            return None
        return struct.unpack(">I", v)[0]

    def get_cells(self, name):
        v = self.get(name)
        if v is None or len(v) % 4:
            return None
        return list(struct.unpack(f">{len(v) // 4}I", v))

    def get_str(self, name):
        v = self.get(name)
        if v is None or not v.endswith(b"\0"):
            return None
        return v[:-1].decode("latin-1")

    def get_strings(self, name):
        v = self.get(name)
        if v is None or not v.endswith(b"\0"):
            return None
        return [s.decode("latin-1") for s in v[:-1].split(b"\0")]

    # --- children ------------------------------------------------------------------
    def child(self, name):
        for c in self.children:
            if c.name == name:
                return c
        return None

    def add(self, name, first=False):
        """New child node (an existing child of that name is an error)."""
        if self.child(name) is not None:
            raise ValueError(f"node {name!r} already exists")
        n = Node(name)
        if first:
            self.children.insert(0, n)
        else:
            self.children.append(n)
        return n

    def remove_child(self, node):
        self.children = [c for c in self.children if c is not node]

    def find(self, path):
        """Node at an absolute path ('/', '/cpus/cpu@0'), or None."""
        node = self
        for part in [p for p in path.split("/") if p]:
            node = node.child(part)
            if node is None:
                return None
        return node

    def walk(self, path="/"):
        """(path, node) for this node and every descendant, depth first."""
        yield path, self
        for c in self.children:
            yield from c.walk((path if path.endswith("/") else path + "/") + c.name)

    def __repr__(self):
        return f"Node({self.name!r}, {len(self.props)} props, {len(self.children)} children)"


class Fdt:
    """A device tree: root node, memory reservations and the boot CPU id."""

    def __init__(self, root=None, reservations=(), boot_cpuid=0):
        self.root = root if root is not None else Node("")
        self.reservations = list(reservations)     # [(address, size)]
        self.boot_cpuid = boot_cpuid
        self._next_phandle = None

    def alloc_phandle(self, start=1):
        """A phandle not used in the tree yet (counting up from `start`)."""
        if self._next_phandle is None:
            used = [n.get_u32("phandle") or 0 for _, n in self.root.walk()]
            self._next_phandle = max([start - 1] + used) + 1
        p = self._next_phandle
        self._next_phandle += 1
        return p

    def phandles(self):
        """{phandle: path} of the nodes that have one."""
        out = {}
        for path, n in self.root.walk():
            p = n.get_u32("phandle")
            if p is not None:
                out[p] = path
        return out

    # --- writing -------------------------------------------------------------------
    def to_blob(self, min_size=0):
        """The DTB bytes.  `min_size` pads the blob (zeros after the strings block,
        counted in the header's totalsize) to leave room, as QEMU's 1 MiB buffer does."""
        strings = bytearray()
        offsets = {}

        def name_off(name):
            if name not in offsets:
                offsets[name] = len(strings)
                strings.extend(name.encode() + b"\0")
            return offsets[name]

        st = bytearray()

        def emit(node, is_root):
            st.extend(struct.pack(">I", FDT_BEGIN_NODE))
            nm = b"" if is_root else node.name.encode()
            st.extend(nm + b"\0")
            st.extend(b"\0" * (-len(st) % 4))
            for pname, data in node.props:
                st.extend(struct.pack(">III", FDT_PROP, len(data), name_off(pname)))
                st.extend(data)
                st.extend(b"\0" * (-len(st) % 4))
            for c in node.children:
                emit(c, False)
            st.extend(struct.pack(">I", FDT_END_NODE))

        emit(self.root, True)
        st.extend(struct.pack(">I", FDT_END))
        rsv = b"".join(struct.pack(">QQ", a, s) for a, s in self.reservations) + bytes(16)
        off_rsv = HEADER_SIZE            # 8-byte aligned
        off_struct = off_rsv + len(rsv)
        off_strings = off_struct + len(st)
        total = off_strings + len(strings)
        total = max(total, min_size)
        hdr = struct.pack(">10I", MAGIC, total, off_struct, off_strings, off_rsv, VERSION,
                          LAST_COMP_VERSION, self.boot_cpuid, len(strings), len(st))
        blob = hdr + rsv + bytes(st) + bytes(strings)
        return blob + bytes(total - len(blob))

    # --- reading -------------------------------------------------------------------
    @classmethod
    def from_blob(cls, data):
        """Parse and validate a DTB (versions 16 and 17)."""
        data = bytes(data)
        if len(data) < HEADER_SIZE:
            raise FdtError(f"too short for a device tree header ({len(data)} bytes)")
        (magic, total, off_struct, off_strings, off_rsv, version, last_comp, boot_cpuid,
         size_strings, size_struct) = struct.unpack(">10I", data[:40])
        if magic != MAGIC:
            raise FdtError(f"bad magic 0x{magic:08x} (a device tree blob starts with 0xd00dfeed)")
        if version < 16 or last_comp > 17:
            raise FdtError(f"unsupported version {version} (last compatible {last_comp})")
        if total > len(data):
            raise FdtError(f"truncated: header says {total} bytes, file has {len(data)}")
        if total < HEADER_SIZE:
            raise FdtError(f"bad totalsize {total}")
        if version < 17:
            size_struct = total - off_struct
        for what, off, size in (("structure block", off_struct, size_struct),
                                ("strings block", off_strings, size_strings),
                                ("reservation map", off_rsv, 16)):
            if off < HEADER_SIZE or off + size > total:
                raise FdtError(f"{what} at {off} (+{size}) lies outside the blob ({total} bytes)")
        rsv = []
        p = off_rsv
        while True:
            if p + 16 > total:
                raise FdtError("unterminated memory reservation map")
            a, s = struct.unpack(">QQ", data[p:p + 16])
            p += 16
            if a == 0 and s == 0:
                break
            rsv.append((a, s))
        strings = data[off_strings:off_strings + size_strings]
        end = off_struct + size_struct
        p = off_struct
        stack = []
        root = None

        def u32(at):
            if at + 4 > end:
                raise FdtError("structure block ends in the middle of a token")
            return struct.unpack(">I", data[at:at + 4])[0]

        while True:
            tok = u32(p)
            p += 4
            if tok == FDT_BEGIN_NODE:
                z = data.find(b"\0", p, end)
                if z < 0:
                    raise FdtError("unterminated node name")
                name = data[p:z].decode("latin-1")
                p = (z + 1 + 3) & ~3
                if not stack:
                    if root is not None:
                        raise FdtError("more than one root node")
                    node = Node("")
                    root = node
                else:
                    try:
                        node = Node(name)
                    except ValueError:
                        raise FdtError(f"bad node name {name!r}") from None
                    stack[-1].children.append(node)
                stack.append(node)
            elif tok == FDT_END_NODE:
                if not stack:
                    raise FdtError("unbalanced FDT_END_NODE")
                stack.pop()
            elif tok == FDT_PROP:
                if not stack:
                    raise FdtError("property outside a node")
                ln, noff = u32(p), u32(p + 4)
                p += 8
                if p + ln > end:
                    raise FdtError("property value runs past the structure block")
                if noff >= len(strings):
                    raise FdtError(f"property name offset {noff} outside the strings block")
                z = strings.find(b"\0", noff)
                if z < 0:
                    raise FdtError("unterminated property name")
                stack[-1].props.append((strings[noff:z].decode("latin-1"), data[p:p + ln]))
                p = (p + ln + 3) & ~3
            elif tok == FDT_NOP:
                pass
            elif tok == FDT_END:
                break
            else:
                raise FdtError(f"unknown token 0x{tok:x} at offset {p - 4}")
        if stack:
            raise FdtError("node not closed before FDT_END")
        if root is None:
            raise FdtError("no root node")
        return cls(root, rsv, boot_cpuid)
