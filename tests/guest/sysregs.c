/* The whole MRS/MSR system-register space (op0 = 2 and 3), probed from the guest:
 *   1. every encoding read at EL1: the readable ones and their values (reset state);
 *   2. every encoding that is not readable written with 0 at EL1: the write-only ones;
 *   3. every readable register written with all-ones and with zeros at EL1 (the
 *      old value restored at once): what sticks, or that the write is UNDEF;
 *   4. EL0 reads and writes of each of them under the reset controls and with
 *      SCTLR_EL1.UCT/DZE/UCI/UMA, CNTKCTL_EL1 and PMUSERENR_EL0 opening EL0 access:
 *      allowed, UNDEF, or trapped (EC 0x18 with its ISS);
 *   5. CCSIDR_EL1 for every CSSELR_EL1 and a few PMU behaviours.
 * Each MRS/MSR is built at run time into a small stub (one per encoding).  Values
 * that depend on time (counters, TVAL) print as "t".  The output is the register
 * table as the CPU model shows it: compared byte for byte with QEMU 7.2. */
#include "lib.h"

struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};

extern char vectors[];
static volatile uint64_t el0_return;
static volatile uint64_t fault_esr, nfault;

#define NKEYS 32768                     /* op0 = 2, 3: key = op0:op1:CRn:CRm:op2 - 0x8000 */
#define SLOT_WORDS 16
static uint32_t code[NKEYS * SLOT_WORDS] __attribute__((aligned(4096)));
static uint16_t present[1024], nread;   /* readable at EL1 */
static uint16_t wonly[64], nwonly;      /* write-only at EL1 */
static uint64_t value[1024];
static uint64_t el0_stack[512] __attribute__((aligned(16)));

/* results of one EL0 pass, per register: first fault's ESR (or ~0: no fault), value */
static uint64_t r_esr[1024], w_esr[1024], r_val[1024];
static uint16_t sel_keys[1024];
static uint64_t sel_vals[1024];
static uint16_t *pass_keys;
static int pass_n;

void exc_handler(struct exc_frame *f, uint64_t vec) {
    uint64_t ec = f->esr >> 26;
    if ((vec & 3) != 0) {
        printf_("unexpected exception, vector %lx\n", vec);
        return;
    }
    if (ec == 0x15 && (f->esr & 0xffff) == 0x42 && el0_return) {
        f->elr = el0_return;            /* SVC #0x42 from EL0: back to EL1h */
        f->spsr = 0x3c5;
        el0_return = 0;
        return;
    }
    if (nfault == 0) fault_esr = f->esr;
    nfault++;
    f->elr += 4;
}

static inline uint32_t mrs(unsigned k, unsigned rt) { return 0xd5200000u | ((k | 0x8000u) << 5) | rt; }
static inline uint32_t msr(unsigned k, unsigned rt) { return 0xd5000000u | ((k | 0x8000u) << 5) | rt; }
#define RET 0xd65f03c0u

/* stub 0: x0 = K;  stub 2: old = K; K = x0; x0 = K; K = old;  stub 8: K = x0 */
static void build_stubs(void) {
    for (unsigned k = 0; k < NKEYS; k++) {
        uint32_t *s = code + k * SLOT_WORDS;
        s[0] = mrs(k, 0);
        s[1] = RET;
        s[2] = mrs(k, 3);
        s[3] = msr(k, 0);
        s[4] = mrs(k, 0);
        s[5] = msr(k, 3);
        s[6] = RET;
        s[8] = msr(k, 0);
        s[9] = RET;
    }
    asm volatile("dsb ish\n\tic iallu\n\tdsb ish\n\tisb" ::: "memory");
}

typedef uint64_t (*stub_fn)(uint64_t);
static uint64_t call(unsigned k, int off, uint64_t x0) {
    nfault = 0;
    return ((stub_fn)(void *)(code + k * SLOT_WORDS + off))(x0);
}

