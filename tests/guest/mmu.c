/* Stage-1 MMU (EL1&0 regime, Armv8.0): page tables built here, MMU on, results
 * printed over the PL011 (mapped through a device page while the MMU is on).
 *
 * For each granule the CPU implements (4K, 64K, 16K) and VA sizes of 48 and 39
 * bits: an identity map of RAM (largest legal block) and the UART (page), pages
 * and blocks at every legal level in a test region, TTBR1 high-half addresses,
 * translation faults at each level, access flag and permission faults on blocks,
 * EPD1, a TTBR beyond the PA size.  With 4K/48-bit also: access flag, permission
 * (AP, UXN, PXN, implicit PXN of EL0-writable pages, WXN under a map with read-only
 * code) and address size faults (IPS, PARange), external abort on a walk (also
 * under AT), APTable/UXNTable/PXNTable, LDTR/STTR against EL0 permissions, TBI
 * (data, BLR and ERET to tagged addresses), every TLBI form, two ASIDs sharing a
 * VA, AT + PAR_EL1, an EL0 routine reached by ERET, instruction fetch from
 * non-executable pages, the UART at a second VA.  On a CPU without 16K granules,
 * TG0 = 16K (and the reserved value) behave as 4K, as on QEMU 7.2.
 * Exception handler: vectors.S. */
#include "lib.h"

struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};

extern char vectors[];
static volatile uint64_t el0_back, nexc;

void exc_handler(struct exc_frame *f, uint64_t vec) {
    uint64_t ec = f->esr >> 26;
    nexc++;
    if (ec == 0x15 && (f->esr & 0xffff) == 0x42 && el0_back) {
        f->elr = el0_back;               /* SVC #0x42 from EL0: back to EL1h */
        f->spsr = 0x3c5;
        el0_back = 0;
        return;
    }
    if (ec == 0x20 || ec == 0x21) {
        /* instruction abort of a call: return to the caller with x0 = 0xbad */
        printf_("  iabt v%x ec=%lx iss=%lx far=%lx elr=%lx\n", (unsigned)(vec * 0x80), ec,
                f->esr & 0x1ffffff, f->far, f->elr);
        f->elr = f->x[30];
        f->x[0] = 0xbad;
        return;
    }
    if (ec == 0x24 || ec == 0x25) {
        printf_("  dabt v%x ec=%lx iss=%lx far=%lx\n", (unsigned)(vec * 0x80), ec,
                f->esr & 0x1ffffff, f->far);
    } else {
        printf_("  exception v%x esr=%lx far=%lx\n", (unsigned)(vec * 0x80), f->esr, f->far);
    }
    f->elr += 4;
}

/* ---- accesses that may fault (the handler skips the instruction) ---------------- */
static uint64_t rd(uint64_t va) {
    uint64_t v;
    asm volatile("mov %0, #0xdead\n\tldr %0, [%1]" : "=&r"(v) : "r"(va) : "memory");
    return v;
}
static uint32_t rd32(uint64_t va) {
    uint32_t v;
    asm volatile("mov %w0, #0xdead\n\tldr %w0, [%1]" : "=&r"(v) : "r"(va) : "memory");
    return v;
}
static void wr(uint64_t va, uint64_t v) { asm volatile("str %1, [%0]" :: "r"(va), "r"(v) : "memory"); }
static void wr32(uint64_t va, uint32_t v) { asm volatile("str %w1, [%0]" :: "r"(va), "r"(v) : "memory"); }
static uint64_t ldtr(uint64_t va) {
    uint64_t v;
    asm volatile("mov %0, #0xdead\n\tldtr %0, [%1]" : "=&r"(v) : "r"(va) : "memory");
    return v;
}
static uint64_t ldtrsb(uint64_t va) {
    uint64_t v;
    asm volatile("mov %0, #0xdead\n\tldtrsb %0, [%1, #1]" : "=&r"(v) : "r"(va) : "memory");
    return v;
}
static uint64_t ldtrh(uint64_t va) {
    uint64_t v;
    asm volatile("mov %0, #0xdead\n\tldtrh %w0, [%1, #2]" : "=&r"(v) : "r"(va) : "memory");
    return v;
}
static void sttr(uint64_t va, uint64_t v) { asm volatile("sttr %1, [%0]" :: "r"(va), "r"(v) : "memory"); }
static void sttrb(uint64_t va, uint64_t v) { asm volatile("sttrb %w1, [%0, #3]" :: "r"(va), "r"(v) : "memory"); }
static uint64_t call(uint64_t va) {
    register uint64_t x0 asm("x0");
    asm volatile("blr %1" : "=r"(x0) : "r"(va) : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8",
                 "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x30", "memory", "cc");
    return x0;
}
static uint64_t at(int kind, uint64_t va) {
    uint64_t par;
    switch (kind) {
    case 0: asm volatile("at s1e1r, %0" :: "r"(va) : "memory"); break;
    case 1: asm volatile("at s1e1w, %0" :: "r"(va) : "memory"); break;
    case 2: asm volatile("at s1e0r, %0" :: "r"(va) : "memory"); break;
    default: asm volatile("at s1e0w, %0" :: "r"(va) : "memory"); break;
    }
    asm volatile("isb\n\tmrs %0, par_el1" : "=r"(par) :: "memory");
    return par;
}

