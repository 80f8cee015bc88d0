"""The memory side of the machine, handed through the jitted core as one value.

    Bus(mem, tlb, pslot, slotpage, dcache, dirty, hooks, prot)

mem       guest RAM (uint8, C-contiguous)
tlb       the soft TLB (cpu/memory.py)
pslot     RAM page -> decode slot (-1: no decoded code in that page)
slotpage  decode slot -> RAM page
dcache    the decode cache: slot s, word i at dcache[(s << 11) | (i << 1)]
dirty     RAM page -> 1 when written since the last snapshot epoch (uint8; see
          Cpu.new_epoch: a page enters the write TLB only through memory.access1
          or DC ZVA, which mark it, and an epoch starts with the write TLB empty)
hooks     the code-hook table (cpu/hooks.py): [n, 0, begin, end, ...]
prot      RAM page -> what the harness forbids there (cpu/hooks.py PROT_NO_*; 0: nothing):
          such a page never enters the soft TLB, its accesses come to the slow path;
          PROT_ROM: a ROM device's page (Cpu.set_rom): read and executed as RAM, never in
          the write TLB, its writes go to the board's MMIO callback

(The MMIO and hook callbacks are called through their addresses in ctl:
cpu/mmio.py.)  A namedtuple: numba passes it as a tuple of its fields, so reading `bus.mem` in
jitted code costs nothing, and it boxes and unboxes like the arrays it holds.
`Cpu.bus()` makes one; the arrays are updated in place, never replaced, while a
RAM is attached.
"""
from collections import namedtuple

Bus = namedtuple("Bus", "mem tlb pslot slotpage dcache dirty hooks prot")
