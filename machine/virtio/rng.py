"""virtio-rng (device ID 4): random bytes for the guest's hwrng, as QEMU 7.2's
virtio-rng-device (one request queue of 8 entries, no feature bits of its own, no
configuration space).

Deterministic by default: the bytes are a SHA-256 stream of a seed (the
`-device virtio-rng-device,seed=N` property, default 0) and the stream position,
which is the device's snapshot state -- two runs, or a run and a restored snapshot,
give the guest the same bytes.  Asked otherwise (`rng=ID` naming an `-object
rng-random` or `rng-builtin`), the bytes come from the host (os.urandom).
"""
import hashlib
import os

from pyaarch64.snapshot.schema import Field

QUEUE_SIZE = 8
BLOCK = 32
MAX_REQUEST = 64 * 1024     # bytes one request gets at most (a guest's 512 MB buffer must
                            # not stall the host; the driver asks again for more)


class VirtioRng:
    device_id = 4
    qtree_name = "virtio-rng-device"
    queue_sizes = (QUEUE_SIZE,)
    features = 0
    STATE_FIELDS = (Field("pos", "u64"),)

    def __init__(self, seed=0, host=False):
        self.seed = seed
        self.host = host
        self.transport = None
        self.pos = 0

    def reset(self):
        pass            # (the stream goes on: a reset must not replay the same bytes)

    def config_read(self, off, size):
        return (1 << (8 * size)) - 1        # no configuration space: all-ones (QEMU)

    def config_write(self, off, size, value):
        pass

    def stream(self, n):
        """The next n bytes of the deterministic stream."""
        first, at = divmod(self.pos, BLOCK)
        out = bytearray()
        blk = first
        while len(out) < at + n:
            out += hashlib.sha256(b"pyaarch64 virtio-rng %d %d" % (self.seed, blk)).digest()
            blk += 1
        self.pos += n
        return bytes(out[at:at + n])

    def notify(self, n, t):
        t.serve(n, self._request)

    def _request(self, chain, q):
        size = min(chain.in_len(), MAX_REQUEST)
        q.scatter(chain.writable, os.urandom(size) if self.host else self.stream(size))
        return size
