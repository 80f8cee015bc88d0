"""The C type of the board's MMIO callback, through which the jitted core reaches
devices: (address, size in bytes, is_write, value) -> value read."""
import ctypes

MMIO_CB = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32,
                           ctypes.c_uint32, ctypes.c_uint64)
