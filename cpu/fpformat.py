"""Floating-point formats and control fields shared by the integer softfloat
(cpu/fpu.py) and its host fast paths (cpu/fpfast.py): format codes and geometry, FPSR
cumulative flag bits, FPCR field positions and rounding-mode codes.
"""
import numpy as np
from numba import njit

U0 = np.uint64(0)
U1 = np.uint64(1)
M32 = np.uint64(0xFFFFFFFF)

FMT_H, FMT_S, FMT_D = 0, 1, 2

# FPSR cumulative flags
F_IOC = 1
F_DZC = 2
F_OFC = 4
F_UFC = 8
F_IXC = 16
F_IDC = 128

# FPCR fields
FPCR_AHP = 26
FPCR_DN = 25
FPCR_FZ = 24
FPCR_RMODE = 22

# rounding modes (FPCR.RMode encoding), plus ties-away and round-to-odd (FCVTXN)
RM_RN, RM_RP, RM_RM, RM_RZ, RM_RA, RM_ODD = 0, 1, 2, 3, 4, 5


@njit(cache=True, inline='always')
def fbits(fmt):
    return 10 if fmt == FMT_H else (23 if fmt == FMT_S else 52)


@njit(cache=True, inline='always')
def ebits(fmt):
    return 5 if fmt == FMT_H else (8 if fmt == FMT_S else 11)


@njit(cache=True, inline='always')
def nbits(fmt):
    return 16 if fmt == FMT_H else (32 if fmt == FMT_S else 64)


@njit(cache=True, inline='always')
def rmode_of(fpcr):
    return np.int64((fpcr >> np.uint64(FPCR_RMODE)) & np.uint64(3))


@njit(cache=True, inline='always')
def fpcr_bit(fpcr, b):
    return ((fpcr >> np.uint64(b)) & U1) != U0
