/* qsort: quicksort (median-of-three, insertion sort below 16 elements) of
 * 100,000 32-bit ints from a xorshift32 generator; several rounds, each checked. */
#include "bench.h"

#define NELEM 100000
#ifndef ROUNDS
#define ROUNDS 6
#endif

static int32_t v[NELEM];

static uint32_t xs;
static inline uint32_t xorshift32(void) {
    uint32_t x = xs;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return xs = x;
}

static void insertion(int32_t *p, int n) {
    for (int i = 1; i < n; i++) {
        int32_t x = p[i];
        int j = i - 1;
        while (j >= 0 && p[j] > x) { p[j + 1] = p[j]; j--; }
        p[j + 1] = x;
    }
}

static void quicksort(int32_t *p, int n) {
    while (n > 16) {
        int32_t a = p[0], b = p[n / 2], c = p[n - 1], piv;
        if (a < b) piv = b < c ? b : (a < c ? c : a);
        else       piv = a < c ? a : (b < c ? c : b);
        int i = 0, j = n - 1;
        for (;;) {
            while (p[i] < piv) i++;
            while (p[j] > piv) j--;
            if (i >= j) break;
            int32_t t = p[i]; p[i] = p[j]; p[j] = t;
            i++; j--;
        }
        /* recurse into the smaller part, loop on the larger: O(log n) stack */
        int left = j + 1;
        if (left < n - left) { quicksort(p, left); p += left; n -= left; }
        else { quicksort(p + left, n - left); n = left; }
    }
    insertion(p, n);
}

int main(void) {
    uint64_t sum = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        xs = 2463534242u + r * 0x9e3779b9u;
        for (int i = 0; i < NELEM; i++) v[i] = (int32_t)xorshift32();
        quicksort(v, NELEM);
        for (int i = 1; i < NELEM; i++)
            if (v[i - 1] > v[i]) { puts_("NOT SORTED\n"); return 1; }
        for (int i = 0; i < NELEM; i += 97) sum = sum * 1000003u + (uint32_t)v[i];
    }
    report("qsort", sum);
    return 0;
}
