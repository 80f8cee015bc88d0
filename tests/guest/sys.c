/* Exclusives and acquire/release, PRFM, branches, hints, barriers, DC ZVA,
 * self-modifying code, and MRS/MSR of the common special/system registers. */
#include "insn.h"

static uint8_t mem[4096] __attribute__((aligned(4096)));
static uint32_t code[64] __attribute__((aligned(64)));

static void excl_tests(void) {
    uint64_t *p = (uint64_t *)(mem + 0x100);
    uint64_t v, st, st2, v2;

    p[0] = 0x1122334455667788ULL;
    p[1] = 0x99aabbccddeeff00ULL;
#define XS(ld, stx, reg, val)                                                         \
    do {                                                                              \
        p[0] = 0x1122334455667788ULL;                                                 \
        asm volatile(ld " %" reg "0, [%2]\n\t" stx " %w1, %" reg "3, [%2]"            \
                     : "=&r"(v), "=&r"(st) : "r"(p), "r"((uint64_t)(val)) : "memory"); \
        printf_("%s/%s: loaded %lx status %lx mem %lx\n", ld, stx, v, st, p[0]);      \
    } while (0)
    XS("ldxrb", "stxrb", "w", 0xabcdef01);
    XS("ldxrh", "stxrh", "w", 0xabcdef01);
    XS("ldxr", "stxr", "w", 0xabcdef01);
    XS("ldxr", "stxr", "x", 0xabcdef0123456789ULL);
    XS("ldaxrb", "stlxrb", "w", 0x5a);
    XS("ldaxrh", "stlxrh", "w", 0x5a5a);
    XS("ldaxr", "stlxr", "w", 0x5a5a5a5a);
    XS("ldaxr", "stlxr", "x", 0x5a5a5a5a5a5a5a5aULL);

    /* a store-exclusive after CLREX fails and leaves memory alone */
    p[0] = 0x1122334455667788ULL;
    asm volatile("ldxr %0, [%2]\n\tclrex\n\tstxr %w1, %3, [%2]"
                 : "=&r"(v), "=&r"(st) : "r"(p), "r"(0xdeadULL) : "memory");
    printf_("ldxr/clrex/stxr: status %lx mem %lx\n", st, p[0]);
    /* without any load-exclusive */
    asm volatile("clrex\n\tstxr %w0, %1, [%2]" : "=&r"(st) : "r"(0xbeefULL), "r"(p) : "memory");
    printf_("stxr alone: status %lx mem %lx\n", st, p[0]);
    /* a second store-exclusive after a successful one fails */
    asm volatile("ldxr %0, [%3]\n\tstxr %w1, %4, [%3]\n\tstxr %w2, %5, [%3]"
                 : "=&r"(v), "=&r"(st), "=&r"(st2) : "r"(p), "r"(1ULL), "r"(2ULL) : "memory");
    printf_("stxr twice: status %lx then %lx mem %lx\n", st, st2, p[0]);
    /* store-exclusive to a different address than the monitor's fails */
    p[0] = 7;
    asm volatile("ldxr %0, [%2]\n\tstxr %w1, %3, [%2, #0]\n\t" : "=&r"(v), "=&r"(st) : "r"(p), "r"(8ULL) : "memory");
    asm volatile("ldxr %0, [%2]\n\tadd x9, %2, #8\n\tstxr %w1, %3, [x9]"
                 : "=&r"(v), "=&r"(st) : "r"(p), "r"(9ULL) : "memory", "x9");
    printf_("stxr other address: status %lx mem %lx %lx\n", st, p[0], p[1]);

    /* size mismatch between the load- and store-exclusive */
    /* (LDXR x + STXR w is left out: QEMU 7.2 stores the word yet reports failure) */
    p[0] = 0x1122334455667788ULL;
    asm volatile("ldxrb %w0, [%2]\n\tstxrh %w1, %w3, [%2]"
                 : "=&r"(v), "=&r"(st) : "r"(p), "r"(0xabcdULL) : "memory");
    printf_("ldxrb/stxrh: status %lx mem %lx\n", st, p[0]);
    /* memory changed (same value rewritten / different value) between them */
    p[0] = 0x1122334455667788ULL;
    asm volatile("ldxr %0, [%2]\n\tstr %0, [%2]\n\tstxr %w1, %3, [%2]"
                 : "=&r"(v), "=&r"(st) : "r"(p), "r"(0x42ULL) : "memory");
    printf_("ldxr/str same/stxr: status %lx mem %lx\n", st, p[0]);
    asm volatile("ldxr %0, [%2]\n\tstr xzr, [%2]\n\tstxr %w1, %3, [%2]"
                 : "=&r"(v), "=&r"(st) : "r"(p), "r"(0x43ULL) : "memory");
    printf_("ldxr/str other/stxr: status %lx mem %lx\n", st, p[0]);
    /* a load-exclusive to another address moves the monitor */
    p[0] = 1;
    p[1] = 2;
    asm volatile("ldxr %0, [%2]\n\tadd x9, %2, #8\n\tldxr %0, [x9]\n\tstxr %w1, %3, [%2]"
                 : "=&r"(v), "=&r"(st) : "r"(p), "r"(0x44ULL) : "memory", "x9");
    printf_("ldxr a; ldxr b; stxr a: status %lx mem %lx %lx\n", st, p[0], p[1]);

    /* pairs */
    p[0] = 0x1111111111111111ULL;
    p[1] = 0x2222222222222222ULL;
    asm volatile("ldxp %0, %1, [%3]\n\tstxp %w2, %1, %0, [%3]"
                 : "=&r"(v), "=&r"(v2), "=&r"(st) : "r"(p) : "memory");
    printf_("ldxp/stxp x: %lx %lx status %lx mem %lx %lx\n", v, v2, st, p[0], p[1]);
    asm volatile("ldaxp %w0, %w1, [%3]\n\tstlxp %w2, %w1, %w0, [%3]"
                 : "=&r"(v), "=&r"(v2), "=&r"(st) : "r"(p) : "memory");
    printf_("ldaxp/stlxp w: %lx %lx status %lx mem %lx %lx\n", v, v2, st, p[0], p[1]);
    asm volatile("ldxp %0, %1, [%3]\n\tclrex\n\tstxp %w2, xzr, xzr, [%3]"
                 : "=&r"(v), "=&r"(v2), "=&r"(st) : "r"(p) : "memory");
    printf_("ldxp/clrex/stxp: status %lx mem %lx %lx\n", st, p[0], p[1]);

    /* load-acquire / store-release */
    p[0] = 0x8081828384858687ULL;
    uint64_t a1, a2, a3, a4;
    asm volatile("ldarb %w0, [%4]\n\tldarh %w1, [%4]\n\tldar %w2, [%4]\n\tldar %3, [%4]"
                 : "=&r"(a1), "=&r"(a2), "=&r"(a3), "=&r"(a4) : "r"(p) : "memory");
    printf_("ldar b/h/w/x: %lx %lx %lx %lx\n", a1, a2, a3, a4);
    p[0] = 0;
    asm volatile("stlrb %w0, [%1]" :: "r"(0x1234567890abcdefULL), "r"(p) : "memory");
    a1 = p[0];
    asm volatile("stlrh %w0, [%1]" :: "r"(0x1234567890abcdefULL), "r"(p) : "memory");
    a2 = p[0];
    asm volatile("stlr %w0, [%1]" :: "r"(0x1234567890abcdefULL), "r"(p) : "memory");
    a3 = p[0];
    asm volatile("stlr %0, [%1]" :: "r"(0x1234567890abcdefULL), "r"(p) : "memory");
    a4 = p[0];
    printf_("stlr b/h/w/x: %lx %lx %lx %lx\n", a1, a2, a3, a4);

    /* a typical atomic increment loop */
    uint64_t cnt = 0;
    for (int i = 0; i < 10; i++) {
        asm volatile("1: ldaxr x9, [%0]\n\tadd x9, x9, #3\n\tstlxr w10, x9, [%0]\n\tcbnz w10, 1b"
                     :: "r"(&cnt) : "x9", "x10", "memory");
    }
    printf_("atomic add loop: %lu\n", cnt);
}

