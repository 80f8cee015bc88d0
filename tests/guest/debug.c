/* The Arm self-hosted debug architecture at EL1/EL0 (vectors.S handles exceptions):
 * hardware breakpoints (address match, linked to a CONTEXTIDR match, PMC), watchpoints
 * (load/store/access, BAS byte selects, MASK ranges, WnR and FAR), software step
 * (MDSCR_EL1.SS with PSTATE.SS/SPSR.SS: a branch, a load-exclusive, an SVC, a BRK and
 * an aborting load stepped, an ERET with SPSR.SS=0, stepping EL0), BRK, and the
 * enables: OS lock (OSLAR/OSLSR), OS double lock (OSDLR), MDSCR_EL1.MDE and KDE,
 * PSTATE.D.  Every exception prints its ESR, ELR (relative to a label), SPSR and,
 * for breakpoints and watchpoints, FAR. */
#include "lib.h"

struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};

#define MSR(reg, v) asm volatile("msr " #reg ", %0\n\tisb" :: "r"((uint64_t)(v)) : "memory")
#define MRS(reg) ({ uint64_t _v; asm volatile("mrs %0, " #reg : "=r"(_v) :: "memory"); _v; })

#define MDSCR_SS (1u << 0)
#define MDSCR_KDE (1u << 13)
#define MDSCR_MDE (1u << 15)
#define SPSR_SS (1ull << 21)

extern char vectors[];
extern char el0_load[], el0_store[];
extern char bp_a[], bp_b[], el0_code[], el0_bp[], step1[], step2[], step3[], step4[],
    step5[], step6[], step7[], el0_step[];
static volatile uint64_t base;           /* ELR is printed relative to it */
static volatile int steps_left, exc_count, steps_seen;
static volatile uint64_t el0_return;
static uint64_t el0_stack[256] __attribute__((aligned(16)));
static volatile uint64_t watched[8] __attribute__((aligned(64)));
static volatile uint64_t ex_word __attribute__((aligned(16)));

static const char *ec_name(uint64_t ec) {
    switch (ec) {
    case 0x15: return "svc";
    case 0x24: return "dabt-lower";
    case 0x25: return "dabt";
    case 0x30: return "bkpt-lower";
    case 0x31: return "bkpt";
    case 0x32: return "step-lower";
    case 0x33: return "step";
    case 0x34: return "watch-lower";
    case 0x35: return "watch";
    case 0x3c: return "brk";
    default: return "?";
    }
}

static void bp_off(void) {
    MSR(dbgbcr0_el1, 0); MSR(dbgbcr1_el1, 0); MSR(dbgbcr2_el1, 0);
    MSR(dbgbcr3_el1, 0); MSR(dbgbcr4_el1, 0); MSR(dbgbcr5_el1, 0);
}

static void wp_off(void) {
    MSR(dbgwcr0_el1, 0); MSR(dbgwcr1_el1, 0); MSR(dbgwcr2_el1, 0); MSR(dbgwcr3_el1, 0);
}

void exc_handler(struct exc_frame *f, uint64_t vec) {
    uint64_t ec = f->esr >> 26;
    exc_count++;
    printf_("  %s: vec=%x esr=%lx elr=base%c%lx spsr=%lx", ec_name(ec), (unsigned)(vec * 0x80),
            f->esr, f->elr >= base ? '+' : '-',
            f->elr >= base ? f->elr - base : base - f->elr, f->spsr);
    if (ec == 0x30 || ec == 0x31 || ec == 0x34 || ec == 0x35 || ec == 0x24 || ec == 0x25)
        printf_(" far=%lx", f->far == (uint64_t)watched ? 0xaaaa : f->far >= (uint64_t)watched
                && f->far < (uint64_t)watched + 64 ? 0xaa00 + (f->far - (uint64_t)watched) : f->far);
    printf_(" daif=%lx", MRS(daif));
    putc_('\n');
    switch (ec) {
    case 0x30: case 0x31:
        bp_off();
        break;
    case 0x34: case 0x35:
        wp_off();
        break;
    case 0x32: case 0x33:
        steps_seen = 1;
        if (--steps_left > 0) {
            f->spsr |= SPSR_SS;
        } else {
            MSR(mdscr_el1, MRS(mdscr_el1) & ~MDSCR_SS);
            f->spsr &= ~SPSR_SS;
        }
        break;
    case 0x15:
        if ((f->esr & 0xffff) == 0x42 && el0_return) {
            f->elr = el0_return;          /* SVC #0x42 from EL0: back to EL1h, D set */
            f->spsr = 0x3c5;
            el0_return = 0;
        }
        break;
    default:
        f->elr += 4;
    }
}

