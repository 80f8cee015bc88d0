/* Scalar floating point: every data-processing form on edge values (signed zeros,
 * infinities, quiet/signalling NaNs, denormals, extremes, halfway cases) under several
 * FPCR settings (rounding modes, FZ, DN, AHP).  Results and FPSR are printed as hex;
 * for the all-pairs sweeps one checksum line per operation and FPCR value.  The same
 * output on QEMU 7.2 and pyaarch64.  Built with -mgeneral-regs-only: every FP operand
 * travels through general registers inside the asm. */
#include "lib.h"
#include "fpvals.h"

#define NV (sizeof(dv) / sizeof(dv[0]))

static const uint64_t fpcrs[] = {
    0,                          /* RN */
    1ULL << 22,                 /* RP */
    2ULL << 22,                 /* RM */
    3ULL << 22,                 /* RZ */
    (1ULL << 24) | (1ULL << 25),/* FZ, DN */
    (1ULL << 26) | (2ULL << 22),/* AHP, RM */
};
#define NFPCR (sizeof(fpcrs) / sizeof(fpcrs[0]))

static inline void set_fpcr(uint64_t v) { __asm__ volatile("msr fpcr, %0" :: "r"(v)); }
static inline void set_fpsr(uint64_t v) { __asm__ volatile("msr fpsr, %0" :: "r"(v)); }
static inline uint64_t get_fpsr(void) { uint64_t v; __asm__ volatile("mrs %0, fpsr" : "=r"(v)); return v; }
static inline uint64_t get_nzcv(void) { uint64_t v; __asm__ volatile("mrs %0, nzcv" : "=r"(v)); return v; }

#define D2(ins) __asm__ volatile("fmov d1, %1\n fmov d2, %2\n " ins "\n fmov %0, d0" \
                                 : "=r"(r) : "r"(a), "r"(b) : "v0", "v1", "v2")
#define S2(ins) __asm__ volatile("fmov s1, %w1\n fmov s2, %w2\n " ins "\n fmov %w0, s0" \
                                 : "=r"(r) : "r"(a), "r"(b) : "v0", "v1", "v2")
#define D3(ins) __asm__ volatile("fmov d1, %1\n fmov d2, %2\n fmov d3, %3\n " ins "\n fmov %0, d0" \
                                 : "=r"(r) : "r"(a), "r"(b), "r"(c) : "v0", "v1", "v2", "v3")
#define S3(ins) __asm__ volatile("fmov s1, %w1\n fmov s2, %w2\n fmov s3, %w3\n " ins "\n fmov %w0, s0" \
                                 : "=r"(r) : "r"(a), "r"(b), "r"(c) : "v0", "v1", "v2", "v3")
#define D1(ins) __asm__ volatile("fmov d1, %1\n " ins "\n fmov %0, d0" : "=r"(r) : "r"(a) : "v0", "v1")
#define S1(ins) __asm__ volatile("fmov s1, %w1\n " ins "\n fmov %w0, s0" : "=r"(r) : "r"(a) : "v0", "v1")
#define DX(ins) __asm__ volatile("fmov d1, %1\n " ins : "=r"(r) : "r"(a) : "v1")
#define SX(ins) __asm__ volatile("fmov s1, %w1\n " ins : "=r"(r) : "r"(a) : "v1")
#define XD(ins) __asm__ volatile(ins "\n fmov %0, d0" : "=r"(r) : "r"(a) : "v0")
#define XS(ins) __asm__ volatile(ins "\n fmov %w0, s0" : "=r"(r) : "r"(a) : "v0")

static const char *const bin_names[] = {
    "fadd", "fsub", "fmul", "fdiv", "fmax", "fmin", "fmaxnm", "fminnm", "fnmul", "fcmp", "fcmpe",
};
#define NBIN 11