#define SYNC() asm volatile("dsb ish\n\tisb" ::: "memory")
#define TLBI_ALL() asm volatile("dsb ishst\n\ttlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory")

/* ---- page tables --------------------------------------------------------------- */
static uint8_t pool[0x200000] __attribute__((aligned(65536)));      /* tables */
static uint8_t tpages[16][65536] __attribute__((aligned(65536)));   /* test pages */
static uint64_t pool_used;
static int G, STRIDE, INSIZE, SL;      /* granule shift, bits per level, VA bits, start level */

#define AF      (1ULL << 10)
#define SH_IS   (3ULL << 8)
#define NG      (1ULL << 11)
#define AP_RW1  (0ULL << 6)             /* EL1 RW, EL0 none */
#define AP_RW   (1ULL << 6)             /* EL1 RW, EL0 RW */
#define AP_RO1  (2ULL << 6)             /* EL1 RO, EL0 none */
#define AP_RO   (3ULL << 6)             /* EL1 RO, EL0 RO */
#define PXN     (1ULL << 53)
#define UXN     (1ULL << 54)
#define ATTR(i) ((uint64_t)(i) << 2)
#define NORMAL  (ATTR(0) | SH_IS | AF)  /* MAIR attr0: normal write-back */
#define DEVICE  (ATTR(1) | AF | PXN | UXN)
/* MAIR_EL1: attr0 normal WB, attr1 Device-nGnRnE, attr2 normal NC, attr3 Device-nGnRE */
static const uint64_t mair = 0x044400ffULL;

static int shift_of(int level) { return G + STRIDE * (3 - level); }

static uint64_t *new_table(void) {
    uint64_t sz = 1ULL << G;
    pool_used = (pool_used + sz - 1) & ~(sz - 1);
    uint64_t *t = (uint64_t *)(pool + pool_used);
    pool_used += sz;
    for (uint64_t i = 0; i < sz / 8; i++) t[i] = 0;
    return t;
}

static uint64_t *pte_ptr(uint64_t *root, uint64_t va, int level) {
    uint64_t *t = root;
    for (int l = SL;; l++) {
        int sh = shift_of(l);
        int nb = INSIZE - sh < STRIDE ? INSIZE - sh : STRIDE;
        uint64_t idx = (va >> sh) & ((1ULL << nb) - 1);
        if (l == level) return &t[idx];
        if (!(t[idx] & 1)) t[idx] = (uint64_t)new_table() | 3;
        t = (uint64_t *)(t[idx] & 0x0000fffffffff000ULL & ~((1ULL << G) - 1));
    }
}

static void map(uint64_t *root, uint64_t va, uint64_t pa, int level, uint64_t attrs) {
    *pte_ptr(root, va, level) = pa | attrs | (level == 3 ? 3 : 1);
}

static uint64_t *root0, *root1;
#define TV      0x4000000000ULL             /* test region (TTBR0), inside 39 bits */
#define UART_PA 0x09000000ULL
#define PG      (1ULL << G)
#define BLK2    (1ULL << shift_of(2))

static uint64_t tcr_base(void) {
    uint64_t tg0 = G == 12 ? 0 : G == 16 ? 1 : 2;
    uint64_t tg1 = G == 12 ? 2 : G == 16 ? 3 : 1;
    uint64_t tsz = 64 - INSIZE;
    return tsz | (1 << 8) | (1 << 10) | (3 << 12) | (tg0 << 14) |
           (tsz << 16) | (1 << 24) | (1 << 26) | (3ULL << 28) | (tg1 << 30) | (5ULL << 32);
}

