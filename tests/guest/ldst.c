/* Loads and stores of general-purpose registers: every addressing form and size,
 * sign extension, unaligned and page-crossing accesses, literals, pairs. */
#include "insn.h"

static uint8_t buf[3 * 4096] __attribute__((aligned(4096)));

static void fill(void) {
    for (int i = 0; i < (int)sizeof(buf); i++) buf[i] = (uint8_t)(i * 0x9d + 0x13);
}

/* base offsets into buf (unaligned, page-crossing at 0x1000 and 0x2000) */
static const uint64_t LOFF[8] = {0x10, 0x11, 0x12, 0x13, 0x107, 0xff9, 0xffd, 0x1fff};
static const uint64_t SOFF[8] = {0x20, 0x21, 0x23, 0x26, 0x3f7, 0xff9, 0xffd, 0x1ffe};
/* index registers: x/lsl forms, uxtw forms, sxtw forms */
static const uint64_t IDXX[8] = {0, 1, 2, 7, (uint64_t)-1, (uint64_t)-3, 16, (uint64_t)-8};
static const uint64_t IDXU[8] = {0, 1, 2, 7, 0x100000003ULL, 0xabcd00000010ULL, 0x200000005ULL,
                                 0xffffffff00000004ULL};
static const uint64_t IDXS[8] = {0, 1, (uint64_t)-1, (uint64_t)-8, 0x1fffffff0ULL, 0x100000004ULL,
                                 0xfffffff9ULL, 3};

#define MEM_(insn, base, idx, v1, v2, r1, r2)                                         \
    asm volatile(insn                                                                 \
                 : [d] "=&r"(r1), [e] "=&r"(r2), [a] "+r"(base)                       \
                 : [b] "r"((uint64_t)(idx)), [c] "r"((uint64_t)(v1)),                 \
                   [f] "r"((uint64_t)(v2))                                            \
                 : "memory")

static int has(const char *s, const char *w) {
    for (; *s; s++) {
        const char *p = s, *q = w;
        while (*q && *p == *q) p++, q++;
        if (!*q) return 1;
    }
    return 0;
}

/* loads: print d (and e for pairs) and the base writeback */
#define LD(insn, offs, idxs, mid)                                                     \
    do {                                                                              \
        put_label(insn);                                                              \
        putc_(':');                                                                   \
        int _pair = has(insn, "%[e]") || has(insn, "%w[e]");                          \
        hsh = 0;                                                                      \
        for (int _k = 0; _k < 8; _k++) {                                              \
            uint64_t _b0 = (uint64_t)buf + (mid ? 0x800 : offs[_k]), _b = _b0, _r1, _r2; \
            MEM_(insn, _b, idxs[_k], 0, 0, _r1, _r2);                                 \
            printf_(" %lx", _r1);                                                     \
            if (_pair) printf_(",%lx", _r2);                                          \
            if (_b != _b0) printf_("@%ld", (int64_t)(_b - _b0));                      \
        }                                                                             \
        putc_('\n');                                                                  \
    } while (0)

static void window(uint64_t addr, int n) {
    for (int i = 0; i < n; i++) put_hexn(((volatile uint8_t *)addr)[i], 2);
}

/* stores: value pattern in c (and f for pairs); print the bytes around the base */
#define ST(insn, offs, idxs, mid)                                                     \
    do {                                                                              \
        put_label(insn);                                                              \
        putc_(':');                                                                   \
        for (int _k = 0; _k < 8; _k++) {                                              \
            uint64_t _b0 = (uint64_t)buf + (mid ? 0x800 : offs[_k]), _b = _b0, _r1, _r2; \
            uint64_t _lo = _b0 - 24;                                                  \
            for (int _i = 0; _i < 56; _i++) ((volatile uint8_t *)_lo)[_i] = 0xee;     \
            MEM_(insn, _b, idxs[_k], 0x8877665544332211ULL ^ (_k * 0x0101010101010101ULL), \
                 0xfffefdfcfbfaf9f8ULL, _r1, _r2);                                    \
            putc_(' ');                                                               \
            window(_lo, 56);                                                          \
            if (_b != _b0) printf_("@%ld", (int64_t)(_b - _b0));                      \
        }                                                                             \
        putc_('\n');                                                                  \
    } while (0)

