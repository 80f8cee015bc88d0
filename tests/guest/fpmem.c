/* Loads and stores of SIMD&FP registers (B/H/S/D/Q): every addressing form, the
 * zero-extension of narrow loads, pairs, literals, writeback, FP access traps per
 * CPACR_EL1.FPEN, and an abort from an FP load.  Memory effects are printed as hex
 * bytes, so the output is the same on QEMU 7.2 and pyaarch64. */
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

static uint8_t src[128] __attribute__((aligned(16)));
static uint8_t dst[128] __attribute__((aligned(16)));

static void fill(void) {
    for (int i = 0; i < 128; i++) {
        src[i] = (uint8_t)(0x11 * (i & 15) + (i >> 4));
        dst[i] = 0xee;
    }
}

static void dump(const char *what, int n) {
    printf_("%s:", what);
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        putc_(' ');
        putc_(hx[dst[i] >> 4]);
        putc_(hx[dst[i] & 15]);
    }
    putc_('\n');
}

#define ALLONES() __asm__ volatile("ldr q0, [%0]" :: "r"(ones) : "v0", "memory")
static const uint64_t ones[2] __attribute__((aligned(16))) = {~0ULL, ~0ULL};

int main(void) {
    __asm__ volatile("msr vbar_el1, %0; isb" :: "r"((uint64_t)vectors));
    uint64_t cpacr;
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));

    /* unsigned offset, each size; the narrow loads clear the rest of V0 */
    const char *names[] = {"b", "h", "s", "d", "q"};
    for (int sz = 0; sz < 5; sz++) {
        fill();
        ALLONES();
        switch (sz) {
        case 0: __asm__ volatile("ldr b0, [%0, #3]" :: "r"(src) : "v0", "memory"); break;
        case 1: __asm__ volatile("ldr h0, [%0, #6]" :: "r"(src) : "v0", "memory"); break;
        case 2: __asm__ volatile("ldr s0, [%0, #12]" :: "r"(src) : "v0", "memory"); break;
        case 3: __asm__ volatile("ldr d0, [%0, #24]" :: "r"(src) : "v0", "memory"); break;
        case 4: __asm__ volatile("ldr q0, [%0, #48]" :: "r"(src) : "v0", "memory"); break;
        }
        __asm__ volatile("str q0, [%0]" :: "r"(dst) : "memory");
        printf_("ldr %s + str q ", names[sz]);
        dump("", 16);
    }
    /* narrow stores write only their bytes */
    fill();
    __asm__ volatile("ldr q1, [%0]\n str b1, [%1, #1]\n str h1, [%1, #4]\n str s1, [%1, #8]\n"
                     "str d1, [%1, #16]\n str q1, [%1, #32]" :: "r"(src), "r"(dst) : "v1", "memory");
    dump("str b/h/s/d/q", 48);

    /* unscaled, unaligned, negative offsets */
    fill();
    __asm__ volatile("ldur q2, [%0, #-7]\n stur q2, [%1, #3]\n ldur d3, [%0, #-1]\n stur d3, [%1, #21]"
                     :: "r"(src + 40), "r"(dst) : "v2", "v3", "memory");
    dump("ldur/stur", 32);

    /* pre/post-index writeback */
    fill();
    uint64_t a = (uint64_t)src + 16, b = (uint64_t)dst;
    __asm__ volatile("ldr q4, [%0, #16]!\n str q4, [%1], #16\n ldr s5, [%0], #-12\n str s5, [%1, #4]!"
                     : "+r"(a), "+r"(b) :: "v4", "v5", "memory");
    printf_("writeback: src+%ld dst+%ld\n", (int64_t)(a - (uint64_t)src), (int64_t)(b - (uint64_t)dst));
    dump("pre/post", 24);

    /* register offset: lsl and sxtw */
    fill();
    uint64_t idx = 3;
    int64_t neg = -2;
    __asm__ volatile("ldr q6, [%0, %2, lsl #4]\n str q6, [%1]\n ldr d7, [%0, %w3, sxtw #3]\n"
                     "str d7, [%1, %2, lsl #3]\n ldr h8, [%0, %2]\n str h8, [%1, #34]"
                     :: "r"(src + 32), "r"(dst), "r"(idx), "r"(neg) : "v6", "v7", "v8", "memory");
    dump("regoff", 36);

    /* pairs: offset, pre, post, non-temporal; S, D and Q */
    fill();
    a = (uint64_t)src;
    b = (uint64_t)dst;
    __asm__ volatile("ldp q9, q10, [%0, #32]\n stp q10, q9, [%1]\n"
                     "ldp d11, d12, [%0, #8]!\n stp d12, d11, [%1, #32]!\n"
                     "ldp s13, s14, [%0], #16\n stp s14, s13, [%1], #8\n"
                     "ldnp d15, d16, [%0]\n stnp d16, d15, [%1]"
                     : "+r"(a), "+r"(b) :: "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "memory");
    printf_("pairs writeback: src+%ld dst+%ld\n", (int64_t)(a - (uint64_t)src), (int64_t)(b - (uint64_t)dst));
    dump("pairs", 64);

    /* literals */
    for (int i = 0; i < 128; i++) dst[i] = 0xee;
    __asm__ volatile("b 1f\n .balign 16\n 2: .quad 0x0123456789abcdef, 0xfedcba9876543210\n"
                     "1: ldr q17, 2b\n str q17, [%0]\n ldr d18, 2b\n str q18, [%0, #16]\n"
                     "ldr s19, 2b\n str q19, [%0, #32]"
                     :: "r"(dst) : "v17", "v18", "v19", "memory");
    dump("literal", 48);

    /* FP access traps: FPEN = 00 traps EL1 too; the load is skipped by the handler */
    for (uint64_t fpen = 0; fpen < 4; fpen++) {
        __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"((cpacr & ~(3ULL << 20)) | (fpen << 20)));
        traps = 0;
        last_esr = 0;
        __asm__ volatile("ldr q20, [%0]" :: "r"(src) : "v20", "memory");
        printf_("cpacr.fpen=%lu: traps %d esr=%lx\n", fpen, traps, last_esr);
    }
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));

    /* an FP load and store from an address with nothing behind it */
    traps = 0;
    __asm__ volatile("ldr q21, [%0]" :: "r"(0x0a100000UL) : "v21", "memory");
    printf_("ldr q from a hole: traps %d esr=%lx far=%lx\n", traps, last_esr, last_far);
    __asm__ volatile("stp d21, d22, [%0]" :: "r"(0x0a100010UL) : "memory");
    printf_("stp d to a hole: traps %d esr=%lx far=%lx\n", traps, last_esr, last_far);

    guest_exit(0);
    return 0;
}