/* the breakpoint targets: b_a at EL1, el0_bp at EL0 */
asm(".text\n"
    ".global bp_a, bp_b\n"
    "bp_a: nop\n"
    "      add x0, x0, #1\n"
    "bp_b: add x0, x0, #2\n"
    "      ret\n");

static int call_bp(void) {
    register uint64_t x0 asm("x0") = 0;
    base = (uint64_t)bp_a;
    asm volatile("msr daifclr, #8\n\tbl bp_a\n\tmsr daifset, #8" : "+r"(x0) :: "x30", "memory");
    return (int)x0;
}

static void bp_case(const char *title, uint64_t bcr, uint64_t bvr, int n) {
    int c0 = exc_count;
    printf_("%s\n", title);
    if (n == 0) { MSR(dbgbvr0_el1, bvr); MSR(dbgbcr0_el1, bcr); }
    else { MSR(dbgbvr1_el1, bvr); MSR(dbgbcr1_el1, bcr); }
    int r = call_bp();
    printf_("  x0=%d exceptions=%d bcr0=%lx\n", r, exc_count - c0, MRS(dbgbcr0_el1));
    bp_off();
}

#define BCR(pmc, bas, bt, lbn) (1 | ((pmc) << 1) | ((bas) << 5) | ((uint64_t)(lbn) << 16) | ((uint64_t)(bt) << 20))
#define WCR(pac, lsc, bas, mask) (1 | ((pac) << 1) | ((lsc) << 3) | ((bas) << 5) | ((uint64_t)(mask) << 24))

/* one load or store with D clear (debug exceptions from EL1 need KDE and D = 0) */
static uint64_t wp_access(const char *title, uint64_t wvr, uint64_t wcr, int kind, int off) {
    volatile uint8_t *p = (volatile uint8_t *)watched + off;
    uint64_t v = 0;
    int c0 = exc_count;
    printf_("%s\n", title);
    MSR(dbgwvr0_el1, wvr);
    MSR(dbgwcr0_el1, wcr);
    asm volatile("adr x9, 1f\n\tstr x9, [%[b]]\n\t" "msr daifclr, #8\n" "1:\n\t"
                 "cmp %w[k], #0\n\tb.ne 2f\n\tldr %[v], [%[p]]\n\tb 9f\n"
                 "2: cmp %w[k], #1\n\tb.ne 3f\n\tstr %[v], [%[p]]\n\tb 9f\n"
                 "3: cmp %w[k], #2\n\tb.ne 4f\n\tldrb %w[v], [%[p]]\n\tb 9f\n"
                 "4: cmp %w[k], #3\n\tb.ne 5f\n\tstrh %w[v], [%[p]]\n\tb 9f\n"
                 "5: cmp %w[k], #4\n\tb.ne 6f\n\tldp %[v], x10, [%[p]]\n\tb 9f\n"
                 "6: cmp %w[k], #5\n\tb.ne 7f\n\tstp %[v], %[v], [%[p]]\n\tb 9f\n"
                 "7: cmp %w[k], #6\n\tb.ne 8f\n\tldr %[v], [%[p]]\n\tb 9f\n"   /* unaligned */
                 "8: cmp %w[k], #7\n\tb.ne 10f\n\t"
                 "str %[v], [%[p], #8]\n\tstr %[v], [%[p]]\n\tb 9f\n"   /* the page, then the word */
                 "10: cmp %w[k], #8\n\tb.ne 11f\n\tldtr %[v], [%[p]]\n\tb 9f\n"
                 "11: dc zva, %[p]\n"
                 "9: msr daifset, #8"
                 : [v] "+r"(v) : [p] "r"(p), [k] "r"(kind), [b] "r"(&base)
                 : "x9", "x10", "memory", "cc");
    printf_("  exceptions=%d\n", exc_count - c0);
    wp_off();
    return v;
}

static void el0_run_x1(uint64_t code, uint64_t spsr, uint64_t x1) {
    asm volatile("adr x9, 1f\n\tstr x9, [%[res]]\n\tmov x1, %[x1]\n\t"
                 "msr sp_el0, %[stk]\n\tmsr elr_el1, %[code]\n\tmsr spsr_el1, %[spsr]\n\t"
                 "eret\n1:"
                 :: [res] "r"(&el0_return), [stk] "r"(el0_stack + 256), [code] "r"(code),
                    [spsr] "r"(spsr), [x1] "r"(x1)
                 : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
                   "x12", "x13", "x14", "x15", "x16", "x17", "x30", "memory", "cc");
}

