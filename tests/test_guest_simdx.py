"""Guest programs for the non-arithmetic Advanced SIMD classes and the crypto
extension (tests/guest/simd_perm.c, vmem.c, crypto.c): run on pyaarch64 and compared
with expected output generated from QEMU 7.2 (and with QEMU itself when installed),
like tests/test_guests.py.  The crypto guest's answers are also checked against the
FIPS-197 / FIPS 180 known answers here.

Regenerate the expected files with
    PYAARCH64_REGEN_EXPECTED=1 pytest tests/test_guest_simdx.py -m qemu
"""
import os

import pytest

from guestbuild import build, run_guest
from test_guests import MACHINE, check_same, expected, maybe_regen, qemu, run_qemu

# name -> (extra sources, extra cflags)
SIMDX_PROGRAMS = {
    "simd_perm.c": ((), ()),
    "vmem.c": (("vectors.S",), ()),
    "crypto.c": ((), ("-march=armv8-a+crypto",)),
}

KNOWN_ANSWERS = [
    "aes128 encrypt: 69c4e0d86a7b0430d8cdb78070b4c55a",
    "aes128 decrypt: 00112233445566778899aabbccddeeff",
    'sha1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d',
    'sha256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad',
    'sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") = '
    '84983e44 1c3bd26e baae4aa1 f95129e5 e54670f1',
    'sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") = '
    '248d6a61 d20638b8 e5c02693 c3e6039 a33ce459 64ff2167 f6ecedd4 19db06c1',
    'sha1("") = da39a3ee 5e6b4b0d 3255bfef 95601890 afd80709',
    'sha256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855',
]


def _build(name):
    srcs, cflags = SIMDX_PROGRAMS[name]
    return build(name, extra_sources=srcs, cflags=cflags)


@pytest.mark.parametrize("name", sorted(SIMDX_PROGRAMS))
def test_simdx_guest_matches_expected(name):
    out, stop, _ = run_guest(_build(name), machine=MACHINE)
    assert stop.kind == "poweroff", stop
    assert out.endswith("EXIT 0\n"), out[-500:]
    check_same(out, expected(os.path.splitext(name)[0]), name)


def test_crypto_known_answers():
    out, _, _ = run_guest(_build("crypto.c"), machine=MACHINE)
    lines = out.splitlines()
    for want in KNOWN_ANSWERS:
        assert want in lines, want


@qemu
@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(SIMDX_PROGRAMS))
def test_simdx_guest_matches_qemu(name):
    out, _, status = run_qemu(_build(name))
    maybe_regen(os.path.splitext(name)[0], out)
    assert status == 0
    check_same(out, expected(os.path.splitext(name)[0]), f"{name} on QEMU vs expected file")
