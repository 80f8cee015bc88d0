"""Interrupt controller and the devices behind it on the virt board.

attach_devices(board) creates them, maps them (board.devices) and wires their
interrupt lines.  (Being filled in: GICv2, PL031, PL011 interrupt.)
"""


def attach_devices(board):
    """Create and map the board's GIC and interrupt-driven devices."""
    return None
