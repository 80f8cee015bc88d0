"""The Armv8.0 cryptographic extension: AESE, AESD, AESMC, AESIMC (FEAT_AES),
SHA1C/P/M/H/SU0/SU1 (FEAT_SHA1), SHA256H/H2/SU0/SU1 (FEAT_SHA256), after the Arm ARM
pseudocode (AESSubBytes, AESShiftRows, AESMixColumns, SHA1/SHA256hash...) and
FIPS-197 / FIPS-180-4.  The AES S-boxes are computed here at import from their
definition (multiplicative inverse in GF(2^8) followed by the affine map).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import VREG
from pyaarch64.cpu.isa.simdx import SX_AES, SX_SHA1_3, SX_SHA256_3, SX_SHA1_2


def _gmul_py(a, b):
    p = 0
    while b:
        if b & 1:
            p ^= a
        a = ((a << 1) ^ (0x11B if a & 0x80 else 0)) & 0x1FF
        b >>= 1
    return p & 0xFF


def _sboxes():
    exp = [0] * 255                              # powers of the generator 3
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x = _gmul_py(x, 3)
    sbox = [0] * 256
    for x in range(256):
        inv = exp[(255 - log[x]) % 255] if x else 0
        s = inv
        for k in range(1, 5):
            s ^= ((inv << k) | (inv >> (8 - k))) & 0xFF
        sbox[x] = s ^ 0x63
    inv_sbox = [0] * 256
    for x, s in enumerate(sbox):
        inv_sbox[s] = x
    return np.array(sbox, dtype=np.int64), np.array(inv_sbox, dtype=np.int64)


SBOX, INV_SBOX = _sboxes()
# GF(2^8) products by the MixColumns / InvMixColumns coefficients, as lookup tables
# (rows: x2, x3, x9, x11, x13, x14)
GMUL = np.array([[_gmul_py(x, c) for x in range(256)] for c in (2, 3, 9, 11, 13, 14)],
                dtype=np.int64)
M2, M3, M9, M11, M13, M14 = 0, 1, 2, 3, 4, 5
U0 = np.uint64(0)
M32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, _nrt=False)
def _byte(lo, hi, i):
    """Byte i of the 128-bit value hi:lo."""
    w = hi if i >= 8 else lo
    return np.int64((w >> np.uint64(8 * (i & 7))) & np.uint64(0xFF))


@njit(cache=True, _nrt=False)
def aes(regs, opc, rd, rn):
    """AESE (0), AESD (1), AESMC (2), AESIMC (3).  State byte i is row i%4, column i//4."""
    vd = VREG + 2 * rd
    vn = VREG + 2 * rn
    rlo = U0
    rhi = U0
    if opc <= 1:
        lo = regs[vd] ^ regs[vn]
        hi = regs[vd + 1] ^ regs[vn + 1]
        for i in range(16):
            r = i & 3
            c = i >> 2
            if opc == 0:        # AESE: SubBytes(ShiftRows(x)), out[r,c] = in[r,(c+r)%4]
                b = SBOX[_byte(lo, hi, r + 4 * ((c + r) & 3))]
            else:               # AESD: InvSubBytes(InvShiftRows(x)), out[r,c] = in[r,(c-r)%4]
                b = INV_SBOX[_byte(lo, hi, r + 4 * ((c - r) & 3))]
            if i < 8:
                rlo |= np.uint64(b) << np.uint64(8 * i)
            else:
                rhi |= np.uint64(b) << np.uint64(8 * (i - 8))
    else:
        lo = regs[vn]
        hi = regs[vn + 1]
        for c in range(4):
            a0 = _byte(lo, hi, 4 * c)
            a1 = _byte(lo, hi, 4 * c + 1)
            a2 = _byte(lo, hi, 4 * c + 2)
            a3 = _byte(lo, hi, 4 * c + 3)
            if opc == 2:        # AESMC: MixColumns
                o0 = GMUL[M2, a0] ^ GMUL[M3, a1] ^ a2 ^ a3
                o1 = a0 ^ GMUL[M2, a1] ^ GMUL[M3, a2] ^ a3
                o2 = a0 ^ a1 ^ GMUL[M2, a2] ^ GMUL[M3, a3]
                o3 = GMUL[M3, a0] ^ a1 ^ a2 ^ GMUL[M2, a3]
            else:               # AESIMC: InvMixColumns
                o0 = GMUL[M14, a0] ^ GMUL[M11, a1] ^ GMUL[M13, a2] ^ GMUL[M9, a3]
                o1 = GMUL[M9, a0] ^ GMUL[M14, a1] ^ GMUL[M11, a2] ^ GMUL[M13, a3]
                o2 = GMUL[M13, a0] ^ GMUL[M9, a1] ^ GMUL[M14, a2] ^ GMUL[M11, a3]
                o3 = GMUL[M11, a0] ^ GMUL[M13, a1] ^ GMUL[M9, a2] ^ GMUL[M14, a3]
            col = np.uint64(o0 | (o1 << 8) | (o2 << 16) | (o3 << 24))
            if c < 2:
                rlo |= col << np.uint64(32 * c)
            else:
                rhi |= col << np.uint64(32 * (c - 2))
    regs[vd] = rlo
    regs[vd + 1] = rhi