static uint64_t bin_d(int op, uint64_t a, uint64_t b) {
    uint64_t r = 0;
    switch (op) {
    case 0: D2("fadd d0, d1, d2"); break;
    case 1: D2("fsub d0, d1, d2"); break;
    case 2: D2("fmul d0, d1, d2"); break;
    case 3: D2("fdiv d0, d1, d2"); break;
    case 4: D2("fmax d0, d1, d2"); break;
    case 5: D2("fmin d0, d1, d2"); break;
    case 6: D2("fmaxnm d0, d1, d2"); break;
    case 7: D2("fminnm d0, d1, d2"); break;
    case 8: D2("fnmul d0, d1, d2"); break;
    case 9: __asm__ volatile("fmov d1, %1\n fmov d2, %2\n fcmp d1, d2\n mrs %0, nzcv"
                             : "=r"(r) : "r"(a), "r"(b) : "v1", "v2", "cc"); break;
    case 10: __asm__ volatile("fmov d1, %1\n fmov d2, %2\n fcmpe d1, d2\n mrs %0, nzcv"
                              : "=r"(r) : "r"(a), "r"(b) : "v1", "v2", "cc"); break;
    }
    return r;
}

static uint64_t bin_s(int op, uint64_t a, uint64_t b) {
    uint64_t r = 0;
    switch (op) {
    case 0: S2("fadd s0, s1, s2"); break;
    case 1: S2("fsub s0, s1, s2"); break;
    case 2: S2("fmul s0, s1, s2"); break;
    case 3: S2("fdiv s0, s1, s2"); break;
    case 4: S2("fmax s0, s1, s2"); break;
    case 5: S2("fmin s0, s1, s2"); break;
    case 6: S2("fmaxnm s0, s1, s2"); break;
    case 7: S2("fminnm s0, s1, s2"); break;
    case 8: S2("fnmul s0, s1, s2"); break;
    case 9: __asm__ volatile("fmov s1, %w1\n fmov s2, %w2\n fcmp s1, s2\n mrs %0, nzcv"
                             : "=r"(r) : "r"(a), "r"(b) : "v1", "v2", "cc"); break;
    case 10: __asm__ volatile("fmov s1, %w1\n fmov s2, %w2\n fcmpe s1, s2\n mrs %0, nzcv"
                              : "=r"(r) : "r"(a), "r"(b) : "v1", "v2", "cc"); break;
    }
    return r;
}

static const char *const un_names[] = {
    "fsqrt", "frintn", "frintp", "frintm", "frintz", "frinta", "frintx", "frinti",
    "fcvt.s", "fcvt.h", "fcvtzs.x", "fcvtzu.w", "fcvtns.w", "fcvtau.x", "fcvtms.x", "fcvtpu.w",
    "fcvtzs.w#8", "fcvtzu.x#60", "fabs", "fneg",
};
#define NUN 20

static uint64_t un_d(int op, uint64_t a) {
    uint64_t r = 0;
    switch (op) {
    case 0: D1("fsqrt d0, d1"); break;
    case 1: D1("frintn d0, d1"); break;
    case 2: D1("frintp d0, d1"); break;
    case 3: D1("frintm d0, d1"); break;
    case 4: D1("frintz d0, d1"); break;
    case 5: D1("frinta d0, d1"); break;
    case 6: D1("frintx d0, d1"); break;
    case 7: D1("frinti d0, d1"); break;
    case 8: __asm__ volatile("fmov d1, %1\n fcvt s0, d1\n fmov %w0, s0" : "=r"(r) : "r"(a) : "v0", "v1"); break;
    case 9: __asm__ volatile("fmov d1, %1\n fcvt h0, d1\n fmov %w0, s0" : "=r"(r) : "r"(a) : "v0", "v1"); break;
    case 10: DX("fcvtzs %0, d1"); break;
    case 11: DX("fcvtzu %w0, d1"); break;
    case 12: DX("fcvtns %w0, d1"); break;
    case 13: DX("fcvtau %0, d1"); break;
    case 14: DX("fcvtms %0, d1"); break;
    case 15: DX("fcvtpu %w0, d1"); break;
    case 16: DX("fcvtzs %w0, d1, #8"); break;
    case 17: DX("fcvtzu %0, d1, #60"); break;
    case 18: D1("fabs d0, d1"); break;
    case 19: D1("fneg d0, d1"); break;
    }
    return r;
}