static void prfm_hint_barrier_tests(void) {
    asm volatile("prfm pldl1keep, [%0]\n\t"
                 "prfm pldl2strm, [%0, #8]\n\t"
                 "prfm pstl1keep, [%0, #4096]\n\t"
                 "prfm plil3strm, [%0, %1]\n\t"
                 "prfm #0x1f, [%0]\n\t"
                 "prfum pldl1keep, [%0, #-3]\n\t"
                 "prfm pldl1keep, [%0, %w1, sxtw #3]\n\t"
                 :: "r"(mem), "r"(0x12345678ULL));
    puts_("prfm: ok\n");
    asm volatile("nop\n\tyield\n\tsev\n\tsevl\n\twfe\n\t"
                 "hint #7\n\thint #8\n\thint #16\n\thint #17\n\thint #20\n\t"
                 "hint #24\n\thint #25\n\thint #27\n\thint #29\n\thint #31\n\t"
                 "hint #32\n\thint #34\n\thint #36\n\thint #38\n\thint #127\n\t");
    puts_("hints (yield, sev, sevl, wfe, esb, csdb, pac*, bti*, #127): ok\n");
    asm volatile("dmb ish\n\tdmb ishld\n\tdmb oshst\n\tdmb sy\n\tdsb sy\n\tdsb ish\n\t"
                 "dsb nshst\n\tisb\n\tisb sy\n\tdmb #0\n\tssbb\n\tpssbb\n\t" ::: "memory");
    puts_("barriers: ok\n");
}