static void set_tcr(uint64_t tcr) { asm volatile("msr tcr_el1, %0\n\tisb" :: "r"(tcr) : "memory"); TLBI_ALL(); }
static void set_ttbr0(uint64_t v) { asm volatile("msr ttbr0_el1, %0\n\tisb" :: "r"(v) : "memory"); }
static void set_ttbr1(uint64_t v) { asm volatile("msr ttbr1_el1, %0\n\tisb" :: "r"(v) : "memory"); }

static void mmu_off(void) {
    asm volatile("mrs x9, sctlr_el1\n\tbic x9, x9, #1\n\tmsr sctlr_el1, x9\n\tisb" ::: "x9", "memory");
}
static void mmu_on(void) {
    asm volatile("mrs x9, sctlr_el1\n\torr x9, x9, #1\n\torr x9, x9, #4\n\torr x9, x9, #0x1000\n\t"
                 "msr sctlr_el1, x9\n\tisb" ::: "x9", "memory");
}

static void set_wxn(int on) {
    asm volatile("mrs x9, sctlr_el1\n\tbic x9, x9, #0x80000\n\torr x9, x9, %0\n\tmsr sctlr_el1, x9\n\tisb"
                 :: "r"((uint64_t)on << 19) : "x9", "memory");
}
extern char __bss_start[];

/* identity map of RAM (biggest legal block) and the UART page */
static void identity(uint64_t *root) {
    if (G == 12) map(root, 0x40000000, 0x40000000, 1, NORMAL);
    else map(root, 0x40000000, 0x40000000, 2, NORMAL);
    map(root, UART_PA, UART_PA, 3, DEVICE);
}

static void setup(int g, int insize) {
    G = g; STRIDE = g - 3; INSIZE = insize; SL = 4 - (insize - 4) / STRIDE;
    mmu_off();
    pool_used = 0;
    root0 = new_table();
    root1 = new_table();
    identity(root0);
    asm volatile("msr mair_el1, %0" :: "r"(mair));
    set_ttbr0((uint64_t)root0);
    set_ttbr1((uint64_t)root1);
    set_tcr(tcr_base());
    mmu_on();
    TLBI_ALL();
}

static void fill_pages(void) {
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 8; j++)
            ((volatile uint64_t *)tpages[i])[j] = 0x1000000000000000ULL * (i + 1) + j * 0x11;
}
#define TP(i) ((uint64_t)tpages[i])

static void report(const char *what, uint64_t va, uint64_t v) {
    printf_("%s %lx: %lx\n", what, va, v);
}

/* pages, blocks, TTBR1 and translation faults for the current granule/VA size */
static void basic(void) {
    printf_("== granule %dK, %d-bit VA, start level %d\n", 1 << (G - 10), INSIZE, SL);
    /* pages */
    map(root0, TV, TP(0), 3, NORMAL);
    map(root0, TV + PG, TP(1), 3, NORMAL | AP_RW);
    /* blocks at each legal level, mapping the start of RAM */
    map(root0, TV + 2 * BLK2, 0x40000000, 2, NORMAL);
    if (G == 12) map(root0, TV + 0x80000000ULL, 0x40000000, 1, NORMAL);
    /* TTBR1: a page at the same offset in the high half */
    uint64_t hi = (0ULL - (1ULL << INSIZE)) + TV;
    map(root1, hi, TP(2), 3, NORMAL);
    SYNC();
    report("page", TV, rd(TV + 8));
    wr(TV + PG + 16, 0xfeedface);
    report("page write seen at PA", TP(1) + 16, *(volatile uint64_t *)(TP(1) + 16));
    uint64_t off = TP(3) - 0x40000000;
    report("L2 block", TV + 2 * BLK2 + off, rd(TV + 2 * BLK2 + off));
    if (G == 12) report("L1 block", TV + 0x80000000ULL + off, rd(TV + 0x80000000ULL + off));
    report("ttbr1", hi + 8, rd(hi + 8));
    wr(hi + 24, 0x5151);
    report("ttbr1 write seen at PA", TP(2) + 24, *(volatile uint64_t *)(TP(2) + 24));
    /* translation faults: beyond the TTBR0 range, then an invalid entry at each level */
    puts_("faults:\n");
    report("out of range", 1ULL << INSIZE, rd(1ULL << INSIZE));
    report("top of ttbr0", (1ULL << (INSIZE - 1)), rd(1ULL << (INSIZE - 1)));
    if (SL <= 1) report("L1 invalid", TV + 3 * (1ULL << shift_of(1)), rd(TV + 3 * (1ULL << shift_of(1))));
    report("L2 invalid", TV + 3 * BLK2, rd(TV + 3 * BLK2));
    report("L3 invalid", TV + 7 * PG, rd(TV + 7 * PG));
    report("below ttbr1", hi - (1ULL << (INSIZE - 1)), rd(hi - (1ULL << (INSIZE - 1))));
    report("ttbr1 unmapped", hi + PG, rd(hi + PG));
    /* access flag and permission faults on blocks */
    map(root0, TV + 4 * BLK2, 0x40000000, 2, NORMAL & ~AF);
    map(root0, TV + 5 * BLK2, 0x40000000, 2, NORMAL | AP_RO1);
    if (G == 12) map(root0, TV + 0x100000000ULL, 0x40000000, 1, NORMAL & ~AF);
    SYNC();
    report("L2 block AF=0", TV + 4 * BLK2 + off, rd(TV + 4 * BLK2 + off));
    report("L2 block RO", TV + 5 * BLK2 + off, rd(TV + 5 * BLK2 + off));
    wr(TV + 5 * BLK2 + off, 0x77);
    if (G == 12) report("L1 block AF=0", TV + 0x100000000ULL + off, rd(TV + 0x100000000ULL + off));
    /* EPD1: no walk through TTBR1 */
    set_tcr(tcr_base() | (1 << 23));
    report("EPD1", hi + 8, rd(hi + 8));
    set_tcr(tcr_base());
    /* TTBR1 base address beyond the PA size (A57: 44 bits) */
    set_ttbr1((uint64_t)root1 | (1ULL << 46));
    TLBI_ALL();
    report("TTBR1 bit 46", hi + 8, rd(hi + 8));
    set_ttbr1((uint64_t)root1);
    TLBI_ALL();
}

