/* The crypto extension on known answers: AES-128 (FIPS-197 appendix C.1) encryption
 * with AESE/AESMC and decryption with AESD/AESIMC (the key schedule's SubWord done
 * with DUP + AESE + UMOV), SHA-1 (FIPS 180 examples "abc" and the 448-bit message)
 * with SHA1C/P/M/H/SU0/SU1, SHA-256 (same messages) with SHA256H/H2/SU0/SU1.
 * Only the crypto instructions, LD1/ST1 and copies run on the SIMD side; the
 * additions and the final XOR are done in C (built with -mgeneral-regs-only). */
#include "lib.h"

typedef struct { uint32_t w[4]; } __attribute__((aligned(16))) v128;

#define OP2(insn, d, n)                                                              \
    __asm__ volatile("ld1 {v0.16b}, [%0]\n ld1 {v1.16b}, [%1]\n" insn "\n st1 {v0.16b}, [%0]" \
                     :: "r"(d), "r"(n) : "v0", "v1", "memory")
#define OP3(insn, d, n, m)                                                           \
    __asm__ volatile("ld1 {v0.16b}, [%0]\n ld1 {v1.16b}, [%1]\n ld1 {v2.16b}, [%2]\n" insn \
                     "\n st1 {v0.16b}, [%0]" :: "r"(d), "r"(n), "r"(m) : "v0", "v1", "v2", "memory")

static void put_bytes(const uint8_t *p, int n) {
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        putc_(hx[p[i] >> 4]);
        putc_(hx[p[i] & 15]);
    }
}

/* --- AES-128 ---------------------------------------------------------------------- */
static uint32_t sub_word(uint32_t w) {
    uint32_t r;
    __asm__ volatile("dup v0.4s, %w1\n movi v1.16b, #0\n aese v0.16b, v1.16b\n umov %w0, v0.s[0]"
                     : "=r"(r) : "r"(w) : "v0", "v1");
    return r;
}

static void aes128_expand(const uint8_t key[16], v128 rk[11]) {
    uint32_t *w = &rk[0].w[0];
    memcpy(w, key, 16);
    uint32_t rcon = 1;
    for (int i = 4; i < 44; i++) {
        uint32_t t = w[i - 1];
        if (i % 4 == 0) {
            t = sub_word((t >> 8) | (t << 24)) ^ rcon;     /* RotWord on little-endian words */
            rcon = (rcon << 1) ^ ((rcon & 0x80) ? 0x11b : 0);
        }
        w[i] = w[i - 4] ^ t;
    }
}

static void xor16(v128 *d, const v128 *s) {
    for (int i = 0; i < 4; i++)
        d->w[i] ^= s->w[i];
}

