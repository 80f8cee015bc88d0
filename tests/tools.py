"""The external tools the tests use, and what a missing one means.

On a developer's machine a test whose tool is missing is skipped, with the command that
installs it.  In CI (the CI environment variable set, as CI services do) or with
PYAARCH64_REQUIRE_TOOLS=1 it fails instead: a CI image that lost a tool must not pass
by skipping what needed it.

    need("dtc")                       # in a test, a fixture or a helper they call
    @needs("qemu-system-aarch64")     # the same as a marker
    if have("qemu-system-aarch64"):   # an extra check inside a test that runs anyway
"""
import importlib.util
import os
import shutil

import pytest

UBOOT = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"      # Debian's u-boot-qemu
INSTALL = {
    "aarch64-linux-gnu-gcc": "apt-get install gcc-aarch64-linux-gnu",
    "aarch64-linux-gnu-as": "apt-get install binutils-aarch64-linux-gnu",
    "aarch64-linux-gnu-objcopy": "apt-get install binutils-aarch64-linux-gnu",
    "qemu-system-aarch64": "apt-get install qemu-system-arm",
    "dtc": "apt-get install device-tree-compiler",
    "gdb-multiarch": "apt-get install gdb-multiarch",
    "mkfs.ext4": "apt-get install e2fsprogs",
    "debugfs": "apt-get install e2fsprogs",
    "e2fsck": "apt-get install e2fsprogs",
    UBOOT: "apt-get install u-boot-qemu",
    "unicorn": "pip install -e '.[test]'",
}
PYTHON_MODULES = {"unicorn"}
FILES = {UBOOT}                   # tools that are a file, not a command


def required():
    """Whether a missing tool fails the run (CI) rather than skipping tests."""
    return (os.environ.get("CI", "").lower() not in ("", "0", "false")
            or os.environ.get("PYAARCH64_REQUIRE_TOOLS") == "1")


def installed(tool):
    if tool in FILES:
        return os.path.exists(tool)
    if tool in PYTHON_MODULES:
        return importlib.util.find_spec(tool) is not None
    return shutil.which(tool) is not None


def _missing(tool):
    """Fails the test in CI; elsewhere returns the reason to skip it."""
    hint = INSTALL.get(tool, "see tests/run-all.sh")
    if required():
        pytest.fail(f"{tool} is not installed ({hint}); CI or PYAARCH64_REQUIRE_TOOLS=1 "
                    f"needs every tool the tests use", pytrace=False)
    return f"{tool} is not installed ({hint})"


def need(*tools):
    """Skip the calling test unless every tool is installed; fail it instead in CI."""
    for tool in tools:
        if not installed(tool):
            pytest.skip(_missing(tool))


def have(tool):
    """For a check that is an extra part of a test: whether `tool` is installed (False
    leaves the extra out on a developer's machine; in CI a missing tool fails)."""
    if installed(tool):
        return True
    _missing(tool)
    return False


def needs(*tools):
    """need() as a marker, applied by the hook below when the test is set up."""
    return pytest.mark.needs(*tools)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """The @needs(...) markers (tests/conftest.py imports this hook)."""
    for mark in item.iter_markers("needs"):
        need(*mark.args)
