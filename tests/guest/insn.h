/* Table-driven instruction tests for the guest programs (C + inline asm).
 *
 * Each test runs one instruction (or a short sequence) written with the named
 * operands %[d] (result, preloaded), %[a], %[b], %[c] (inputs) and prints a
 * labelled line: the instruction text with the operand names ("adds xd, xa, xb"),
 * then the result for 8 fixed operand triples, then "#" and a hash over a
 * larger grid (every pair of the 8 values in V, with varying preloads and input
 * flags).  NZCV is set from %[fi] before the instruction and read after it.
 */
#ifndef GUEST_INSN_H
#define GUEST_INSN_H
#include "lib.h"

static const uint64_t V[8] = {
    0, 1, 0xffffffffffffffffULL, 0x8000000000000000ULL,
    0x7fffffffffffffffULL, 0x0000000080000000ULL, 0x123456789abcdef0ULL, 0xfedcba98ffff8001ULL,
};
/* operand triples printed in full: a, b, preload of d */
static const uint64_t PA[8] = {
    0x123456789abcdef0ULL, 0xffffffffffffffffULL, 0x8000000000000000ULL, 0x7fffffffffffffffULL,
    0xffffffff80000000ULL, 0, 100, 0xfffffffffffffff9ULL,
};
static const uint64_t PB[8] = {
    0x0fedcba987654321ULL, 1, 0xffffffffffffffffULL, 0x7fffffffffffffffULL,
    0xffffffffffffffffULL, 0, 7, 2,
};
static const uint64_t PC[8] = {
    0xdeadbeefcafef00dULL, 0, 0xffffffffffffffffULL, 0x5555aaaa5555aaaaULL,
    0x0123456789abcdefULL, 0x8000000000000001ULL, 3, 0xfffffffffffffffeULL,
};
/* input NZCV for the printed triples (flag-reading instructions) */
static const uint64_t PF[8] = {0, 2, 4, 6, 8, 9, 0xd, 0xf};

static uint64_t hsh;
static inline void mix(uint64_t v) {
    hsh ^= v;
    hsh *= 0x9e3779b97f4a7c15ULL;
    hsh ^= hsh >> 29;
}

/* label: "%[x]" prints as "x", "%w[x]" as "wx", newlines/tabs as "; " */
static void put_label(const char *s) {
    for (; *s; s++) {
        if (*s == '%') {
            s++;
            if (*s == 'w' || *s == 'x') putc_(*s++);
            if (*s == '[') {
                s++;
                while (*s && *s != ']') putc_(*s++);
                if (!*s) break;
            }
        } else if (*s == '\n') {
            puts_("; ");
            while (s[1] == '\t' || s[1] == ' ') s++;
        } else if (*s != '\t') {
            putc_(*s);
        }
    }
}

static void put_hexn(uint64_t v, int digits) {
    for (int i = (digits - 1) * 4; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

#define RUN_(insn, a_, b_, c_, fin_, r_, f_)                                          \
    do {                                                                              \
        uint64_t _fi = (uint64_t)(fin_) << 28;                                        \
        r_ = (c_);                                                                    \
        asm volatile("msr nzcv, %[fi]\n\t" insn "\n\tmrs %[f], nzcv"                  \
                     : [d] "+&r"(r_), [f] "=&r"(f_)                                   \
                     : [a] "r"((uint64_t)(a_)), [b] "r"((uint64_t)(b_)),              \
                       [c] "r"((uint64_t)(c_)), [fi] "r"(_fi)                         \
                     : "cc", "memory");                                               \
    } while (0)

#define GRID_(insn)                                                                   \
    do {                                                                              \
        hsh = 0;                                                                      \
        for (int _i = 0; _i < 8; _i++)                                                \
            for (int _j = 0; _j < 8; _j++) {                                          \
                uint64_t _r, _f;                                                      \
                RUN_(insn, V[_i], V[_j], V[(_i + _j) & 7] ^ PC[_j], (_i * 3 + _j) & 15, _r, _f); \
                mix(_r);                                                              \
                mix(_f);                                                              \
            }                                                                         \
        puts_(" #");                                                                  \
        put_hexn(hsh, 16);                                                            \
        putc_('\n');                                                                  \
    } while (0)

/* result only */
#define T(insn)                                                                       \
    do {                                                                              \
        put_label(insn);                                                              \
        putc_(':');                                                                   \
        for (int _k = 0; _k < 8; _k++) {                                              \
            uint64_t _r, _f;                                                          \
            RUN_(insn, PA[_k], PB[_k], PC[_k], PF[_k], _r, _f);                       \
            printf_(" %lx", _r);                                                      \
        }                                                                             \
        GRID_(insn);                                                                  \
    } while (0)

/* result and output flags */
#define TF(insn)                                                                      \
    do {                                                                              \
        put_label(insn);                                                              \
        putc_(':');                                                                   \
        for (int _k = 0; _k < 8; _k++) {                                              \
            uint64_t _r, _f;                                                          \
            RUN_(insn, PA[_k], PB[_k], PC[_k], PF[_k], _r, _f);                       \
            printf_(" %lx/%x", _r, (unsigned)(_f >> 28));                             \
        }                                                                             \
        GRID_(insn);                                                                  \
    } while (0)

/* a conditional instruction for each of the 16 input NZCV values:
 * prints the low 16 bits of the result (a = 0x1111, b = 0x2222) and the flags out */
#define TCOND(insn)                                                                   \
    do {                                                                              \
        put_label(insn);                                                              \
        putc_(':');                                                                   \
        for (int _k = 0; _k < 16; _k++) {                                             \
            uint64_t _r, _f;                                                          \
            RUN_(insn, 0x1111, 0x2222, 0x3333, _k, _r, _f);                           \
            putc_(' ');                                                               \
            put_hexn(_r, 4);                                                          \
            putc_('/');                                                               \
            put_hexn(_f >> 28, 1);                                                    \
        }                                                                             \
        GRID_(insn);                                                                  \
    } while (0)

#define ALLCOND(M, pre, post)                                                         \
    M(pre "eq" post); M(pre "ne" post); M(pre "cs" post); M(pre "cc" post);           \
    M(pre "mi" post); M(pre "pl" post); M(pre "vs" post); M(pre "vc" post);           \
    M(pre "hi" post); M(pre "ls" post); M(pre "ge" post); M(pre "lt" post);           \
    M(pre "gt" post); M(pre "le" post); M(pre "al" post); M(pre "nv" post)

#endif
