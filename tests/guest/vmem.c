/* Advanced SIMD structure loads and stores: LD1-LD4/ST1-ST4 (multiple structures,
 * 1-4 registers for LD1/ST1), single lanes, LD1R-LD4R, no offset and post-index
 * (immediate and register), register numbers wrapping from V31 to V0; faults from a
 * hole in the address map (no register written, no writeback) and alignment faults
 * with SCTLR_EL1.A.  Results are printed as hex bytes (same output on QEMU 7.2). */
#include "lib.h"

struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};

extern char vectors[];
static volatile uint64_t last_esr, last_far;
static volatile int traps;

void exc_handler(struct exc_frame *f, uint64_t vec) {
    (void)vec;
    traps++;
    last_esr = f->esr;
    last_far = f->far;
    f->elr += 4;
}

static uint8_t src[256] __attribute__((aligned(16)));
static uint8_t dst[256] __attribute__((aligned(16)));
static uint8_t regs_out[128] __attribute__((aligned(16)));
static uint8_t pat[64] __attribute__((aligned(16)));

static void fill(void) {
    for (int i = 0; i < 256; i++) {
        src[i] = (uint8_t)i;
        dst[i] = 0xee;
    }
    for (int i = 0; i < 64; i++)
        pat[i] = (uint8_t)(0x40 + i);
}

static void hexdump(const char *what, const uint8_t *p, int n) {
    static const char hx[] = "0123456789abcdef";
    printf_("%s:", what);
    for (int i = 0; i < n; i++) {
        if ((i & 15) == 0 && i)
            puts_(" |");
        putc_(' ');
        putc_(hx[p[i] >> 4]);
        putc_(hx[p[i] & 15]);
    }
    putc_('\n');
}

/* preset v28-v31 and v0-v3 to the 0xee.. / pattern values, run a load, dump v0-v3 and
 * v28-v31 (loads wrap from v31 to v0) and the base register's change */
#define PRESET "ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [%3]\n ld1 {v28.16b, v29.16b, v30.16b, v31.16b}, [%3]\n"
#define DUMPREGS "st1 {v0.16b, v1.16b, v2.16b, v3.16b}, [%2], #64\n st1 {v28.16b, v29.16b, v30.16b, v31.16b}, [%2]\n"
#define LD(insn, off)                                                                   \
    do {                                                                                \
        uint64_t a_ = (uint64_t)src + (off), o_ = (uint64_t)regs_out, m_ = 48;          \
        __asm__ volatile(PRESET insn "\n" DUMPREGS                                      \
                         : "+r"(a_), "+r"(m_), "+r"(o_) : "r"(pat)                      \
                         : "v0", "v1", "v2", "v3", "v28", "v29", "v30", "v31", "memory"); \
        printf_("%s  (base +%ld)\n", insn, (int64_t)(a_ - (uint64_t)src - (off)));      \
        hexdump(" v0-v3", regs_out, 64);                                                \
        hexdump(" v28-v31", regs_out + 64, 64);                                         \
    } while (0)

/* registers v0-v3 and v28-v31 hold src[0..63], src[64..127]; a store into dst */
#define ST(insn, n)                                                                     \
    do {                                                                                \
        fill();                                                                         \
        uint64_t a_ = (uint64_t)dst + 8, m_ = 40, s_ = (uint64_t)src;                   \
        __asm__ volatile("ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [%2], #64\n"            \
                         "ld1 {v28.16b, v29.16b, v30.16b, v31.16b}, [%2]\n" insn        \
                         : "+r"(a_), "+r"(m_), "+r"(s_) :                               \
                         : "v0", "v1", "v2", "v3", "v28", "v29", "v30", "v31", "memory"); \
        printf_("%s  (base +%ld)\n", insn, (int64_t)(a_ - (uint64_t)dst - 8));          \
        hexdump(" dst", dst, (n));                                                      \
    } while (0)

