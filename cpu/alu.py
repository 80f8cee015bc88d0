"""Scalar integer helpers for the executor (all take and return scalars: no arrays,
so calls from the hot loop cost nothing in reference counting).

Numeric discipline (numba): every register value is uint64; constants are
module-level np.uint64 so mixed expressions never turn into int64 or float64.
"""
import numpy as np
from llvmlite import ir as llir
from numba import njit, types, config
from numba.core.extending import intrinsic

U0 = np.uint64(0)
U1 = np.uint64(1)
U8 = np.uint64(8)
U16 = np.uint64(16)
U31 = np.uint64(31)
U32 = np.uint64(32)
U63 = np.uint64(63)
U64 = np.uint64(64)
M8 = np.uint64(0xFF)
M16 = np.uint64(0xFFFF)
M32 = np.uint64(0xFFFFFFFF)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
SIGN32 = np.uint64(0x80000000)
SIGN64 = np.uint64(0x8000000000000000)


def _cond_table():
    t = np.zeros(256, dtype=np.uint8)
    for cond in range(16):
        for f in range(16):
            n, z, c, v = (f >> 3) & 1, (f >> 2) & 1, (f >> 1) & 1, f & 1
            b = cond >> 1
            r = [z == 1, c == 1, n == 1, v == 1, c == 1 and z == 0, n == v,
                 n == v and z == 0, True][b]
            if cond & 1 and cond != 15:
                r = not r
            t[cond * 16 + f] = 1 if r else 0
    return t


CTAB = _cond_table()


def _cond_words():
    """The table as four uint64 scalars, 16 bits (one per NZCV value) per condition:
    scalars, not an array, because numba reference-counts a global array at every use,
    and those calls in the run loop force LLVM to keep the loop's state on the stack."""
    words = [0, 0, 0, 0]
    for cond in range(16):
        for f in range(16):
            if CTAB[cond * 16 + f]:
                words[cond >> 2] |= 1 << ((cond & 3) * 16 + f)
    return [np.uint64(w) for w in words]


CW0, CW1, CW2, CW3 = _cond_words()


@njit(cache=True, _nrt=False, forceinline=True)
def cond_holds(cond, nzcv):
    w = CW0
    if cond >= 12:
        w = CW3
    elif cond >= 8:
        w = CW2
    elif cond >= 4:
        w = CW1
    return ((w >> np.uint64(((cond & 3) << 4) | nzcv)) & U1) != U0


@njit(cache=True, _nrt=False, forceinline=True)
def add64(a, b, c):
    """a + b + c (c in {0,1}) with NZCV; returns (result, nzcv)."""
    r = a + b + np.uint64(c)
    n = r >> U63
    z = U1 if r == U0 else U0
    if c:
        cy = U1 if r <= a else U0
    else:
        cy = U1 if r < a else U0
    v = ((a ^ r) & (b ^ r)) >> U63
    return r, np.int64((n << np.uint64(3)) | (z << np.uint64(2)) | (cy << U1) | v)


@njit(cache=True, _nrt=False, forceinline=True)
def add32(a, b, c):
    a &= M32
    b &= M32
    s = a + b + np.uint64(c)
    r = s & M32
    n = (r >> U31) & U1
    z = U1 if r == U0 else U0
    cy = (s >> U32) & U1
    v = (((a ^ r) & (b ^ r)) >> U31) & U1
    return r, np.int64((n << np.uint64(3)) | (z << np.uint64(2)) | (cy << U1) | v)


@njit(cache=True, _nrt=False, forceinline=True)
def addc(a, b, c, w):
    if w:
        return add32(a, b, c)
    return add64(a, b, c)


@njit(cache=True, _nrt=False, forceinline=True)
def logic(a, b, opc, w):
    """AND (opc 0 and 3), ORR (1), EOR (2), masked to the register width."""
    if opc == 1:
        r = a | b
    elif opc == 2:
        r = a ^ b
    else:
        r = a & b
    if w:
        r &= M32
    return r


@njit(cache=True, _nrt=False, forceinline=True)
def logic_flags(r, w):
    if w:
        n = (r >> U31) & U1
    else:
        n = r >> U63
    z = U1 if r == U0 else U0
    return np.int64((n << np.uint64(3)) | (z << np.uint64(2)))


@njit(cache=True, _nrt=False, forceinline=True)
def shift(v, stype, amt, w):
    """Shift v (already masked to the register width) by a constant amount < width."""
    a = np.uint64(amt)
    if amt == 0:
        return v
    if stype == 0:
        r = v << a
    elif stype == 1:
        r = v >> a
    elif stype == 2:
        if w:
            r = np.uint64(np.int64(np.int32(np.uint32(v))) >> np.int64(amt))
        else:
            r = np.uint64(np.int64(v) >> np.int64(amt))
    else:
        if w:
            r = (v >> a) | (v << (U32 - a))
        else:
            r = (v >> a) | (v << (U64 - a))
    if w:
        r &= M32
    return r