static uint64_t br_count;
__attribute__((noinline)) static uint64_t leaf(uint64_t x) { return x * 3 + 1; }

static void branch_tests(void) {
    uint64_t r, m;
    /* B.cond: bit k of the mask is set when the condition holds for NZCV = k */
#define BC(c)                                                                         \
    do {                                                                              \
        m = 0;                                                                        \
        for (uint64_t f = 0; f < 16; f++) {                                           \
            asm volatile("msr nzcv, %1\n\tmov %0, #0\n\tb." c " 1f\n\tb 2f\n1: mov %0, #1\n2:" \
                         : "=&r"(r) : "r"(f << 28) : "cc");                           \
            m |= r << f;                                                              \
        }                                                                             \
        printf_("b.%s %x\n", c, (unsigned)m);                                         \
    } while (0)
    BC("eq"); BC("ne"); BC("cs"); BC("cc"); BC("mi"); BC("pl"); BC("vs"); BC("vc");
    BC("hi"); BC("ls"); BC("ge"); BC("lt"); BC("gt"); BC("le"); BC("al"); BC("nv");

#define CB(insn, val)                                                                 \
    do {                                                                              \
        asm volatile("mov %0, #0\n\t" insn ", 1f\n\tb 2f\n1: mov %0, #1\n2:"          \
                     : "=&r"(r) : "r"((uint64_t)(val)));                              \
        printf_("%s (%lx): %lu\n", insn, (uint64_t)(val), r);                         \
    } while (0)
    CB("cbz %1", 0);
    CB("cbz %1", 0x100000000ULL);
    CB("cbz %w1", 0x100000000ULL);
    CB("cbnz %1", 0x100000000ULL);
    CB("cbnz %w1", 0x100000000ULL);
    CB("cbnz %w1", 5);
    CB("tbz %1, #0", 2);
    CB("tbz %1, #1", 2);
    CB("tbnz %1, #63", 0x8000000000000000ULL);
    CB("tbnz %1, #62", 0x8000000000000000ULL);
    CB("tbz %w1, #31", 0x80000000ULL);
    CB("tbnz %1, #32", 0x100000000ULL);

    /* BL/BLR/BR/RET */
    uint64_t lr, here;
    asm volatile("adr %1, 1f\n\tbl 1f\n1: mov %0, x30" : "=r"(lr), "=r"(here) :: "x30");
    printf_("bl: lr-label=%ld\n", (int64_t)(lr - here));
    asm volatile("adr x9, 1f\n\tblr x9\n1: mov %0, x30\n\tadr %1, 1b" : "=r"(lr), "=r"(here) :: "x9", "x30");
    printf_("blr: lr-label=%ld\n", (int64_t)(lr - here));
    asm volatile("adr x9, 1f\n\tmov %0, #1\n\tbr x9\n\tmov %0, #2\n1:" : "=&r"(r) :: "x9");
    printf_("br: %lu\n", r);
    asm volatile("adr x9, 1f\n\tmov %0, #1\n\tret x9\n\tmov %0, #2\n1:" : "=&r"(r) :: "x9");
    printf_("ret x9: %lu\n", r);
    uint64_t (*volatile fp)(uint64_t) = leaf;
    printf_("indirect call: %lu\n", fp(41));
    /* a far jump (b imm26) and a long tbz chain */
    asm volatile("mov %0, #0\n\tb 3f\n"
                 "1: add %0, %0, #1\n\tb 4f\n"
                 "2: add %0, %0, #10\n\tb 1b\n"
                 "3: add %0, %0, #100\n\tb 2b\n"
                 "4:" : "=&r"(r));
    printf_("branch chain: %lu\n", r);
    br_count = 0;
    for (int i = 0; i < 1000; i++) br_count += (i & 3) ? leaf(i) : 1;
    printf_("loop: %lu\n", br_count);
}

