/* simd: what glibc's string functions do with Advanced SIMD -- a 64-byte-per-step
 * memcpy (LD1/ST1 of four Q registers), strlen and memchr with CMEQ/UMAXP/SHRN, and a
 * byte checksum with widening adds -- over 256 KiB buffers, repeated. */
#include <arm_neon.h>
#include "bench.h"

#define N (256u << 10)
#ifndef ROUNDS
#define ROUNDS 24
#endif

static uint8_t src[N] __attribute__((aligned(64)));
static uint8_t dst[N] __attribute__((aligned(64)));

__attribute__((noinline)) static void vcopy(uint8_t *d, const uint8_t *s, uint32_t n) {
    for (uint32_t i = 0; i < n; i += 64) {
        uint8x16x4_t v = vld1q_u8_x4(s + i);
        vst1q_u8_x4(d + i, v);
    }
}

/* strlen the glibc way: 16 bytes at a time, CMEQ against zero, SHRN to a 64-bit mask */
__attribute__((noinline)) static uint32_t vstrlen(const uint8_t *s) {
    for (uint32_t i = 0;; i += 16) {
        uint8x16_t v = vld1q_u8(s + i);
        uint8x16_t z = vceqzq_u8(v);
        uint64_t m = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(z), 4)), 0);
        if (m)
            return i + (__builtin_ctzll(m) >> 2);
    }
}

/* memchr with a pairwise maximum to test 32 bytes at once */
__attribute__((noinline)) static int32_t vmemchr(const uint8_t *s, uint8_t c, uint32_t n) {
    uint8x16_t k = vdupq_n_u8(c);
    for (uint32_t i = 0; i < n; i += 32) {
        uint8x16_t a = vceqq_u8(vld1q_u8(s + i), k);
        uint8x16_t b = vceqq_u8(vld1q_u8(s + i + 16), k);
        if (vmaxvq_u8(vpmaxq_u8(a, b))) {
            for (uint32_t j = i; j < i + 32; j++)
                if (s[j] == c) return (int32_t)j;
        }
    }
    return -1;
}

__attribute__((noinline)) static uint64_t vsum(const uint8_t *s, uint32_t n) {
    uint32x4_t acc = vdupq_n_u32(0);
    for (uint32_t i = 0; i < n; i += 16)
        acc = vpadalq_u16(acc, vpaddlq_u8(vld1q_u8(s + i)));
    return vaddvq_u32(acc);
}

int main(void) {
    __asm__ volatile("msr cpacr_el1, %0; isb" : : "r"(3ul << 20));
    uint32_t x = 2463534242u;
    for (uint32_t i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        src[i] = (uint8_t)(x | 1);                  /* no zero bytes */
    }
    uint64_t sum = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        src[(r * 7919u) % N] = (uint8_t)(r | 1);
        vcopy(dst, src, N);
        dst[N - 1 - (r * 4099u) % 4096] = 0;        /* a terminator near the end */
        uint32_t len = vstrlen(dst);
        int32_t at = vmemchr(dst, (uint8_t)(0x80 | r), N / 2);
        sum = sum * 31 + len + (uint64_t)(at + 1) * 7 + vsum(dst, N);
        BARRIER();
    }
    report("simd", sum);
    return 0;
}