static void put_key(unsigned k) {
    k |= 0x8000;
    printf_("s%u_%u_c%u_c%u_%u", k >> 14, (k >> 11) & 7, (k >> 7) & 15, (k >> 3) & 15, k & 7);
}

#define KEY(op0, op1, crn, crm, op2) ((((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2)) & 0x7fff)
static int el0_mode;       /* in EL0 passes CVAL is timing-dependent too (TVAL writes move it) */
static int timing(unsigned k) {
    if (el0_mode && (k == KEY(3, 3, 14, 2, 2) || k == KEY(3, 3, 14, 3, 2))) return 1;
    return k == KEY(3, 3, 14, 0, 1) || k == KEY(3, 3, 14, 0, 2)       /* CNTPCT, CNTVCT */
        || k == KEY(3, 3, 14, 2, 0) || k == KEY(3, 3, 14, 3, 0)       /* CNTP_TVAL, CNTV_TVAL */
        || k == KEY(3, 3, 9, 13, 0);                                  /* PMCCNTR */
}
static int is_pmu(unsigned k) { return (k >> 11) == 0xb && ((k >> 7) & 15) == 9; }     /* op0=3 op1=3 CRn=9 */
static int is_pmu_el1(unsigned k) { return k == KEY(3, 0, 9, 14, 1) || k == KEY(3, 0, 9, 14, 2); }
static int is_timer(unsigned k) { return (k >> 7) == (KEY(3, 3, 14, 0, 0) >> 7); }
#define SCTLR_KEY KEY(3, 0, 1, 0, 0)

static void put_result(uint64_t esr, uint64_t v, int show, unsigned k) {
    if (esr == ~0ULL) {
        if (!show) puts_("ok");
        else if (timing(k)) puts_("ok=t");
        else printf_("ok=%lx", v);
    } else if ((esr >> 26) == 0) {
        puts_("U");
    } else {
        printf_("E%lx:%lx", esr >> 26, esr & 0x1ffffff);
    }
}

/* ---- EL0 passes ---- */
static void el0_body(void) {
    for (int i = 0; i < pass_n; i++) {
        unsigned k = pass_keys[i];
        uint64_t v = call(k, 0, 0);
        r_esr[i] = nfault ? fault_esr : ~0ULL;
        r_val[i] = v;
        call(k, 8, sel_vals[i]);
        w_esr[i] = nfault ? fault_esr : ~0ULL;
    }
}

static void run_el0(void) {
    asm volatile(
        "adr x9, 1f\n\t"
        "str x9, [%[res]]\n\t"
        "msr sp_el0, %[stk]\n\t"
        "adr x9, 2f\n\t"
        "msr elr_el1, x9\n\t"
        "mov x9, #0x3c0\n\t"            /* EL0t, interrupts masked */
        "msr spsr_el1, x9\n\t"
        "eret\n"
        "2: blr %[fn]\n\t"
        "svc #0x42\n"
        "1:"
        :: [res] "r"(&el0_return), [stk] "r"(el0_stack + 512), [fn] "r"(el0_body)
        : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
          "x13", "x14", "x15", "x16", "x17", "x18", "x30", "memory", "cc");
}

