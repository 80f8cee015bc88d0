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
    sbox = [0] * 256
    for x in range(256):
        inv = 0
        if x:
            inv = 1
            for _ in range(254):                 # x^254 = x^-1 in GF(2^8)
                inv = _gmul_py(inv, x)
        s = inv
        for k in range(1, 5):
            s ^= ((inv << k) | (inv >> (8 - k))) & 0xFF
        sbox[x] = s ^ 0x63
    inv_sbox = [0] * 256
    for x, s in enumerate(sbox):
        inv_sbox[s] = x
    return np.array(sbox, dtype=np.int64), np.array(inv_sbox, dtype=np.int64)


SBOX, INV_SBOX = _sboxes()
U0 = np.uint64(0)
M32 = np.uint64(0xFFFFFFFF)


@njit(cache=True)
def _xt(a):
    a <<= 1
    if a & 0x100:
        a ^= 0x11B
    return a


@njit(cache=True)
def _gmul(a, b):
    p = 0
    for _ in range(8):
        if b & 1:
            p ^= a
        a = _xt(a)
        b >>= 1
    return p


@njit(cache=True)
def _bytes(lo, hi):
    s = np.empty(16, np.int64)
    for i in range(8):
        s[i] = np.int64((lo >> np.uint64(8 * i)) & np.uint64(0xFF))
        s[8 + i] = np.int64((hi >> np.uint64(8 * i)) & np.uint64(0xFF))
    return s


@njit(cache=True)
def _put(regs, vd, s):
    lo = U0
    hi = U0
    for i in range(8):
        lo |= np.uint64(s[i]) << np.uint64(8 * i)
        hi |= np.uint64(s[8 + i]) << np.uint64(8 * i)
    regs[vd] = lo
    regs[vd + 1] = hi


@njit(cache=True)
def aes(regs, opc, rd, rn):
    vd = VREG + 2 * rd
    vn = VREG + 2 * rn
    out = np.empty(16, np.int64)
    if opc <= 1:
        s = _bytes(regs[vd] ^ regs[vn], regs[vd + 1] ^ regs[vn + 1])
        for c in range(4):
            for r in range(4):
                if opc == 0:        # AESE: SubBytes(ShiftRows(x))
                    out[r + 4 * c] = SBOX[s[r + 4 * ((c + r) & 3)]]
                else:               # AESD: InvSubBytes(InvShiftRows(x))
                    out[r + 4 * ((c + r) & 3)] = INV_SBOX[s[r + 4 * c]]
    else:
        s = _bytes(regs[vn], regs[vn + 1])
        for c in range(4):
            a0 = s[4 * c]
            a1 = s[4 * c + 1]
            a2 = s[4 * c + 2]
            a3 = s[4 * c + 3]
            if opc == 2:            # AESMC: MixColumns
                out[4 * c] = _gmul(a0, 2) ^ _gmul(a1, 3) ^ a2 ^ a3
                out[4 * c + 1] = a0 ^ _gmul(a1, 2) ^ _gmul(a2, 3) ^ a3
                out[4 * c + 2] = a0 ^ a1 ^ _gmul(a2, 2) ^ _gmul(a3, 3)
                out[4 * c + 3] = _gmul(a0, 3) ^ a1 ^ a2 ^ _gmul(a3, 2)
            else:                   # AESIMC: InvMixColumns
                out[4 * c] = _gmul(a0, 14) ^ _gmul(a1, 11) ^ _gmul(a2, 13) ^ _gmul(a3, 9)
                out[4 * c + 1] = _gmul(a0, 9) ^ _gmul(a1, 14) ^ _gmul(a2, 11) ^ _gmul(a3, 13)
                out[4 * c + 2] = _gmul(a0, 13) ^ _gmul(a1, 9) ^ _gmul(a2, 14) ^ _gmul(a3, 11)
                out[4 * c + 3] = _gmul(a0, 11) ^ _gmul(a1, 13) ^ _gmul(a2, 9) ^ _gmul(a3, 14)
    _put(regs, vd, out)


# --- SHA -------------------------------------------------------------------------------

@njit(cache=True)
def _rol(x, n):
    return ((x << np.uint64(n)) | (x >> np.uint64(32 - n))) & M32


@njit(cache=True)
def _ror(x, n):
    return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & M32


@njit(cache=True)
def _words(regs, v):
    """The four 32-bit elements of V register v (element 0 first)."""
    w = np.empty(4, np.uint64)
    lo = regs[VREG + 2 * v]
    hi = regs[VREG + 2 * v + 1]
    w[0] = lo & M32
    w[1] = lo >> np.uint64(32)
    w[2] = hi & M32
    w[3] = hi >> np.uint64(32)
    return w


@njit(cache=True)
def _store(regs, v, w):
    regs[VREG + 2 * v] = (w[0] & M32) | ((w[1] & M32) << np.uint64(32))
    regs[VREG + 2 * v + 1] = (w[2] & M32) | ((w[3] & M32) << np.uint64(32))


