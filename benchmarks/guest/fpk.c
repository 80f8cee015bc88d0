/* fpk: a float kernel -- single-precision SAXPY and dot products on 4-lane vectors
 * (FMLA), double-precision scalar work (a Horner polynomial, division, square root,
 * conversions) -- over 16 K-element arrays, repeated.  The checksum is over the
 * results' bit patterns, so every rounding must be exact. */
#include <arm_neon.h>
#include "bench.h"

#define N 16384
#ifndef ROUNDS
#define ROUNDS 40
#endif

static float xs[N] __attribute__((aligned(64)));
static float ys[N] __attribute__((aligned(64)));
static double ds[N] __attribute__((aligned(64)));

__attribute__((noinline)) static void saxpy(float a, const float *x, float *y, uint32_t n) {
    float32x4_t va = vdupq_n_f32(a);
    for (uint32_t i = 0; i < n; i += 4)
        vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), va, vld1q_f32(x + i)));
}

__attribute__((noinline)) static float dot(const float *x, const float *y, uint32_t n) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (uint32_t i = 0; i < n; i += 4)
        acc = vfmaq_f32(acc, vld1q_f32(x + i), vld1q_f32(y + i));
    return vaddvq_f32(acc);
}

__attribute__((noinline)) static double scalar(const double *d, uint32_t n) {
    double s = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double v = d[i];
        double p = ((0.25 * v - 1.5) * v + 3.0) * v - 0.75;       /* Horner */
        s += p / (1.0 + v * v) + __builtin_sqrt(v + 2.0);
        s -= (double)(int64_t)(v * 1000.0) * 1e-3;
    }
    return s;
}

static uint64_t bits_f(float f) { union { float f; uint32_t u; } c = { f }; return c.u; }
static uint64_t bits_d(double d) { union { double d; uint64_t u; } c = { d }; return c.u; }

int main(void) {
    __asm__ volatile("msr cpacr_el1, %0; isb" : : "r"(3ul << 20));
    uint32_t x = 88172645u;
    for (uint32_t i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        xs[i] = (float)(x & 0xffff) / 65536.0f - 0.5f;
        ys[i] = (float)(x >> 16) / 65536.0f;
        ds[i] = (double)x / 4294967296.0 * 4.0 - 1.0;
    }
    uint64_t sum = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        saxpy(0.001f * (float)(r + 1), xs, ys, N);
        float d = dot(xs, ys, N);
        double s = scalar(ds, N / 8);
        ds[r] += 0.5;
        sum = sum * 31 + bits_f(d) + bits_d(s);
        BARRIER();
    }
    report("fpk", sum);
    return 0;
}
