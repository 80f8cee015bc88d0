/* Advanced SIMD integer and bitwise instructions (cpu/simd_int.py): every class, vector
 * and scalar forms, on edge-value inputs; prints the destination register and FPSR.QC
 * after each, so the output is the same on QEMU 7.2 and pyaarch64.  Also a strlen in the
 * style of glibc's (CMEQ #0, SHRN, UMAXP) over strings of every alignment. */
#include "lib.h"

#define NSETS 4
/* V0 (destination, also an accumulator), V1, V2 for each set: low 64 bits first */
static const uint64_t sets[NSETS][6] __attribute__((aligned(16))) = {
    {0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x7f80ff0001fe8081ULL,
     0x8000000000000000ULL, 0x7fff8000ffff0001ULL, 0x7fffffff80000000ULL},
    {0xffffffffffffffffULL, 0x0000000000000000ULL, 0x8080808080808080ULL,
     0x7f7f7f7f7f7f7f7fULL, 0x0101010101010101ULL, 0xfffefdfcfbfaf9f8ULL},
    {0x5555aaaa5555aaaaULL, 0x00ff00ff00ff00ffULL, 0x7fffffffffffffffULL,
     0x8000000000000001ULL, 0x00000000000000ffULL, 0xc0f8f9ff01070840ULL},
    {0x1122334455667788ULL, 0x99aabbccddeeff00ULL, 0x80007fff00010002ULL,
     0xffff8000ffff7fffULL, 0x800000007fffffffULL, 0xffffffe0ffffffc1ULL},
};
static uint64_t out[2] __attribute__((aligned(16)));

#define T(ins) do {                                                                     \
        for (int k_ = 0; k_ < NSETS; k_++) {                                            \
            uint64_t fpsr_;                                                             \
            __asm__ volatile("msr fpsr, xzr\n ldp q0, q1, [%1]\n ldr q2, [%1, #32]\n"   \
                             ins "\n str q0, [%2]\n mrs %0, fpsr"                     \
                             : "=&r"(fpsr_) : "r"(sets[k_]), "r"(out)                   \
                             : "v0", "v1", "v2", "memory");                             \
            printf_("%s [%d]: %lx %lx%s\n", ins, k_, out[1], out[0],                    \
                    (fpsr_ >> 27) & 1 ? " QC" : "");                                    \
        }                                                                               \
    } while (0)

/* glibc-style strlen: 16 bytes at a time, a 64-bit syndrome from SHRN */
static size_t simd_strlen(const char *s) {
    const char *p = (const char *)((uint64_t)s & ~15ULL);
    uint64_t syn;
    unsigned shift = ((uint64_t)s & 15) * 4;
    __asm__ volatile("ldr q0, [%1]\n cmeq v0.16b, v0.16b, #0\n shrn v0.8b, v0.8h, #4\n"
                     "str d0, [%2]\n ldr %0, [%2]"
                     : "=r"(syn) : "r"(p), "r"(out) : "v0", "memory");
    syn >>= shift;
    if (syn)
        return __builtin_ctzll(syn) / 4;
    for (;;) {
        p += 16;
        uint64_t any;
        __asm__ volatile("ldr q0, [%1]\n cmeq v0.16b, v0.16b, #0\n umaxp v1.16b, v0.16b, v0.16b\n"
                         "str d1, [%2]\n ldr %0, [%2]"
                         : "=r"(any) : "r"(p), "r"(out) : "v0", "v1", "memory");
        if (any) {
            __asm__ volatile("ldr q0, [%1]\n cmeq v0.16b, v0.16b, #0\n shrn v0.8b, v0.8h, #4\n"
                             "str d0, [%2]\n ldr %0, [%2]"
                             : "=r"(syn) : "r"(p), "r"(out) : "v0", "memory");
            return (size_t)(p - s) + __builtin_ctzll(syn) / 4;
        }
    }
}

static char buf[128] __attribute__((aligned(16)));

