"""The same harness on Unicorn and on pyaarch64, side by side: load a program, hook
every instruction of one range, run to an address, read the result.

    Unicorn                                   pyaarch64
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)       m = pyaarch64.Machine()
    uc.mem_map(0x40000000, size)              (RAM is there: 128 MiB at 0x4000_0000)
    uc.mem_write(addr, segment)               m.load_elf(path)
    uc.reg_write(UC_ARM64_REG_X0, v)          m.reg_write("x0", v)
    uc.hook_add(UC_HOOK_CODE, cb, b, e)       m.hook_add("code", cb, b, e)
    uc.emu_start(begin, until)                m.pc = begin; m.run(until=until)
    ctx = uc.context_save() / restore(ctx)    snap = m.snapshot() / m.restore(snap)

The guest is tests/guest/bench_parse.S: it hashes the 64 bytes at 0x4020_0000.

    python examples/unicorn_port.py
"""
import sys

import pyaarch64
from _guests import guest

INPUT = 0x4020_0000
DATA = bytes(range(64))


def with_unicorn(path, sym):
    import unicorn as U
    from unicorn.arm64_const import UC_ARM64_REG_PC, UC_ARM64_REG_X3
    from elftools.elf.elffile import ELFFile
    uc = U.Uc(U.UC_ARCH_ARM64, U.UC_MODE_ARM)
    uc.mem_map(0x4000_0000, 128 << 20)
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                uc.mem_write(seg["p_paddr"], seg.data())
    uc.mem_write(INPUT, DATA)
    count = [0]
    uc.hook_add(U.UC_HOOK_CODE, lambda u, a, size, ud: count.__setitem__(0, count[0] + 1),
                begin=sym["_start"], end=sym["done"] - 1)
    uc.emu_start(sym["_start"], sym["done"])
    return uc.reg_read(UC_ARM64_REG_X3), count[0], uc.reg_read(UC_ARM64_REG_PC)


def with_pyaarch64(path, sym):
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(path)
    m.mem_write(INPUT, DATA)
    count = [0]
    m.hook_add("code", lambda mm, a, size: count.__setitem__(0, count[0] + 1),
               begin=sym["_start"], end=sym["done"] - 1)
    m.pc = sym["_start"]
    stop = m.run(until=sym["done"])
    assert stop.kind == "until", stop
    return m.reg_read("x3"), count[0], m.pc


def main():
    path, sym = guest("bench_parse.S")
    p = with_pyaarch64(path, sym)
    print(f"pyaarch64: hash 0x{p[0]:016x}, {p[1]} instructions hooked, stopped at 0x{p[2]:x}")
    try:
        import unicorn  # noqa: F401
    except ImportError:
        print("unicorn is not installed: pip install unicorn")
        return 0
    u = with_unicorn(path, sym)
    print(f"unicorn:   hash 0x{u[0]:016x}, {u[1]} instructions hooked, stopped at 0x{u[2]:x}")
    print("same result" if p == u else "DIFFERENT")
    return 0 if p == u else 1


if __name__ == "__main__":
    sys.exit(main())
