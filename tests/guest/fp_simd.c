/* Advanced SIMD floating point: vector, scalar, pairwise, across-lanes, by-element and
 * fixed-point forms on edge values under several FPCR settings; one checksum line of
 * results and FPSR per instruction and FPCR value.  The same output on QEMU 7.2 and
 * pyaarch64.  Operands go through memory (ldr q / str q) inside the asm. */
#include "lib.h"
#include "fpvals.h"

#define NS (sizeof(sv) / sizeof(sv[0]))

static const uint64_t fpcrs[] = {0, 1ULL << 22, 3ULL << 22, (1ULL << 24) | (1ULL << 25) | (2ULL << 22)};
#define NFPCR (sizeof(fpcrs) / sizeof(fpcrs[0]))

static uint64_t qa[2] __attribute__((aligned(16)));
static uint64_t qb[2] __attribute__((aligned(16)));
static uint64_t qd[2] __attribute__((aligned(16)));
static uint64_t qr[2] __attribute__((aligned(16)));

#define OP(ins) __asm__ volatile("ldr q1, [%0]\n ldr q2, [%1]\n ldr q0, [%2]\n " ins "\n str q0, [%3]" \
                                 :: "r"(qa), "r"(qb), "r"(qd), "r"(qr) : "v0", "v1", "v2", "memory")

static const char *const names[] = {
    "fadd.4s", "fmul.2d", "fdiv.4s", "fmaxnm.2d", "fmin.4s", "fmla.4s", "fmls.2d", "fabd.4s",
    "fmulx.2d", "frecps.4s", "frsqrts.2d", "faddp.4s", "fmaxnmp.2d", "fminp.4s", "fcmeq.4s",
    "fcmge.2d", "facgt.4s", "fsqrt.2d", "frinta.4s", "frintx.2d", "fcvtzs.4s", "fcvtnu.2d",
    "scvtf.4s", "ucvtf.2d", "frecpe.4s", "frsqrte.2d", "frecpx.s", "fcmlt0.4s", "fcvtn.4h",
    "fcvtn2.2d", "fcvtl2.4h", "fcvtxn.2d", "fmaxnmv", "fminv", "faddp.d", "fmla.elem",
    "fmulx.elem.d", "scvtf#5.4s", "fcvtzu#40.2d", "fmov.4s", "fmov.2s", "fmov.2d",
};
#define NOPS (sizeof(names) / sizeof(names[0]))

