"""The examples in examples/ run and do what they say (issue 14, item 8)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(name, *args):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args],
                       capture_output=True, text=True, timeout=600)
    return r.returncode, r.stdout, r.stderr


def test_fuzz_parser_finds_the_planted_bug():
    rc, out, err = run("fuzz_parser.py", "--seed", "3")
    assert rc == 0, out + err
    assert "crash after" in out and "input: b'BUG!" in out
    assert "data-abort: guest data abort at address 0xdead0000" in out


def test_breakpoints_example():
    rc, out, err = run("breakpoints.py")
    assert rc == 0, err
    assert "breakpoint at 0x" in out and "(func): x0 = 10" in out
    assert "write of 8 bytes" in out and "110 (memory still holds 0)" in out
    assert "poweroff" in out and "serial output: b'!'" in out


def test_unicorn_port_gives_the_same_result_on_both():
    rc, out, err = run("unicorn_port.py")
    assert rc == 0, out + err
    assert "same result" in out and "324 instructions hooked" in out