static void literal_tests(void) {
    uint64_t x, w, sw, p;
    asm volatile("ldr %0, 1f\n\t"
                 "ldr %w1, 2f\n\t"
                 "ldrsw %2, 2f\n\t"
                 "prfm pldl1keep, 1f\n\t"
                 "prfm pstl3strm, 2f\n\t"
                 "ldr %3, 3f\n\t"
                 "b 4f\n\t"
                 ".balign 8\n"
                 "1: .quad 0x0123456789abcdef\n"
                 "2: .word 0x89abcdef\n"
                 "3: .word 0x13572468, 0x9abcdef0\n"      /* 8-byte literal at a 4-aligned address */
                 "4:\n\t"
                 : "=r"(x), "=r"(w), "=r"(sw), "=r"(p));
    printf_("literal: x=%lx w=%lx sw=%lx x@4=%lx\n", x, w, sw, p);
    asm volatile("ldr %0, 1f\n\t"
                 "b 2f\n\t"
                 "1: .word 0xfffffffe\n"
                 "2: ldr %w1, 1b\n\t"
                 "ldrsw %2, 1b\n\t"
                 : "=r"(x), "=r"(w), "=r"(sw));
    printf_("literal backward: x=%lx w=%lx sw=%lx\n", x, w, sw);
}

static void sp_tests(void) {
    uint64_t a, b, c, d, sp0, sp1;
    asm volatile("mov %4, sp\n\t"
                 "mov x9, #0x1111\n\t"
                 "mov x10, #0x2222\n\t"
                 "str x9, [sp, #-16]!\n\t"
                 "stp x9, x10, [sp, #-32]!\n\t"
                 "ldr %0, [sp, #32]\n\t"
                 "ldp %1, %2, [sp], #32\n\t"
                 "ldr %3, [sp], #16\n\t"
                 "mov %5, sp\n\t"
                 : "=r"(a), "=r"(b), "=r"(c), "=r"(d), "=r"(sp0), "=r"(sp1) :: "x9", "x10", "memory");
    printf_("sp: %lx %lx %lx %lx balanced=%d\n", a, b, c, d, sp0 == sp1);
    asm volatile("mov x9, #-0x20\n\t"
                 "mov x10, sp\n\t"
                 "sub sp, sp, #0x40\n\t"
                 "str x10, [sp, #0x38]\n\t"
                 "mov x11, #0x38\n\t"
                 "ldr %0, [sp, x11]\n\t"
                 "add sp, sp, #0x40\n\t"
                 "strb w9, [sp, x9]\n\t"
                 "ldrsb %1, [sp, x9]\n\t"
                 : "=r"(a), "=r"(b) :: "x9", "x10", "x11", "memory");
    asm volatile("mov %0, sp" : "=r"(sp0));
    printf_("sp regoff: ok=%d ldrsb=%lx\n", a == sp0, b);
}

static void zr_tests(void) {
    uint64_t r = 0x1234, v;
    volatile uint64_t *p = (volatile uint64_t *)(buf + 0x2100);
    *p = 0xffffffffffffffffULL;
    asm volatile("str xzr, [%1]\n\t"
                 "ldr xzr, [%1]\n\t"
                 "mov %0, xzr\n\t" : "+r"(r) : "r"(p) : "memory");
    v = *p;
    *p = 0xffffffffffffffffULL;
    asm volatile("str wzr, [%0, #4]" :: "r"(p) : "memory");
    printf_("zr: str xzr -> %lx, str wzr hi -> %lx\n", v, *p);
    p[0] = 5;
    p[1] = 6;
    asm volatile("stp xzr, xzr, [%0]" :: "r"(p) : "memory");
    printf_("zr: stp xzr -> %lx %lx\n", p[0], p[1]);
}

