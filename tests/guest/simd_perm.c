/* Advanced SIMD copy, modified immediate, permute, EXT and TBL/TBX instructions with
 * fixed inputs; every result is printed as its 16 bytes in hex (byte 0 first), so the
 * output is the same on QEMU 7.2 and pyaarch64.  Inline assembly only (the C code
 * is built with -mgeneral-regs-only). */
#include "lib.h"

typedef struct { uint8_t b[16]; } __attribute__((aligned(16))) v128;

static v128 A, B, C, D, E, OUT;

static void label(const char *name) {
    for (; *name; name++)
        putc_(*name == '\n' ? ';' : *name);
    putc_(':');
}

static void show(const char *name, const v128 *v) {
    static const char hx[] = "0123456789abcdef";
    label(name);
    for (int i = 0; i < 16; i++) {
        if ((i & 3) == 0)
            putc_(' ');
        putc_(hx[v->b[i] >> 4]);
        putc_(hx[v->b[i] & 15]);
    }
    putc_('\n');
}

/* v0 = D (destination's old value), v1 = A, v2 = B, v3 = C, v4 = E, v5 = IDX; run insn
 * (x9 is free for it); show v0 */
#define V(insn)                                                                      \
    do {                                                                             \
        __asm__ volatile("ld1 {v0.16b}, [%1]\n ld1 {v1.16b}, [%2]\n ld1 {v2.16b}, [%3]\n" \
                         "ld1 {v3.16b}, [%4]\n ld1 {v4.16b}, [%5]\n ld1 {v5.16b}, [%6]\n" \
                         insn "\n st1 {v0.16b}, [%0]"                                \
                         :: "r"(&OUT), "r"(&D), "r"(&A), "r"(&B), "r"(&C), "r"(&E), \
                            "r"(&IDX) : "x9", "v0", "v1", "v2", "v3", "v4", "v5", "memory"); \
        show(insn, &OUT);                                                            \
    } while (0)

/* a general-purpose result: x0 = X (input), run insn, print x0 */
#define G(insn)                                                                      \
    do {                                                                             \
        uint64_t r_;                                                                 \
        __asm__ volatile("ld1 {v1.16b}, [%1]\n mov x0, %2\n" insn "\n mov %0, x0"      \
                         : "=r"(r_) : "r"(&A), "r"(X) : "x0", "v1", "memory");      \
        label(insn);                                                                 \
        printf_(" %lx\n", r_);                                              \
    } while (0)

static v128 IDX;
static uint64_t X = 0x8182838485868788ULL;