static void run(int op) {
    switch (op) {
    case 0: OP("fadd v0.4s, v1.4s, v2.4s"); break;
    case 1: OP("fmul v0.2d, v1.2d, v2.2d"); break;
    case 2: OP("fdiv v0.4s, v1.4s, v2.4s"); break;
    case 3: OP("fmaxnm v0.2d, v1.2d, v2.2d"); break;
    case 4: OP("fmin v0.4s, v1.4s, v2.4s"); break;
    case 5: OP("fmla v0.4s, v1.4s, v2.4s"); break;
    case 6: OP("fmls v0.2d, v1.2d, v2.2d"); break;
    case 7: OP("fabd v0.4s, v1.4s, v2.4s"); break;
    case 8: OP("fmulx v0.2d, v1.2d, v2.2d"); break;
    case 9: OP("frecps v0.4s, v1.4s, v2.4s"); break;
    case 10: OP("frsqrts v0.2d, v1.2d, v2.2d"); break;
    case 11: OP("faddp v0.4s, v1.4s, v2.4s"); break;
    case 12: OP("fmaxnmp v0.2d, v1.2d, v2.2d"); break;
    case 13: OP("fminp v0.4s, v1.4s, v2.4s"); break;
    case 14: OP("fcmeq v0.4s, v1.4s, v2.4s"); break;
    case 15: OP("fcmge v0.2d, v1.2d, v2.2d"); break;
    case 16: OP("facgt v0.4s, v1.4s, v2.4s"); break;
    case 17: OP("fsqrt v0.2d, v1.2d"); break;
    case 18: OP("frinta v0.4s, v1.4s"); break;
    case 19: OP("frintx v0.2d, v1.2d"); break;
    case 20: OP("fcvtzs v0.4s, v1.4s"); break;
    case 21: OP("fcvtnu v0.2d, v1.2d"); break;
    case 22: OP("scvtf v0.4s, v1.4s"); break;
    case 23: OP("ucvtf v0.2d, v1.2d"); break;
    case 24: OP("frecpe v0.4s, v1.4s"); break;
    case 25: OP("frsqrte v0.2d, v1.2d"); break;
    case 26: OP("frecpx s0, s1"); break;
    case 27: OP("fcmlt v0.4s, v1.4s, #0.0"); break;
    case 28: OP("fcvtn v0.4h, v1.4s"); break;
    case 29: OP("fcvtn2 v0.4s, v1.2d"); break;
    case 30: OP("fcvtl2 v0.4s, v1.8h"); break;
    case 31: OP("fcvtxn v0.2s, v1.2d"); break;
    case 32: OP("fmaxnmv s0, v1.4s"); break;
    case 33: OP("fminv s0, v1.4s"); break;
    case 34: OP("faddp d0, v1.2d"); break;
    case 35: OP("fmla v0.4s, v1.4s, v2.s[2]"); break;
    case 36: OP("fmulx v0.2d, v1.2d, v2.d[1]"); break;
    case 37: OP("scvtf v0.4s, v1.4s, #5"); break;
    case 38: OP("fcvtzu v0.2d, v1.2d, #40"); break;
    case 39: OP("fmov v0.4s, #-2.5"); break;
    case 40: OP("fmov v0.2d, #0.25\n fmov v0.2s, #3.0"); break;
    case 41: OP("fmov v0.2d, #-15.5"); break;
    }
}

static uint64_t h;
static void mix(uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
}

/* operand i of a sweep: both 32-bit halves of each 64-bit lane from sv, or dv */
static void operands(unsigned i, unsigned j, int dbl) {
    if (dbl) {
        qa[0] = dv[i]; qa[1] = dv[(i + 7) % NS];
        qb[0] = dv[j]; qb[1] = dv[(j + 5) % NS];
        qd[0] = dv[(i + j) % NS]; qd[1] = dv[(i * 3 + j) % NS];
    } else {
        qa[0] = sv[i] | (uint64_t)sv[(i + 7) % NS] << 32;
        qa[1] = sv[(i + 11) % NS] | (uint64_t)sv[(i + 3) % NS] << 32;
        qb[0] = sv[j] | (uint64_t)sv[(j + 5) % NS] << 32;
        qb[1] = sv[(j + 13) % NS] | (uint64_t)sv[(j + 1) % NS] << 32;
        qd[0] = sv[(i + j) % NS] | (uint64_t)sv[(i * 3 + j) % NS] << 32;
        qd[1] = sv[(i + 2 * j) % NS] | (uint64_t)sv[(i * 5 + j) % NS] << 32;
    }
}

int main(void) {
    uint64_t cpacr;
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));
    for (unsigned f = 0; f < NFPCR; f++) {
        __asm__ volatile("msr fpcr, %0" :: "r"(fpcrs[f]));
        for (unsigned op = 0; op < NOPS; op++) {
            int dbl = 0, dot = 0;
            for (const char *c = names[op]; *c; c++) {
                if (*c == '.')
                    dot = 1;
                else if (dot && *c == 'd')
                    dbl = 1;
            }
            h = 0;
            for (unsigned i = 0; i < NS; i++)
                for (unsigned j = 0; j < NS; j += 5) {
                    operands(i, j, dbl);
                    __asm__ volatile("msr fpsr, xzr");
                    run(op);
                    uint64_t fpsr;
                    __asm__ volatile("mrs %0, fpsr" : "=r"(fpsr));
                    mix(qr[0]);
                    mix(qr[1]);
                    mix(fpsr);
                }
            printf_("fpcr %lx %s: %lx\n", fpcrs[f], names[op], h);
        }
    }
    __asm__ volatile("msr fpcr, xzr");
    guest_exit(0);
    return 0;
}