static void el0_run(uint64_t code, uint64_t spsr) {
    el0_run_x1(code, spsr, 0);
}

/* EL0 code: a breakpoint target, then back through SVC #0x42 */
asm(".text\n"
    ".global el0_code, el0_bp, el0_step, el0_load, el0_store\n"
    "el0_load: ldr x0, [x1]\n"
    "          svc #0x42\n"
    "el0_store: str x0, [x1, #8]\n"
    "          svc #0x42\n"
    "el0_code: mov x0, #5\n"
    "el0_bp:   add x0, x0, #1\n"
    "          svc #0x42\n"
    "el0_step: mov x1, #1\n"
    "          add x1, x1, x1\n"
    "          cbz x1, 1f\n"
    "          add x1, x1, #1\n"
    "1:        svc #0x42\n");

/* software-stepped sequences, entered at EL1h by an ERET with SPSR_EL1 = EL1h | D clear |
 * SS (step6: SS clear), left by a branch back to the caller (x20) */
asm(".text\n"
    ".global step1, step2, step3, step4, step5, step6, step7\n"
    "step1: mov x0, #1\n"
    "       add x0, x0, #2\n"
    "       b 1f\n"
    "       nop\n"
    "1:     ldxr x1, [x2]\n"
    "       stxr w3, x1, [x2]\n"
    "       ldaxr w4, [x2]\n"
    "       clrex\n"
    "       cbnz x0, 2f\n"
    "       nop\n"
    "2:     br x20\n"
    "step2: svc #5\n"
    "       mov x0, #7\n"
    "       br x20\n"
    "step3: brk #0x33\n"
    "       mov x0, #8\n"
    "       br x20\n"
    "step4: ldr x0, [x21]\n"                /* x21: no device there (external abort) */
    "       mov x0, #9\n"
    "       br x20\n"
    "step5: mov x0, #10\n"
    "       br x20\n"
    "step6: mov x0, #11\n"
    "       br x20\n"
    "step7: msr cntv_ctl_el0, xzr\n"
    "       cbz x22, 1f\n"                   /* (no stepping seen: a WFI would sleep for ever) */
    "       wfi\n"
    "1:     mov x0, #12\n"
    "       br x20\n");

static void step_el1(const char *title, char *code, int n, uint64_t mdscr, uint64_t ss) {
    int c0 = exc_count;
    printf_("%s\n", title);
    base = (uint64_t)code;
    steps_left = n;
    MSR(mdscr_el1, mdscr);
    asm volatile("adr x20, 1f\n\t"
                 "msr elr_el1, %[code]\n\tmsr spsr_el1, %[spsr]\n\t"
                 "mov x2, %[ex]\n\tmov x21, #0x08100000\n\tmov x22, %[sw]\n\t"
                 "eret\n"
                 "1: msr daifset, #0xf"
                 :: [code] "r"(code), [spsr] "r"(0x5 | ss), [ex] "r"(&ex_word),
                    [sw] "r"((uint64_t)steps_seen)
                 : "x0", "x1", "x2", "x3", "x4", "x20", "x21", "x22", "x30", "memory", "cc");
    printf_("  exceptions=%d mdscr=%lx\n", exc_count - c0, MRS(mdscr_el1));
    MSR(mdscr_el1, 0);
}

