"""Hooks and run control (issue 14, items 1-2): code and block hooks, breakpoints,
run(until=, timeout=), step(); callbacks that read registers, move the PC, stop
the run or raise; hooks on code that rewrites itself."""
import pytest
import pyaarch64
from guestbuild import build, symbols


def guest(name="hooks.S"):
    path = build(name)
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(path)
    return m, symbols(path)


def test_code_hook_sees_each_execution_with_the_registers_before_it():
    m, s = guest()
    seen = []
    m.hook_add("code", lambda mm, a, n: seen.append((a, n, mm.reg_read("x0"))), s["body"], s["body"])
    r = m.run(max_insns=1000)
    assert r.kind == "poweroff"
    assert seen == [(s["body"], 4, i) for i in range(10)]
    assert m.reg_read("x0") == 0x8400_0008 and int.from_bytes(m.mem_read(s["done"] + 0x1000 - 0x1000, 0), "little") == 0


def test_code_hook_everywhere_counts_every_instruction_and_hook_del_stops_it():
    m, s = guest()
    n = []
    h = m.hook_add("code", lambda mm, a, size: n.append(a))
    r = m.run(max_insns=1000)
    assert r.kind == "poweroff" and len(n) == m.icount
    assert n[:3] == [s["_start"], s["_start"] + 4, s["body"]]
    assert m.hook_del(h) and not m.hook_del(h)
    m2, _ = guest()
    m2.run(max_insns=1000)
    assert m2.icount == m.icount


def test_block_hooks_fire_where_blocks_start_with_their_size():
    m, s = guest()
    blocks = []
    m.hook_add("block", lambda mm, a, size: blocks.append((a, size)))
    assert m.run(max_insns=1000).kind == "poweroff"
    start = s["_start"]
    assert blocks[0] == (start, s["body"] + 8 - start + 4)     # to the b.ne
    assert blocks[1:10] == [(s["body"], 12)] * 9                   # the taken b.ne
    assert blocks[10] == (s["after"], 4)                           # fall through after b.ne: a new block
    assert blocks[11] == (s["func"], 8)                            # bl
    assert blocks[12] == (s["after"] + 4, s["done"] + 12 - s["after"] - 4)   # ret, to the hvc


def test_breakpoint_stops_before_the_instruction_and_continue_runs_it():
    m, s = guest()
    m.add_breakpoint(s["func"])
    r = m.run(max_insns=1000)
    assert (r.kind, r.pc, m.pc, m.reg_read("x0")) == ("breakpoint", s["func"], s["func"], 10)
    r = m.run(max_insns=1000)
    assert r.kind == "poweroff" and m.reg_read("x0") == 0x8400_0008
    assert m.remove_breakpoint(s["func"]) and not m.remove_breakpoint(s["func"])
    assert m.breakpoints == []


def test_run_until_and_step():
    m, s = guest()
    r = m.run(until=s["after"])
    assert (r.kind, m.pc, m.reg_read("x0"), m.icount) == ("until", s["after"], 10, 2 + 30)
    r = m.step()
    assert (r.kind, m.pc, m.icount) == ("budget", s["func"], 33)
    r = m.step()
    assert m.reg_read("x0") == 110
    r = m.run(until=s["done"])
    assert r.kind == "until" and m.pc == s["done"]
    assert m.run().kind == "poweroff"


def test_a_callback_that_moves_the_pc_skips_the_instruction():
    m, s = guest()

    def skip(mm, a, size):
        mm.pc = a + 4
    m.hook_add("code", skip, s["body"], s["body"])
    assert m.run(max_insns=1000).kind == "poweroff"
    assert int.from_bytes(m.mem_read(_cell(m, s), 8), "little") == 100    # no add ran: 0 + 100


def _cell(m, s):
    # `adr x4, cell` ran: x4 holds the cell's address
    return m.reg_read("x4")


def test_stop_from_a_callback_stops_before_the_instruction():
    m, s = guest()
    calls = []

    def stop_at_third(mm, a, size):
        calls.append(mm.reg_read("x0"))
        if len(calls) == 3:
            mm.stop()
    m.hook_add("code", stop_at_third, s["body"], s["body"])
    r = m.run(max_insns=1000)
    assert (r.kind, m.pc, m.reg_read("x0")) == ("stopped", s["body"], 2)
    assert m.run(max_insns=1000).kind == "poweroff"
    assert calls == list(range(10))                     # the third is not asked again