# --- SHA -------------------------------------------------------------------------------
# 128-bit values are handled as their four 32-bit elements (element 0 first), in
# uint64 scalars masked to 32 bits: no allocation.

@njit(cache=True, _nrt=False)
def _rol(x, n):
    return ((x << np.uint64(n)) | (x >> np.uint64(32 - n))) & M32


@njit(cache=True, _nrt=False)
def _ror(x, n):
    return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & M32


@njit(cache=True, _nrt=False)
def _w(regs, v, e):
    """Element e (32 bits) of V register v."""
    w = regs[VREG + 2 * v + (e >> 1)]
    return (w >> np.uint64(32 * (e & 1))) & M32


@njit(cache=True, _nrt=False)
def _store(regs, v, w0, w1, w2, w3):
    regs[VREG + 2 * v] = (w0 & M32) | ((w1 & M32) << np.uint64(32))
    regs[VREG + 2 * v + 1] = (w2 & M32) | ((w3 & M32) << np.uint64(32))


@njit(cache=True, _nrt=False)
def sha1_3(regs, opc, rd, rn, rm):
    x0 = _w(regs, rd, 0)
    x1 = _w(regs, rd, 1)
    x2 = _w(regs, rd, 2)
    x3 = _w(regs, rd, 3)
    if opc == 3:                                    # SHA1SU0
        # (Vn<63:0> : Vd<127:64>) ^ Vd ^ Vm
        _store(regs, rd, x2 ^ x0 ^ _w(regs, rm, 0), x3 ^ x1 ^ _w(regs, rm, 1),
               _w(regs, rn, 0) ^ x2 ^ _w(regs, rm, 2), _w(regs, rn, 1) ^ x3 ^ _w(regs, rm, 3))
        return
    y = _w(regs, rn, 0)
    for e in range(4):
        if opc == 0:                                # SHA1C: choose
            t = ((x2 ^ x3) & x1) ^ x3
        elif opc == 1:                              # SHA1P: parity
            t = x1 ^ x2 ^ x3
        else:                                       # SHA1M: majority
            t = (x1 & x2) | ((x1 | x2) & x3)
        y = (y + _rol(x0, 5) + t + _w(regs, rm, e)) & M32
        x1 = _rol(x1, 30)
        # <Y, X> = ROL(Y : X, 32)
        top = x3
        x3 = x2
        x2 = x1
        x1 = x0
        x0 = y
        y = top
    _store(regs, rd, x0, x1, x2, x3)


@njit(cache=True, _nrt=False)
def sha1_2(regs, opc, rd, rn):
    if opc == 0:                                    # SHA1H
        regs[VREG + 2 * rd] = _rol(_w(regs, rn, 0), 30)
        regs[VREG + 2 * rd + 1] = U0
        return
    # SHA1SU1: T = Vd ^ (Vn >> 32)
    t0 = _w(regs, rd, 0) ^ _w(regs, rn, 1)
    t1 = _w(regs, rd, 1) ^ _w(regs, rn, 2)
    t2 = _w(regs, rd, 2) ^ _w(regs, rn, 3)
    t3 = _w(regs, rd, 3)
    _store(regs, rd, _rol(t0, 1), _rol(t1, 1), _rol(t2, 1), _rol(t3, 1) ^ _rol(t0, 2))


