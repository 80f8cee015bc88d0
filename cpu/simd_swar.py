"""Advanced SIMD integer operations on whole 64-bit words ("SIMD within a register").

The lane loops of cpu/simd_int.py extract and insert every element; the operations
compiled code uses most (glibc's string functions, memcpy, checksums) are done here
on both 64-bit halves of a V register at once instead, with per-lane carry and
borrow kept inside each lane by masking the lanes' top bits:

- three same: AND/BIC/ORR/ORN/EOR/BSL/BIT/BIF, ADD/SUB, CMEQ/CMTST, CMGT/CMHI,
  CMGE/CMHS, [SU]MAX/[SU]MIN, their pairwise forms [SU]MAXP/[SU]MINP and ADDP, MUL,
  MLA, MLS (and MUL/MLA/MLS by element);
- two-register misc: CMEQ/CMGT/CMGE/CMLE/CMLT #0, NOT, [SU]ADDLP, [SU]ADALP, XTN;
- shift by immediate: [SU]SHR, SHL, SHRN, [SU]SHLL (SXTL/UXTL);
- across lanes: [SU]MAXV, [SU]MINV, ADDV.

`simd_swar` is these forms' one definition: cpu/simd_int.simd_int tries it first
and runs its lane loops only for the forms it declines.  Every function takes and
returns uint64 words; `eb` is the element size in bits (8, 16, 32 or 64).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.opids import unpack_SIMD
from pyaarch64.cpu.ops import VREG
from pyaarch64.cpu.isa.simd import K_3SAME, K_2MISC, K_ACROSS, K_SHIFT, K_ELEM

U0 = np.uint64(0)
U1 = np.uint64(1)
U32 = np.uint64(32)
M32 = np.uint64(0xFFFFFFFF)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


# --- lane masks ---------------------------------------------------------------------

@njit(cache=True, _nrt=False, forceinline=True)
def ones(eb):
    """All bits of one lane."""
    if eb >= 64:
        return M64
    return (U1 << np.uint64(eb)) - U1


@njit(cache=True, _nrt=False, forceinline=True)
def lsbs(eb):
    """Bit 0 of every lane."""
    if eb == 8:
        return np.uint64(0x0101010101010101)
    if eb == 16:
        return np.uint64(0x0001000100010001)
    if eb == 32:
        return np.uint64(0x0000000100000001)
    return U1


@njit(cache=True, _nrt=False, forceinline=True)
def msbs(eb):
    """The top bit of every lane."""
    return lsbs(eb) << np.uint64(eb - 1)


@njit(cache=True, _nrt=False, forceinline=True)
def rep(v, eb):
    """v (< 2**eb) in every lane."""
    return v * lsbs(eb)


@njit(cache=True, _nrt=False, forceinline=True)
def spread(t, eb):
    """Whole-lane masks from lane top bits (t has only lane top bits set)."""
    return (t >> np.uint64(eb - 1)) * ones(eb)


# --- lane arithmetic --------------------------------------------------------------------

@njit(cache=True, _nrt=False, forceinline=True)
def add(a, b, eb):
    h = msbs(eb)
    return ((a & ~h) + (b & ~h)) ^ ((a ^ b) & h)


@njit(cache=True, _nrt=False, forceinline=True)
def sub(a, b, eb):
    h = msbs(eb)
    return ((a | h) - (b & ~h)) ^ ((a ^ ~b) & h)


@njit(cache=True, _nrt=False, forceinline=True)
def nonzero(x, eb):
    """Top bit of each lane set where the lane of x is not zero."""
    h = msbs(eb)
    return (((x & ~h) + ~h) | x) & h


@njit(cache=True, _nrt=False, forceinline=True)
def below(a, b, eb):
    """Top bit of each lane set where a < b (unsigned): the borrow of a - b."""
    return ((~a & b) | (~(a ^ b) & sub(a, b, eb))) & msbs(eb)


@njit(cache=True, _nrt=False, forceinline=True)
def pick(m, a, b):
    """b where the mask m is set, else a."""
    return (a & ~m) | (b & m)


@njit(cache=True, _nrt=False, forceinline=True)
def maxmin(a, b, eb, signed, is_min):
    s = msbs(eb) if signed else U0
    lt = spread(below(a ^ s, b ^ s, eb), eb)
    return pick(lt, b, a) if is_min else pick(lt, a, b)


@njit(cache=True, _nrt=False, forceinline=True)
def sext2(v, eb):
    """Values of eb bits in 2*eb-bit lanes, sign-extended to the whole lane."""
    s = lsbs(2 * eb) << np.uint64(eb - 1)
    return sub(v ^ s, s, 2 * eb)


# --- pairs of lanes and narrowing -----------------------------------------------------

@njit(cache=True, _nrt=False, forceinline=True)
def evens(w, eb):
    """Lanes 0, 2, 4, ... (eb < 64) in 2*eb-bit lanes."""
    return w & rep(ones(eb), 2 * eb)


@njit(cache=True, _nrt=False, forceinline=True)
def odds(w, eb):
    return (w >> np.uint64(eb)) & rep(ones(eb), 2 * eb)


@njit(cache=True, _nrt=False, forceinline=True)
def pack(x, eb):
    """Values of eb bits (eb < 64) in 2*eb-bit lanes, packed into the low 32 bits."""
    if eb == 8:
        x = (x | (x >> np.uint64(8))) & np.uint64(0x0000FFFF0000FFFF)
        x = x | (x >> np.uint64(16))
    elif eb == 16:
        x = x | (x >> np.uint64(16))
    return x & M32


@njit(cache=True, _nrt=False, forceinline=True)
def unpack(x, eb):
    """The inverse of pack: 32 bits of eb-bit lanes into 2*eb-bit lanes."""
    x &= M32
    if eb == 8:
        x = (x | (x << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
        x = (x | (x << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    elif eb == 16:
        x = (x | (x << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return x


@njit(cache=True, _nrt=False, forceinline=True)
def pairwise(w, eb, kind, signed):
    """The pairwise results of one 64-bit word (eb < 64), packed into 32 bits: kind
    0 ADDP, 1 MAXP, 2 MINP."""
    a = evens(w, eb)
    b = odds(w, eb)
    if kind == 0:
        r = (a + b) & rep(ones(eb), 2 * eb)
    else:
        r = maxmin(a << np.uint64(eb), b << np.uint64(eb), 2 * eb, signed, kind == 2) >> np.uint64(eb)
    return pack(r, eb)


@njit(cache=True, _nrt=False, forceinline=True)
def cmp_zero(w, eb, opc, U):
    """CMGT (opc 8, U 0), CMGE (8, 1), CMEQ (9, 0), CMLE (9, 1), CMLT (10) #0 of one word."""
    h = msbs(eb)
    sg = w & h
    zero = ~nonzero(w, eb) & h
    if opc == 8:
        t = (h & ~sg & ~zero) if U == 0 else (h & ~sg)
    elif opc == 9:
        t = zero if U == 0 else (sg | zero)
    else:
        t = sg
    return spread(t, eb)


