"""pyaarch64: an AArch64 system emulator with a numba-compiled CPU core.

The repository's top-level folders (cpu/, machine/, snapshot/, emu/) install as
sub-packages of ``pyaarch64``.  Dependencies run downward only:
emu -> machine/snapshot -> cpu.  The embedding API (emu/api.py) and the
exceptions are re-exported here:

    Machine, StopReason, create_machine, ExceptionInfo, map_harness (emu/cluster.py)
    Error, MachineError, RegisterError, MemoryAccessError, KernelError,
    SnapshotError, SnapshotFileError, UnknownMachineType, UnknownCpuModel
"""
__version__ = "0.1.0"

from pyaarch64.errors import Error, MachineError, RegisterError, MemoryAccessError  # noqa: E402,F401

_LAZY = {
    "Machine": "pyaarch64.emu.api", "StopReason": "pyaarch64.emu.api",
    "create_machine": "pyaarch64.emu.api", "ExceptionInfo": "pyaarch64.machine.hooks",
    "KernelError": "pyaarch64.machine.loader", "SnapshotError": "pyaarch64.snapshot.state",
    "SnapshotFileError": "pyaarch64.snapshot.format",
    "UnknownMachineType": "pyaarch64.machine.types", "UnknownCpuModel": "pyaarch64.cpu.models",
    "map_harness": "pyaarch64.emu.cluster",
}


def __getattr__(name):
    # Lazy re-exports so `import pyaarch64` stays cheap (no numba import).
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(name)
    import importlib
    return getattr(importlib.import_module(mod), name)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
