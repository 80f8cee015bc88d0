"""The AArch64 CPU: decode tables, the numba executor, system registers, CPU models.

numba's on-disk cache only tracks the file that defines each jitted function,
while our jitted code freezes constants from sibling modules (op ids, sysreg
slots, decode tables).  `jitcache` keys each module's cache by a hash of the
module and everything of this package it imports, so a change recompiles what
depends on it and nothing else.
"""
from pyaarch64.cpu import jitcache as _jitcache

_jitcache.install()