@njit(cache=True, _nrt=False, forceinline=True)
def add_pairs(w, d, eb, U, acc):
    """[SU]ADDLP of one word (U 1: unsigned), added to d lane by lane with acc ([SU]ADALP)."""
    a = evens(w, eb)
    b = odds(w, eb)
    if U == 0:
        r = add(sext2(a, eb), sext2(b, eb), 2 * eb)
    else:
        r = a + b                          # (no carry out of a lane)
    if acc:
        r = add(r, d, 2 * eb)
    return r


@njit(cache=True, _nrt=False, forceinline=True)
def shr_word(w, eb, rsh, signed):
    """SSHR / USHR of one word by rsh (1..eb)."""
    keep = U0 if rsh >= eb else rep(ones(eb) >> np.uint64(rsh), eb)
    r = U0 if rsh >= 64 else (w >> np.uint64(rsh)) & keep
    if signed:
        r |= spread(w & msbs(eb), eb) & ~keep     # the sign fills the vacated bits
    return r


@njit(cache=True, _nrt=False, forceinline=True)
def put_narrow(regs, vd, Q, r):
    """Write a narrowed 64-bit result: the low half (the high half zeroed), or with Q
    (XTN2, SHRN2, ...) the high half, the low half kept."""
    if Q:
        regs[vd + 1] = r
    else:
        regs[vd] = r
        regs[vd + 1] = U0


# --- the forms ---------------------------------------------------------------------------