static void aes_test(void) {
    static const uint8_t key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t pt[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    static v128 rk[11], dk[11], st;
    aes128_expand(key, rk);
    puts_("aes128 round key 10: ");
    put_bytes((uint8_t *)&rk[10], 16);
    putc_('\n');
    memcpy(&st, pt, 16);
    for (int r = 0; r < 9; r++) {
        OP2("aese v0.16b, v1.16b", &st, &rk[r]);
        OP2("aesmc v0.16b, v0.16b", &st, &st);
    }
    OP2("aese v0.16b, v1.16b", &st, &rk[9]);
    xor16(&st, &rk[10]);
    puts_("aes128 encrypt: ");
    put_bytes((uint8_t *)&st, 16);
    putc_('\n');
    /* equivalent inverse cipher: InvMixColumns on the middle round keys */
    dk[0] = rk[10];
    for (int i = 1; i < 10; i++)
        OP2("aesimc v0.16b, v1.16b", &dk[i], &rk[10 - i]);
    dk[10] = rk[0];
    for (int r = 0; r < 9; r++) {
        OP2("aesd v0.16b, v1.16b", &st, &dk[r]);
        OP2("aesimc v0.16b, v0.16b", &st, &st);
    }
    OP2("aesd v0.16b, v1.16b", &st, &dk[9]);
    xor16(&st, &dk[10]);
    puts_("aes128 decrypt: ");
    put_bytes((uint8_t *)&st, 16);
    putc_('\n');
}

/* --- SHA-1 / SHA-256 -------------------------------------------------------------- */
static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void add4(v128 *d, const v128 *a, const uint32_t *k) {
    for (int i = 0; i < 4; i++)
        d->w[i] = a->w[i] + k[i];
}

static void sha1_block(uint32_t h[5], const uint8_t *blk) {
    static const uint32_t K[4] = {0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6};
    static v128 W[4], abcd, e, e_next, wk;
    for (int i = 0; i < 16; i++)
        W[i / 4].w[i % 4] = be32(blk + 4 * i);
    for (int i = 0; i < 4; i++)
        abcd.w[i] = h[i];
    e.w[0] = h[4];
    e.w[1] = e.w[2] = e.w[3] = 0x55555555;
    for (int g = 0; g < 20; g++) {
        uint32_t k4[4] = {K[g / 5], K[g / 5], K[g / 5], K[g / 5]};
        add4(&wk, &W[g % 4], k4);
        OP2("sha1h s0, s1", &e_next, &abcd);
        if (g < 5)
            OP3("sha1c q0, s1, v2.4s", &abcd, &e, &wk);
        else if (g < 10 || g >= 15)
            OP3("sha1p q0, s1, v2.4s", &abcd, &e, &wk);
        else
            OP3("sha1m q0, s1, v2.4s", &abcd, &e, &wk);
        e = e_next;
        if (g < 16) {
            OP3("sha1su0 v0.4s, v1.4s, v2.4s", &W[g % 4], &W[(g + 1) % 4], &W[(g + 2) % 4]);
            OP2("sha1su1 v0.4s, v1.4s", &W[g % 4], &W[(g + 3) % 4]);
        }
    }
    for (int i = 0; i < 4; i++)
        h[i] += abcd.w[i];
    h[4] += e.w[0];
}

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static void sha256_block(uint32_t h[8], const uint8_t *blk) {
    static v128 W[4], abcd, efgh, tmp, wk;
    for (int i = 0; i < 16; i++)
        W[i / 4].w[i % 4] = be32(blk + 4 * i);
    for (int i = 0; i < 4; i++) {
        abcd.w[i] = h[i];
        efgh.w[i] = h[4 + i];
    }
    for (int g = 0; g < 16; g++) {
        add4(&wk, &W[g % 4], &K256[4 * g]);
        tmp = abcd;
        OP3("sha256h q0, q1, v2.4s", &abcd, &efgh, &wk);
        OP3("sha256h2 q0, q1, v2.4s", &efgh, &tmp, &wk);
        if (g < 12) {
            OP2("sha256su0 v0.4s, v1.4s", &W[g % 4], &W[(g + 1) % 4]);
            OP3("sha256su1 v0.4s, v1.4s, v2.4s", &W[g % 4], &W[(g + 2) % 4], &W[(g + 3) % 4]);
        }
    }
    for (int i = 0; i < 4; i++) {
        h[i] += abcd.w[i];
        h[4 + i] += efgh.w[i];
    }
}

/* one- or two-block padded message */
static int pad(const char *msg, uint8_t out[128]) {
    int n = 0;
    while (msg[n])
        n++;
    memset(out, 0, 128);
    memcpy(out, msg, n);
    out[n] = 0x80;
    int blocks = (n + 9 + 63) / 64;
    uint64_t bits = (uint64_t)n * 8;
    for (int i = 0; i < 8; i++)
        out[blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    return blocks;
}

static void sha_test(const char *msg) {
    static uint8_t buf[128];
    int blocks = pad(msg, buf);
    uint32_t h1[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    uint32_t h2[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int b = 0; b < blocks; b++) {
        sha1_block(h1, buf + 64 * b);
        sha256_block(h2, buf + 64 * b);
    }
    printf_("sha1(\"%s\") =", msg);
    for (int i = 0; i < 5; i++)
        printf_(" %x", h1[i]);
    printf_("\nsha256(\"%s\") =", msg);
    for (int i = 0; i < 8; i++)
        printf_(" %x", h2[i]);
    putc_('\n');
}

int main(void) {
    uint64_t cpacr;
    __asm__ volatile("mrs %0, cpacr_el1" : "=r"(cpacr));
    __asm__ volatile("msr cpacr_el1, %0; isb" :: "r"(cpacr | (3ULL << 20)));
    aes_test();
    sha_test("abc");
    sha_test("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    sha_test("");
    guest_exit(0);
    return 0;
}