int main(void) {
    MSR(vbar_el1, vectors);
    printf_("debug: oslsr=%lx mdscr=%lx osdlr=%lx dfr0=%lx\n", MRS(oslsr_el1), MRS(mdscr_el1),
            MRS(osdlr_el1), MRS(id_aa64dfr0_el1));
    MSR(dbgbcr0_el1, 0x1e0 | 0x6 | (0xfull << 56));
    MSR(dbgwvr0_el1, 0x1237);
    printf_("bcr write 0x1e6|0xf<<56 reads %lx; wvr write 0x1237 reads %lx\n", MRS(dbgbcr0_el1),
            MRS(dbgwvr0_el1));
    MSR(dbgbcr0_el1, 0x26);
    printf_("bcr write 0x26 (BAS 0b0001) reads %lx\n", MRS(dbgbcr0_el1));
    MSR(dbgbcr0_el1, 0);
    MSR(dbgwvr0_el1, 0);

    MSR(mdscr_el1, MDSCR_MDE | MDSCR_KDE);
    bp_case("bp EL1 with the OS lock set (reset)", BCR(3, 0xf, 0, 0), (uint64_t)bp_a, 0);
    MSR(oslar_el1, 0);
    printf_("oslar 0: oslsr=%lx\n", MRS(oslsr_el1));
    bp_case("bp EL1, OS lock clear", BCR(3, 0xf, 0, 0), (uint64_t)bp_a, 0);
    bp_case("bp EL1 second insn, bp1", BCR(3, 0xf, 0, 0), (uint64_t)bp_a + 4, 1);
    bp_case("bp EL1 bvr bits 1:0 set", BCR(3, 0xf, 0, 0), (uint64_t)bp_a + 7, 0);
    bp_case("bp BAS 0b1100 (addr+2)", BCR(3, 0xc, 0, 0), (uint64_t)bp_a, 0);
    bp_case("bp BAS 0", BCR(3, 0, 0, 0), (uint64_t)bp_a, 0);
    bp_case("bp PMC=0b10 (EL0 only) at EL1", BCR(2, 0xf, 0, 0), (uint64_t)bp_a, 0);
    bp_case("bp PMC=0b01 (EL1 only) at EL1", BCR(1, 0xf, 0, 0), (uint64_t)bp_a, 0);
    bp_case("bp BT=0b0010 (context, unlinked)", BCR(3, 0xf, 2, 0), (uint64_t)bp_a, 0);
    /* linked: bp0 address match linked to bp4, a CONTEXTIDR_EL1 match */
    MSR(contextidr_el1, 0x55);
    MSR(dbgbvr4_el1, 0x55);
    MSR(dbgbcr4_el1, BCR(3, 0xf, 3, 0));
    bp_case("bp linked to a CONTEXTIDR match (0x55 == 0x55)", BCR(3, 0xf, 1, 4), (uint64_t)bp_a, 0);
    MSR(dbgbcr4_el1, BCR(3, 0xf, 3, 0));
    MSR(contextidr_el1, 0x56);
    bp_case("bp linked to a CONTEXTIDR match (0x56 != 0x55)", BCR(3, 0xf, 1, 4), (uint64_t)bp_a, 0);
    MSR(dbgbcr4_el1, BCR(3, 0xf, 3, 0));
    MSR(contextidr_el1, 0x55);
    bp_case("bp linked to bp1 (not context aware)", BCR(3, 0xf, 1, 1), (uint64_t)bp_a, 0);
    MSR(contextidr_el1, 0);
    bp_off();

    MSR(mdscr_el1, MDSCR_MDE);
    bp_case("bp EL1, KDE clear", BCR(3, 0xf, 0, 0), (uint64_t)bp_a, 0);
    MSR(mdscr_el1, MDSCR_KDE);
    bp_case("bp EL1, MDE clear", BCR(3, 0xf, 0, 0), (uint64_t)bp_a, 0);
    MSR(mdscr_el1, MDSCR_MDE | MDSCR_KDE);
    {
        int c0 = exc_count;
        puts_("bp EL1, PSTATE.D set\n");
        MSR(dbgbvr0_el1, (uint64_t)bp_a);
        MSR(dbgbcr0_el1, BCR(3, 0xf, 0, 0));
        register uint64_t x0 asm("x0") = 0;
        asm volatile("bl bp_a" : "+r"(x0) :: "x30", "memory");
        printf_("  x0=%d exceptions=%d\n", (int)x0, exc_count - c0);
        bp_off();
    }
    MSR(osdlr_el1, 1);
    printf_("osdlr 1 reads %lx\n", MRS(osdlr_el1));
    bp_case("bp EL1, OS double lock", BCR(3, 0xf, 0, 0), (uint64_t)bp_a, 0);
    MSR(osdlr_el1, 0);

    /* EL0: KDE is not needed (debug exceptions from EL0 go to EL1) */
    MSR(mdscr_el1, MDSCR_MDE);
    {
        puts_("bp EL0 (PMC=0b10)\n");
        base = (uint64_t)el0_code;
        MSR(dbgbvr2_el1, (uint64_t)el0_bp);
        MSR(dbgbcr2_el1, BCR(2, 0xf, 0, 0));
        el0_run((uint64_t)el0_code, 0);
        printf_("  bcr2=%lx\n", MRS(dbgbcr2_el1));
        puts_("bp EL0 (PMC=0b01: EL1 only)\n");
        MSR(dbgbcr2_el1, BCR(1, 0xf, 0, 0));
        el0_run((uint64_t)el0_code, 0);
        puts_("bp EL0, OS lock set\n");
        MSR(oslar_el1, 1);
        MSR(dbgbcr2_el1, BCR(3, 0xf, 0, 0));
        el0_run((uint64_t)el0_code, 0);
        MSR(oslar_el1, 0);
        puts_("bp EL0, D set in SPSR (EL0 ignores it)\n");
        MSR(dbgbcr2_el1, BCR(3, 0xf, 0, 0));
        el0_run((uint64_t)el0_code, 0x200);
        bp_off();
    }

    /* watchpoints at EL1 */
    MSR(mdscr_el1, MDSCR_MDE | MDSCR_KDE);
    uint64_t w = (uint64_t)watched;
    base = 0;
    for (int i = 0; i < 8; i++)
        watched[i] = 0x1111111111111111ull * (i + 1);
    wp_access("wp store-only, load", w, WCR(3, 2, 0xff, 0), 0, 0);
    wp_access("wp store-only, store", w, WCR(3, 2, 0xff, 0), 1, 0);
    wp_access("wp load-only, load", w, WCR(3, 1, 0xff, 0), 0, 0);
    wp_access("wp load-only, store", w, WCR(3, 1, 0xff, 0), 1, 0);
    wp_access("wp any, strh", w, WCR(3, 3, 0xff, 0), 3, 2);
    wp_access("wp BAS 0b1000 (byte 3), ldrb byte 2", w, WCR(3, 3, 0x08, 0), 2, 2);
    wp_access("wp BAS 0b1000 (byte 3), ldrb byte 3", w, WCR(3, 3, 0x08, 0), 2, 3);
    wp_access("wp BAS 0b1000 (byte 3), ldr 8 bytes", w, WCR(3, 3, 0x08, 0), 0, 0);
    wp_access("wp BAS 0b00110000 (bytes 4-5), strh at 4", w, WCR(3, 3, 0x30, 0), 3, 4);
    wp_access("wp BAS 0b1111 at wvr+4 (4-aligned), ldrb byte 6", w + 4, WCR(3, 3, 0x0f, 0), 2, 6);
    wp_access("wp BAS 0, load", w, WCR(3, 3, 0, 0), 0, 0);
    wp_access("wp LSC 0, load", w, WCR(3, 0, 0xff, 0), 0, 0);
    wp_access("wp MASK 5 (32 bytes), ldr at 24", w, WCR(3, 3, 0xff, 5), 0, 24);
    wp_access("wp MASK 5 (32 bytes), ldr at 32", w, WCR(3, 3, 0xff, 5), 0, 32);
    wp_access("wp MASK 5, wvr inside the range, ldr at 8", w + 16, WCR(3, 3, 0xff, 5), 0, 8);
    wp_access("wp MASK 1 (reserved), ldr at 0", w, WCR(3, 3, 0xff, 1), 0, 0);
    wp_access("wp ldp on the second word", w + 8, WCR(3, 3, 0xff, 0), 4, 0);
    wp_access("wp stp on the first word", w, WCR(3, 2, 0xff, 0), 5, 0);
    wp_access("wp ldr unaligned over it", w + 8, WCR(3, 3, 0x01, 0), 6, 4);
    wp_access("wp store-only, a store next to it then to it", w, WCR(3, 2, 0xff, 0), 7, 0);
    wp_access("wp PAC=0b10 (EL0 only) at EL1", w, WCR(2, 3, 0xff, 0), 0, 0);
    wp_access("wp PAC=0b10 (EL0 only), ldtr at EL1", w, WCR(2, 3, 0xff, 0), 8, 0);
    wp_access("wp PAC=0b01 (EL1 only), ldtr at EL1", w, WCR(1, 3, 0xff, 0), 8, 0);
    for (int i = 0; i < 8; i++)
        watched[i] = 0x1111111111111111ull * (i + 1);
    wp_access("wp on the third word, dc zva of the block", w + 16, WCR(3, 2, 0xff, 0), 9, 0);
    printf_("  watched[0]=%lx\n", watched[0]);
    MSR(contextidr_el1, 0x55);
    MSR(dbgbvr4_el1, 0x55);
    MSR(dbgbcr4_el1, BCR(3, 0xf, 3, 0));
    wp_access("wp linked to a CONTEXTIDR match (0x55 == 0x55)", w, WCR(3, 3, 0xff, 0) | (1ull << 20) | (4ull << 16), 0, 0);
    MSR(contextidr_el1, 0x56);
    wp_access("wp linked to a CONTEXTIDR match (0x56 != 0x55)", w, WCR(3, 3, 0xff, 0) | (1ull << 20) | (4ull << 16), 0, 0);
    MSR(contextidr_el1, 0);
    bp_off();
    MSR(mdscr_el1, MDSCR_MDE);
    wp_access("wp KDE clear", w, WCR(3, 3, 0xff, 0), 0, 0);
    {
        puts_("wp EL0 load (PAC=0b10)\n");
        base = (uint64_t)el0_load;
        MSR(dbgwvr1_el1, w);
        MSR(dbgwcr1_el1, WCR(2, 3, 0xff, 0));
        el0_run_x1((uint64_t)el0_load, 0, w);
        puts_("wp EL0 store (PAC=0b01: EL1 only)\n");
        base = (uint64_t)el0_store;
        MSR(dbgwcr1_el1, WCR(1, 3, 0xff, 0));
        el0_run_x1((uint64_t)el0_store, 0, w);
        puts_("wp EL0 store (PAC=0b11), MASK 4\n");
        MSR(dbgwcr1_el1, WCR(3, 2, 0xff, 4));
        el0_run_x1((uint64_t)el0_store, 0, w);
        wp_off();
        base = 0;
    }
    MSR(mdscr_el1, MDSCR_KDE);
    wp_access("wp MDE clear", w, WCR(3, 3, 0xff, 0), 0, 0);
    MSR(mdscr_el1, MDSCR_MDE | MDSCR_KDE);
    MSR(oslar_el1, 1);
    wp_access("wp OS lock set", w, WCR(3, 3, 0xff, 0), 0, 0);
    MSR(oslar_el1, 0);
    printf_("watched[0]=%lx watched[1]=%lx\n", watched[0], watched[1]);

    /* software step */
    step_el1("step EL1 (KDE): 9 steps incl. a branch and exclusives", step1, 9,
             MDSCR_SS | MDSCR_KDE, SPSR_SS);
    step_el1("step EL1: an SVC", step2, 2, MDSCR_SS | MDSCR_KDE, SPSR_SS);
    step_el1("step EL1: a BRK", step3, 2, MDSCR_SS | MDSCR_KDE, SPSR_SS);
    step_el1("step EL1: an aborting load", step4, 2, MDSCR_SS | MDSCR_KDE, SPSR_SS);
    step_el1("step EL1: ERET with SPSR.SS clear", step5, 2, MDSCR_SS | MDSCR_KDE, 0);
    step_el1("step EL1: a timer register write and a WFI", step7, 5, MDSCR_SS | MDSCR_KDE, SPSR_SS);
    step_el1("step EL1, KDE clear: inactive", step6, 2, MDSCR_SS, SPSR_SS);
    MSR(oslar_el1, 1);
    step_el1("step EL1, OS lock set: inactive", step6, 2, MDSCR_SS | MDSCR_KDE, SPSR_SS);
    MSR(oslar_el1, 0);
    MSR(dbgbvr0_el1, (uint64_t)step1 + 4);
    MSR(dbgbcr0_el1, BCR(3, 0xf, 0, 0));
    step_el1("step EL1 with a breakpoint on the 2nd insn", step1, 3, MDSCR_SS | MDSCR_KDE | MDSCR_MDE,
             SPSR_SS);
    bp_off();
    {
        puts_("step EL0 (KDE clear)\n");
        int c0 = exc_count;
        base = (uint64_t)el0_step;
        steps_left = 3;
        MSR(mdscr_el1, MDSCR_SS);
        el0_run((uint64_t)el0_step, SPSR_SS);
        printf_("  exceptions=%d\n", exc_count - c0);
        puts_("step EL0, breakpoint on the 2nd insn\n");
        c0 = exc_count;
        steps_left = 2;
        MSR(mdscr_el1, MDSCR_SS | MDSCR_MDE);
        MSR(dbgbvr3_el1, (uint64_t)el0_step + 4);
        MSR(dbgbcr3_el1, BCR(3, 0xf, 0, 0));
        el0_run((uint64_t)el0_step, SPSR_SS);
        printf_("  exceptions=%d\n", exc_count - c0);
        bp_off();
        MSR(mdscr_el1, 0);
    }

    /* BRK */
    base = 0;
    puts_("brk\n");
    asm volatile("brk #0\n\tbrk #0xffff" ::: "memory");
    return 0;
}