def test_a_callback_that_raises_stops_the_run_with_the_error():
    m, s = guest()

    def boom(mm, a, size):
        raise KeyError("boom")
    m.hook_add("code", boom, s["func"], s["func"])
    r = m.run(max_insns=1000)
    assert r.kind == "callback-error" and isinstance(r.error, KeyError) and r.pc == s["func"]
    assert "boom" in r.message


def test_user_data_and_bad_kinds():
    m, s = guest()
    got = []
    m.hook_add("code", lambda mm, a, size, ud: got.append(ud), s["func"], s["func"], user_data="x")
    m.run(max_insns=1000)
    assert got == ["x"]
    with pytest.raises(pyaarch64.MachineError, match="unknown hook kind"):
        m.hook_add("bogus", print)
    with pytest.raises(pyaarch64.MachineError, match="not callable"):
        m.hook_add("code", 5)


def test_timeout_stops_a_guest_that_never_ends():
    m, s = guest()
    m.pc = s["spin"]
    r = m.run(timeout=0.2)
    assert r.kind == "timeout" and m.pc == s["spin"]


def test_hooks_on_code_that_rewrites_itself():
    """dirty.S stores a new `add x3, x3, #imm` over `patched` every 256 iterations:
    a hook there sees every execution, and the new code runs."""
    ref, s = guest("dirty.S")
    ref.run(max_insns=200_000)
    m, s = guest("dirty.S")
    seen = []
    m.hook_add("code", lambda mm, a, size: seen.append(mm.reg_read("x2")), s["patched"], s["patched"])
    m.run(max_insns=200_000)
    assert m.reg_read("x3") == ref.reg_read("x3") and m.reg_read("x2") == ref.reg_read("x2")
    assert seen == list(range(len(seen))) and len(seen) >= ref.reg_read("x2")


def test_memory_hooks_see_loads_stores_and_mmio_by_virtual_address():
    m, s = guest()
    seen = []

    def on(mm, access, addr, size, value):
        # a write is seen before it lands
        seen.append((access, addr, size, value, mm.mem_read(addr, size) if access == "write" and addr >= 0x40000000 else None))
    m.hook_add("mem_write", on, s["cell"], s["cell"] + 7)
    m.hook_add("mem_read", on, s["cell"], s["cell"] + 7)
    m.hook_add("mem_write", on, 0x09000000, 0x09000fff)
    assert m.run(max_insns=1000).kind == "poweroff"
    assert seen == [("write", s["cell"], 8, 110, bytes(8)), ("read", s["cell"], 8, 110, None),
                    ("write", 0x09000000, 1, ord("!"), None)]
    assert m.serial_output == b"!"


def test_memory_hooks_stop_after_the_access_and_cost_only_their_page():
    m, s = guest()

    def stop(mm, access, addr, size, value):
        mm.stop()
    h = m.hook_add("mem_write", stop, s["cell"], s["cell"])
    r = m.run(max_insns=1000)
    assert r.kind == "stopped" and m.pc == s["after"] + 12               # after the str
    assert int.from_bytes(m.mem_read(s["cell"], 8), "little") == 110       # the store landed
    m.hook_del(h)
    assert m.run(max_insns=1000).kind == "poweroff"


def test_exception_hooks_see_each_entry_after_it_is_taken():
    """exc.c takes SVC, BRK, undefined instructions, aborts, at EL1 and EL0: every
    entry is reported with its class, syndrome and return address, and the guest's
    output does not change."""
    from guestbuild import build as b
    path = b("exc.c", extra_sources=("vectors.S",))
    ref = pyaarch64.Machine(machine="virt-7.2")
    ref.load_elf(path)
    ref.run(max_insns=50_000_000)
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(path)
    infos, intnos = [], []
    m.hook_add("exception", lambda mm, info: infos.append((info, mm.pc, mm.reg_read("ELR_EL1"))))
    m.hook_add("intr", lambda mm, n: intnos.append(n))
    m.run(max_insns=50_000_000)
    assert m.serial_output == ref.serial_output
    kinds = [i.kind for i, _, _ in infos]
    for k in ("svc", "brk", "undefined", "data-abort"):
        assert k in kinds, k
    for info, pc, elr in infos:
        assert info.vector == pc and info.return_address == elr and info.target_el == 1
        if info.kind == "svc":
            assert info.ec == 0x15 and info.esr >> 26 == 0x15
    assert intnos == [i.intno for i, _, _ in infos] and 2 in intnos and 7 in intnos


