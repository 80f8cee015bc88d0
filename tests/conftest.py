import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_addoption(parser):
    parser.addoption("--diff-samples", type=int, default=None,
                     help="random encodings per run of tests/test_diff_unicorn.py "
                          "(default: a small fixed sample)")
    parser.addoption("--diff-seed", type=int, default=1,
                     help="seed of the random encodings of tests/test_diff_unicorn.py")