@njit(cache=True, _nrt=False, forceinline=True)
def extend(v, option, amt):
    """ExtendReg: option 0..7 = UXTB UXTH UXTW UXTX SXTB SXTH SXTW SXTX, then << amt."""
    k = option & 3
    if option < 4:
        if k == 0:
            v &= M8
        elif k == 1:
            v &= M16
        elif k == 2:
            v &= M32
    else:
        if k == 0:
            v = np.uint64(np.int64(np.int8(np.uint8(v & M8))))
        elif k == 1:
            v = np.uint64(np.int64(np.int16(np.uint16(v & M16))))
        elif k == 2:
            v = np.uint64(np.int64(np.int32(np.uint32(v & M32))))
    return v << np.uint64(amt)


@njit(cache=True, _nrt=False, forceinline=True)
def field_mask(width):
    if width >= 64:
        return M64
    return (U1 << np.uint64(width)) - U1


def _bit_intrinsic(name):
    """A uint64 -> uint64 intrinsic lowering to one LLVM bit operation (x86: BSWAP,
    LZCNT or BSR; bit reversal as a short shuffle).  ctlz is defined for 0 (64)."""
    def typer(typingctx, v):
        def codegen(context, builder, signature, args):
            if name == "ctlz":
                return builder.ctlz(args[0], llir.Constant(llir.IntType(1), 0))
            return getattr(builder, name)(args[0])
        return types.uint64(types.uint64), codegen
    return intrinsic(typer)


if config.DISABLE_JIT:
    # pure-Python semantics (NUMBA_DISABLE_JIT=1): intrinsics do not run there
    def rbit64(v):
        return np.uint64(int(format(int(v), "064b")[::-1], 2))

    def bswap64(v):
        return np.uint64(int.from_bytes(int(v).to_bytes(8, "little"), "big"))

    def clz64(v):
        return np.uint64(64 - int(v).bit_length())
else:
    rbit64 = _bit_intrinsic("bitreverse")
    bswap64 = _bit_intrinsic("bswap")
    clz64 = _bit_intrinsic("ctlz")


@njit(cache=True, _nrt=False, forceinline=True)
def dp1(v, kind, w):
    """RBIT, REV16, REV32, REV, CLZ, CLS (kind 0..5)."""
    if kind == 0:
        r = rbit64(v)
        if w:
            r >>= U32
    elif kind == 1:                       # REV16: swap bytes in each halfword
        r = ((v & np.uint64(0x00FF00FF00FF00FF)) << U8) | ((v >> U8) & np.uint64(0x00FF00FF00FF00FF))
    elif kind == 2:                       # REV32 (64-bit only): bytes in each word
        b = bswap64(v)
        r = (b >> U32) | (b << U32)
    elif kind == 3:
        r = bswap64(v)
        if w:
            r >>= U32
    elif kind == 4:
        if w:
            r = clz64(v << U32) if (v & M32) != U0 else U32
        else:
            r = clz64(v)
    else:                                 # CLS: leading sign bits, excluding the sign bit
        if w:
            # CountLeadingZeroBits(x<31:1> EOR x<30:0>): a 31-bit value, so the
            # count over bits 63..32 of (x ^ x << 1) << 32 (bit 32 is x<0>, harmless)
            x = v & M32
            x = (x ^ (x << U1)) & M32
            r = clz64(x << U32) if x != U0 else np.uint64(31)
        else:
            x = v ^ (v << U1)
            r = clz64(x) if x != U0 else U63
    if w:
        r &= M32
    return r


@njit(cache=True, _nrt=False, forceinline=True)
def umulh(a, b):
    a_lo = a & M32
    a_hi = a >> U32
    b_lo = b & M32
    b_hi = b >> U32
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    p3 = a_hi * b_hi
    mid = (p0 >> U32) + (p1 & M32) + (p2 & M32)
    return p3 + (p1 >> U32) + (p2 >> U32) + (mid >> U32)


@njit(cache=True, _nrt=False, forceinline=True)
def smulh(a, b):
    r = umulh(a, b)
    if a & SIGN64:
        r -= b
    if b & SIGN64:
        r -= a
    return r


@njit(cache=True, _nrt=False)
def crc32(acc, val, nbytes, castagnoli):
    poly = np.uint64(0x82F63B78) if castagnoli else np.uint64(0xEDB88320)
    crc = acc & M32
    for i in range(nbytes):
        crc ^= (val >> np.uint64(8 * i)) & M8
        for _ in range(8):
            if crc & U1:
                crc = (crc >> U1) ^ poly
            else:
                crc >>= U1
    return crc & M32


@njit(cache=True, _nrt=False, forceinline=True, error_model="numpy")   # (b == 0 is handled)
def udiv(a, b, w):
    if w:
        a &= M32
        b &= M32
    if b == U0:
        return U0
    return a // b


@njit(cache=True, _nrt=False, forceinline=True, error_model="numpy")   # (b == 0 is handled)
def sdiv(a, b, w):
    if w:
        x = np.int64(np.int32(np.uint32(a & M32)))
        y = np.int64(np.int32(np.uint32(b & M32)))
    else:
        x = np.int64(a)
        y = np.int64(b)
    if y == 0:
        return U0
    if y == -1:
        r = np.uint64(0) - np.uint64(x)          # wraps for INT_MIN
    else:
        ux = U0 - np.uint64(x) if x < 0 else np.uint64(x)     # magnitudes, unsigned
        uy = U0 - np.uint64(y) if y < 0 else np.uint64(y)
        q = ux // uy                                            # truncates toward zero
        r = U0 - q if (x < 0) != (y < 0) else q
    if w:
        r &= M32
    return r