static void dczva_tests(void) {
    uint64_t dczid;
    asm volatile("mrs %0, dczid_el0" : "=r"(dczid));
    printf_("dczid_el0: %lx (block %u bytes)\n", dczid, 4u << (dczid & 15));
    for (int i = 0; i < 256; i++) mem[0x400 + i] = 0xaa;
    asm volatile("dc zva, %0" :: "r"(mem + 0x400 + 0x4c) : "memory");   /* unaligned VA */
    asm volatile("dc zva, %0" :: "r"(mem + 0x400 + 0x80) : "memory");
    puts_("after dc zva:");
    for (int i = 0; i < 256; i += 16) putc_(mem[0x400 + i] ? 'a' : '0');
    putc_('\n');
    int first = -1, last = -1;
    for (int i = 0; i < 256; i++)
        if (!mem[0x400 + i]) { if (first < 0) first = i; last = i; }
    printf_("zeroed bytes %d..%d\n", first, last);
    asm volatile("dc cvac, %0\n\tdc civac, %0\n\tdc cvau, %0\n\tdc ivac, %0\n\t"
                 "ic iallu\n\tic ialluis\n\tic ivau, %0\n\tdsb ish\n\tisb"
                 :: "r"(mem) : "memory");
    puts_("dc/ic maintenance: ok\n");
}

static uint64_t run_code(void) {
    uint64_t r;
    asm volatile("dc cvau, %1\n\tdsb ish\n\tic ivau, %1\n\tdsb ish\n\tisb\n\t"
                 "blr %1\n\tmov %0, x0"
                 : "=r"(r) : "r"(code) : "x0", "x30", "memory");
    return r;
}

