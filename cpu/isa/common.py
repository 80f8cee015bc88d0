"""Helpers shared by the group decoders: word packing and register-slot resolution."""
import numpy as np
from numba import njit

from pyaarch64.cpu.ops import SINK, SP, ZR, SH_RD, SH_RN, SH_RM, SH_RA, SH_AUX
from pyaarch64.cpu.opids import OP_UNDEF

UNDEF_W0 = np.uint64(OP_UNDEF)
_U0 = np.uint64(0)


@njit(cache=True)
def mk(op, rd, rn, rm, ra, aux, imm):
    """Pack (op, rd, rn, rm, ra, aux) into w0; imm (int64 or uint64) into w1."""
    w0 = (np.uint64(op) | (np.uint64(rd) << SH_RD) | (np.uint64(rn) << SH_RN)
          | (np.uint64(rm) << SH_RM) | (np.uint64(ra) << SH_RA) | (np.uint64(aux) << SH_AUX))
    return w0, np.uint64(imm)


@njit(cache=True)
def undef():
    return UNDEF_W0, _U0


@njit(cache=True)
def rr(n):
    """Source register: 31 reads as zero."""
    return ZR if n == 31 else n


@njit(cache=True)
def wr(n):
    """Destination register: writes to 31 are discarded."""
    return SINK if n == 31 else n


@njit(cache=True)
def sp(n):
    """Register operand where 31 means SP."""
    return SP if n == 31 else n


@njit(cache=True)
def sext(v, bits):
    """Sign-extend the low `bits` of v (int64 result)."""
    m = np.int64(1) << np.int64(bits - 1)
    v = v & ((np.int64(1) << np.int64(bits)) - 1)
    return (v ^ m) - m