int main(void) {
    fill();
    puts_("== loads, unsigned offset\n");
    LD("ldrb %w[d], [%[a]]", LOFF, IDXX, 0);
    LD("ldrb %w[d], [%[a], #4095]", LOFF, IDXX, 0);
    LD("ldrsb %w[d], [%[a], #1]", LOFF, IDXX, 0);
    LD("ldrsb %[d], [%[a], #2]", LOFF, IDXX, 0);
    LD("ldrh %w[d], [%[a]]", LOFF, IDXX, 0);
    LD("ldrh %w[d], [%[a], #8190]", LOFF, IDXX, 0);
    LD("ldrsh %w[d], [%[a], #2]", LOFF, IDXX, 0);
    LD("ldrsh %[d], [%[a], #4]", LOFF, IDXX, 0);
    LD("ldr %w[d], [%[a]]", LOFF, IDXX, 0);
    LD("ldr %w[d], [%[a], #16380]", LOFF, IDXX, 0);
    LD("ldrsw %[d], [%[a], #4]", LOFF, IDXX, 0);
    LD("ldr %[d], [%[a]]", LOFF, IDXX, 0);
    LD("ldr %[d], [%[a], #32760]", LOFF, IDXX, 0);
    LD("ldr %[d], [%[a], #8]", LOFF, IDXX, 0);

    puts_("== loads, unscaled and unprivileged\n");
    LD("ldurb %w[d], [%[a], #-1]", LOFF, IDXX, 0);
    LD("ldursb %w[d], [%[a], #-256]", LOFF, IDXX, 0);
    LD("ldursb %[d], [%[a], #255]", LOFF, IDXX, 0);
    LD("ldurh %w[d], [%[a], #-3]", LOFF, IDXX, 0);
    LD("ldursh %w[d], [%[a], #5]", LOFF, IDXX, 0);
    LD("ldursh %[d], [%[a], #-7]", LOFF, IDXX, 0);
    LD("ldur %w[d], [%[a], #3]", LOFF, IDXX, 0);
    LD("ldursw %[d], [%[a], #-9]", LOFF, IDXX, 0);
    LD("ldur %[d], [%[a], #-15]", LOFF, IDXX, 0);
    LD("ldtr %[d], [%[a], #8]", LOFF, IDXX, 0);
    LD("ldtrb %w[d], [%[a], #-1]", LOFF, IDXX, 0);
    LD("ldtrsh %[d], [%[a], #2]", LOFF, IDXX, 0);
    LD("ldtrsw %[d], [%[a]]", LOFF, IDXX, 0);

    puts_("== loads, pre/post index\n");
    LD("ldrb %w[d], [%[a], #1]!", LOFF, IDXX, 0);
    LD("ldrsb %[d], [%[a]], #-1", LOFF, IDXX, 0);
    LD("ldrh %w[d], [%[a], #-2]!", LOFF, IDXX, 0);
    LD("ldrsh %w[d], [%[a]], #255", LOFF, IDXX, 0);
    LD("ldr %w[d], [%[a], #4]!", LOFF, IDXX, 0);
    LD("ldrsw %[d], [%[a]], #-256", LOFF, IDXX, 0);
    LD("ldr %[d], [%[a], #-8]!", LOFF, IDXX, 0);
    LD("ldr %[d], [%[a]], #8", LOFF, IDXX, 0);

    puts_("== loads, register offset\n");
    LD("ldrb %w[d], [%[a], %[b]]", LOFF, IDXX, 1);
    LD("ldrb %w[d], [%[a], %[b], lsl #0]", LOFF, IDXX, 1);
    LD("ldrsb %[d], [%[a], %w[b], uxtw]", LOFF, IDXU, 1);
    LD("ldrsb %w[d], [%[a], %w[b], sxtw]", LOFF, IDXS, 1);
    LD("ldrh %w[d], [%[a], %[b], lsl #1]", LOFF, IDXX, 1);
    LD("ldrsh %[d], [%[a], %w[b], sxtw #1]", LOFF, IDXS, 1);
    LD("ldrsh %w[d], [%[a], %w[b], uxtw]", LOFF, IDXU, 1);
    LD("ldr %w[d], [%[a], %[b], sxtx #2]", LOFF, IDXX, 1);
    LD("ldr %w[d], [%[a], %w[b], uxtw #2]", LOFF, IDXU, 1);
    LD("ldrsw %[d], [%[a], %w[b], sxtw #2]", LOFF, IDXS, 1);
    LD("ldrsw %[d], [%[a], %[b]]", LOFF, IDXX, 1);
    LD("ldr %[d], [%[a], %[b], lsl #3]", LOFF, IDXX, 1);
    LD("ldr %[d], [%[a], %w[b], sxtw]", LOFF, IDXS, 1);
    LD("ldr %[d], [%[a], %w[b], uxtw #3]", LOFF, IDXU, 1);
    LD("ldr %[d], [%[a], %[b], sxtx]", LOFF, IDXX, 1);

    puts_("== load pairs\n");
    LD("ldp %w[d], %w[e], [%[a]]", LOFF, IDXX, 0);
    LD("ldp %w[d], %w[e], [%[a], #-256]", LOFF, IDXX, 0);
    LD("ldp %w[d], %w[e], [%[a], #8]!", LOFF, IDXX, 0);
    LD("ldp %w[d], %w[e], [%[a]], #-16", LOFF, IDXX, 0);
    LD("ldp %[d], %[e], [%[a]]", LOFF, IDXX, 0);
    LD("ldp %[d], %[e], [%[a], #504]", LOFF, IDXX, 0);
    LD("ldp %[d], %[e], [%[a], #-512]!", LOFF, IDXX, 0);
    LD("ldp %[d], %[e], [%[a]], #16", LOFF, IDXX, 0);
    LD("ldpsw %[d], %[e], [%[a]]", LOFF, IDXX, 0);
    LD("ldpsw %[d], %[e], [%[a], #-4]!", LOFF, IDXX, 0);
    LD("ldpsw %[d], %[e], [%[a]], #252", LOFF, IDXX, 0);
    LD("ldnp %[d], %[e], [%[a], #16]", LOFF, IDXX, 0);
    LD("ldnp %w[d], %w[e], [%[a], #-4]", LOFF, IDXX, 0);

    puts_("== stores\n");
    ST("strb %w[c], [%[a]]", SOFF, IDXX, 0);
    ST("strb %w[c], [%[a], #3]", SOFF, IDXX, 0);
    ST("strh %w[c], [%[a], #2]", SOFF, IDXX, 0);
    ST("str %w[c], [%[a], #4]", SOFF, IDXX, 0);
    ST("str %[c], [%[a]]", SOFF, IDXX, 0);
    ST("str %[c], [%[a], #8]", SOFF, IDXX, 0);
    ST("sturb %w[c], [%[a], #-1]", SOFF, IDXX, 0);
    ST("sturh %w[c], [%[a], #-3]", SOFF, IDXX, 0);
    ST("stur %w[c], [%[a], #1]", SOFF, IDXX, 0);
    ST("stur %[c], [%[a], #-5]", SOFF, IDXX, 0);
    ST("sttr %[c], [%[a], #-8]", SOFF, IDXX, 0);
    ST("sttrh %w[c], [%[a], #1]", SOFF, IDXX, 0);
    ST("strb %w[c], [%[a], #1]!", SOFF, IDXX, 0);
    ST("strh %w[c], [%[a]], #-2", SOFF, IDXX, 0);
    ST("str %w[c], [%[a], #-4]!", SOFF, IDXX, 0);
    ST("str %[c], [%[a]], #16", SOFF, IDXX, 0);
    ST("strb %w[c], [%[a], %[b]]", SOFF, IDXX, 1);
    ST("strh %w[c], [%[a], %w[b], sxtw #1]", SOFF, IDXS, 1);
    ST("str %w[c], [%[a], %w[b], uxtw #2]", SOFF, IDXU, 1);
    ST("str %[c], [%[a], %[b], lsl #3]", SOFF, IDXX, 1);
    ST("str %[c], [%[a], %w[b], sxtw]", SOFF, IDXS, 1);

    puts_("== store pairs\n");
    ST("stp %w[c], %w[f], [%[a]]", SOFF, IDXX, 0);
    ST("stp %w[c], %w[f], [%[a], #-8]!", SOFF, IDXX, 0);
    ST("stp %w[c], %w[f], [%[a]], #4", SOFF, IDXX, 0);
    ST("stp %[c], %[f], [%[a]]", SOFF, IDXX, 0);
    ST("stp %[c], %[f], [%[a], #-16]!", SOFF, IDXX, 0);
    ST("stp %[c], %[f], [%[a]], #-8", SOFF, IDXX, 0);
    ST("stnp %[c], %[f], [%[a], #8]", SOFF, IDXX, 0);
    ST("stnp %w[c], %w[f], [%[a], #-4]", SOFF, IDXX, 0);

    puts_("== literals, sp, zr\n");
    literal_tests();
    sp_tests();
    zr_tests();
    hsh = 0;
    for (int i = 0; i < (int)sizeof(buf); i += 8) mix(*(uint64_t *)(buf + i));
    printf_("buffer hash %lx\n", hsh);
    return 0;
}