def test_an_exception_hook_may_stop_the_run_at_the_vector():
    from guestbuild import build as b
    m = pyaarch64.Machine(machine="virt-7.2")
    m.load_elf(b("exc.c", extra_sources=("vectors.S",)))

    def first_svc(mm, info):
        if info.kind == "svc":
            mm.stop()
    m.hook_add("exception", first_svc)
    r = m.run(max_insns=50_000_000)
    assert r.kind == "stopped" and m.pc == r.pc and (m.reg_read("ESR_EL1") >> 26) == 0x15
    assert m.pc & 0x7FF in (0x000, 0x200, 0x400)                   # a synchronous vector


def _words(*ws):
    return b"".join(w.to_bytes(4, "little") for w in ws)


def test_invalid_memory_hooks_may_map_memory_and_retry():
    """A load from 0x1000_0000 and then a branch to 0x2000_0000, neither mapped: the hook
    maps RAM (with data, with code) and the instructions run again; a hook that
    declines leaves the access failing as before."""
    m = pyaarch64.Machine(machine="virt-7.2")
    # movz x1, #0x1000, lsl #16; ldr x0, [x1]; movz x2, #0x2000, lsl #16; br x2
    m.mem_write(0x4000_0000, _words(0xD2A20001, 0xF9400020, 0xD2A40002, 0xD61F0040))
    m.pc = 0x4000_0000
    seen = []

    def on_invalid(mm, access, addr, size, value):
        seen.append((access, addr, size))
        if access == "read":
            mm.map_ram(0x1000_0000, 0x1000)
            mm.mem_write(0x1000_0000, (0x1234).to_bytes(8, "little"))
        else:
            mm.map_ram(0x2000_0000, 0x1000)
            mm.mem_write(0x2000_0000, _words(0x91000400, 0x14000000))   # add x0, x0, #1; b .
        return True
    m.hook_add("mem_invalid", on_invalid)
    r = m.run(max_insns=20)
    assert r.kind == "budget" and m.reg_read("x0") == 0x1235 and m.pc == 0x2000_0004
    assert seen == [("read", 0x1000_0000, 8), ("fetch", 0x2000_0000, 4)]
    m2 = pyaarch64.Machine(machine="virt-7.2")
    m2.mem_write(0x4000_0000, _words(0xD2A20001, 0xF9400020))
    m2.pc = 0x4000_0000
    m2.hook_add("mem_invalid", lambda mm, *a: False)
    assert m2.run(max_insns=20).kind == "data-abort"


def test_mem_protect_stops_or_asks_the_invalid_hook():
    """A page made read-only: the store stops the run ('protection') before it lands;
    a mem_invalid hook that lifts the protection lets it run again; a page made
    non-executable stops a branch into it; 'rwx' allows everything again."""
    m, s = guest()
    page = s["cell"] & ~0xFFF
    m.mem_protect(page, 0x1000, "rx")
    r = m.run(max_insns=1000)
    assert (r.kind, r.address, m.pc) == ("protection", s["cell"], s["after"] + 8)
    assert "write of 8 bytes at" in r.message and m.mem_read(s["cell"], 8) == bytes(8)
    seen = []

    def lift(mm, access, addr, size, value):
        seen.append(access)
        mm.mem_protect(page, 0x1000, "rwx")
        return True
    m.hook_add("mem_invalid", lift)
    assert m.run(max_insns=1000).kind == "poweroff" and seen == ["write-prot"]
    assert int.from_bytes(m.mem_read(s["cell"], 8), "little") == 110
    m2, s2 = guest()
    m2.mem_protect(s2["func"] & ~0xFFF, 0x1000, 5)              # r-x: Unicorn's bits
    m2.mem_protect(s2["func"] & ~0xFFF, 0x1000, "r")            # no exec at all
    r = m2.run(max_insns=1000)
    assert r.kind == "protection" and "fetch of 4 bytes" in r.message and m2.pc == s2["_start"]
    with pytest.raises(pyaarch64.MachineError):
        m2.mem_protect(0x123, 0x1000, "r")
    with pytest.raises(pyaarch64.MachineError):
        m2.mem_protect(0x4000_0000, 0x1000, "q")