@njit(cache=True)
def sha1_3(regs, opc, rd, rn, rm):
    x = _words(regs, rd)
    w = _words(regs, rm)
    if opc == 3:                                    # SHA1SU0
        n = _words(regs, rn)
        r = np.empty(4, np.uint64)
        # (Vn<63:0> : Vd<127:64>) ^ Vd ^ Vm
        r[0] = x[2] ^ x[0] ^ w[0]
        r[1] = x[3] ^ x[1] ^ w[1]
        r[2] = n[0] ^ x[2] ^ w[2]
        r[3] = n[1] ^ x[3] ^ w[3]
        _store(regs, rd, r)
        return
    y = regs[VREG + 2 * rn] & M32
    for e in range(4):
        if opc == 0:                                # SHA1C: choose
            t = ((x[2] ^ x[3]) & x[1]) ^ x[3]
        elif opc == 1:                              # SHA1P: parity
            t = x[1] ^ x[2] ^ x[3]
        else:                                       # SHA1M: majority
            t = (x[1] & x[2]) | ((x[1] | x[2]) & x[3])
        y = (y + _rol(x[0], 5) + t + w[e]) & M32
        x[1] = _rol(x[1], 30)
        # <Y, X> = ROL(Y : X, 32)
        top = x[3]
        x[3] = x[2]
        x[2] = x[1]
        x[1] = x[0]
        x[0] = y
        y = top
    _store(regs, rd, x)


@njit(cache=True)
def sha1_2(regs, opc, rd, rn):
    n = _words(regs, rn)
    if opc == 0:                                    # SHA1H
        regs[VREG + 2 * rd] = _rol(n[0], 30)
        regs[VREG + 2 * rd + 1] = U0
        return
    d = _words(regs, rd)                            # SHA1SU1
    t = np.empty(4, np.uint64)
    t[0] = d[0] ^ n[1]
    t[1] = d[1] ^ n[2]
    t[2] = d[2] ^ n[3]
    t[3] = d[3]
    r = np.empty(4, np.uint64)
    r[0] = _rol(t[0], 1)
    r[1] = _rol(t[1], 1)
    r[2] = _rol(t[2], 1)
    r[3] = _rol(t[3], 1) ^ _rol(t[0], 2)
    _store(regs, rd, r)


@njit(cache=True)
def _sha256hash(x, y, w, part1):
    for e in range(4):
        chs = ((y[1] ^ y[2]) & y[0]) ^ y[2]
        maj = (x[0] & x[1]) | ((x[0] | x[1]) & x[2])
        t = (y[3] + (_ror(y[0], 6) ^ _ror(y[0], 11) ^ _ror(y[0], 25)) + chs + w[e]) & M32
        x[3] = (t + x[3]) & M32
        y[3] = (t + (_ror(x[0], 2) ^ _ror(x[0], 13) ^ _ror(x[0], 22)) + maj) & M32
        # <Y, X> = ROL(Y : X, 32)
        ytop = y[3]
        xtop = x[3]
        y[3] = y[2]
        y[2] = y[1]
        y[1] = y[0]
        y[0] = xtop
        x[3] = x[2]
        x[2] = x[1]
        x[1] = x[0]
        x[0] = ytop
    return x if part1 else y


@njit(cache=True)
def sha256_3(regs, opc, rd, rn, rm):
    d = _words(regs, rd)
    n = _words(regs, rn)
    m = _words(regs, rm)
    if opc == 0:                                    # SHA256H
        _store(regs, rd, _sha256hash(d, n, m, True))
    elif opc == 1:                                  # SHA256H2
        _store(regs, rd, _sha256hash(n, d, m, False))
    else:                                           # SHA256SU1
        t0 = np.empty(4, np.uint64)                 # Vm<31:0> : Vn<127:32>
        t0[0] = n[1]
        t0[1] = n[2]
        t0[2] = n[3]
        t0[3] = m[0]
        r = np.empty(4, np.uint64)
        for e in range(4):
            s = m[2 + e] if e < 2 else r[e - 2]
            s = _ror(s, 17) ^ _ror(s, 19) ^ (s >> np.uint64(10))
            r[e] = (s + d[e] + t0[e]) & M32
        _store(regs, rd, r)


@njit(cache=True)
def sha256su0(regs, rd, rn):
    d = _words(regs, rd)
    n = _words(regs, rn)
    r = np.empty(4, np.uint64)
    for e in range(4):
        s = d[e + 1] if e < 3 else n[0]             # Vn<31:0> : Vd<127:32>
        s = _ror(s, 7) ^ _ror(s, 18) ^ (s >> np.uint64(3))
        r[e] = (s + d[e]) & M32
    _store(regs, rd, r)


@njit(cache=True)
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