static uint64_t un_s(int op, uint64_t a) {
    uint64_t r = 0;
    switch (op) {
    case 0: S1("fsqrt s0, s1"); break;
    case 1: S1("frintn s0, s1"); break;
    case 2: S1("frintp s0, s1"); break;
    case 3: S1("frintm s0, s1"); break;
    case 4: S1("frintz s0, s1"); break;
    case 5: S1("frinta s0, s1"); break;
    case 6: S1("frintx s0, s1"); break;
    case 7: S1("frinti s0, s1"); break;
    case 8: __asm__ volatile("fmov s1, %w1\n fcvt d0, s1\n fmov %0, d0" : "=r"(r) : "r"(a) : "v0", "v1"); break;
    case 9: __asm__ volatile("fmov s1, %w1\n fcvt h0, s1\n fcvt d0, h0\n fmov %0, d0" : "=r"(r) : "r"(a) : "v0", "v1"); break;
    case 10: SX("fcvtzs %0, s1"); break;
    case 11: SX("fcvtzu %w0, s1"); break;
    case 12: SX("fcvtns %w0, s1"); break;
    case 13: SX("fcvtau %0, s1"); break;
    case 14: SX("fcvtms %0, s1"); break;
    case 15: SX("fcvtpu %w0, s1"); break;
    case 16: SX("fcvtzs %w0, s1, #8"); break;
    case 17: SX("fcvtzu %0, s1, #60"); break;
    case 18: S1("fabs s0, s1"); break;
    case 19: S1("fneg s0, s1"); break;
    }
    return r;
}

static const uint64_t iv[] = {
    0, 1, 0xffffffffffffffffULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL, 0x00000000ffffffffULL,
    0x0000000080000001ULL, 0x0020000000000001ULL, 0x0000000001000003ULL, 0xfedcba9876543210ULL,
    0x0000000000fffffdULL, 0x7ffffffffffffdffULL,
};
#define NI (sizeof(iv) / sizeof(iv[0]))

static uint64_t h;
static void mix(uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
}