static const uint32_t ret42_code[2] = {0xd2800540, 0xd65f03c0};   /* mov x0, #42; ret */
extern uint64_t get_pc(void);
asm(".text\n.global get_pc\nget_pc:\n\tadr x0, .\n\tret\n");

/* ERET (EL1h -> EL1h) to `target`, which returns through x30; a fault there
 * "returns" too (the handler resumes at x30) */
static uint64_t eret_to(uint64_t target) {
    uint64_t r;
    asm volatile("adr x30, 1f\n\t"
                 "msr elr_el1, %1\n\t"
                 "mov x9, #0x3c5\n\t"
                 "msr spsr_el1, x9\n\t"
                 "isb\n\t"
                 "eret\n"
                 "1: mov %0, x0" : "=r"(r) : "r"(target) : "x0", "x9", "x30", "memory", "cc");
    return r;
}

static void el0_routine(void);
static uint64_t el0_regs[4];

static void details(void) {
    puts_("== 4K details\n");
    uint64_t V = TV + 0x100000;     /* a fresh L3 table */
    /* access flag and permissions */
    map(root0, V, TP(4), 3, (NORMAL & ~AF));
    map(root0, V + 0x1000, TP(4), 3, NORMAL | AP_RO1);
    map(root0, V + 0x2000, TP(4), 3, NORMAL | AP_RO);
    map(root0, V + 0x3000, TP(4), 3, NORMAL | AP_RW | UXN | PXN);
    map(root0, V + 0x4000, TP(4), 3, NORMAL | AP_RW1);
    SYNC();
    report("AF=0 read", V, rd(V));
    wr(V + 8, 1);
    report("EL1 RO read", V + 0x1000, rd(V + 0x1000));
    wr(V + 0x1000, 2);
    wr32(V + 0x2004, 3);
    report("after RO writes", TP(4), *(volatile uint64_t *)TP(4));
    /* LDTR/STTR at EL1 use EL0's permissions; a plain load first puts the page in the TLB */
    report("ldr EL1-only", V + 0x4000, rd(V + 0x4000));
    report("ldtr EL1-only", V + 0x4000, ldtr(V + 0x4000));
    sttr(V + 0x4000, 7);
    report("ldtr EL0 RW", V + 0x3000, ldtr(V + 0x3000));
    report("ldtrsb", V + 0x3000, ldtrsb(V + 0x3000));
    report("ldtrh", V + 0x3000, ldtrh(V + 0x3000));
    sttrb(V + 0x3000 + 8, 0x9a);
    report("sttrb seen", TP(4) + 8, *(volatile uint64_t *)(TP(4) + 8));
    report("ldtr EL0 RO", V + 0x2000, ldtr(V + 0x2000));
    sttr(V + 0x2000 + 16, 8);
    report("ldr after ldtr faults", V + 0x4000, rd(V + 0x4000));
    /* address size: output address beyond IPS (32 bits) and beyond the PA size */
    map(root0, V + 0x5000, 0x100000000ULL, 3, NORMAL);
    map(root0, V + 0x6000, 1ULL << 46, 3, NORMAL);
    SYNC();
    set_tcr(tcr_base() & ~(7ULL << 32));       /* IPS = 32 bits */
    report("OA above IPS", V + 0x5000, rd(V + 0x5000));
    report("AT above IPS", V + 0x5000, at(0, V + 0x5000));
    set_tcr(tcr_base());
    report("OA bit 46", V + 0x6000, rd(V + 0x6000));
    /* TTBR1 base beyond the PA size, and in no RAM (external abort on the walk) */
    uint64_t hi = (0ULL - (1ULL << INSIZE)) + TV;
    set_ttbr1((uint64_t)root1 | (1ULL << 46));
    TLBI_ALL();
    report("TTBR1 bit 46", hi + 8, rd(hi + 8));
    set_ttbr1(0x08100000);
    TLBI_ALL();
    report("TTBR1 in no RAM", hi + 8, rd(hi + 8));
    report("AT TTBR1 in no RAM", hi + 8, at(0, hi + 8));
    set_ttbr1((uint64_t)root1);
    TLBI_ALL();
    report("TTBR1 back", hi + 8, rd(hi + 8));

    /* hierarchical attributes: APTable, UXNTable, PXNTable in the L1 table descriptor
     * above a fresh L2/L3 (the leaf allows everything) */
    uint64_t H = TV + 0x40000000ULL;
    map(root0, H, TP(12), 3, NORMAL | AP_RW);
    memcpy((void *)(TP(12) + 0x100), ret42_code, 8);
    asm volatile("dc cvau, %0\n\tdsb ish\n\tic iallu\n\tdsb ish\n\tisb" :: "r"(TP(12) + 0x100) : "memory");
    uint64_t *l1d = pte_ptr(root0, H, 1);
    uint64_t l1v = *l1d;
    static const uint64_t tbl_bits[5] = {0, 1ULL << 62, 1ULL << 61, 1ULL << 60, 1ULL << 59};
    static const char *tbl_names[5] = {"none", "APTable=10", "APTable=01", "UXNTable", "PXNTable"};
    for (int i = 0; i < 5; i++) {
        *l1d = l1v | tbl_bits[i];
        TLBI_ALL();
        printf_("table attrs %s:\n", tbl_names[i]);
        report("  read", H, rd(H));
        wr(H + 8, 0x99);
        report("  ldtr", H, ldtr(H));
        report("  S1E0W", H, at(3, H));
        report("  call (EL0-writable leaf)", H + 0x100, call(H + 0x100));
    }
    *l1d = l1v;
    map(root0, H, TP(12), 3, NORMAL | AP_RW1);
    for (int i = 3; i < 5; i++) {
        *l1d = l1v | tbl_bits[i];
        TLBI_ALL();
        report(tbl_names[i], H + 0x100, call(H + 0x100));
        report(tbl_names[i], H + 0x100, at(2, H + 0x100));
    }
    *l1d = l1v;
    TLBI_ALL();

    /* AT and PAR_EL1 */
    puts_("at:\n");
    map(root0, V + 0x7000, TP(5), 3, ATTR(2) | AF);                 /* normal NC, non-shareable */
    map(root0, V + 0x8000, TP(5), 3, ATTR(3) | AF | (2ULL << 8));   /* device nGnRE, SH=2 */
    map(root0, V + 0x9000, TP(5), 3, ATTR(0) | AF | (2ULL << 8));   /* WB outer shareable */
    SYNC();
    report("S1E1R page", TV, at(0, TV));
    report("S1E1R L2 block", TV + 2 * BLK2 + 0x1234, at(0, TV + 2 * BLK2 + 0x1234));
    report("S1E1R L1 block", TV + 0x80000000ULL + 0x123456, at(0, TV + 0x80000000ULL + 0x123456));
    report("S1E1R uart", UART_PA, at(0, UART_PA));
    report("S1E1R NC", V + 0x7000, at(0, V + 0x7000));
    report("S1E1R device nGnRE", V + 0x8000, at(0, V + 0x8000));
    report("S1E1R WB OSH", V + 0x9000, at(0, V + 0x9000));
    report("S1E1W RO", V + 0x1000, at(1, V + 0x1000));
    report("S1E1R AF=0", V, at(0, V));
    report("S1E0R EL1-only", V + 0x4000, at(2, V + 0x4000));
    report("S1E0R EL0 RO", V + 0x2000, at(2, V + 0x2000));
    report("S1E0W EL0 RO", V + 0x2000, at(3, V + 0x2000));
    report("S1E0W EL0 RW", V + 0x3000, at(3, V + 0x3000));
    report("S1E1R unmapped L3", TV + 7 * PG, at(0, TV + 7 * PG));
    report("S1E1R out of range", 1ULL << 50, at(0, 1ULL << 50));
    report("S1E1R ttbr1", hi, at(0, hi + 0x10));

    /* instruction fetch permissions (code copied into a data page) */
    puts_("fetch:\n");
    memcpy((void *)TP(6), ret42_code, 8);
    asm volatile("dc cvau, %0\n\tdsb ish\n\tic iallu\n\tdsb ish\n\tisb" :: "r"(TP(6)) : "memory");
    uint64_t X = V + 0x10000;
    map(root0, X, TP(6), 3, NORMAL | AP_RW1);
    map(root0, X + 0x1000, TP(6), 3, NORMAL | AP_RW1 | PXN);
    map(root0, X + 0x2000, TP(6), 3, NORMAL | AP_RW);              /* EL0-writable: PXN */
    map(root0, X + 0x3000, TP(6), 3, NORMAL | AP_RO1 | UXN);
    map(root0, X + 0x4000, TP(6), 3, (NORMAL & ~AF) | AP_RO1);
    SYNC();
    report("call EL1 RW", X, call(X));
    report("call PXN", X + 0x1000, call(X + 0x1000));
    report("call EL0-writable", X + 0x2000, call(X + 0x2000));
    report("call UXN only", X + 0x3000, call(X + 0x3000));
    report("call AF=0", X + 0x4000, call(X + 0x4000));
    report("call unmapped", X + 0x5000, call(X + 0x5000));

    /* TBI */
    puts_("tbi:\n");
    uint64_t tag = 0x5a00000000000000ULL;
    report("TBI0=0 tagged read", TV | tag, rd(TV | tag));
    report("TBI0=0 call tagged", (uint64_t)get_pc | tag, call((uint64_t)get_pc | tag));
    report("TBI0=0 eret tagged", (uint64_t)get_pc | tag, eret_to((uint64_t)get_pc | tag));
    set_tcr(tcr_base() | (1ULL << 37));
    report("TBI0=1 tagged read", TV | tag, rd(TV | tag));
    report("TBI0=1 tagged unmapped", (TV + 7 * PG) | tag, rd((TV + 7 * PG) | tag));
    report("TBI0=1 call tagged get_pc", (uint64_t)get_pc | tag, call((uint64_t)get_pc | tag));
    report("TBI0=1 eret tagged get_pc", (uint64_t)get_pc | tag, eret_to((uint64_t)get_pc | tag));
    {
        uint64_t elr;
        asm volatile("mrs %0, elr_el1" : "=r"(elr));
        report("TBI0=1 ELR_EL1 after the eret", 0, elr);
    }
    report("TBI0=1 tagged bit55", TV | (1ULL << 55), rd(TV | (1ULL << 55)));
    report("TBI0=1 AT tagged", TV | tag, at(0, TV | tag));
    set_tcr(tcr_base() | (1ULL << 38));
    report("TBI1=1 tagged ttbr1", (hi + 8) & ~tag, rd((hi + 8) & ~tag));
    report("TBI1=1 ttbr0 tagged", TV | tag, rd(TV | tag));
    set_tcr(tcr_base());

    /* MMIO through a second mapping of the UART */
    uint64_t U = V + 0x20000;
    map(root0, U, UART_PA, 3, DEVICE);
    SYNC();
    const char *msg = "uart via a second VA\n";
    for (const char *p = msg; *p; p++) wr32(U, (uint8_t)*p);

    /* TLBI forms: change a PTE, invalidate, see the new mapping */
    puts_("tlbi:\n");
    uint64_t T = V + 0x30000;
    uint64_t *pte = pte_ptr(root0, T, 3);
    for (int form = 0; form < 12; form++) {
        *pte = TP(7) | NORMAL | NG | 3;
        TLBI_ALL();
        uint64_t a = rd(T);
        *pte = TP(8) | NORMAL | NG | 3;
        uint64_t arg = (T >> 12) | (0ULL << 48);
        asm volatile("dsb ishst" ::: "memory");
        switch (form) {
        case 0: asm volatile("tlbi vmalle1" ::: "memory"); break;
        case 1: asm volatile("tlbi vmalle1is" ::: "memory"); break;
        case 2: asm volatile("tlbi vae1, %0" :: "r"(arg) : "memory"); break;
        case 3: asm volatile("tlbi vae1is, %0" :: "r"(arg) : "memory"); break;
        case 4: asm volatile("tlbi vale1, %0" :: "r"(arg) : "memory"); break;
        case 5: asm volatile("tlbi vale1is, %0" :: "r"(arg) : "memory"); break;
        case 6: asm volatile("tlbi vaae1, %0" :: "r"(arg) : "memory"); break;
        case 7: asm volatile("tlbi vaae1is, %0" :: "r"(arg) : "memory"); break;
        case 8: asm volatile("tlbi vaale1, %0" :: "r"(arg) : "memory"); break;
        case 9: asm volatile("tlbi vaale1is, %0" :: "r"(arg) : "memory"); break;
        case 10: asm volatile("tlbi aside1, %0" :: "r"(arg & (0xffffULL << 48)) : "memory"); break;
        default: asm volatile("tlbi aside1is, %0" :: "r"(arg & (0xffffULL << 48)) : "memory"); break;
        }
        SYNC();
        printf_("tlbi form %d: before %lx after %lx\n", form, a, rd(T));
    }

    /* two ASIDs, same VA, different mappings: switch TTBR0 */
    puts_("asid:\n");
    uint64_t Y = 0x10000000000ULL;           /* 1 TiB: its own L0 entry */
    uint64_t *rootB = new_table();
    memcpy(rootB, root0, 4096);
    map(root0, Y, TP(9), 3, NORMAL | NG);
    map(rootB, Y, TP(10), 3, NORMAL | NG);
    SYNC();
    set_tcr(tcr_base() | (1ULL << 36));       /* AS: 16-bit ASIDs */
    set_ttbr0((uint64_t)root0 | (0x1234ULL << 48));
    report("asid 0x1234", Y, rd(Y));
    set_ttbr0((uint64_t)rootB | (0x5678ULL << 48));
    report("asid 0x5678", Y, rd(Y));
    set_ttbr0((uint64_t)root0 | (0x1234ULL << 48));
    report("asid 0x1234 again", Y, rd(Y));
    asm volatile("tlbi aside1, %0\n\tdsb ish\n\tisb" :: "r"(0x5678ULL << 48) : "memory");
    set_tcr(tcr_base() | (1ULL << 22));       /* A1: ASID from TTBR1; 8-bit ASIDs */
    set_ttbr1((uint64_t)root1 | (0x12ULL << 48));
    set_ttbr0((uint64_t)rootB);
    report("A1=1 rootB", Y, rd(Y));
    set_ttbr0((uint64_t)root0);
    set_ttbr1((uint64_t)root1);
    set_tcr(tcr_base());
    report("rootA", Y, rd(Y));

    /* EL0 through ERET: EL0 runs from the identity map (AP EL1-only, UXN=0: EL0
     * may execute what it cannot read) with a stack in an EL0 page */
    puts_("el0:\n");
    uint64_t S = V + 0x40000;
    map(root0, S, TP(11), 3, NORMAL | AP_RW | UXN | PXN);
    SYNC();
    el0_regs[0] = V + 0x3000;      /* EL0 RW */
    el0_regs[1] = V + 0x4000;      /* EL1 only */
    el0_regs[2] = V + 0x2000;      /* EL0 RO */
    el0_regs[3] = X + 0x3000;      /* UXN */
    el0_routine();
    report("el0 read of EL0 RW page", 0, el0_regs[0]);
    report("el0 store seen at PA", TP(4) + 0x20, *(volatile uint64_t *)(TP(4) + 0x20));
    report("el0 results", 1, el0_regs[1]);
    report("el0 results", 2, el0_regs[2]);
    report("el0 results", 3, el0_regs[3]);

    /* SCTLR_EL1.WXN: writable means execute-never.  A map with 4K pages where the
     * program's code and read-only data are read-only and everything else is
     * writable (so that the code keeps running) */
    puts_("wxn:\n");
    uint64_t *rootW = new_table();
    uint64_t ro_end = (uint64_t)__bss_start & ~0xfffULL;
    for (uint64_t pa = 0x40080000; pa < 0x40400000; pa += 0x1000)
        map(rootW, pa, pa, 3, NORMAL | (pa < ro_end ? AP_RO1 : AP_RW1));
    map(rootW, UART_PA, UART_PA, 3, DEVICE);
    map(rootW, X, TP(6), 3, NORMAL | AP_RW1);
    map(rootW, X + 0x3000, TP(6), 3, NORMAL | AP_RO1);
    map(rootW, TV, TP(0), 3, NORMAL | AP_RW1);
    SYNC();
    set_ttbr0((uint64_t)rootW);
    TLBI_ALL();
    report("WXN=0: call RW", X, call(X));
    set_wxn(1);
    report("WXN=1: call RW", X, call(X));
    report("WXN=1: call RO", X + 0x3000, call(X + 0x3000));
    wr(TV + 0x38, 0x3838);
    report("WXN=1: data RW", TV + 0x38, rd(TV + 0x38));
    report("WXN=1: AT S1E1W", X, at(1, X));
    set_wxn(0);
    report("WXN=0 again: call RW", X, call(X));
    set_ttbr0((uint64_t)root0);
    TLBI_ALL();
}