int main(void) {
    __asm__ volatile("msr vbar_el1, %0; isb" :: "r"((uint64_t)vectors));
    uint64_t cpacr, sctlr;
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));
    fill();

    /* multiple structures */
    LD("ld1 {v0.16b}, [%0]", 0);
    LD("ld1 {v0.8b}, [%0], #8", 1);
    LD("ld1 {v1.4h, v2.4h}, [%0], %1", 3);
    LD("ld1 {v30.8h, v31.8h, v0.8h}, [%0], #48", 0);
    LD("ld1 {v31.2d, v0.2d, v1.2d, v2.2d}, [%0], #64", 16);
    LD("ld1 {v0.1d, v1.1d, v2.1d, v3.1d}, [%0]", 5);
    LD("ld2 {v0.16b, v1.16b}, [%0], #32", 0);
    LD("ld2 {v31.4h, v0.4h}, [%0], %1", 2);
    LD("ld2 {v2.2d, v3.2d}, [%0]", 0);
    LD("ld3 {v0.8b, v1.8b, v2.8b}, [%0], #24", 0);
    LD("ld3 {v30.4s, v31.4s, v0.4s}, [%0]", 4);
    LD("ld3 {v1.8h, v2.8h, v3.8h}, [%0], %1", 0);
    LD("ld4 {v0.16b, v1.16b, v2.16b, v3.16b}, [%0], #64", 0);
    LD("ld4 {v29.2s, v30.2s, v31.2s, v0.2s}, [%0]", 8);
    LD("ld4 {v0.2d, v1.2d, v2.2d, v3.2d}, [%0], %1", 0);
    /* single lanes and replicate */
    LD("ld1 {v0.b}[9], [%0], #1", 7);
    LD("ld1 {v1.h}[7], [%0]", 2);
    LD("ld1 {v2.s}[3], [%0], %1", 4);
    LD("ld1 {v3.d}[1], [%0], #8", 8);
    LD("ld2 {v31.b, v0.b}[15], [%0], #2", 1);
    LD("ld2 {v0.h, v1.h}[2], [%0]", 6);
    LD("ld3 {v1.s, v2.s, v3.s}[1], [%0], #12", 0);
    LD("ld3 {v30.d, v31.d, v0.d}[0], [%0]", 8);
    LD("ld4 {v0.b, v1.b, v2.b, v3.b}[4], [%0], %1", 3);
    LD("ld4 {v28.h, v29.h, v30.h, v31.h}[6], [%0], #8", 0);
    LD("ld4 {v30.s, v31.s, v0.s, v1.s}[2], [%0]", 4);
    LD("ld4 {v0.d, v1.d, v2.d, v3.d}[1], [%0], #32", 0);
    LD("ld1r {v0.16b}, [%0], #1", 5);
    LD("ld1r {v1.4h}, [%0]", 2);
    LD("ld2r {v31.4s, v0.4s}, [%0], #8", 4);
    LD("ld2r {v2.1d, v3.1d}, [%0]", 0);
    LD("ld3r {v0.8b, v1.8b, v2.8b}, [%0], %1", 1);
    LD("ld3r {v1.2d, v2.2d, v3.2d}, [%0], #24", 8);
    LD("ld4r {v0.8h, v1.8h, v2.8h, v3.8h}, [%0], #8", 2);
    LD("ld4r {v29.2s, v30.2s, v31.2s, v0.2s}, [%0]", 0);

    /* stores */
    ST("st1 {v0.16b}, [%0]", 48);
    ST("st1 {v1.8b}, [%0], #8", 32);
    ST("st1 {v30.4s, v31.4s}, [%0], %1", 48);
    ST("st1 {v31.2d, v0.2d, v1.2d}, [%0], #48", 64);
    ST("st1 {v0.1d, v1.1d, v2.1d, v3.1d}, [%0]", 48);
    ST("st2 {v0.8h, v1.8h}, [%0], #32", 48);
    ST("st2 {v31.8b, v0.8b}, [%0]", 32);
    ST("st3 {v0.16b, v1.16b, v2.16b}, [%0], %1", 64);
    ST("st3 {v29.2s, v30.2s, v31.2s}, [%0], #24", 48);
    ST("st4 {v0.4s, v1.4s, v2.4s, v3.4s}, [%0]", 80);
    ST("st4 {v30.4h, v31.4h, v0.4h, v1.4h}, [%0], #32", 48);
    ST("st1 {v2.b}[13], [%0], #1", 16);
    ST("st2 {v31.h, v0.h}[5], [%0]", 16);
    ST("st3 {v0.s, v1.s, v2.s}[3], [%0], %1", 32);
    ST("st4 {v28.d, v29.d, v30.d, v31.d}[1], [%0], #32", 48);

    /* a load and a store from a hole: the handler skips them; registers unchanged */
    {
        uint64_t a = 0x0a100000UL - 32, m = 64;
        fill();
        traps = 0;
        __asm__ volatile("ld1 {v0.16b, v1.16b}, [%2]\n"
                         "ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [%0], #64\n"
                         "st1 {v0.16b, v1.16b}, [%3]"
                         : "+r"(a), "+r"(m) : "r"(pat), "r"(dst) : "v0", "v1", "v2", "v3", "memory");
        printf_("ld1 x4 from a hole: traps %d esr=%lx far=%lx base +%ld\n", traps, last_esr,
                last_far, (int64_t)(a - (0x0a100000UL - 32)));
        hexdump(" v0-v1", dst, 32);
        a = 0x0a100000UL;
        __asm__ volatile("st2 {v0.4s, v1.4s}, [%0], %1" : "+r"(a), "+r"(m) :: "memory");
        printf_("st2 to a hole: traps %d esr=%lx far=%lx base +%ld\n", traps, last_esr,
                last_far, (int64_t)(a - 0x0a100000UL));
        __asm__ volatile("ld3r {v0.8b, v1.8b, v2.8b}, [%0], #3" : "+r"(a) :: "v0", "v1", "v2", "memory");
        printf_("ld3r from a hole: traps %d esr=%lx far=%lx\n", traps, last_esr, last_far);
    }

    /* SCTLR_EL1.A: element alignment is checked, not the whole transfer's */
    __asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
    __asm__ volatile("msr sctlr_el1, %0; isb" :: "r"(sctlr | 2));
    {
        static const char *what[] = {"ld1 {v0.4s}, [src+4]", "ld1 {v0.4s}, [src+2]",
                                     "st1 {v0.h}[1], [dst+1]", "ld2r {v0.8h, v1.8h}, [src+2]",
                                     "ld1 {v0.16b}, [src+3]", "st4 {v0.d-v3.d}[0], [dst+8]",
                                     "st1 {v0.2d}, [dst+4]"};
        for (int k = 0; k < 7; k++) {
            uint64_t s = (uint64_t)src, d = (uint64_t)dst;
            traps = 0;
            last_esr = 0;
            switch (k) {
            case 0: __asm__ volatile("ld1 {v0.4s}, [%0]" :: "r"(s + 4) : "v0", "memory"); break;
            case 1: __asm__ volatile("ld1 {v0.4s}, [%0]" :: "r"(s + 2) : "v0", "memory"); break;
            case 2: __asm__ volatile("st1 {v0.h}[1], [%0]" :: "r"(d + 1) : "memory"); break;
            case 3: __asm__ volatile("ld2r {v0.8h, v1.8h}, [%0]" :: "r"(s + 2) : "v0", "v1", "memory"); break;
            case 4: __asm__ volatile("ld1 {v0.16b}, [%0]" :: "r"(s + 3) : "v0", "memory"); break;
            case 5: __asm__ volatile("st4 {v0.d, v1.d, v2.d, v3.d}[0], [%0]" :: "r"(d + 8) : "memory"); break;
            case 6: __asm__ volatile("st1 {v0.2d}, [%0]" :: "r"(d + 4) : "memory"); break;
            }
            printf_("sctlr.a %s: traps %d esr=%lx far=%s\n", what[k], traps, last_esr,
                    !traps ? "-" : last_far == s + 2 || last_far == d + 1 || last_far == d + 4 ? "addr" : "other");
        }
    }
    __asm__ volatile("msr sctlr_el1, %0; isb" :: "r"(sctlr));

    guest_exit(0);
    return 0;
}
