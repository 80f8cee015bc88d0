/* memops: memset and memcpy of 1 MiB with plain word-sized (64-bit) C loops,
 * repeated; general registers only (no SIMD), no library calls. */
#include "bench.h"

#define WORDS ((1u << 20) / 8)
#ifndef ROUNDS
#define ROUNDS 160
#endif

static uint64_t a[WORDS] __attribute__((aligned(64)));
static uint64_t b[WORDS] __attribute__((aligned(64)));

__attribute__((noinline)) static void set64(uint64_t *d, uint64_t v, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) d[i] = v;
}

__attribute__((noinline)) static void copy64(uint64_t *d, const uint64_t *s, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) d[i] = s[i];
}

int main(void) {
    uint64_t sum = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        set64(a, 0x0101010101010101ull * (r + 1), WORDS);
        a[(r * 7919u) % WORDS] = r;          /* make every round's copy distinct */
        copy64(b, a, WORDS);
        BARRIER();
        sum = sum * 31 + b[(r * 104729u) % WORDS] + b[(r * 7919u) % WORDS];
    }
    for (uint32_t i = 0; i < WORDS; i++) sum += b[i] ^ (uint64_t)i;
    report("memops", sum);
    return 0;
}