@njit(cache=True, _nrt=False, forceinline=True)
def same(opc, U, a, b, d, eb):
    """Three-same operation on one word: (result, done)."""
    if opc == 3:                                       # bitwise: the "size" field is the op
        if U == 0:
            if eb == 8:
                return a & b, True                     # AND
            if eb == 16:
                return a & ~b, True                    # BIC
            if eb == 32:
                return a | b, True                     # ORR
            return a | ~b, True                        # ORN
        if eb == 8:
            return a ^ b, True                         # EOR
        if eb == 16:
            return pick(d, b, a), True                 # BSL
        if eb == 32:
            return pick(b, d, a), True                 # BIT
        return pick(b, a, d), True                     # BIF
    h = msbs(eb)
    if opc == 16:
        return (sub(a, b, eb) if U else add(a, b, eb)), True          # SUB / ADD
    if opc == 17:
        if U:
            return spread(~nonzero(a ^ b, eb) & h, eb), True          # CMEQ
        return spread(nonzero(a & b, eb), eb), True                   # CMTST
    s = U0 if U else h                                 # signed: compare with top bits flipped
    if opc == 6:
        return spread(below(b ^ s, a ^ s, eb), eb), True              # CMGT / CMHI
    if opc == 7:
        return spread(~below(a ^ s, b ^ s, eb) & h, eb), True         # CMGE / CMHS
    if opc == 12 or opc == 13:
        return maxmin(a, b, eb, U == 0, opc == 13), True              # [SU]MAX / [SU]MIN
    return U0, False


