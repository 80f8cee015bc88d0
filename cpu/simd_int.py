"""Advanced SIMD integer and bitwise data processing (slow op SIMD, decoded by
cpu/isa/simd.py): three same / three different / two-register misc / across lanes /
scalar pairwise / shift by immediate / by element, vector and scalar forms.

Table-driven lane loops: a V register is read as its two 64-bit halves and lanes
are extracted and inserted by position, so one loop per class serves every
arrangement; element operations take and return lane bit patterns (uint64) plus
a saturation flag that sets FPSR.QC (sticky), as the Arm ARM's SatQ does.

Numeric discipline (see DESIGN §2.2): lane values are uint64 bit patterns; signed
views are int64 (sx); unsigned 64-bit lanes never go through int64 arithmetic
that would need more than 64 bits.
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.opids import unpack_SIMD
from pyaarch64.cpu.ops import VREG, C_PC
from pyaarch64.cpu.sysregs import S_FPSR, R_VAL
from pyaarch64.cpu.fpu import RECIP_EST, RSQRT_EST   # the FP estimate tables
from pyaarch64.cpu.isa.simd import K_3SAME, K_3DIFF, K_2MISC, K_ACROSS, K_PAIR, K_SHIFT, K_ELEM
from pyaarch64.cpu.simd_swar import simd_swar

U0 = np.uint64(0)
U1 = np.uint64(1)
U4 = np.uint64(4)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
SMAX64 = np.int64(0x7FFFFFFFFFFFFFFF)
SMIN64 = np.int64(-0x8000000000000000)
QC = np.uint64(1 << 27)
# Arguments of jitted calls are passed as these (numpy scalars type as plain bool/int64),
# never as Python literals: a literal argument makes numba compile one more
# specialisation of the callee (and of its whole call tree) per literal value.
NO = np.bool_(False)
YES = np.bool_(True)
I0 = np.int64(0)
I8 = np.int64(8)
IM1 = np.int64(-1)


# --- lanes --------------------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def emask(eb):
    if eb >= 64:
        return M64
    return (U1 << np.uint64(eb)) - U1


@njit(cache=True, _nrt=False)
def lane(lo, hi, i, eb):
    pos = i * eb
    w = lo
    if pos >= 64:
        w = hi
        pos -= 64
    if eb >= 64:
        return w
    return (w >> np.uint64(pos)) & emask(eb)


@njit(cache=True, _nrt=False)
def put(lo, hi, i, eb, v):
    """(lo, hi) with lane i (which must be zero) set to v."""
    pos = i * eb
    v = v & emask(eb)
    if pos >= 64:
        hi = hi | (v << np.uint64(pos - 64))
    else:
        lo = lo | (v << np.uint64(pos))
    return lo, hi


@njit(cache=True, _nrt=False)
def sx(v, eb):
    """Signed value (int64) of the eb-bit pattern v."""
    if eb >= 64:
        return np.int64(v)
    s = np.int64(64 - eb)
    return np.int64(v << np.uint64(s)) >> s


@njit(cache=True, _nrt=False)
def val(v, eb, uns):
    """Integer value of an eb-bit lane (eb < 64 for unsigned: exact in int64)."""
    if uns:
        return np.int64(v)
    return sx(v, eb)


# --- saturation (SatQ) ----------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def sat_s(v, eb, uns):
    """Saturate the exact signed value v (int64) to eb bits (unsigned range if uns);
    returns (bits, saturated)."""
    m = emask(eb)
    if uns:
        if v < 0:
            return U0, True
        uv = np.uint64(v)
        if uv > m:
            return m, True
        return uv, False
    if eb < 64:
        hi = np.int64(m >> U1)
        lo = -hi - 1
        if v > hi:
            return np.uint64(hi), True
        if v < lo:
            return np.uint64(lo) & m, True
    return np.uint64(v) & m, False


@njit(cache=True, _nrt=False)
def sat_u(v, eb, uns):
    """Saturate the exact unsigned value v (uint64) to eb bits (signed range unless uns)."""
    lim = emask(eb)
    if not uns:
        lim = lim >> U1
    if v > lim:
        return lim, True
    return v, False


@njit(cache=True, _nrt=False)
def qadd(a, b, eb, uns, sub):
    """SQADD/UQADD/SQSUB/UQSUB of two eb-bit lanes."""
    if eb < 64:
        x = val(a, eb, uns)
        y = val(b, eb, uns)
        return sat_s(x - y if sub else x + y, eb, uns)
    if uns:
        if sub:
            if a < b:
                return U0, True
            return a - b, False
        s = a + b
        if s < a:
            return M64, True
        return s, False
    sa = np.int64(a)
    sb = np.int64(b)
    if sub:
        r = np.int64(a - b)
        ovf = ((sa ^ sb) & (sa ^ r)) < 0
    else:
        r = np.int64(a + b)
        ovf = ((sa ^ r) & (sb ^ r)) < 0
    if ovf:
        return (np.uint64(SMAX64) if sa >= 0 else np.uint64(SMIN64)), True
    return np.uint64(r), False


@njit(cache=True, _nrt=False)
def sqadd_u(d, n, eb):
    """SUQADD: signed d + unsigned n, signed saturation."""
    if eb < 64:
        return sat_s(sx(d, eb) + np.int64(n), eb, NO)
    sd = np.int64(d)
    if sd >= 0:
        s = d + n
        if s < n or s > np.uint64(SMAX64):
            return np.uint64(SMAX64), True
        return s, False
    mag = U0 - d                       # -sd as unsigned (2**63 for INT64_MIN)
    if n >= mag:
        s = n - mag
        if s > np.uint64(SMAX64):
            return np.uint64(SMAX64), True
        return s, False
    return d + n, False                # negative result: fits


@njit(cache=True, _nrt=False)
def uqadd_s(d, n, eb):
    """USQADD: unsigned d + signed n, unsigned saturation."""
    if eb < 64:
        return sat_s(np.int64(d) + sx(n, eb), eb, YES)
    if np.int64(n) >= 0:
        s = d + n
        if s < d:
            return M64, True
        return s, False
    mag = U0 - n
    if mag > d:
        return U0, True
    return d - mag, False


# --- shifts -------------------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def shr(a, n, eb, signed, rnd):
    """Exact (rounded if rnd) right shift by n >= 1 of an eb-bit lane: bits of the result
    (an int64 pattern when signed; the unsigned value, at most 2**63, otherwise)."""
    if signed:
        x = sx(a, eb)
        r = x >> np.int64(min(n, 63))
        if rnd:
            r += (x >> np.int64(min(n - 1, 63))) & 1
        return np.uint64(r)
    ur = U0
    if n < 64:
        ur = a >> np.uint64(n)
    if rnd and n - 1 < 64:
        ur += (a >> np.uint64(n - 1)) & U1
    return ur


@njit(cache=True, _nrt=False)
def shl_sat(a, n, eb, signed, uns_dst):
    """Saturating left shift by n >= 0 (SQSHL/UQSHL/SQSHLU): (bits, saturated)."""
    if signed and uns_dst and sx(a, eb) >= 0:
        signed = False                 # SQSHLU of a non-negative lane: as unsigned
    if signed:
        x = sx(a, eb)
        if x == 0:
            return U0, False
        if n < 64:
            sh = x << np.int64(n)
            if (sh >> np.int64(n)) == x:
                return sat_s(sh, eb, uns_dst)
        r, q = sat_s(SMIN64 if x < 0 else SMAX64, eb, uns_dst)
        return r, True
    if a == U0:
        return U0, False
    if n < 64:
        ur = a << np.uint64(n)
        if (ur >> np.uint64(n)) == a:
            return sat_u(ur, eb, uns_dst)
    return sat_u(M64, eb, uns_dst)[0], True


@njit(cache=True, _nrt=False)
def shift_reg(a, b, eb, uns, rnd, sat):
    """SSHL/USHL/SRSHL/URSHL/SQSHL/UQSHL/SQRSHL/UQRSHL: shift by the signed low byte of b."""
    sh = sx(b & np.uint64(0xFF), I8)
    if sh >= 0:
        if sat:
            return shl_sat(a, sh, eb, not uns, uns)
        if sh >= eb:
            return U0, False
        return (a << np.uint64(sh)) & emask(eb), False
    return shr(a, -sh, eb, not uns, rnd) & emask(eb), False


# --- element operations ---------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def clmul(a, b, nb):
    """Carry-less product of the low nb bits of a and b (nb <= 32)."""
    r = U0
    for i in range(nb):
        if (b >> np.uint64(i)) & U1:
            r ^= a << np.uint64(i)
    return r


@njit(cache=True, _nrt=False)
def same_op(opc, U, a, b, d, eb):
    """Three-same element operation (opcode, U) on eb-bit lanes: (bits, saturated).
    (Bitwise, ADD/SUB, the compares, MAX/MIN and the pairwise forms: cpu/simd_swar.py.)"""
    uns = U == 1
    m = emask(eb)
    if opc == 0 or opc == 2 or opc == 4:               # [SU]HADD [SU]RHADD [SU]HSUB (eb < 64)
        x = val(a, eb, uns)
        y = val(b, eb, uns)
        if opc == 4:
            h = (x - y) >> 1
        elif opc == 2:
            h = (x + y + 1) >> 1
        else:
            h = (x + y) >> 1
        return np.uint64(h) & m, False
    if opc == 1 or opc == 5:                           # [SU]QADD [SU]QSUB
        return qadd(a, b, eb, uns, opc == 5)
    if opc >= 8 and opc <= 11:                         # shifts by register
        return shift_reg(a, b, eb, uns, (opc & 2) != 0, (opc & 1) != 0)
    if opc == 14 or opc == 15:                         # [SU]ABD, [SU]ABA (eb < 64)
        x = val(a, eb, uns)
        y = val(b, eb, uns)
        ad = np.uint64(x - y if x > y else y - x)
        if opc == 15:
            ad = ad + d
        return ad & m, False
    if opc == 19 and uns:                              # PMUL (MUL, MLA, MLS: simd_swar)
        return clmul(a, b, I8) & m, False
    if opc == 22:                                      # SQDMULH / SQRDMULH (eb 16, 32)
        sp = sx(a, eb) * sx(b, eb)
        if uns:
            sp += np.int64(1) << np.int64(eb - 2)
        return sat_s(sp >> np.int64(eb - 1), eb, NO)
    return U0, False


@njit(cache=True, _nrt=False)
def sqdmull(a, b, eb):
    """2 * a * b of signed eb-bit lanes, saturated to 2*eb bits: (bits, saturated)."""
    p = sx(a, eb) * sx(b, eb)
    lim = np.int64(emask(2 * eb) >> np.uint64(2))       # max of 2eb bits, halved
    if p > lim:
        return emask(2 * eb) >> U1, True
    return np.uint64(p + p) & emask(2 * eb), False


@njit(cache=True, _nrt=False)
def long_op(opc, U, a, b, d, eb):
    """Three-different widening element operation on narrow a, b (eb bits) and wide d:
    the 2*eb-bit result (bits, saturated).  Opcodes 0, 2, 5, 7, 8..14."""
    uns = U == 1
    wm = emask(2 * eb)
    if opc == 9 or opc == 11 or opc == 13:             # SQDMLAL SQDMLSL SQDMULL
        p, q = sqdmull(a, b, eb)
        if opc == 13:
            return p, q
        r, q2 = qadd(d, p, 2 * eb, NO, opc == 11)
        return r, q or q2
    if opc == 14:                                      # PMULL (8-bit)
        return clmul(a, b, eb) & wm, False
    x = val(a, eb, uns)
    y = val(b, eb, uns)
    if opc == 0:
        return np.uint64(x + y) & wm, False
    if opc == 2:
        return np.uint64(x - y) & wm, False
    if opc == 5 or opc == 7:                           # [SU]ABAL [SU]ABDL
        r = np.uint64(x - y if x > y else y - x)
        if opc == 5:
            r = r + d
        return r & wm, False
    p = np.uint64(x * y)
    if opc == 8:
        return (d + p) & wm, False
    if opc == 10:
        return (d - p) & wm, False
    return p & wm, False                               # 12: [SU]MULL


# --- register access --------------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def vget(regs, v):
    return regs[VREG + 2 * v], regs[VREG + 2 * v + 1]


@njit(cache=True, _nrt=False)
def vset(regs, v, lo, hi):
    regs[VREG + 2 * v] = lo
    regs[VREG + 2 * v + 1] = hi


# --- classes ----------------------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def run_same(regs, rd, rn, rm, scalar, Q, U, opc, eb, bidx):
    """Three same (the forms cpu/simd_swar.py does not take) and same-width by element
    (bidx >= 0): returns saturated."""
    nlo, nhi = vget(regs, rn)
    mlo, mhi = vget(regs, rm)
    dlo, dhi = vget(regs, rd)
    nl = 1 if scalar else (128 if Q else 64) // eb
    rlo = U0
    rhi = U0
    sat = False
    for i in range(nl):
        a = lane(nlo, nhi, i, eb)
        b = lane(mlo, mhi, i if bidx < 0 else bidx, eb)
        r, q = same_op(opc, U, a, b, lane(dlo, dhi, i, eb), eb)
        sat = sat or q
        rlo, rhi = put(rlo, rhi, i, eb, r)
    vset(regs, rd, rlo, rhi)
    return sat


@njit(cache=True, _nrt=False)
def run_diff(regs, rd, rn, rm, scalar, Q, U, opc, eb, bidx):
    """Three different (and long by element when bidx >= 0); eb = narrow element size."""
    nlo, nhi = vget(regs, rn)
    mlo, mhi = vget(regs, rm)
    dlo, dhi = vget(regs, rd)
    rlo = U0
    rhi = U0
    sat = False
    if eb == 64:                                       # PMULL 1Q <- 1D x 1D
        a = nhi if Q else nlo
        b = mhi if Q else mlo
        for i in range(64):
            if (b >> np.uint64(i)) & U1:
                rlo ^= a << np.uint64(i)
                if i > 0:
                    rhi ^= a >> np.uint64(64 - i)
        vset(regs, rd, rlo, rhi)
        return False
    base = (64 // eb) if Q else 0                     # "2" forms read the upper halves
    nl = 1 if scalar else 64 // eb
    wb = 2 * eb
    if opc == 4 or opc == 6:                           # [R]ADDHN [R]SUBHN: narrow result
        rnd = U1 << np.uint64(eb - 1) if U == 1 else U0
        for i in range(nl):
            a = lane(nlo, nhi, i, wb)
            b = lane(mlo, mhi, i, wb)
            s = (a + b) if opc == 4 else (a - b)
            rlo, rhi = put(rlo, rhi, i, eb, ((s + rnd) & emask(wb)) >> np.uint64(eb))
        if Q:
            vset(regs, rd, dlo, rlo)
        else:
            vset(regs, rd, rlo, U0)
        return False
    for i in range(nl):
        d = lane(dlo, dhi, i, wb)
        if opc == 1 or opc == 3:                       # [SU]ADDW [SU]SUBW
            a = lane(nlo, nhi, i, wb)
            y = np.uint64(val(lane(mlo, mhi, base + i, eb), eb, U == 1))
            r = ((a + y) if opc == 1 else (a - y)) & emask(wb)
        else:
            a = lane(nlo, nhi, base + i, eb)
            b = lane(mlo, mhi, (base + i) if bidx < 0 else bidx, eb)
            r, q = long_op(opc, U, a, b, d, eb)
            sat = sat or q
        rlo, rhi = put(rlo, rhi, i, wb, r)
    vset(regs, rd, rlo, rhi)
    return sat


@njit(cache=True, _nrt=False)
def clz(v, eb):
    n = 0
    for i in range(eb - 1, -1, -1):
        if (v >> np.uint64(i)) & U1:
            break
        n += 1
    return n


@njit(cache=True, _nrt=False)
def run_misc(regs, rd, rn, scalar, Q, U, opc, eb):
    nlo, nhi = vget(regs, rn)
    dlo, dhi = vget(regs, rd)
    rlo = U0
    rhi = U0
    sat = False
    m = emask(eb)
    wb = 2 * eb
    if opc == 0x12 or opc == 0x14:                     # SQXTUN SQXTN UQXTN: narrow (XTN: simd_swar)
        nl = 1 if scalar else 64 // eb
        for i in range(nl):
            a = lane(nlo, nhi, i, wb)
            if opc == 0x12:
                r, q = sat_s(sx(a, wb), eb, YES)      # SQXTUN
                sat = sat or q
            elif U == 0:
                r, q = sat_s(sx(a, wb), eb, NO)     # SQXTN
                sat = sat or q
            else:
                r, q = sat_u(a, eb, YES)              # UQXTN
                sat = sat or q
            rlo, rhi = put(rlo, rhi, i, eb, r)
        if Q:
            vset(regs, rd, dlo, rlo)
        else:
            vset(regs, rd, rlo, U0)
        return sat
    if opc == 0x13:                                    # SHLL
        base = (64 // eb) if Q else 0
        for i in range(64 // eb):
            rlo, rhi = put(rlo, rhi, i, wb, lane(nlo, nhi, base + i, eb) << np.uint64(eb))
        vset(regs, rd, rlo, rhi)
        return False
    if opc == 0x1c:                                    # URECPE / URSQRTE (32-bit lanes)
        for i in range(4 if Q else 2):
            a = lane(nlo, nhi, i, 32)
            if U == 0 and (a >> np.uint64(31)) == U0 or U == 1 and (a >> np.uint64(30)) == U0:
                r = np.uint64(0xFFFFFFFF)
            else:
                t = np.int64(a >> np.uint64(23))        # operand<31:23>
                est = RECIP_EST[t] if U == 0 else RSQRT_EST[t]
                r = np.uint64(est & 0x1FF) << np.uint64(23)
            rlo, rhi = put(rlo, rhi, i, 32, r)
        vset(regs, rd, rlo, rhi)
        return False
    nl = 1 if scalar else (128 if Q else 64) // eb
    cont = 64 if U == 0 else 32                        # REV64 / REV32 (REV16: opcode 1)
    if opc == 1:
        cont = 16
    for i in range(nl):
        a = lane(nlo, nhi, i, eb)
        r = U0
        if opc == 0 or opc == 1:
            r = lane(nlo, nhi, i ^ (cont // eb - 1), eb)
        elif opc == 3:                                 # SUQADD / USQADD
            if U == 0:
                r, q = sqadd_u(lane(dlo, dhi, i, eb), a, eb)
            else:
                r, q = uqadd_s(lane(dlo, dhi, i, eb), a, eb)
            sat = sat or q
        elif opc == 4:                                 # CLS / CLZ
            if U == 1:
                r = np.uint64(clz(a, eb))
            else:
                r = np.uint64(clz((a ^ (a >> U1)) & (m >> U1), eb - 1))
        elif opc == 5 and U == 0:                      # CNT (NOT/RBIT: below)
            c = 0
            for k in range(8):
                c += np.int64((a >> np.uint64(k)) & U1)
            r = np.uint64(c)
        elif opc == 7:                                 # SQABS / SQNEG
            x = sx(a, eb)
            if U == 0 and x >= 0:
                r = a
            elif x == SMIN64 or (eb < 64 and x == -(np.int64(1) << np.int64(eb - 1))):
                r = m >> U1
                sat = True
            else:
                r = np.uint64(-x) & m
        elif opc == 11:                                # ABS / NEG
            x = sx(a, eb)
            if U == 0 and x >= 0:
                r = a
            else:
                r = (U0 - a) & m
        rlo, rhi = put(rlo, rhi, i, eb, r)
    if opc == 5 and U == 1:                            # RBIT, on whole halves (NOT: simd_swar)
        rlo = U0
        rhi = U0
        for k in range(2 if Q else 1):
            w = nlo if k == 0 else nhi
            r = U0
            for byte in range(8):
                bv = (w >> np.uint64(8 * byte)) & np.uint64(0xFF)
                rb = U0
                for j in range(8):
                    rb |= ((bv >> np.uint64(j)) & U1) << np.uint64(7 - j)
                r |= rb << np.uint64(8 * byte)
            if k == 0:
                rlo = r
            else:
                rhi = r
    vset(regs, rd, rlo, rhi)
    return sat


@njit(cache=True, _nrt=False)
def run_across(regs, rd, rn, Q, U, opc, eb):
    """[SU]ADDLV ([SU]MAXV, [SU]MINV and ADDV: cpu/simd_swar.py)."""
    nlo, nhi = vget(regs, rn)
    nl = (128 if Q else 64) // eb
    acc = np.int64(0)
    for i in range(nl):
        acc += val(lane(nlo, nhi, i, eb), eb, U == 1)
    vset(regs, rd, np.uint64(acc) & emask(2 * eb), U0)
    return False


@njit(cache=True, _nrt=False)
def run_shift(regs, rd, rn, scalar, Q, U, opc, lg, x):
    nlo, nhi = vget(regs, rn)
    dlo, dhi = vget(regs, rd)
    eb = 8 << lg
    m = emask(eb)
    rlo = U0
    rhi = U0
    sat = False
    rsh = 2 * eb - x                                   # right shifts: 1..eb
    lsh = x - eb                                       # left shifts: 0..eb-1
    if opc >= 16 and opc <= 19:                        # narrowing: source 2*eb
        wb = 2 * eb
        rnd = (opc & 1) == 1
        nl = 1 if scalar else 64 // eb
        for i in range(nl):
            a = lane(nlo, nhi, i, wb)
            if opc <= 17 and U == 0:                   # SHRN RSHRN
                r = shr(a, rsh, wb, NO, rnd) & m
            elif opc <= 17:                            # SQSHRUN SQRSHRUN
                r, q = sat_s(np.int64(shr(a, rsh, wb, YES, rnd)), eb, YES)
                sat = sat or q
            elif U == 0:                               # SQSHRN SQRSHRN
                r, q = sat_s(np.int64(shr(a, rsh, wb, YES, rnd)), eb, NO)
                sat = sat or q
            else:                                      # UQSHRN UQRSHRN
                r, q = sat_u(shr(a, rsh, wb, NO, rnd), eb, YES)
                sat = sat or q
            rlo, rhi = put(rlo, rhi, i, eb, r)
        if Q:
            vset(regs, rd, dlo, rlo)
        else:
            vset(regs, rd, rlo, U0)
        return sat
    nl = 1 if scalar else (128 if Q else 64) // eb
    for i in range(nl):
        a = lane(nlo, nhi, i, eb)
        d = lane(dlo, dhi, i, eb)
        if opc <= 6:                                   # [SU]SHR [SU]SRA [SU]RSHR [SU]RSRA
            r = shr(a, rsh, eb, U == 0, opc >= 4)
            if opc == 2 or opc == 6:
                r = r + d
        elif opc == 8:                                 # SRI
            if rsh >= eb:
                r = d
            else:
                mk = m >> np.uint64(rsh)
                r = (d & ~mk) | (a >> np.uint64(rsh))
        elif opc == 10:                                # SHL SLI
            r = a << np.uint64(lsh)
            if U == 1:
                r = (d & ~(m << np.uint64(lsh))) | r
        else:                                          # SQSHLU, SQSHL/UQSHL (imm)
            r, q = shl_sat(a, lsh, eb, opc == 12 or U == 0, U == 1)
            sat = sat or q
        rlo, rhi = put(rlo, rhi, i, eb, r & m)
    vset(regs, rd, rlo, rhi)
    return sat


@njit(cache=True, _nrt=False)
def simd_int(regs, ctl, sysr, pc, rd, rn, rm, aux):
    """Execute one decoded SIMD op (the FP/SIMD access check is the caller's): the
    whole-word forms (cpu/simd_swar.py), else the lane loops.  Kept small: the lane
    loops' calls (and numba's reference counting around them) only where needed."""
    if not simd_swar(regs, rd, rn, rm, aux):
        if simd_lanes(regs, rd, rn, rm, aux):
            sysr[S_FPSR, R_VAL] |= QC
    ctl[C_PC] = pc + U4
    return 0


@njit(cache=True, _nrt=False)
def simd_lanes(regs, rd, rn, rm, aux):
    """The forms simd_swar declines, lane by lane; returns saturated (FPSR.QC)."""
    kind, scalar, Q, U, size, opc, x = unpack_SIMD(aux)
    eb = 8 << size
    sat = False
    if kind == K_3SAME:
        sat = run_same(regs, rd, rn, rm, scalar, Q, U, opc, eb, IM1)
    elif kind == K_3DIFF:
        sat = run_diff(regs, rd, rn, rm, scalar, Q, U, opc, eb, IM1)
    elif kind == K_2MISC:
        sat = run_misc(regs, rd, rn, scalar, Q, U, opc, eb)
    elif kind == K_ACROSS:
        sat = run_across(regs, rd, rn, Q, U, opc, eb)
    elif kind == K_PAIR:                               # ADDP (scalar): D <- Vn.D[0] + Vn.D[1]
        nlo, nhi = vget(regs, rn)
        vset(regs, rd, nlo + nhi, U0)
    elif kind == K_SHIFT:
        sat = run_shift(regs, rd, rn, scalar, Q, U, opc, size, x)
    elif kind == K_ELEM:
        if opc == 12 or opc == 13:
            # SQDMULH SQRDMULH -> the three-same operation (MLA MLS MUL: simd_swar)
            sat = run_same(regs, rd, rn, rm, scalar, Q, opc - 12, 22, eb, x)
        else:
            # SMLAL.. SQDMLAL SMLSL.. SQDMLSL SMULL.. SQDMULL -> three-different 8..13
            dop = 8 if opc <= 3 else (10 if opc <= 7 else 12)
            dop += opc & 1
            sat = run_diff(regs, rd, rn, rm, scalar, Q, U, dop, eb, x)
    return sat
