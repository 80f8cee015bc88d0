"""virtio over MMIO, as QEMU 7.2's virt board has it (DESIGN §3).

    transport.py  the 32 virtio-mmio transports at 0x0a000000 (legacy interface:
                  QEMU's force-legacy=true, the default of every virt type up to 7.2)
    queue.py      split virtqueues in the legacy layout (descriptor table, available
                  and used rings in one guest-page-aligned area)
    blk.py        virtio-blk on a drive (machine/blockdev.py)
    console.py    virtio-console (virtio-serial with one virtconsole port: hvc0)
    rng.py        virtio-rng (deterministic unless asked otherwise)
"""