@njit(cache=True, _nrt=False, forceinline=True)
def mul_word(a, b, d, eb, acc):
    """Lane products of one word (eb < 64), alone (acc 0: MUL), added to d (1: MLA) or
    subtracted from it (2: MLS): one multiply per lane, no lane extraction table."""
    m = ones(eb)
    r = U0
    for i in range(64 // eb):
        sh = np.uint64(i * eb)
        p = ((a >> sh) & m) * ((b >> sh) & m)
        if acc == 1:
            p = ((d >> sh) & m) + p
        elif acc == 2:
            p = ((d >> sh) & m) - p
        r |= (p & m) << sh
    return r


@njit(cache=True, _nrt=False)
def simd_swar(regs, rd, rn, rm, aux):
    """Run the decoded SIMD op (cpu/isa/simd.py's aux) if it is one of this module's
    forms; returns False (nothing written) otherwise."""
    kind, scalar, Q, U, size, opc, x = unpack_SIMD(aux)
    if scalar:
        Q = 0                                          # one 64-bit element: the low half
    eb = 8 << size
    vn = VREG + 2 * rn
    vd = VREG + 2 * rd
    nlo = regs[vn]
    nhi = regs[vn + 1]
    if kind == K_3SAME:
        vm = VREG + 2 * rm
        mlo = regs[vm]
        mhi = regs[vm + 1]
        if opc == 20 or opc == 21 or opc == 23:        # [SU]MAXP [SU]MINP ADDP (vector)
            pk = 1 if opc == 20 else (2 if opc == 21 else 0)
            if opc == 23:
                U = 1
            if eb == 64:                               # ADDP .2D
                rlo = nlo + nhi
                rhi = mlo + mhi
            elif Q:
                rlo = pairwise(nlo, eb, pk, U == 0) | (pairwise(nhi, eb, pk, U == 0) << U32)
                rhi = pairwise(mlo, eb, pk, U == 0) | (pairwise(mhi, eb, pk, U == 0) << U32)
            else:
                rlo = pairwise(nlo, eb, pk, U == 0) | (pairwise(mlo, eb, pk, U == 0) << U32)
                rhi = U0
            regs[vd] = rlo
            regs[vd + 1] = rhi
            return True
        if opc == 18 or (opc == 19 and U == 0):    # MLA / MLS, MUL (vector)
            acc = 0 if opc == 19 else 1 + U
            regs[vd] = mul_word(nlo, mlo, regs[vd], eb, acc)
            regs[vd + 1] = mul_word(nhi, mhi, regs[vd + 1], eb, acc) if Q else U0
            return True
        rlo, ok = same(opc, U, nlo, mlo, regs[vd], eb)
        if not ok:
            return False
        rhi = U0
        if Q:
            rhi, ok = same(opc, U, nhi, mhi, regs[vd + 1], eb)
        regs[vd] = rlo
        regs[vd + 1] = rhi
        return True
    if kind == K_ELEM:
        if scalar or not (opc == 0 or opc == 4 or opc == 8):
            return False
        # MLA, MLS, MUL by element: element x of Vm in every lane
        w = regs[VREG + 2 * rm + (x * eb >> 6)]
        b = rep((w >> np.uint64((x * eb) & 63)) & ones(eb), eb)
        acc = 0 if opc == 8 else (1 if opc == 0 else 2)
        regs[vd] = mul_word(nlo, b, regs[vd], eb, acc)
        regs[vd + 1] = mul_word(nhi, b, regs[vd + 1], eb, acc) if Q else U0
        return True
    if kind == K_2MISC:
        if opc == 8 or opc == 9 or opc == 10:          # CMGT CMGE CMEQ CMLE CMLT #0
            regs[vd] = cmp_zero(nlo, eb, opc, U)
            regs[vd + 1] = cmp_zero(nhi, eb, opc, U) if Q else U0
            return True
        if opc == 5 and U == 1 and size == 0:          # NOT
            regs[vd] = ~nlo
            regs[vd + 1] = ~nhi if Q else U0
            return True
        if opc == 2 or opc == 6:                       # [SU]ADDLP [SU]ADALP
            regs[vd] = add_pairs(nlo, regs[vd], eb, U, opc == 6)
            regs[vd + 1] = add_pairs(nhi, regs[vd + 1], eb, U, opc == 6) if Q else U0
            return True
        if opc == 0x12 and U == 0:                     # XTN / XTN2 (eb: the narrow size)
            r = pack(nlo & rep(ones(eb), 2 * eb), eb) | (pack(nhi & rep(ones(eb), 2 * eb), eb) << U32)
            put_narrow(regs, vd, Q, r)
            return True
        return False
    if kind == K_SHIFT:
        eb = 8 << size                                 # size: log2 of the element bytes (from immh)
        rsh = 2 * eb - x                               # right shifts: 1..eb
        lsh = x - eb                                   # left shifts: 0..eb-1
        if opc == 0:                                   # SSHR / USHR
            regs[vd] = shr_word(nlo, eb, rsh, U == 0)
            regs[vd + 1] = shr_word(nhi, eb, rsh, U == 0) if Q else U0
            return True
        if opc == 10 and U == 0:                       # SHL
            keep = rep((ones(eb) << np.uint64(lsh)) & ones(eb), eb)
            regs[vd] = (nlo << np.uint64(lsh)) & keep
            regs[vd + 1] = ((nhi << np.uint64(lsh)) & keep) if Q else U0
            return True
        if opc == 16 and U == 0:                       # SHRN / SHRN2 (eb: the narrow size)
            e = rep(ones(eb), 2 * eb)
            r = pack((nlo >> np.uint64(rsh)) & e, eb) | (pack((nhi >> np.uint64(rsh)) & e, eb) << U32)
            put_narrow(regs, vd, Q, r)
            return True
        if opc == 20:                                  # SSHLL / USHLL (SXTL / UXTL), [2]
            w = nhi if Q else nlo
            keep = rep((ones(2 * eb) << np.uint64(lsh)) & ones(2 * eb), 2 * eb)
            lo = unpack(w, eb)
            hi = unpack(w >> U32, eb)
            if U == 0:
                lo = sext2(lo, eb)
                hi = sext2(hi, eb)
            regs[vd] = (lo << np.uint64(lsh)) & keep
            regs[vd + 1] = (hi << np.uint64(lsh)) & keep
            return True
        return False
    if kind == K_ACROSS:
        if opc != 10 and opc != 26 and opc != 27:      # [SU]MAXV [SU]MINV ADDV
            return False
        w = nlo
        width = 64
        if Q:
            width = 128
        # fold the lanes in halves: one op per halving, on whole words
        while width > eb:
            width //= 2
            if width == 64:
                other = nhi
            else:
                other = w >> np.uint64(width)
            if opc == 27:
                w = add(w, other, eb)
            else:
                w = maxmin(w, other, eb, U == 0, opc == 26)
        regs[vd] = w & ones(eb)
        regs[vd + 1] = U0
        return True
    return False