int main(void) {
    uint64_t cpacr;
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));

    /* three same */
    T("add v0.16b, v1.16b, v2.16b"); T("sub v0.2d, v1.2d, v2.2d"); T("sub v0.8b, v1.8b, v2.8b");
    T("sqadd v0.8h, v1.8h, v2.8h"); T("uqadd v0.4s, v1.4s, v2.4s"); T("sqsub v0.2d, v1.2d, v2.2d");
    T("uqsub v0.16b, v1.16b, v2.16b"); T("shadd v0.8b, v1.8b, v2.8b"); T("urhadd v0.4h, v1.4h, v2.4h");
    T("uhsub v0.4s, v1.4s, v2.4s"); T("cmgt v0.8h, v1.8h, v2.8h"); T("cmhi v0.2d, v1.2d, v2.2d");
    T("cmge v0.16b, v1.16b, v2.16b"); T("cmhs v0.16b, v1.16b, v2.16b"); T("cmeq v0.16b, v1.16b, v2.16b");
    T("cmtst v0.4s, v1.4s, v2.4s"); T("sshl v0.8h, v1.8h, v2.8h"); T("ushl v0.2d, v1.2d, v2.2d");
    T("sqshl v0.16b, v1.16b, v2.16b"); T("uqshl v0.4s, v1.4s, v2.4s"); T("srshl v0.2s, v1.2s, v2.2s");
    T("urshl v0.8b, v1.8b, v2.8b"); T("sqrshl v0.2d, v1.2d, v2.2d"); T("uqrshl v0.8h, v1.8h, v2.8h");
    T("smax v0.4s, v1.4s, v2.4s"); T("umin v0.16b, v1.16b, v2.16b"); T("sabd v0.8h, v1.8h, v2.8h");
    T("uaba v0.16b, v1.16b, v2.16b"); T("mla v0.4s, v1.4s, v2.4s"); T("mls v0.8h, v1.8h, v2.8h");
    T("mul v0.16b, v1.16b, v2.16b"); T("pmul v0.16b, v1.16b, v2.16b");
    T("umaxp v0.16b, v1.16b, v2.16b"); T("uminp v0.16b, v1.16b, v2.16b"); T("smaxp v0.4s, v1.4s, v2.4s");
    T("addp v0.16b, v1.16b, v2.16b"); T("addp v0.2d, v1.2d, v2.2d");
    T("sqdmulh v0.8h, v1.8h, v2.8h"); T("sqrdmulh v0.4s, v1.4s, v2.4s");
    T("and v0.16b, v1.16b, v2.16b"); T("bic v0.16b, v1.16b, v2.16b"); T("orr v0.8b, v1.8b, v2.8b");
    T("orn v0.16b, v1.16b, v2.16b"); T("eor v0.16b, v1.16b, v2.16b"); T("bsl v0.16b, v1.16b, v2.16b");
    T("bit v0.16b, v1.16b, v2.16b"); T("bif v0.8b, v1.8b, v2.8b");
    T("sqadd b0, b1, b2"); T("uqsub h0, h1, h2"); T("sqrshl s0, s1, s2"); T("uqshl d0, d1, d2");
    T("cmhi d0, d1, d2"); T("add d0, d1, d2"); T("sqdmulh h0, h1, h2"); T("sqrdmulh s0, s1, s2");
    /* three different */
    T("saddl v0.8h, v1.8b, v2.8b"); T("uaddl2 v0.4s, v1.8h, v2.8h"); T("ssubw v0.2d, v1.2d, v2.2s");
    T("usubw2 v0.8h, v1.8h, v2.16b"); T("addhn v0.8b, v1.8h, v2.8h"); T("raddhn2 v0.4s, v1.2d, v2.2d");
    T("subhn v0.4h, v1.4s, v2.4s"); T("rsubhn v0.8b, v1.8h, v2.8h"); T("sabal v0.4s, v1.4h, v2.4h");
    T("uabdl2 v0.2d, v1.4s, v2.4s"); T("smlal v0.2d, v1.2s, v2.2s"); T("umlsl2 v0.8h, v1.16b, v2.16b");
    T("umull v0.4s, v1.4h, v2.4h"); T("sqdmlal v0.4s, v1.4h, v2.4h"); T("sqdmlsl2 v0.2d, v1.4s, v2.4s");
    T("sqdmull v0.2d, v1.2s, v2.2s"); T("pmull v0.8h, v1.8b, v2.8b"); T("pmull2 v0.8h, v1.16b, v2.16b");
    T("sqdmlal s0, h1, h2"); T("sqdmull d0, s1, s2");
    /* two-register misc */
    T("rev64 v0.16b, v1.16b"); T("rev32 v0.8h, v1.8h"); T("rev16 v0.8b, v1.8b");
    T("saddlp v0.8h, v1.16b"); T("uadalp v0.2d, v1.4s"); T("suqadd v0.16b, v1.16b");
    T("usqadd v0.2d, v1.2d"); T("cls v0.8h, v1.8h"); T("clz v0.4s, v1.4s"); T("cnt v0.16b, v1.16b");
    T("not v0.16b, v1.16b"); T("rbit v0.8b, v1.8b"); T("sqabs v0.8h, v1.8h"); T("sqneg v0.2d, v1.2d");
    T("abs v0.4s, v1.4s"); T("neg v0.16b, v1.16b"); T("cmgt v0.8h, v1.8h, #0");
    T("cmge v0.2d, v1.2d, #0"); T("cmeq v0.16b, v1.16b, #0"); T("cmle v0.4s, v1.4s, #0");
    T("cmlt v0.8b, v1.8b, #0"); T("xtn v0.8b, v1.8h"); T("sqxtn2 v0.8h, v1.4s");
    T("uqxtn v0.2s, v1.2d"); T("sqxtun2 v0.16b, v1.8h"); T("shll v0.8h, v1.8b, #8");
    T("shll2 v0.2d, v1.4s, #32"); T("sqabs b0, b1"); T("sqneg d0, d1"); T("suqadd s0, s1");
    T("cmlt d0, d1, #0"); T("neg d0, d1"); T("sqxtn b0, h1"); T("uqxtn s0, d1"); T("sqxtun h0, s1");
    /* across lanes, pairwise */
    T("addv b0, v1.16b"); T("addv s0, v1.4s"); T("saddlv h0, v1.8b"); T("uaddlv d0, v1.4s");
    T("smaxv h0, v1.8h"); T("umaxv b0, v1.16b"); T("sminv s0, v1.4s"); T("uminv h0, v1.4h");
    T("addp d0, v1.2d");
    /* shift by immediate */
    T("sshr v0.16b, v1.16b, #3"); T("ushr v0.2d, v1.2d, #64"); T("ssra v0.4s, v1.4s, #32");
    T("usra v0.8h, v1.8h, #1"); T("srshr v0.2d, v1.2d, #1"); T("urshr v0.8b, v1.8b, #8");
    T("srsra v0.4h, v1.4h, #5"); T("ursra v0.2d, v1.2d, #63"); T("sri v0.4s, v1.4s, #7");
    T("shl v0.8h, v1.8h, #15"); T("sli v0.2d, v1.2d, #13"); T("sqshl v0.16b, v1.16b, #1");
    T("uqshl v0.4s, v1.4s, #31"); T("sqshlu v0.2d, v1.2d, #1"); T("shrn v0.8b, v1.8h, #4");
    T("rshrn2 v0.8h, v1.4s, #16"); T("sqshrn v0.2s, v1.2d, #1"); T("uqshrn2 v0.16b, v1.8h, #3");
    T("sqrshrn v0.4h, v1.4s, #7"); T("uqrshrn v0.8b, v1.8h, #1"); T("sqshrun v0.2s, v1.2d, #31");
    T("sqrshrun2 v0.16b, v1.8h, #8"); T("sshll v0.8h, v1.8b, #3"); T("ushll2 v0.2d, v1.4s, #31");
    T("sxtl v0.4s, v1.4h"); T("uxtl2 v0.8h, v1.16b");
    T("sshr d0, d1, #64"); T("ursra d0, d1, #1"); T("sli d0, d1, #63"); T("sqshl h0, h1, #9");
    T("uqshl b0, b1, #2"); T("sqshlu s0, s1, #30"); T("sqrshrn h0, s1, #5"); T("uqshrn s0, d1, #32");
    T("sqshrun b0, h1, #1");
    /* by element */
    T("mul v0.8h, v1.8h, v2.h[7]"); T("mla v0.2s, v1.2s, v2.s[3]"); T("mls v0.4h, v1.4h, v2.h[0]");
    T("sqdmulh v0.4s, v1.4s, v2.s[1]"); T("sqrdmulh v0.8h, v1.8h, v2.h[6]");
    T("smull v0.4s, v1.4h, v2.h[3]"); T("umlal2 v0.2d, v1.4s, v2.s[2]"); T("smlsl v0.2d, v1.2s, v2.s[0]");
    T("sqdmull2 v0.4s, v1.8h, v2.h[1]"); T("sqdmlal v0.2d, v1.2s, v2.s[3]");
    T("sqdmlsl s0, h1, v2.h[5]"); T("sqdmulh s0, s1, v2.s[2]"); T("sqrdmulh h0, h1, v2.h[4]");

    /* strlen in the style of glibc */
    for (int i = 0; i < 127; i++) buf[i] = (char)('a' + i % 26);
    buf[127] = 0;
    unsigned sum = 0;
    for (int start = 0; start < 16; start++)
        for (int len = 0; len < 100; len += 13) {
            char save = buf[start + len];
            buf[start + len] = 0;
            size_t n = simd_strlen(buf + start);
            buf[start + len] = save;
            if (n != (size_t)len) printf_("strlen(%d, %d) = %d\n", start, len, (int)n);
            sum += (unsigned)n;
        }
    printf_("strlen sum %u\n", sum);
    guest_exit(0);
    return 0;
}
