"""Boards and devices.  `virt` is QEMU's virt board."""
