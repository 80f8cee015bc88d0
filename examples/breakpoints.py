"""Breakpoints, stepping and hooks on a small guest (tests/guest/hooks.S): stop at a
function, look at the registers, step through it, watch a store, then let it finish.

    python examples/breakpoints.py
"""
import pyaarch64
from _guests import guest


def main():
    path, sym = guest("hooks.S")
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(path)

    m.add_breakpoint(sym["func"])
    stop = m.run()
    print(f"{stop.kind} at 0x{stop.pc:x} (func): x0 = {m.reg_read('x0')}, lr = 0x{m.reg_read('lr'):x}")

    while m.pc != m.reg_read("lr"):                     # step to the return
        m.step()
        print(f"  step -> pc 0x{m.pc:x}, x0 = {m.reg_read('x0')}")

    def on_store(machine, access, address, size, value):
        print(f"  {access} of {size} bytes at 0x{address:x}: {value} (memory still holds "
              f"{int.from_bytes(machine.mem_read(address, size), 'little')})")
    m.hook_add("mem_write", on_store, sym["cell"], sym["cell"] + 7)

    blocks = []
    m.hook_add("block", lambda machine, address, size: blocks.append((address, size)))
    stop = m.run()
    print(f"{stop.kind}: {stop.message}")
    print("blocks after the breakpoint: " + ", ".join(f"0x{a:x}+{n}" for a, n in blocks))
    print(f"serial output: {bytes(m.serial_output)!r}")


if __name__ == "__main__":
    main()
