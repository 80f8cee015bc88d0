/* FP edge values shared by the FP guests (fp_scalar.c, fp_simd.c): signed zeros,
 * infinities, quiet and signalling NaNs with payloads, denormals, extreme normals,
 * halfway and integer-limit cases, as double (dv) and single (sv) bit patterns. */
#ifndef FPVALS_H
#define FPVALS_H
#include <stdint.h>

static const uint64_t dv[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xbff8000000000000ULL,
    0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x7ff8000000000123ULL, 0xfff0000000000005ULL,
    0x0000000000000001ULL, 0x800fffffffffffffULL, 0x0010000000000000ULL, 0x7fefffffffffffffULL,
    0x4330000000000001ULL, 0x3fe0000000000000ULL, 0x400921fb54442d18ULL, 0xc3e0000000000000ULL,
    0x43f0000000000000ULL, 0x41e0000000000000ULL, 0xc1e0000000200000ULL, 0x3ff0000000000001ULL,
    0x4004000000000000ULL, 0xc00c000000000000ULL, 0x36a0000000000000ULL, 0x47efffffe0000000ULL,
};
static const uint32_t sv[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbfc00000, 0x7f800000, 0xff800000, 0x7fc00123,
    0xff800005, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x4b000001, 0x3f000000,
    0x40490fdb, 0xdf000000, 0x5f800000, 0x4f000000, 0xcf000001, 0x3f800001, 0x40200000,
    0xc0600000, 0x33800000, 0x477fe000,
};

#endif