static void el0_pass(const char *title, uint64_t sctlr_or, uint64_t cntkctl, uint64_t pmuserenr,
                     uint64_t mdscr, int (*filter)(unsigned)) {
    uint64_t sctlr;
    int n = 0;
    for (int i = 0; i < nread + nwonly; i++) {
        unsigned k = i < nread ? present[i] : wonly[i - nread];
        if (filter && !filter(k)) continue;
        sel_keys[n] = k;
        sel_vals[n] = i < nread ? value[i] : 0;
        n++;
    }
    pass_keys = sel_keys;
    pass_n = n;
    asm volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
    asm volatile("msr sctlr_el1, %0\n\tmsr cntkctl_el1, %1\n\tmsr pmuserenr_el0, %2\n\t"
                 "msr mdscr_el1, %3\n\tisb"
                 :: "r"(sctlr | sctlr_or), "r"(cntkctl), "r"(pmuserenr), "r"(mdscr));
    run_el0();
    asm volatile("msr sctlr_el1, %0\n\tmsr cntkctl_el1, xzr\n\tmsr pmuserenr_el0, xzr\n\t"
                 "msr mdscr_el1, xzr\n\tisb" :: "r"(sctlr));
    printf_("== el0 %s\n", title);
    el0_mode = 1;
    for (int i = 0; i < n; i++) {
        put_key(sel_keys[i]);
        puts_(" r:");
        put_result(r_esr[i], r_val[i], 1, sel_keys[i]);
        puts_(" w:");
        put_result(w_esr[i], 0, 0, sel_keys[i]);
        putc_('\n');
    }
    el0_mode = 0;
}

static int f_pmu(unsigned k) {
    return is_pmu(k) || is_pmu_el1(k) || ((k >> 11) == 0xb && ((k >> 7) & 15) == 14 && ((k >> 3) & 15) >= 8);
}
static int f_debug(unsigned k) { return (k >> 14) == 0; }     /* op0 = 2 */

