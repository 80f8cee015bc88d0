"""The coverage loop: the integer hot loop (cpu/hotloop.py) recording edge coverage.

`hotloop.hot_run` holds the recording code behind its module constant COVER, which
is False there, so the normal loop does not contain it: coverage off costs nothing.
This module compiles the same function again with COVER = True, and the executor
calls it (through its address, cpu/groups.py G_COV, as it calls the vector loop)
while ctl[C_COV_ON] is set.  What is recorded is AFL's edge coverage: at every taken
branch, cur = hash(target) & mask, bitmap[cur ^ prev] += 1 (a wrapping byte), prev =
cur >> 1; the bitmap lives in the CPU's state array (memory.new_state).  Branches
the general path runs (exception entry and return, hooked addresses) and FP/SIMD
code (which the integer loop leaves) are not recorded.
"""
from pyaarch64.cpu import hotloop

hot_run_cov = hotloop.variant(
    "hot_run_cov", __name__, "The coverage loop: hotloop.hot_run with COVER = True (see the module doc).",
    {"cache": True, "_nrt": False}, COVER=True)
