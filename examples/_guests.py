"""Build the examples' guest programs (tests/guest/*.S, with aarch64-linux-gnu-gcc)
and find their symbols."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def guest(name):
    """(path of the built ELF, {symbol: address})."""
    from guestbuild import build, symbols
    path = build(name)
    return path, symbols(path)