static void pmu_tests(void) {
    uint64_t a, b, c, d;
    puts_("== pmu\n");
    /* cycle counter: counts while PMCR_EL0.E and PMCNTENSET_EL0.C are set */
    asm volatile("msr pmcr_el0, %4\n\tmsr pmcntenset_el0, %5\n\tisb\n\t"
                 "mrs %0, pmccntr_el0\n\t"
                 "mov x9, #200\n1: subs x9, x9, #1\n\tb.ne 1b\n\t"
                 "mrs %1, pmccntr_el0\n\t"
                 "msr pmcntenclr_el0, %5\n\tisb\n\t"
                 "mrs %2, pmccntr_el0\n\t"
                 "mov x9, #200\n1: subs x9, x9, #1\n\tb.ne 1b\n\t"
                 "mrs %3, pmccntr_el0\n\t"
                 : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d)
                 : "r"(1ULL | 4), "r"(1ULL << 31) : "x9", "cc");
    printf_("pmccntr: counts while enabled=%d, stops when disabled=%d\n", b > a, c == d);
    asm volatile("msr pmccntr_el0, %1\n\tmrs %0, pmccntr_el0" : "=r"(a) : "r"(0x123456789abcULL));
    printf_("pmccntr stopped, written: %lx\n", a);
    asm volatile("msr pmcr_el0, %0\n\tisb" :: "r"(4ULL));
    asm volatile("mrs %0, pmccntr_el0" : "=r"(a));
    printf_("pmccntr after PMCR.C: %lx\n", a);
    /* event counter 0 on SW_INCR through PMSELR/PMXEVTYPER, incremented by PMSWINC */
    asm volatile("msr pmovsclr_el0, %0\n\tmsr pmcr_el0, %1\n\tmsr pmselr_el0, xzr\n\t"
                 "msr pmxevtyper_el0, xzr\n\tmsr pmxevcntr_el0, %2\n\tmsr pmcntenset_el0, %3"
                 :: "r"(~0ULL), "r"(1ULL), "r"(0xfffffffdULL), "r"(1ULL));
    for (int i = 0; i < 3; i++) {
        asm volatile("msr pmswinc_el0, %4\n\tmsr pmswinc_el0, %5\n\t"
                     "mrs %0, pmevcntr0_el0\n\tmrs %1, pmxevcntr_el0\n\tmrs %2, pmovsclr_el0\n\t"
                     "mrs %3, pmevtyper0_el0\n\t"
                     : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d) : "r"(1ULL), "r"(2ULL));
        printf_("sw_incr: pmevcntr0=%lx pmxevcntr=%lx pmovs=%lx pmevtyper0=%lx\n", a, b, c, d);
    }
    /* the P bit of PMEVTYPER0 filters EL1 out; PMCR.E=0 stops everything */
    asm volatile("msr pmevtyper0_el0, %1\n\tmsr pmswinc_el0, %2\n\tmrs %0, pmevcntr0_el0"
                 : "=&r"(a) : "r"(1ULL << 31), "r"(1ULL));
    asm volatile("msr pmevtyper0_el0, xzr\n\tmsr pmcr_el0, xzr\n\tmsr pmswinc_el0, %1\n\t"
                 "mrs %0, pmevcntr0_el0" : "=&r"(b) : "r"(1ULL));
    printf_("sw_incr filtered at EL1: %lx, PMCR.E=0: %lx\n", a, b);
    /* P resets the event counters */
    asm volatile("msr pmcr_el0, %1\n\tmrs %0, pmevcntr0_el0" : "=&r"(a) : "r"(2ULL));
    printf_("after PMCR.P: %lx\n", a);
    asm volatile("msr pmovsclr_el0, %1\n\tmrs %0, pmovsset_el0" : "=&r"(a) : "r"(~0ULL));
    printf_("pmovs after clear: %lx\n", a);
    /* PMSELR = 31 selects PMCCFILTR through PMXEVTYPER */
    static const uint64_t pat[] = {~0ULL, 0x7c000000ULL, 0x84000000ULL, 0x00000011ULL};
    for (int i = 0; i < 4; i++) {
        asm volatile("mov x9, #31\n\tmsr pmselr_el0, x9\n\tmsr pmxevtyper_el0, %2\n\t"
                     "mrs %0, pmccfiltr_el0\n\tmrs %1, pmxevtyper_el0\n\tmsr pmccfiltr_el0, xzr"
                     : "=&r"(a), "=&r"(b) : "r"(pat[i]) : "x9");
        printf_("pmselr=31, pmxevtyper <- %lx: pmccfiltr=%lx pmxevtyper=%lx\n", pat[i], a, b);
    }
    asm volatile("mov x9, #31\n\tmsr pmselr_el0, x9\n\tmsr pmccfiltr_el0, %1\n\tmrs %0, pmxevtyper_el0\n\t"
                 "msr pmccfiltr_el0, xzr" : "=&r"(a) : "r"(~0ULL) : "x9");
    printf_("pmccfiltr <- ones, pmxevtyper (sel 31) reads %lx\n", a);
    /* PMSELR out of range */
    asm volatile("mov x9, #7\n\tmsr pmselr_el0, x9\n\tmsr pmxevcntr_el0, %1\n\tmrs %0, pmxevcntr_el0\n\t"
                 "msr pmxevtyper_el0, %1\n\tmrs %2, pmxevtyper_el0"
                 : "=&r"(a), "=&r"(b) : "r"(~0ULL) : "x9");
    printf_("pmselr=7 (>= N): pmxevcntr reads %lx pmxevtyper reads %lx\n", a, b);
    asm volatile("mov x9, #31\n\tmsr pmselr_el0, x9\n\tmsr pmxevcntr_el0, %1\n\tmrs %0, pmxevcntr_el0"
                 : "=&r"(a) : "r"(~0ULL) : "x9");
    printf_("pmselr=31: pmxevcntr reads %lx\n", a);
    asm volatile("msr pmcr_el0, %0\n\tmsr pmcntenclr_el0, %1\n\tmsr pmselr_el0, xzr\n\t"
                 "msr pmovsclr_el0, %1\n\tisb" :: "r"(6ULL), "r"(~0ULL));
}

