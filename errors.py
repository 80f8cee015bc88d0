"""pyaarch64's exceptions: one base, `pyaarch64.Error`, and specific subclasses, each
also the built-in exception it refines (so `except ValueError` keeps working).

    Error
      MachineError       a bad machine configuration or API argument (ValueError)
      RegisterError      an unknown register, or a value that does not fit (KeyError)
      MemoryAccessError  a guest address range with no RAM behind it (ValueError)
      KernelError        a kernel/ELF that cannot be loaded (ValueError; machine/loader.py)
      SnapshotError      a snapshot that does not fit this machine (ValueError;
                         snapshot/state.py)
      SnapshotFileError  a damaged or foreign snapshot file (ValueError; snapshot/format.py)
      UnknownMachineType, UnknownCpuModel (MachineError)

This module imports nothing of pyaarch64: every layer may raise them.
"""


class Error(Exception):
    """Base of every error pyaarch64 raises on purpose."""


class MachineError(Error, ValueError):
    """A machine configuration or an API argument pyaarch64 cannot accept."""


class RegisterError(Error, KeyError):
    """An unknown register, a read-only one, or a value that does not fit."""

    def __str__(self):                      # (KeyError would quote the message)
        return str(self.args[0]) if self.args else ""


class MemoryAccessError(Error, ValueError):
    """A guest address range the host asked for that is not RAM (or not mapped)."""
