"""Code hooks, block hooks, breakpoints and run(until=) in the jitted core.

An address with any of them decodes to OP_HOOK (the predecoder consults the hook
table `bus.hooks` when it decodes a word, so a hook costs nothing outside its
range; adding or removing one drops the decode cache).  The hot loop leaves at an
OP_HOOK; the general path (cpu/executor.py) then calls the host through ctl[C_HOOK_FN]
-- a ctypes callback, as MMIO does: no exit from the jitted loop, the registers
committed -- and, unless the host stopped the run or moved the PC, runs the
instruction itself: its real decoded words go into the decode slot for one step
of the hot loop and OP_HOOK comes back after it.

The table (uint64): hooks[0] = number of ranges, hooks[1] = reserved, then
[begin, end) pairs of virtual addresses.  The callback is called as
hcb(pc, size, kind, 0) with kind HK_CODE, plus HK_BLOCK when the instruction starts
a block (it does not follow the previous hooked instruction that retired, or that
one was a branch or exception-generating instruction: ends_block) with
`size` the block's length in bytes (to the first branch, exception-generating
instruction or the page end); it returns HA_GO, HA_STOP (the run stops before the
instruction) or HA_JUMP (the host changed the PC: the instruction does not run).
"""
import numpy as np
from numba import njit

from pyaarch64.cpu.mmio import call_c
from pyaarch64.cpu.ops import C_CB_ERR, C_HOOK_FN

HOOKS_N = 0
HOOKS_NMEM = 1
HOOKS_FIRST = 2
HOOKS_MAX = 1024                  # code ranges
MEM_FIRST = HOOKS_FIRST + 2 * HOOKS_MAX
MEM_MAX = 256                     # memory ranges: (begin, end, MEM_R | MEM_W)
HOOKS_WORDS = MEM_FIRST + 3 * MEM_MAX
MEM_R = 1
MEM_W = 2

HK_CODE = 1
HK_BLOCK = 2
HK_EXC = 4                        # hcb(ELR, EC, HK_EXC, vector offset) after exception entry
HK_READ = 8                       # hcb(va, size, HK_READ, value read)
HK_WRITE = 16                     # hcb(va, size, HK_WRITE, value to be written)
HK_INVALID = 32                   # hcb(pc, 4, HK_INVALID, 0): a fetch from no RAM (data
                                  # accesses reach the board's MMIO callback instead)
HK_PROT = 64                      # hcb(va, size, HK_PROT, 0 read / 1 write / 2 fetch): an
                                  # access Machine.mem_protect forbids (bus.prot)
PROT_NO_R, PROT_NO_W, PROT_NO_X = 1, 2, 4     # bus.prot[page] bits
PROT_HOST = 7                     # the harness's bits (Machine.mem_protect)
# a ROM device's page (the board's CFI flash in read-array mode, Cpu.set_rom): reads and
# instruction fetches are RAM, every write goes to the board's MMIO callback (the
# device's command state machine) and never to the array
PROT_ROM = 8

HA_GO = 0
HA_STOP = 1
HA_JUMP = 2
HA_ERROR = 3                      # (the callback raised: ctl[C_CB_ERR])

U0 = np.uint64(0)
U4 = np.uint64(4)


def new_table():
    return np.zeros(HOOKS_WORDS, dtype=np.uint64)


@njit(cache=True, _nrt=False)
def hooked(hooks, pc):
    """Whether virtual address pc lies in one of the table's ranges."""
    n = np.int64(hooks[HOOKS_N])
    for k in range(n):
        i = HOOKS_FIRST + 2 * k
        if hooks[i] <= pc < hooks[i + 1]:
            return True
    return False


@njit(cache=True, _nrt=False)
def ends_block(w):
    """Whether instruction word w ends a block: a branch or an exception-generating
    instruction (as a translation block ends in QEMU)."""
    w = np.uint64(w)
    return ((w & np.uint64(0x7C000000)) == np.uint64(0x14000000)          # B, BL
            or (w & np.uint64(0xFF000010)) == np.uint64(0x54000000)       # B.cond
            or (w & np.uint64(0x7C000000)) == np.uint64(0x34000000)       # CB(N)Z, TB(N)Z
            or (w & np.uint64(0xFF000000)) == np.uint64(0xD4000000)       # SVC .. DCPS
            or (w & np.uint64(0xFE000000)) == np.uint64(0xD6000000))      # BR, BLR, RET, ERET


@njit(cache=True, _nrt=False)
def block_bytes(m32, hw, pc):
    """Bytes from pc to the end of its block: through the first branch or
    exception-generating instruction, at most to the end of the page.  hw: the
    index in m32 of the word at pc."""
    n = np.int64(1024 - ((pc & np.uint64(0xFFF)) >> np.uint64(2)))
    for k in range(n):
        if ends_block(m32[hw + np.uint64(k)]):
            return np.uint32(4 * (k + 1))
    return np.uint32(4 * n)


@njit(cache=True, _nrt=False)
def mem_hooked(hooks, va, size, is_write):
    """(the access [va, va+size) meets a memory hook of its kind, its page does)."""
    n = np.int64(hooks[HOOKS_NMEM])
    want = np.uint64(MEM_W if is_write else MEM_R)
    p0 = va & ~np.uint64(0xFFF)
    p1 = p0 + np.uint64(0x1000)
    hit = False
    page = False
    for k in range(n):
        i = MEM_FIRST + 3 * k
        if (hooks[i + 2] & want) == U0:
            continue
        b, e = hooks[i], hooks[i + 1]
        if b < p1 and p0 < e:
            page = True
            if b < va + np.uint64(size) and va < e:
                hit = True
    return hit, page


@njit(cache=True, _nrt=False)
def call_host(ctl, a, size, kind, value):
    """The hook callback (for memory and exception hooks: its answer is not used; a
    stop() sets ctl[C_STOP], an exception ctl[C_CB_ERR])."""
    return call_c(ctl[C_HOOK_FN], a, size, kind, value)


@njit(cache=True, _nrt=False)
def ask(ctl, bus, pc, size, kind):
    """Call the host's hook callback; HA_ERROR when it raised."""
    a = call_c(ctl[C_HOOK_FN], pc, size, kind, U0)
    if ctl[C_CB_ERR] != U0:
        return HA_ERROR
    return np.int64(a)
