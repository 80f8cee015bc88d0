/* FP/SIMD code as a compiler writes it (built without -mgeneral-regs-only, see
 * tests/guestbuild.py FPSIMD_GUESTS): NEON string and memory loops in glibc's style,
 * integer lane arithmetic, permutes, and float kernels, each run many times so that
 * they execute in the executor's vector loop (cpu/hotvec.py).  Prints one checksum
 * per kernel; the expected output comes from QEMU 7.2. */
#include <arm_neon.h>
#include "lib.h"

#define N 4096
static uint8_t src[N] __attribute__((aligned(64)));
static uint8_t dst[N + 64] __attribute__((aligned(64)));
static float fx[256], fy[256];

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t q_hash(uint64_t h, uint8x16_t v) {
    return mix(mix(h, vgetq_lane_u64(vreinterpretq_u64_u8(v), 0)),
               vgetq_lane_u64(vreinterpretq_u64_u8(v), 1));
}

__attribute__((noinline)) static void vcopy(uint8_t *d, const uint8_t *s, uint32_t n) {
    for (uint32_t i = 0; i < n; i += 64)
        vst1q_u8_x4(d + i, vld1q_u8_x4(s + i));
}

__attribute__((noinline)) static uint32_t vstrlen(const uint8_t *s) {
    for (uint32_t i = 0;; i += 16) {
        uint8x16_t z = vceqzq_u8(vld1q_u8(s + i));
        uint64_t m = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(z), 4)), 0);
        if (m)
            return i + (__builtin_ctzll(m) >> 2);
    }
}

__attribute__((noinline)) static int32_t vmemchr(const uint8_t *s, uint8_t c, uint32_t n) {
    uint8x16_t k = vdupq_n_u8(c);
    for (uint32_t i = 0; i < n; i += 32) {
        uint8x16_t a = vceqq_u8(vld1q_u8(s + i), k);
        uint8x16_t b = vceqq_u8(vld1q_u8(s + i + 16), k);
        if (vmaxvq_u8(vpmaxq_u8(a, b)))
            for (uint32_t j = i; j < i + 32; j++)
                if (s[j] == c)
                    return (int32_t)j;
    }
    return -1;
}

__attribute__((noinline)) static uint64_t vsum(const uint8_t *s, uint32_t n) {
    uint32x4_t acc = vdupq_n_u32(0);
    int16x8_t sacc = vdupq_n_s16(0);
    for (uint32_t i = 0; i < n; i += 16) {
        uint8x16_t v = vld1q_u8(s + i);
        acc = vpadalq_u16(acc, vpaddlq_u8(v));
        sacc = vaddq_s16(sacc, vpaddlq_s8(vreinterpretq_s8_u8(v)));
    }
    return ((uint64_t)vaddvq_u32(acc) << 20) ^ (uint64_t)(uint16_t)vaddvq_s16(sacc)
           ^ ((uint64_t)vminvq_u32(acc) << 40) ^ ((uint64_t)(uint16_t)vmaxvq_s16(sacc) << 48);
}