int main(void) {
    uint64_t cpacr;
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));

    /* a few single results in full */
    set_fpcr(0);
    set_fpsr(0);
    uint64_t a = 0x3ff0000000000000ULL, b = 0x4008000000000000ULL, c = 0x3c90000000000000ULL, r;
    D2("fdiv d0, d1, d2");
    printf_("1/3 = %lx fpsr %lx\n", r, get_fpsr());
    set_fpsr(0);
    D3("fmadd d0, d1, d2, d3");
    printf_("fmadd 1*3+2^-54 = %lx fpsr %lx\n", r, get_fpsr());
    a = 0x3ff0000000000001ULL; b = 0x3ff0000000000001ULL; c = 0xbff0000000000002ULL;
    set_fpsr(0);
    D3("fmadd d0, d1, d2, d3");
    printf_("fmadd (1+u)^2-(1+2u) = %lx fpsr %lx\n", r, get_fpsr());
    a = 2;
    set_fpsr(0);
    D1("fsqrt d0, d1");
    printf_("sqrt(denormal) = %lx fpsr %lx\n", r, get_fpsr());
    __asm__ volatile("fmov d0, #-1.25\n fmov %0, d0" : "=r"(r) :: "v0");
    printf_("fmov #-1.25 = %lx\n", r);
    __asm__ volatile("fmov s0, #31.0\n fmov %w0, s0" : "=r"(r) :: "v0");
    printf_("fmov #31.0 = %lx\n", r);
    a = 0x1122334455667788ULL;
    __asm__ volatile("fmov d0, xzr\n fmov v0.d[1], %1\n fmov %0, v0.d[1]" : "=r"(r) : "r"(a) : "v0");
    printf_("fmov d[1] = %lx\n", r);

    for (unsigned f = 0; f < NFPCR; f++) {
        set_fpcr(fpcrs[f]);
        for (int op = 0; op < NBIN; op++) {
            uint64_t hd, hs;
            h = 0;
            for (unsigned i = 0; i < NV; i++)
                for (unsigned j = 0; j < NV; j++) {
                    set_fpsr(0);
                    mix(bin_d(op, dv[i], dv[j]));
                    mix(get_fpsr());
                }
            hd = h;
            h = 0;
            for (unsigned i = 0; i < NV; i++)
                for (unsigned j = 0; j < NV; j++) {
                    set_fpsr(0);
                    mix(bin_s(op, sv[i], sv[j]));
                    mix(get_fpsr());
                }
            hs = h;
            printf_("fpcr %lx %s: d %lx s %lx\n", fpcrs[f], bin_names[op], hd, hs);
        }
        for (int op = 0; op < NUN; op++) {
            uint64_t hd, hs;
            h = 0;
            for (unsigned i = 0; i < NV; i++) {
                set_fpsr(0);
                mix(un_d(op, dv[i]));
                mix(get_fpsr());
            }
            hd = h;
            h = 0;
            for (unsigned i = 0; i < NV; i++) {
                set_fpsr(0);
                mix(un_s(op, sv[i]));
                mix(get_fpsr());
            }
            hs = h;
            printf_("fpcr %lx %s: d %lx s %lx\n", fpcrs[f], un_names[op], hd, hs);
        }
        /* fused multiply-add, all four forms, on a triple sweep of a subset */
        uint64_t hm[4] = {0, 0, 0, 0};
        for (int form = 0; form < 4; form++) {
            h = 0;
            for (unsigned i = 0; i < NV; i += 1)
                for (unsigned j = 0; j < NV; j += 3)
                    for (unsigned k = 0; k < NV; k += 2) {
                        a = dv[i]; b = dv[j]; c = dv[k];
                        set_fpsr(0);
                        switch (form) {
                        case 0: D3("fmadd d0, d1, d2, d3"); break;
                        case 1: D3("fmsub d0, d1, d2, d3"); break;
                        case 2: D3("fnmadd d0, d1, d2, d3"); break;
                        default: D3("fnmsub d0, d1, d2, d3"); break;
                        }
                        mix(r);
                        mix(get_fpsr());
                        a = sv[i]; b = sv[j]; c = sv[k];
                        set_fpsr(0);
                        switch (form) {
                        case 0: S3("fmadd s0, s1, s2, s3"); break;
                        case 1: S3("fmsub s0, s1, s2, s3"); break;
                        case 2: S3("fnmadd s0, s1, s2, s3"); break;
                        default: S3("fnmsub s0, s1, s2, s3"); break;
                        }
                        mix(r);
                        mix(get_fpsr());
                    }
            hm[form] = h;
        }
        printf_("fpcr %lx fmadd %lx fmsub %lx fnmadd %lx fnmsub %lx\n", fpcrs[f], hm[0], hm[1],
                hm[2], hm[3]);
        /* integer to FP */
        h = 0;
        for (unsigned i = 0; i < NI; i++) {
            a = iv[i];
            set_fpsr(0); XD("scvtf d0, %1"); mix(r); mix(get_fpsr());
            set_fpsr(0); XD("ucvtf d0, %w1"); mix(r); mix(get_fpsr());
            set_fpsr(0); XS("scvtf s0, %w1"); mix(r); mix(get_fpsr());
            set_fpsr(0); XS("ucvtf s0, %1"); mix(r); mix(get_fpsr());
            set_fpsr(0); XD("scvtf d0, %1, #13"); mix(r); mix(get_fpsr());
            set_fpsr(0); XS("ucvtf s0, %w1, #32"); mix(r); mix(get_fpsr());
        }
        printf_("fpcr %lx int->fp %lx\n", fpcrs[f], h);
        /* half precision round trips */
        h = 0;
        for (unsigned i = 0; i < NV; i++) {
            a = dv[i];
            set_fpsr(0);
            __asm__ volatile("fmov d1, %1\n fcvt h0, d1\n fcvt s2, h0\n fcvt d3, h0\n"
                             " fmov %w0, s0\n fmov x9, d3\n add %0, %0, x9"
                             : "=r"(r) : "r"(a) : "v0", "v1", "v2", "v3", "x9");
            mix(r);
            mix(get_fpsr());
        }
        printf_("fpcr %lx half %lx\n", fpcrs[f], h);
        /* conditional compare and select */
        h = 0;
        for (unsigned i = 0; i < NV; i += 2)
            for (unsigned j = 0; j < NV; j += 2) {
                a = dv[i]; b = dv[j];
                set_fpsr(0);
                __asm__ volatile("fmov d1, %1\n fmov d2, %2\n cmp %1, %2\n fccmp d1, d2, #9, hi\n"
                                 " fcsel d0, d1, d2, lt\n fccmpe d2, d1, #2, ne\n fmov %0, d0"
                                 : "=r"(r) : "r"(a), "r"(b) : "v0", "v1", "v2", "cc");
                mix(r);
                mix(get_nzcv());
                mix(get_fpsr());
            }
        printf_("fpcr %lx fccmp/fcsel %lx\n", fpcrs[f], h);
    }
    set_fpcr(0);
    guest_exit(0);
    return 0;
}
