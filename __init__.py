"""pyaarch64: an AArch64 system emulator with a numba-compiled CPU core.

The repository's top-level folders (cpu/, machine/, snapshot/, emu/) install as
sub-packages of ``pyaarch64``.  Dependencies run downward only:
emu -> machine/snapshot -> cpu.
"""
__version__ = "0.1.0"


def __getattr__(name):
    # Lazy re-exports so `import pyaarch64` stays cheap (no numba import).
    if name in ("Machine", "StopReason", "create_machine"):
        from .emu import api
        return getattr(api, name)
    raise AttributeError(name)