/* integer lane arithmetic, compares, shifts, narrowing/widening, permutes */
__attribute__((noinline)) static uint64_t vlanes(const uint8_t *s, uint32_t n) {
    uint64_t h = 0;
    uint8x16_t acc8 = vdupq_n_u8(0x5a);
    uint16x8_t acc16 = vdupq_n_u16(0x1234);
    int32x4_t acc32 = vdupq_n_s32(-7);
    for (uint32_t i = 0; i + 32 <= n; i += 16) {
        uint8x16_t a = vld1q_u8(s + i), b = vld1q_u8(s + i + 16);
        uint16x8_t a16 = vreinterpretq_u16_u8(a), b16 = vreinterpretq_u16_u8(b);
        int8x16_t as = vreinterpretq_s8_u8(a), bs = vreinterpretq_s8_u8(b);
        int32x4_t a32 = vreinterpretq_s32_u8(a), b32 = vreinterpretq_s32_u8(b);
        acc8 = veorq_u8(acc8, vaddq_u8(a, b));
        acc8 = vorrq_u8(vandq_u8(acc8, vcgtq_u8(a, b)), vbicq_u8(vsubq_u8(a, b), vcgeq_s8(as, bs)));
        acc8 = vbslq_u8(vcltq_s8(as, vdupq_n_s8(0)), acc8, vmvnq_u8(acc8));
        acc8 = vaddq_u8(acc8, vtstq_u8(a, b));
        acc8 = vmaxq_u8(acc8, vminq_u8(a, b));
        acc8 = veorq_u8(acc8, vreinterpretq_u8_s8(vmaxq_s8(as, vminq_s8(bs, as))));
        acc16 = vaddq_u16(acc16, vshrq_n_u16(a16, 3));
        acc16 = vsubq_u16(acc16, vshlq_n_u16(b16, 5));
        acc16 = vaddq_u16(acc16, vmovl_u8(vget_low_u8(a)));
        acc16 = veorq_u16(acc16, vmovl_high_u8(b));
        acc16 = vaddq_u16(acc16, vreinterpretq_u16_s16(vshll_n_s8(vget_low_s8(as), 2)));
        acc16 = vmaxq_u16(acc16, vcgtq_u16(a16, b16));
        acc32 = vaddq_s32(acc32, vshrq_n_s32(a32, 7));
        acc32 = vsubq_s32(acc32, vreinterpretq_s32_u32(vceqq_s32(a32, b32)));
        acc32 = vminq_s32(acc32, vmaxq_s32(a32, b32));
        acc32 = vaddq_s32(acc32, vreinterpretq_s32_u32(vcleq_s32(a32, vdupq_n_s32(0))));
        acc32 = vaddq_s32(acc32, vreinterpretq_s32_u32(vcgtq_s32(a32, vdupq_n_s32(0))));
        uint8x8_t nar = vmovn_u16(acc16);
        uint8x8_t sh = vshrn_n_u16(a16, 4);
        acc8 = veorq_u8(acc8, vcombine_u8(nar, sh));
        acc8 = vextq_u8(acc8, a, 3);
        acc8 = veorq_u8(acc8, vzip1q_u8(a, b));
        acc8 = vaddq_u8(acc8, vuzp2q_u8(a, b));
        acc8 = veorq_u8(acc8, vrev64q_u8(b));
        acc8 = vaddq_u8(acc8, vqtbl1q_u8(a, vandq_u8(b, vdupq_n_u8(15))));
        acc8 = vsetq_lane_u8(vgetq_lane_u8(a, 5), acc8, 9);
        acc16 = vpaddq_u16(acc16, vpmaxq_u16(a16, b16));
        acc16 = vaddq_u16(acc16, vpminq_u16(a16, b16));
        h = mix(h, vaddvq_u8(acc8) + vmaxvq_u16(acc16) + (uint32_t)vminvq_s32(acc32));
    }
    h = q_hash(h, acc8);
    h = q_hash(h, vreinterpretq_u8_u16(acc16));
    return q_hash(h, vreinterpretq_u8_s32(acc32));
}

/* float: 4-lane FMLA, scalar double arithmetic, conversions, compares */
__attribute__((noinline)) static uint64_t vfloat(uint32_t rounds) {
    uint64_t h = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        float32x4_t acc = vdupq_n_f32(0.5f), a = vdupq_n_f32(1.0f + (float)r / 64.0f);
        for (int i = 0; i < 256; i += 4) {
            float32x4_t x = vld1q_f32(fx + i), y = vld1q_f32(fy + i);
            y = vfmaq_f32(y, a, x);
            vst1q_f32(fy + i, y);
            acc = vfmaq_f32(acc, x, y);
            acc = vmaxq_f32(acc, vnegq_f32(vabsq_f32(x)));
        }
        float dot = vaddvq_f32(acc);
        double p = 0.0, xd = 1.0 + r * 0.001;
        for (int k = 0; k < 24; k++)
            p = p * xd + (double)(k + 1) / (k + 3);
        double q = p / (xd + 0.25);
        double s = __builtin_sqrt(q + r);
        int64_t c = (int64_t)(s * 1000.0);
        float f = (float)q;
        double back = (double)f + (double)c;
        if (back > q)
            back = back - q * 0.5;
        h = mix(h, (uint64_t)c);
        union { float f; uint32_t u; } uf = { dot };
        union { double d; uint64_t u; } ud = { back };
        h = mix(mix(h, uf.u), ud.u);
    }
    return h;
}

__attribute__((noinline)) static void run(void) {
    uint32_t x = 2463534242u;
    for (uint32_t i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        src[i] = (uint8_t)(x | 1);
    }
    for (int i = 0; i < 256; i++) {
        fx[i] = (float)(i % 17) * 0.125f - 1.0f;
        fy[i] = (float)(i % 5) * 0.5f;
    }
    uint64_t h = 0;
    for (uint32_t r = 0; r < 48; r++) {
        src[(r * 797u) % N] = (uint8_t)(r | 1);
        vcopy(dst, src, N);
        dst[N - 1 - (r * 409u) % 1024] = 0;
        uint32_t len = vstrlen(dst);
        int32_t at = vmemchr(dst, (uint8_t)(0x80 | r), N);
        h = mix(h, len);
        h = mix(h, (uint64_t)(at + 1));
        h = mix(h, vsum(dst, N));
    }
    printf_("strings: %lx\n", h);
    uint64_t hl = 0;
    for (int k = 0; k < 16; k++)
        hl = mix(hl, vlanes(src + k, N - 64));
    printf_("lanes: %lx\n", hl);
    printf_("float: %lx\n", vfloat(160));
}

int main(void) {
    uint64_t cpacr;
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));
    run();
    return 0;
}