int main(void) {
    asm volatile("msr vbar_el1, %0\n\tisb" :: "r"(vectors));
    asm volatile("msr cpacr_el1, %0\n\tisb" :: "r"(3ULL << 20));     /* FPCR/FPSR untrapped */
    build_stubs();

    puts_("== el1 read\n");
    for (unsigned k = 0; k < NKEYS; k++) {
        uint64_t v = call(k, 0, 0);
        if (nfault) {
            if ((fault_esr >> 26) != 0) { put_key(k); printf_(" read: esr %lx\n", fault_esr); }
            continue;
        }
        present[nread] = k;
        value[nread++] = v;
        put_key(k);
        if (timing(k)) puts_(" = t\n");
        else printf_(" = %lx\n", v);
    }
    printf_("%u readable\n", nread);

    puts_("== el1 write-only\n");
    for (unsigned k = 0; k < NKEYS; k++) {
        int readable = 0;
        for (int i = 0; i < nread; i++) if (present[i] == k) { readable = 1; break; }
        if (readable) continue;
        call(k, 8, 0);
        if (nfault) {
            if ((fault_esr >> 26) != 0) { put_key(k); printf_(" write: esr %lx\n", fault_esr); }
            continue;
        }
        wonly[nwonly++] = k;
        put_key(k);
        putc_('\n');
    }

    puts_("== el1 write all-ones, zeros\n");
    for (int i = 0; i < nread; i++) {
        unsigned k = present[i];
        uint64_t ones = ~0ULL;
        if (k == SCTLR_KEY) ones &= ~0x2000003ULL;       /* not M, A, EE */
        uint64_t v1 = call(k, 2, ones);
        uint64_t f1 = nfault ? fault_esr : ~0ULL;
        uint64_t v0 = call(k, 2, 0);
        uint64_t f0 = nfault ? fault_esr : ~0ULL;
        put_key(k);
        puts_(" ones:");
        put_result(f1, v1, 1, k);
        puts_(" zeros:");
        put_result(f0, v0, 1, k);
        putc_('\n');
    }

    /* TVAL writes above left CVAL at a time-dependent value */
    asm volatile("msr cntp_cval_el0, xzr\n\tmsr cntv_cval_el0, xzr");

    puts_("== ccsidr\n");
    for (uint64_t sel = 0; sel < 16; sel++) {
        uint64_t c, s;
        asm volatile("msr csselr_el1, %2\n\tisb\n\tmrs %1, csselr_el1\n\tmrs %0, ccsidr_el1"
                     : "=&r"(c), "=&r"(s) : "r"(sel));
        printf_("csselr %lx -> %lx ccsidr %lx\n", sel, s, c);
    }
    asm volatile("msr csselr_el1, xzr");

    pmu_tests();

    el0_pass("reset controls", 0, 0, 0, 0, 0);
    el0_pass("SCTLR_EL1.UCT/DZE/UCI/UMA, CNTKCTL_EL1=0x303, PMUSERENR_EL0=0xf",
             (1 << 9) | (1 << 14) | (1 << 15) | (1 << 26), 0x303, 0xf, 0, 0);
    el0_pass("PMUSERENR_EL0.EN", 0, 0, 1, 0, f_pmu);
    el0_pass("PMUSERENR_EL0.SW", 0, 0, 2, 0, f_pmu);
    el0_pass("PMUSERENR_EL0.CR", 0, 0, 4, 0, f_pmu);
    el0_pass("PMUSERENR_EL0.ER", 0, 0, 8, 0, f_pmu);
    el0_pass("CNTKCTL_EL1.EL0PCTEN", 0, 1, 0, 0, is_timer);
    el0_pass("CNTKCTL_EL1.EL0VCTEN", 0, 2, 0, 0, is_timer);
    el0_pass("CNTKCTL_EL1.EL0VTEN", 0, 0x100, 0, 0, is_timer);
    el0_pass("CNTKCTL_EL1.EL0PTEN", 0, 0x200, 0, 0, is_timer);
    el0_pass("MDSCR_EL1.TDCC", 0, 0, 0, 0x1000, f_debug);
    return 0;
}
