/* intloop: a tight integer loop (multiply-add, shifts, xor, adds).  About 8
 * instructions an iteration, no memory traffic: the executor's best case. */
#include "bench.h"

#ifndef N
#define N 16000000u
#endif

__attribute__((noinline)) static uint64_t kernel(uint32_t n, uint64_t seed) {
    uint64_t a = seed, b = 0x9e3779b97f4a7c15ull, s = 0;
    for (uint32_t i = 0; i < n; i++) {
        a = a * 6364136223846793005ull + i;
        b ^= a >> 13;
        s += (b & 0xff) + (a >> 60);
    }
    return s ^ b;
}

int main(void) {
    report("intloop", kernel(N, 1));
    return 0;
}
