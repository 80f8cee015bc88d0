/* mix: a CoreMark-like blend (written from scratch, not CoreMark's code):
 *   - linked list: find values, reverse the list, sum along it;
 *   - 32x32 int32 matrix multiply (plus a bias add) every 8th pass, folded into a sum;
 *   - software CRC-32 (bit-at-a-time loop, not the CRC32 instruction);
 *   - a string state machine classifying tokens (ints, hex, decimals, exponents,
 *     invalid) in a text buffer, as CoreMark's core_state does.
 * Each iteration perturbs the inputs so no work can be hoisted out of the loop. */
#include "bench.h"

#ifndef ITERS
#define ITERS 1800
#endif

/* ---------------- CRC-32 (reflected, poly 0xEDB88320), bit loop ---------------- */
__attribute__((noinline)) static uint32_t crc32_bits(uint32_t crc, const uint8_t *p, uint32_t n) {
    crc = ~crc;
    for (uint32_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* ---------------- linked list ---------------- */
struct node { struct node *next; int32_t key; int32_t val; };
#define NNODES 256
static struct node pool[NNODES];

static struct node *list_build(uint32_t seed) {
    struct node *head = 0;
    for (int i = NNODES - 1; i >= 0; i--) {
        seed = seed * 1103515245u + 12345u;
        pool[i].key = (int32_t)(seed >> 16) & 0x3ff;
        pool[i].val = i;
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

__attribute__((noinline)) static struct node *list_find(struct node *l, int32_t key) {
    while (l && l->key != key) l = l->next;
    return l;
}

__attribute__((noinline)) static struct node *list_reverse(struct node *l) {
    struct node *prev = 0;
    while (l) { struct node *n = l->next; l->next = prev; prev = l; l = n; }
    return prev;
}

static uint32_t list_work(struct node **headp, uint32_t seed) {
    struct node *head = *headp;
    uint32_t acc = 0;
    for (int q = 0; q < 16; q++) {
        struct node *f = list_find(head, (int32_t)((seed + q * 37u) & 0x3ff));
        acc = acc * 33 + (f ? (uint32_t)f->val : 0xffffu);
    }
    head = list_reverse(head);
    uint32_t pos = 0;
    for (struct node *n = head; n; n = n->next) {
        n->val += (int32_t)(pos & 7);
        acc += (uint32_t)n->val * (pos++ | 1);
    }
    *headp = head;
    return acc;
}

/* ---------------- matrix multiply ---------------- */
#define MN 32
static int32_t ma[MN][MN], mb[MN][MN], mc[MN][MN];

__attribute__((noinline)) static void mat_mul(int32_t c[MN][MN], int32_t a[MN][MN],
                                              int32_t b[MN][MN], int32_t bias) {
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            int32_t s = bias;
            for (int k = 0; k < MN; k++) s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
}

static uint32_t mat_work(uint32_t seed) {
    ma[seed % MN][(seed >> 5) % MN] += (int32_t)seed;
    mb[(seed >> 3) % MN][(seed >> 8) % MN] ^= (int32_t)seed;
    mat_mul(mc, ma, mb, (int32_t)(seed & 0xff));
    uint32_t acc = 0;
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) acc += (uint32_t)mc[i][j] * (uint32_t)(i ^ j ^ 1);
    return acc;
}

/* ---------------- string state machine ---------------- */
enum { S_START, S_INT, S_HEX0, S_HEX, S_DEC, S_EXP, S_EXPSIGN, S_EXPD, S_INVALID, NSTATES };

static char text[1024];
static const char *const tokens[] = {
    "5012", "1234", "-874", "+122", "0x1f3", "0xAbC", "35.54", "-110.7", ".500",
    "5.5e+3", "-6.2e-2", "7E12", "T0.3e-1", "-T.T++Tq", "1T3.4e4z", "34.0e-T",
    "0x", "++1", "9.", "12e", "42",
};

static void text_build(uint32_t seed) {
    uint32_t pos = 0, n = sizeof(tokens) / sizeof(tokens[0]);
    while (pos < sizeof(text) - 16) {
        seed = seed * 1664525u + 1013904223u;
        const char *t = tokens[(seed >> 24) % n];
        while (*t && pos < sizeof(text) - 2) text[pos++] = *t++;
        text[pos++] = ',';
    }
    text[pos] = 0;
}

static inline int isdig(char c) { return c >= '0' && c <= '9'; }
static inline int ishex(char c) { return isdig(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* Classify one token starting at *pp; returns the final state. */
static int next_token(const char **pp, uint32_t *transitions) {
    const char *p = *pp;
    int st = S_START;
    char c;
    while ((c = *p) != 0 && c != ',') {
        p++;
        (*transitions)++;
        switch (st) {
        case S_START:
            if (isdig(c)) st = (c == '0' && *p == 'x') ? S_HEX0 : S_INT;
            else if (c == '+' || c == '-') st = S_INT;
            else if (c == '.') st = S_DEC;
            else st = S_INVALID;
            if (st == S_HEX0) p++;
            break;
        case S_INT:
            if (c == '.') st = S_DEC;
            else if (c == 'e' || c == 'E') st = S_EXP;
            else if (!isdig(c)) st = S_INVALID;
            break;
        case S_HEX0: case S_HEX:
            st = ishex(c) ? S_HEX : S_INVALID;
            break;
        case S_DEC:
            if (c == 'e' || c == 'E') st = S_EXP;
            else if (!isdig(c)) st = S_INVALID;
            break;
        case S_EXP:
            if (c == '+' || c == '-') st = S_EXPSIGN;
            else st = isdig(c) ? S_EXPD : S_INVALID;
            break;
        case S_EXPSIGN: case S_EXPD:
            st = isdig(c) ? S_EXPD : S_INVALID;
            break;
        default:
            break;
        }
    }
    if (c == ',') p++;
    *pp = p;
    return st;
}

__attribute__((noinline)) static uint32_t state_work(void) {
    uint32_t count[NSTATES] = {0};
    uint32_t transitions = 0;
    const char *p = text;
    while (*p) count[next_token(&p, &transitions)]++;
    uint32_t acc = transitions;
    for (int i = 0; i < NSTATES; i++) acc = acc * 131 + count[i];
    return acc;
}

int main(void) {
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            ma[i][j] = (i * 7 + j * 3) % 17 - 8;
            mb[i][j] = (i * 5 + j * 11) % 13 - 6;
        }
    struct node *head = list_build(0x1234u);
    uint32_t crc = 0;
    for (uint32_t it = 0; it < ITERS; it++) {
        uint32_t seed = crc ^ (it * 0x9e3779b9u);
        uint32_t r[3];
        r[0] = list_work(&head, seed);
        r[1] = (it & 7) == 0 ? mat_work(seed) : r[0] * 7u;   /* matmul: 1 pass in 8 */
        if ((it & 7) == 0) text_build(seed);
        /* perturb one character so every pass sees a slightly different string */
        text[(seed >> 7) % (sizeof(text) - 20)] ^= (char)((seed & 1) ? 0 : 1);
        r[2] = state_work();
        crc = crc32_bits(crc, (const uint8_t *)r, sizeof r);
        crc = crc32_bits(crc, (const uint8_t *)text + (seed & 255), 256);
    }
    report("mix", crc);
    return 0;
}