@njit(cache=True, _nrt=False)
def sha256_3(regs, opc, rd, rn, rm):
    d0 = _w(regs, rd, 0)
    d1 = _w(regs, rd, 1)
    d2 = _w(regs, rd, 2)
    d3 = _w(regs, rd, 3)
    n0 = _w(regs, rn, 0)
    n1 = _w(regs, rn, 1)
    n2 = _w(regs, rn, 2)
    n3 = _w(regs, rn, 3)
    if opc == 2:                                    # SHA256SU1
        # T0 = Vm<31:0> : Vn<127:32>; T1 = Vm<127:64>, then the result's low half
        m0 = _w(regs, rm, 0)
        s = _w(regs, rm, 2)
        r0 = ((_ror(s, 17) ^ _ror(s, 19) ^ (s >> np.uint64(10))) + d0 + n1) & M32
        s = _w(regs, rm, 3)
        r1 = ((_ror(s, 17) ^ _ror(s, 19) ^ (s >> np.uint64(10))) + d1 + n2) & M32
        r2 = ((_ror(r0, 17) ^ _ror(r0, 19) ^ (r0 >> np.uint64(10))) + d2 + n3) & M32
        r3 = ((_ror(r1, 17) ^ _ror(r1, 19) ^ (r1 >> np.uint64(10))) + d3 + m0) & M32
        _store(regs, rd, r0, r1, r2, r3)
        return
    # SHA256H: X = Vd, Y = Vn, result X; SHA256H2: X = Vn, Y = Vd, result Y
    if opc == 0:
        x0, x1, x2, x3, y0, y1, y2, y3 = d0, d1, d2, d3, n0, n1, n2, n3
    else:
        x0, x1, x2, x3, y0, y1, y2, y3 = n0, n1, n2, n3, d0, d1, d2, d3
    for e in range(4):
        chs = ((y1 ^ y2) & y0) ^ y2
        maj = (x0 & x1) | ((x0 | x1) & x2)
        t = (y3 + (_ror(y0, 6) ^ _ror(y0, 11) ^ _ror(y0, 25)) + chs + _w(regs, rm, e)) & M32
        x3 = (t + x3) & M32
        y3 = (t + (_ror(x0, 2) ^ _ror(x0, 13) ^ _ror(x0, 22)) + maj) & M32
        # <Y, X> = ROL(Y : X, 32)
        ytop = y3
        y3 = y2
        y2 = y1
        y1 = y0
        y0 = x3
        x3 = x2
        x2 = x1
        x1 = x0
        x0 = ytop
    if opc == 0:
        _store(regs, rd, x0, x1, x2, x3)
    else:
        _store(regs, rd, y0, y1, y2, y3)


@njit(cache=True, _nrt=False)
def sha256su0(regs, rd, rn):
    # T = Vn<31:0> : Vd<127:32>; result e = sigma0(T e) + Vd e
    r0 = U0
    r1 = U0
    r2 = U0
    r3 = U0
    for e in range(4):
        s = _w(regs, rd, e + 1) if e < 3 else _w(regs, rn, 0)
        s = ((_ror(s, 7) ^ _ror(s, 18) ^ (s >> np.uint64(3))) + _w(regs, rd, e)) & M32
        if e == 0:
            r0 = s
        elif e == 1:
            r1 = s
        elif e == 2:
            r2 = s
        else:
            r3 = s
    _store(regs, rd, r0, r1, r2, r3)


@njit(cache=True, _nrt=False)
def crypto(regs, kind, rd, rn, rm, opc):
    if kind == SX_AES:
        aes(regs, opc, rd, rn)
    elif kind == SX_SHA1_3:
        sha1_3(regs, opc, rd, rn, rm)
    elif kind == SX_SHA256_3:
        sha256_3(regs, opc, rd, rn, rm)
    elif kind == SX_SHA1_2:
        sha1_2(regs, opc, rd, rn)
    else:
        sha256su0(regs, rd, rn)