static void el0_routine(void) {
    uint64_t r0, r1, r2, r3;
    asm volatile(
        "adr x9, 3f\n\t"
        "str x9, [%[back]]\n\t"
        "msr sp_el0, %[stk]\n\t"
        "adr x9, 2f\n\t"
        "msr elr_el1, x9\n\t"
        "msr spsr_el1, xzr\n\t"
        "ldp x0, x1, [%[regs]]\n\t"
        "ldp x2, x3, [%[regs], #16]\n\t"
        "isb\n\t"
        "eret\n"
        "2: ldr x4, [x0]\n\t"           /* EL0 RW: fine */
        "str x4, [x0, #0x20]\n\t"
        "mov x5, #0xdead\n\t"
        "ldr x5, [x1]\n\t"              /* EL1-only: permission fault */
        "ldr x6, [x2]\n\t"              /* EL0 RO: fine */
        "str x6, [x2]\n\t"              /* permission fault (write) */
        "mov x0, #0\n\t"
        "blr x3\n\t"                    /* UXN: instruction abort, lower EL */
        "mov x7, x0\n\t"
        "ldtr x8, [x2]\n\t"             /* LDTR at EL0: an ordinary load */
        "mov x0, x4\n\t"
        "svc #0x42\n"
        "3:\n\t"
        "mov %[r0], x0\n\t"
        "mov %[r1], x5\n\t"
        "mov %[r2], x6\n\t"
        "mov %[r3], x7\n\t"
        : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3)
        : [back] "r"(&el0_back), [stk] "r"(TV + 0x140000 + 0x1000), [regs] "r"(el0_regs)
        : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x30", "memory", "cc");
    el0_regs[0] = r0;
    el0_regs[1] = r1;
    el0_regs[2] = r2;
    el0_regs[3] = r3;
}