static void smc_tests(void) {
    /* movz x0, #imm ; ret */
    code[0] = 0xd2800000 | (0x1234 << 5);
    code[1] = 0xd65f03c0;
    printf_("smc: first %lx\n", run_code());
    code[0] = 0xd2800000 | (0x5678 << 5);
    printf_("smc: rewritten %lx\n", run_code());
    /* movk x0, #0xabcd, lsl #16 inserted before the ret */
    code[1] = 0xf2a00000 | (0xabcd << 5);
    code[2] = 0xd65f03c0;
    printf_("smc: extended %lx\n", run_code());
    /* code that rewrites its own next instruction (architecturally the old or
     * new one may run without maintenance; with it, the new one must) */
    uint64_t r;
    asm volatile("adr x9, 1f\n\t"
                 "ldr w10, 2f\n\t"
                 "str w10, [x9]\n\t"
                 "dc cvau, x9\n\tdsb ish\n\tic ivau, x9\n\tdsb ish\n\tisb\n"
                 "1: mov %0, #1\n\t"
                 "b 3f\n"
                 "2: mov %0, #2\n"
                 "3:" : "=r"(r) :: "x9", "x10", "memory");
    printf_("smc: patched own stream -> %lu\n", r);
    asm volatile("adr x9, 1f\n\t"
                 "ldr w10, 2f\n\t"
                 "str w10, [x9]\n\t"
                 "dc cvau, x9\n\tdsb ish\n\tic ivau, x9\n\tdsb ish\n\tisb\n"
                 "1: mov %0, #1\n\t"
                 "b 3f\n"
                 "2: mov %0, #2\n"
                 "3:" : "=r"(r) :: "x9", "x10", "memory");
    printf_("smc: patched again (already patched) -> %lu\n", r);
    /* no maintenance at all: later executions see the store to code */
    asm volatile("adr x9, 1f\n\t"
                 "ldr w10, 2f\n\t"
                 "str w10, [x9]\n"
                 "1: mov %0, #1\n\t"
                 "b 3f\n"
                 "2: mov %0, #3\n"
                 "3:" : "=r"(r) :: "x9", "x10", "memory");
    /* architecturally either instruction may run here: QEMU 7.2 runs the old one
     * (its translation block is already running), pyaarch64 the new one */
    printf_("smc: next instruction patched without maintenance -> old or new: %d\n", r == 1 || r == 3);
    for (int i = 0; i < 3; i++) {
        code[0] = 0xd2800000 | ((0x100 + i) << 5);
        code[1] = 0xd65f03c0;
        uint64_t (*fn)(void) = (uint64_t (*)(void))code;
        asm volatile("" ::: "memory");
        printf_("smc: loop %d without maintenance -> %lx\n", i, fn());
    }
    /* decoded words overwritten by a pair store and by a 64-bit store (the hot
     * loop's checked path for stores into a page that holds decoded code) */
    for (int i = 0; i < 2; i++) {
        uint32_t a = 0xd2800000 | ((0x200 + i) << 5), b = 0xd65f03c0;
        asm volatile("stp %w0, %w1, [%2]" :: "r"(a), "r"(b), "r"(code) : "memory");
        uint64_t (*fn)(void) = (uint64_t (*)(void))code;
        printf_("smc: stp %d -> %lx\n", i, fn());
    }
    for (int i = 0; i < 2; i++) {
        uint64_t w = ((uint64_t)0xd65f03c0 << 32) | (0xd2800000 | ((0x300 + i) << 5));
        *(volatile uint64_t *)code = w;
        uint64_t (*fn)(void) = (uint64_t (*)(void))code;
        printf_("smc: str x %d -> %lx\n", i, fn());
    }
    /* ... by FP/SIMD stores (the vector loop's checked stores, then the FP and SIMD
     * groups' own path), by a store-exclusive (the system group's), and data stored
     * next to decoded code that must not disturb it */
    asm volatile("msr cpacr_el1, %0\n\tisb" :: "r"(3ULL << 20));
    uint64_t (*fn)(void) = (uint64_t (*)(void))code;
    for (int i = 0; i < 2; i++) {
        uint32_t w[4] = {0xd2800000 | ((0x400 + i) << 5), 0xd65f03c0, 0, 0};
        asm volatile("ldr q0, [%0]\n\tstr q0, [%1]" :: "r"(w), "r"(code) : "v0", "memory");
        printf_("smc: str q %d -> %lx\n", i, fn());
    }
    for (int i = 0; i < 2; i++) {
        uint32_t w[8] = {0xd2800000 | ((0x500 + i) << 5), 0xf2a00000 | (0x77 << 5), 0xd65f03c0};
        asm volatile("ld1 {v0.4s, v1.4s}, [%0]\n\tst1 {v0.4s, v1.4s}, [%1]"
                     :: "r"(w), "r"(code) : "v0", "v1", "memory");
        printf_("smc: st1 %d -> %lx\n", i, fn());
    }
    for (int i = 0; i < 2; i++) {
        uint32_t w[4] = {0xd2800000 | ((0x600 + i) << 5), 0xd65f03c0, 0, 0};
        asm volatile("stp q0, q1, [%0]\n\tldr q0, [%1]\n\tmovi v1.16b, #0\n\tstp q0, q1, [%0]"
                     :: "r"(code), "r"(w) : "v0", "v1", "memory");
        printf_("smc: stp q %d -> %lx\n", i, fn());
    }
    for (int i = 0; i < 2; i++) {
        uint64_t w = ((uint64_t)0xd65f03c0 << 32) | (0xd2800000 | ((0x700 + i) << 5));
        uint32_t fail;
        asm volatile("1: ldxr xzr, [%1]\n\tstxr %w0, %2, [%1]\n\tcbnz %w0, 1b"
                     : "=&r"(fail) : "r"(code), "r"(w) : "memory");
        printf_("smc: stxr %d -> %lx\n", i, fn());
    }
    for (int i = 0; i < 3; i++) {
        uint32_t w[8] = {i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7};
        asm volatile("ld1 {v0.4s, v1.4s}, [%0]\n\tst1 {v0.4s, v1.4s}, [%1]\n\t"
                     "str q0, [%1, #32]\n\tstr %x2, [%1, #48]"
                     :: "r"(w), "r"(code + 32), "r"((uint64_t)i) : "v0", "v1", "memory");
        printf_("smc: data next to code %d -> %lx %u %u\n", i, fn(), code[32 + 7], code[32 + 12]);
    }
}