int main(void) {
    uint64_t cpacr;
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));
    for (int i = 0; i < 16; i++) {
        A.b[i] = (uint8_t)(0x10 + i);
        B.b[i] = (uint8_t)(0xa0 + i);
        C.b[i] = (uint8_t)(0x30 + 3 * i);
        D.b[i] = (uint8_t)(0xf0 ^ (i * 0x11));
        E.b[i] = (uint8_t)(0x80 | (i * 7));
        /* table indices: in range for 1..4 registers, and out of range */
        static const uint8_t ix[16] = {0, 15, 16, 31, 32, 47, 48, 63, 64, 255, 5, 17, 33, 49, 100, 7};
        IDX.b[i] = ix[i];
    }
    A.b[7] = 0x80;                 /* a negative byte/halfword/word for SMOV */
    A.b[11] = 0xff;

    /* DUP (element, general), INS, UMOV, SMOV, scalar DUP */
    V("dup v0.16b, v1.b[7]"); V("dup v0.8b, v1.b[15]"); V("dup v0.8h, v1.h[3]");
    V("dup v0.4h, v1.h[7]"); V("dup v0.4s, v1.s[2]"); V("dup v0.2s, v1.s[1]");
    V("dup v0.2d, v1.d[1]");
    G("dup v1.16b, w0\n umov x0, v1.d[1]"); G("dup v1.4h, w0\n umov x0, v1.d[0]");
    G("dup v1.4s, w0\n umov x0, v1.d[1]"); G("dup v1.2d, x0\n umov x0, v1.d[1]");
    G("dup v1.2s, w0\n umov x0, v1.d[1]");
    G("umov w0, v1.b[11]"); G("umov w0, v1.h[3]"); G("umov w0, v1.s[1]"); G("umov x0, v1.d[1]");
    G("smov w0, v1.b[7]"); G("smov w0, v1.b[11]"); G("smov x0, v1.b[7]"); G("smov w0, v1.h[3]");
    G("smov x0, v1.h[5]"); G("smov x0, v1.s[1]"); G("smov x0, v1.s[2]");
    V("mov x9, #0x1234\n mov v0.b[3], w9"); V("mov x9, #0xfedc\n ins v0.h[7], w9");
    V("ins v0.s[1], wzr"); V("mov x9, #-2\n mov v0.d[1], x9"); V("mov x9, #0x7654\n ins v0.s[2], w9");
    V("mov v0.b[0], v1.b[15]"); V("mov v0.h[5], v2.h[2]"); V("mov v0.s[3], v1.s[0]");
    V("mov v0.d[0], v2.d[1]");
    V("mov b0, v1.b[9]"); V("mov h0, v2.h[7]"); V("mov s0, v1.s[3]"); V("mov d0, v2.d[1]");

    /* modified immediate */
    V("movi v0.2s, #0xab"); V("movi v0.4s, #0xab, lsl #8"); V("movi v0.4s, #0xab, lsl #16");
    V("movi v0.4s, #0xab, lsl #24"); V("movi v0.4h, #0xcd"); V("movi v0.8h, #0xcd, lsl #8");
    V("movi v0.4s, #0x12, msl #8"); V("movi v0.2s, #0x12, msl #16"); V("movi v0.16b, #0x5a");
    V("movi v0.8b, #0xa5"); V("movi d0, #0xff0000ff00ffff00"); V("movi v0.2d, #0x00ff00ffff0000ff");
    V("mvni v0.4s, #0xab"); V("mvni v0.2s, #0xab, lsl #24"); V("mvni v0.8h, #0xcd, lsl #8");
    V("mvni v0.4h, #0xcd"); V("mvni v0.4s, #0x12, msl #16"); V("mvni v0.2s, #0x12, msl #8");
    V("orr v0.4s, #0x0f, lsl #8"); V("orr v0.2s, #0xf0, lsl #24"); V("orr v0.8h, #0x11");
    V("orr v0.4h, #0x22, lsl #8");
    V("bic v0.4s, #0x0f, lsl #16"); V("bic v0.2s, #0xff"); V("bic v0.8h, #0xf0, lsl #8");
    V("bic v0.4h, #0x0f");
    V("fmov v0.4s, #1.0"); V("fmov v0.2s, #-0.1875"); V("fmov v0.2d, #31.0");
    V("fmov v0.2d, #-0.125"); V("fmov v0.4s, #2.5");

    /* permutes */
    V("zip1 v0.16b, v1.16b, v2.16b"); V("zip2 v0.16b, v1.16b, v2.16b"); V("zip1 v0.8b, v1.8b, v2.8b");
    V("zip2 v0.8b, v1.8b, v2.8b"); V("zip1 v0.8h, v1.8h, v2.8h"); V("zip2 v0.4h, v1.4h, v2.4h");
    V("zip1 v0.4s, v1.4s, v2.4s"); V("zip2 v0.2s, v1.2s, v2.2s"); V("zip2 v0.2d, v1.2d, v2.2d");
    V("uzp1 v0.16b, v1.16b, v2.16b"); V("uzp2 v0.16b, v1.16b, v2.16b"); V("uzp1 v0.8b, v1.8b, v2.8b");
    V("uzp2 v0.4h, v1.4h, v2.4h"); V("uzp1 v0.8h, v1.8h, v2.8h"); V("uzp2 v0.4s, v1.4s, v2.4s");
    V("uzp1 v0.2s, v1.2s, v2.2s"); V("uzp1 v0.2d, v1.2d, v2.2d");
    V("trn1 v0.16b, v1.16b, v2.16b"); V("trn2 v0.16b, v1.16b, v2.16b"); V("trn1 v0.8b, v1.8b, v2.8b");
    V("trn2 v0.8h, v1.8h, v2.8h"); V("trn1 v0.4h, v1.4h, v2.4h"); V("trn2 v0.4s, v1.4s, v2.4s");
    V("trn1 v0.2s, v1.2s, v2.2s"); V("trn2 v0.2d, v1.2d, v2.2d");
    V("zip1 v0.16b, v0.16b, v0.16b"); V("uzp2 v0.8h, v0.8h, v1.8h");
    V("ext v0.16b, v1.16b, v2.16b, #0"); V("ext v0.16b, v1.16b, v2.16b, #5");
    V("ext v0.16b, v1.16b, v2.16b, #15"); V("ext v0.8b, v1.8b, v2.8b, #3");
    V("ext v0.8b, v1.8b, v2.8b, #7"); V("ext v0.16b, v0.16b, v0.16b, #8");

    /* table lookups: v1-v4 table, v5 indices, v0 the old destination (TBX) */
    V("tbl v0.16b, {v1.16b}, v5.16b"); V("tbl v0.8b, {v1.16b}, v5.8b");
    V("tbl v0.16b, {v1.16b, v2.16b}, v5.16b"); V("tbl v0.16b, {v1.16b, v2.16b, v3.16b}, v5.16b");
    V("tbl v0.16b, {v1.16b, v2.16b, v3.16b, v4.16b}, v5.16b");
    V("tbl v0.8b, {v1.16b, v2.16b, v3.16b, v4.16b}, v5.8b");
    V("tbx v0.16b, {v1.16b}, v5.16b"); V("tbx v0.8b, {v1.16b, v2.16b}, v5.8b");
    V("tbx v0.16b, {v1.16b, v2.16b, v3.16b}, v5.16b");
    V("tbx v0.16b, {v1.16b, v2.16b, v3.16b, v4.16b}, v5.16b");
    V("tbl v0.16b, {v0.16b, v1.16b}, v0.16b");

    guest_exit(0);
    return 0;
}