int main(void) {
    uint64_t mmfr0;
    asm volatile("msr vbar_el1, %0\n\tisb" :: "r"(vectors));
    asm volatile("mrs %0, id_aa64mmfr0_el1" : "=r"(mmfr0));
    int has16 = ((mmfr0 >> 20) & 15) != 0, has64 = ((mmfr0 >> 24) & 15) == 0;
    printf_("granules: 4K 16K=%d 64K=%d\n", has16, has64);
    fill_pages();

    setup(12, 48);
    basic();
    details();
    setup(12, 39);
    basic();
    if (has64) {
        setup(16, 48);
        basic();
        setup(16, 39);
        basic();
        setup(16, 42);
        basic();
    }
    if (has16) {
        setup(14, 48);
        basic();
        setup(14, 47);
        basic();
        setup(14, 39);
        basic();
    } else {
        /* TG0 = 16K on a CPU without it: behaves as a granule it has */
        setup(12, 48);
        map(root0, TV, TP(0), 3, NORMAL);
        SYNC();
        set_tcr(tcr_base() | (2 << 14));
        report("TG0=16K unsupported", TV, rd(TV + 8));
        set_tcr(tcr_base() | (3 << 14));
        report("TG0=3 reserved", TV, rd(TV + 8));
        set_tcr(tcr_base());
    }
    mmu_off();
    printf_("mmu off; exceptions: %lu\n", nexc);
    return 0;
}