static void sysreg_tests(void) {
    uint64_t v, w, x;
#define RD(reg)                                                                       \
    do {                                                                              \
        asm volatile("mrs %0, " reg : "=r"(v));                                       \
        printf_("%s = %lx\n", reg, v);                                                \
    } while (0)
#define WR(reg, val)                                                                  \
    do {                                                                              \
        asm volatile("msr " reg ", %1\n\tmrs %0, " reg : "=&r"(v) : "r"((uint64_t)(val))); \
        printf_("%s <- %lx = %lx\n", reg, (uint64_t)(val), v);                        \
    } while (0)
    /* FPCR/FPSR accesses trap unless CPACR_EL1.FPEN allows them (see exc.c) */
    asm volatile("msr cpacr_el1, %0\n\tisb" :: "r"(3ULL << 20));
    RD("midr_el1");
    RD("mpidr_el1");
    RD("ctr_el0");
    RD("dczid_el0");
    RD("currentel");
    RD("spsel");
    RD("daif");
    RD("fpcr");
    RD("fpsr");
    RD("tpidr_el0");
    RD("revidr_el1");
    RD("id_aa64isar0_el1");
    RD("id_aa64pfr0_el1");
    RD("id_aa64mmfr0_el1");
    RD("cntfrq_el0");
    RD("id_aa64pfr1_el1");
    RD("id_aa64dfr0_el1");
    RD("id_aa64dfr1_el1");
    RD("id_aa64isar1_el1");
    RD("id_aa64mmfr1_el1");
    RD("id_aa64mmfr2_el1");
    RD("id_aa64afr0_el1");
    RD("clidr_el1");
    RD("aidr_el1");
    RD("sctlr_el1");
    RD("tcr_el1");
    RD("mdscr_el1");
    RD("csselr_el1");
    RD("vbar_el1");
    WR("nzcv", 0xf0000000);
    WR("nzcv", 0x6fffffff);
    WR("nzcv", 0);
    WR("daif", 0x3c0);
    WR("daif", 0x140);
    WR("daif", 0xffffffffffffffffULL);
    WR("tpidr_el0", 0x0123456789abcdefULL);
    WR("tpidrro_el0", 0xfedcba9876543210ULL);
    WR("tpidr_el1", 0x5555aaaa5555aaaaULL);
    WR("fpcr", 0xffffffffffffffffULL);
    WR("fpcr", 0x03c00000);
    WR("fpcr", 0);
    WR("fpsr", 0xffffffffffffffffULL);
    WR("fpsr", 0x9f);
    WR("fpsr", 0);
    WR("vbar_el1", 0x40001234);
    WR("elr_el1", 0xffffffffffffffffULL);
    WR("spsr_el1", 0xffffffffffffffffULL);
    WR("esr_el1", 0xffffffffffffffffULL);
    WR("far_el1", 0x123456789ULL);
    WR("contextidr_el1", 0xffffffffffffffffULL);
    WR("cpacr_el1", 0xffffffffffffffffULL);
    WR("cpacr_el1", 0);
    WR("mair_el1", 0x0011223344556677ULL);
    WR("amair_el1", 0x0011223344556677ULL);
    WR("tcr_el1", 0xffffffffffffffffULL);
    WR("tcr_el1", 0);
    WR("ttbr0_el1", 0xffffffffffffffffULL);
    WR("ttbr1_el1", 0x0000123456789000ULL);
    WR("par_el1", 0xffffffffffffffffULL);
    WR("mdscr_el1", 0xffffffffffffffffULL);
    WR("mdscr_el1", 0);
    WR("csselr_el1", 0xffffffffffffffffULL);
    WR("csselr_el1", 2);
    WR("afsr0_el1", 0xffffffffffffffffULL);
    WR("cntfrq_el0", 0x12345678);
    WR("sp_el0", 0x40123458);
    /* MSR immediate forms */
    asm volatile("msr daifset, #0xf\n\tmrs %0, daif\n\tmsr daifclr, #0x5\n\tmrs %1, daif\n\t"
                 "msr daifset, #2\n\tmrs %2, daif\n\tmsr daifset, #0xf"
                 : "=&r"(v), "=&r"(w), "=&r"(x));
    printf_("daifset #f: %lx, daifclr #5: %lx, daifset #2: %lx\n", v, w, x);
    /* SPSel: switch to SP_EL0 and back; the stack pointers are banked */
    uint64_t sp1, sp0, sel0, sel1;
    asm volatile("mov x10, sp\n\t"
                 "ldr x9, =0x40200000\n\t"
                 "msr sp_el0, x9\n\t"
                 "msr spsel, #0\n\t"
                 "mrs %2, spsel\n\t"
                 "mov %1, sp\n\t"
                 "sub sp, sp, #0x20\n\t"
                 "msr spsel, #1\n\t"
                 "mrs %3, spsel\n\t"
                 "mov %0, sp\n\t"
                 "mrs x9, sp_el0\n\t"
                 "sub %0, x10, %0\n\t"
                 "mov x11, #0\n\t"
                 "msr spsel, x11\n\t"
                 "mov x11, sp\n\t"
                 "msr spsel, #1\n\t"
                 "sub x11, x9, x11\n\t"
                 "add %1, %1, x11\n\t"
                 : "=&r"(sp1), "=&r"(sp0), "=&r"(sel0), "=&r"(sel1) :: "x9", "x10", "x11", "memory");
    printf_("spsel: sel0=%lu sp_el0=%lx sel1=%lu sp_el1 unchanged=%d\n", sel0, sp0, sel1, sp1 == 0);
}

int main(void) {
    puts_("== exclusives\n");
    excl_tests();
    puts_("== prfm, hints, barriers\n");
    prfm_hint_barrier_tests();
    puts_("== branches\n");
    branch_tests();
    puts_("== dc zva, cache maintenance\n");
    dczva_tests();
    puts_("== self-modifying code\n");
    smc_tests();
    puts_("== system registers\n");
    sysreg_tests();
    return 0;
}
