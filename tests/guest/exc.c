/* Exceptions through a vector table at VBAR_EL1 (vectors.S): SVC, BRK, undefined
 * instructions, SMC/HLT without a handler, FP access traps, data aborts, alignment
 * faults, EL0 -> EL1, ERET; then HVC PSCI calls and SYSTEM_OFF. */
#include "lib.h"

struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};

extern char vectors[];
static volatile uint64_t mark, resume, el0_return, resume_spsr = ~0ULL, new_nzcv = ~0ULL;
static volatile int exc_count;
static uint64_t el0_stack[256] __attribute__((aligned(16)));
static uint8_t data[64] __attribute__((aligned(16)));

static const char *ec_name(uint64_t ec) {
    switch (ec) {
    case 0x00: return "unknown";
    case 0x07: return "fp-access";
    case 0x0e: return "illegal-state";
    case 0x15: return "svc";
    case 0x16: return "hvc";
    case 0x17: return "smc";
    case 0x18: return "sysreg";
    case 0x20: return "iabt-lower";
    case 0x21: return "iabt";
    case 0x22: return "pc-align";
    case 0x24: return "dabt-lower";
    case 0x25: return "dabt";
    case 0x26: return "sp-align";
    case 0x3c: return "brk";
    default: return "?";
    }
}

void exc_handler(struct exc_frame *f, uint64_t vec) {
    uint64_t ec = f->esr >> 26;
    exc_count++;
    printf_("  vector 0x%x %s: esr=%lx ec=%lx il=%lu iss=%lx elr=mark%c%ld spsr=%lx",
            (unsigned)(vec * 0x80), ec_name(ec), f->esr, ec, (f->esr >> 25) & 1,
            f->esr & 0x1ffffff, f->elr >= mark ? '+' : '-',
            f->elr >= mark ? (int64_t)(f->elr - mark) : (int64_t)(mark - f->elr), f->spsr);
    if (ec == 0x20 || ec == 0x21 || ec == 0x22 || ec == 0x24 || ec == 0x25)
        printf_(" far=%lx", f->far);
    putc_('\n');
    if (ec == 0x15 && (f->esr & 0xffff) == 0x42 && el0_return) {
        f->elr = el0_return;          /* SVC #0x42 from EL0: back to EL1h */
        f->spsr = 0x3c5;
        el0_return = 0;
    } else if (resume) {
        f->elr = resume;
        resume = 0;
    } else if (ec != 0x15 && ec != 0x16 && ec != 0x17) {
        f->elr += 4;
    }
    if (ec == 0x0e) f->spsr &= ~(1ULL << 20);      /* clear PSTATE.IL before returning */
    if (resume_spsr != ~0ULL) {
        f->spsr = resume_spsr;
        resume_spsr = ~0ULL;
    }
    if (new_nzcv != ~0ULL) {
        f->spsr = (f->spsr & 0x0fffffffULL) | (new_nzcv << 28);
        new_nzcv = ~0ULL;
    }
}

/* run `insn` with mark = the address just after it */
#define EXC(title, insn, ...)                                                         \
    do {                                                                              \
        puts_(title "\n");                                                            \
        asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\t" insn "\n1:"                   \
                     :: [m] "r"(&mark), ##__VA_ARGS__ : "x0", "x9", "x30", "memory", "cc"); \
    } while (0)

static uint64_t psci(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 asm("x0") = fn;
    register uint64_t x1 asm("x1") = a1;
    register uint64_t x2 asm("x2") = a2;
    register uint64_t x3 asm("x3") = a3;
    asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
    return x0;
}

static void el0_tests(void) {
    /* drop to EL0 (SPSR = EL0t, DAIF clear), run a few instructions there, come
     * back through SVC #0x42 whose handler returns to EL1h */
    uint64_t r0, r1, r2, r3;
    puts_("el0:\n");
    asm volatile(
        "adr x9, 2f\n\t"
        "str x9, [%[m]]\n\t"
        "msr sp_el0, %[stk]\n\t"
        "msr elr_el1, x9\n\t"
        "msr spsr_el1, xzr\n\t"
        "adr x9, 3f\n\t"
        "str x9, [%[res]]\n\t"
        "eret\n"
        "2: mrs x10, currentel\n\t"         /* UNDEF at EL0 */
        "mrs x11, tpidrro_el0\n\t"          /* readable at EL0 */
        "msr tpidrro_el0, x11\n\t"          /* UNDEF at EL0 */
        "mrs x12, tpidr_el0\n\t"
        "mov x13, sp\n\t"
        "mrs x14, nzcv\n\t"
        "msr spsel, #1\n\t"                 /* UNDEF at EL0 */
        "mrs x15, sctlr_el1\n\t"            /* UNDEF at EL0 */
        "hvc #0\n\t"                        /* UNDEF at EL0 */
        "smc #0\n\t"                        /* UNDEF */
        "brk #0x99\n\t"
        /* (MSR DAIFSet at EL0 traps too, but QEMU 7.2 swaps op1/op2 in that ISS) */
        "mrs x15, daif\n\t"               /* likewise */
        "mrs x15, ctr_el0\n\t"            /* SCTLR_EL1.UCT=0: trapped */
        "dc zva, %[stk]\n\t"              /* SCTLR_EL1.DZE=0: trapped */
        "mrs x15, dczid_el0\n\t"          /* readable; DZP set */
        "mov x14, x15\n\t"
        "ic ivau, %[stk]\n\t"             /* SCTLR_EL1.UCI=0: trapped */
        "dc cvau, %[stk]\n\t"             /* likewise */
        "dc ivac, %[stk]\n\t"             /* UNDEF at EL0 */
        "mrs x15, fpcr\n\t"               /* CPACR_EL1.FPEN=0: trapped */
        "mrs x15, cntvct_el0\n\t"         /* CNTKCTL_EL1.EL0VCTEN=0: trapped */
        "mrs x15, cntfrq_el0\n\t"         /* CNTKCTL_EL1.EL0PCTEN/VCTEN=0: trapped */
        "mrs x15, midr_el1\n\t"           /* UNDEF at EL0 */
        "eret\n\t"                          /* UNDEF at EL0 */
        "svc #0x42\n"
        "3:\n\t"
        "mov %[r0], x11\n\t"
        "mov %[r1], x13\n\t"
        "mov %[r2], x12\n\t"
        "mov %[r3], x14\n\t"
        : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3)
        : [m] "r"(&mark), [stk] "r"(el0_stack + 256), [res] "r"(&el0_return)
        : "x0", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x30", "memory", "cc");
    printf_("el0: back at EL1, tpidrro=%lx tpidr=%lx sp_el0 ok=%d dczid=%lx\n", r0, r2,
            r1 == (uint64_t)(el0_stack + 256), r3);
}

int main(void) {
    uint64_t v;
    asm volatile("msr vbar_el1, %0\n\tisb" :: "r"(vectors));
    asm volatile("mrs %0, vbar_el1" : "=r"(v));
    printf_("vbar ok=%d\n", v == (uint64_t)vectors);

    EXC("svc #0x123", "msr nzcv, %[f]\n\tsvc #0x123", [f] "r"(0x60000000ULL));
    EXC("svc #0", "svc #0");
    EXC("svc #0xffff", "svc #0xffff");
    EXC("brk #7", "brk #7");
    EXC("brk #0xf000", "brk #0xf000");
    EXC("udf #0", ".inst 0x00000000");
    EXC("udf #0x1234", ".inst 0x00001234");
    EXC("unallocated (0xffffffff)", ".inst 0xffffffff");
    EXC("mrs impdef s3_0_c15_c15_7", "mrs x0, s3_0_c15_c15_7");
    EXC("msr midr_el1 (read-only)", "msr s3_0_c0_c0_0, x0");
    EXC("mrs sp_el1 at EL1", "mrs x0, s3_4_c4_c1_0");
    EXC("smc #0 (no EL3)", "smc #0");
    EXC("hlt #1 (no semihosting)", "hlt #1");
    EXC("hlt #0xf000 (semihosting off)", "hlt #0xf000");
    EXC("mrs fpcr with CPACR_EL1.FPEN=0", "msr cpacr_el1, xzr\n\tisb\n\tmrs x0, fpcr");
    EXC("msr fpsr with CPACR_EL1.FPEN=1", "mov x0, #(1 << 20)\n\tmsr cpacr_el1, x0\n\tisb\n\tmsr fpsr, xzr\n\tmsr cpacr_el1, xzr");
    EXC("ldxr misaligned", "ldxr x0, [%[p]]", [p] "r"(data + 4));
    /* (a misaligned STXR with the monitor open is left out: QEMU 7.2 fails it
     * without the alignment fault the Arm ARM's ExclusiveMonitorsPass() raises) */
    EXC("ldaxp misaligned", "ldaxp x0, x9, [%[p]]", [p] "r"(data + 8));
    EXC("ldar misaligned", "ldar w0, [%[p]]", [p] "r"(data + 2));
    EXC("stlrh misaligned", "stlrh w0, [%[p]]", [p] "r"(data + 1));
    EXC("ldr from unmapped 0x08100000", "ldr x0, [%[p]]", [p] "r"(0x08100000ULL));
    EXC("strb to unmapped 0x08100004", "strb w0, [%[p]]", [p] "r"(0x08100004ULL));

    {
        /* accesses that run off the end of RAM (0x48000000 with 128 MiB) */
        volatile uint64_t *last = (volatile uint64_t *)0x47fffff8ULL;
        uint64_t x0v, x1v;
        *last = 0x1122334455667788ULL;
        puts_("ldr across the end of RAM:\n");
        asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tmov x0, #0x77\n\tldr x0, [%[p]]\n1:\n\tmov %[o], x0"
                     : [o] "=r"(x0v) : [m] "r"(&mark), [p] "r"(0x47fffffcULL) : "x0", "x9", "memory");
        printf_("  x0 after: %lx\n", x0v);
        puts_("ldp across the end of RAM:\n");
        asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tmov x0, #0x55\n\tmov x1, #0x66\n\t"
                     "ldp x0, x1, [%[p]]\n1:\n\tmov %[o0], x0\n\tmov %[o1], x1"
                     : [o0] "=r"(x0v), [o1] "=r"(x1v) : [m] "r"(&mark), [p] "r"(0x47fffff8ULL)
                     : "x0", "x1", "x9", "memory");
        printf_("  x0, x1 after: %lx %lx\n", x0v, x1v);
        puts_("str across the end of RAM:\n");
        asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tstr %[v], [%[p]]\n1:"
                     :: [m] "r"(&mark), [p] "r"(0x47fffffaULL), [v] "r"(0xaabbccddeeff0011ULL)
                     : "x9", "memory");
        printf_("  last word after: %lx\n", *last);
        *last = 0x1122334455667788ULL;
        puts_("stp across the end of RAM, post-index:\n");
        asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tmov x10, %[p]\n\tstp %[v], %[v], [x10], #16\n1:\n\t"
                     "mov %[o], x10"
                     : [o] "=r"(x0v) : [m] "r"(&mark), [p] "r"(0x47fffff8ULL), [v] "r"(0xaabbccddeeff0011ULL)
                     : "x9", "x10", "memory");
        printf_("  last word after: %lx base after: %lx\n", *last, x0v);
    }

    puts_("pc alignment:\n");
    asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tstr x9, [%[r]]\n\tadd x9, x9, #2\n\tbr x9\n1:"
                 :: [m] "r"(&mark), [r] "r"(&resume) : "x9", "memory");

    puts_("sp alignment (SP_EL0):\n");
    asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tstr x9, [%[r]]\n\t"
                 "mov x10, sp\n\tmsr spsel, #0\n\tmov x11, sp\n\t"
                 "add x9, %[s], #8\n\tmov sp, x9\n\tldr x0, [sp]\n"
                 "1: mov sp, x11\n\tmsr spsel, #1\n\tmov sp, x10"
                 :: [m] "r"(&mark), [r] "r"(&resume), [s] "r"(el0_stack + 128)
                 : "x0", "x9", "x10", "x11", "memory");
    resume = 0;   /* QEMU 7.2 does not check SP alignment (SCTLR_EL1.SA): no fault */

    EXC("svc from EL1t (SPSel=0)", "mov x10, sp\n\tmsr spsel, #0\n\tmov sp, x10\n\tsvc #0x5\n\tmsr spsel, #1");
    puts_("blr to unmapped 0x08100000:\n");
    asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tstr x9, [%[r]]\n\tmov x9, #0x08100000\n\tblr x9\n1:"
                 :: [m] "r"(&mark), [r] "r"(&resume) : "x9", "x30", "memory");
    puts_("illegal exception return (SPSR.M = EL2h):\n");
    asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tmsr elr_el1, x9\n\tmov x9, #0x3c9\n\t"
                 "msr spsr_el1, x9\n\teret\n1: nop\n\tnop"
                 :: [m] "r"(&mark) : "x9", "memory");
    puts_("eret restores NZCV/DAIF from SPSR:\n");
    {
        uint64_t nzcv, daif;
        new_nzcv = 0xa;
        asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\tmsr nzcv, xzr\n\tsvc #0x77\n1:\n\t"
                     "mrs %0, nzcv\n\tmrs %1, daif"
                     : "=r"(nzcv), "=r"(daif) : [m] "r"(&mark) : "x9", "memory", "cc");
        printf_("  after eret: nzcv=%lx daif=%lx\n", nzcv, daif);
    }

    asm volatile("msr tpidrro_el0, %0\n\tmsr tpidr_el0, %1" :: "r"(0x1234ULL), "r"(0x5678ULL));
    {
        /* exception entry/return and the exclusive monitor */
        uint64_t st1, st2, v1;
        static uint64_t word = 5;
        asm volatile("adr x9, 1f\n\tstr x9, [%[m]]\n\t"
                     "ldxr %[v], [%[p]]\n\tsvc #0x11\n1:\n\tstxr %w[s1], %[v], [%[p]]\n\t"
                     "ldxr %[v], [%[p]]\n\tstxr %w[s2], %[v], [%[p]]"
                     : [s1] "=&r"(st1), [s2] "=&r"(st2), [v] "=&r"(v1)
                     : [m] "r"(&mark), [p] "r"(&word) : "x9", "memory");
        printf_("  stxr after svc+eret: %lu, without: %lu\n", st1, st2);
    }
    el0_tests();
    puts_("el0 with SCTLR_EL1.UMA/DZE/UCT/UCI and CNTKCTL_EL1.EL0VCTEN/EL0PCTEN set:\n");
    {
        uint64_t sctlr, ok1, dz, ctr;
        asm volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
        asm volatile("msr sctlr_el1, %0\n\tmov x9, #3\n\tmsr cntkctl_el1, x9\n\tisb"
                     :: "r"(sctlr | (1 << 9) | (1 << 14) | (1 << 15) | (1 << 26)) : "x9");
        asm volatile(
            "adr x9, 2f\n\t"
            "str x9, [%[m]]\n\t"
            "msr sp_el0, %[stk]\n\t"
            "msr elr_el1, x9\n\t"
            "msr spsr_el1, xzr\n\t"
            "adr x9, 3f\n\t"
            "str x9, [%[res]]\n\t"
            "eret\n"
            "2: mrs x10, daif\n\t"
            "msr daifset, #1\n\t"
            "msr daifclr, #1\n\t"
            "mrs x12, ctr_el0\n\t"
            "dc zva, %[buf]\n\t"
            "mrs x11, dczid_el0\n\t"
            "ic ivau, %[buf]\n\t"
            "dc cvau, %[buf]\n\t"
            "dc civac, %[buf]\n\t"
            "mrs x13, cntvct_el0\n\t"
            "mrs x13, cntpct_el0\n\t"
            "mrs x13, cntfrq_el0\n\t"
            "mov x10, #1\n\t"
            "svc #0x42\n"
            "3:\n\t"
            "mov %[ok], x10\n\t"
            "mov %[dz], x11\n\t"
            "mov %[ctr], x12\n\t"
            : [ok] "=&r"(ok1), [dz] "=&r"(dz), [ctr] "=&r"(ctr)
            : [m] "r"(&mark), [stk] "r"(el0_stack + 256), [res] "r"(&el0_return),
              [buf] "r"(el0_stack)
            : "x0", "x9", "x10", "x11", "x12", "x13", "x30", "memory", "cc");
        asm volatile("msr sctlr_el1, %0\n\tmsr cntkctl_el1, xzr\n\tisb" :: "r"(sctlr));
        printf_("  el0 ran to the end=%lu dczid=%lx ctr=%lx\n", ok1, dz, ctr);
    }
    EXC("mrs sp_el0 with SPSel=0", "mov x10, sp\n\tmsr spsel, #0\n\tmov sp, x10\n\tmrs x0, sp_el0\n\tmsr spsel, #1");
    puts_("hvc #1 (PSCI_VERSION):\n");
    {
        register uint64_t x0 asm("x0") = 0x84000000;
        asm volatile("hvc #1" : "+r"(x0) :: "memory");
        printf_("  x0=%lx\n", x0);
    }
    puts_("el0 faults:\n");
    asm volatile(
        "adr x9, 2f\n\t"
        "str x9, [%[m]]\n\t"
        "msr sp_el0, %[stk]\n\t"
        "msr elr_el1, x9\n\t"
        "msr spsr_el1, xzr\n\t"
        "adr x9, 3f\n\t"
        "str x9, [%[res]]\n\t"
        "eret\n"
        "2: mov x10, #0x08100000\n\t"
        "ldr x11, [x10]\n\t"              /* data abort from EL0 */
        "ldxr x11, [%[mis]]\n\t"          /* alignment fault from EL0 */
        "adr x10, 4f\n\t"
        "str x10, [%[res2]]\n\t"
        "add x10, x10, #2\n\t"
        "br x10\n"                         /* PC alignment fault from EL0 */
        "4: svc #0x42\n"
        "3:\n\t"
        :: [m] "r"(&mark), [stk] "r"(el0_stack + 256), [res] "r"(&el0_return),
           [res2] "r"(&resume), [mis] "r"(data + 4)
        : "x0", "x9", "x10", "x11", "x30", "memory", "cc");
    printf_("exceptions taken: %d\n", exc_count);

    puts_("== psci\n");
    printf_("PSCI_VERSION = %lx\n", psci(0x84000000, 0, 0, 0));
    printf_("PSCI_FEATURES(PSCI_VERSION) = %lx\n", psci(0x8400000a, 0x84000000, 0, 0));
    printf_("PSCI_FEATURES(SYSTEM_OFF) = %lx\n", psci(0x8400000a, 0x84000008, 0, 0));
    printf_("PSCI_FEATURES(CPU_ON_64) = %lx\n", psci(0x8400000a, 0xc4000003, 0, 0));
    printf_("PSCI_FEATURES(SYSTEM_RESET) = %lx\n", psci(0x8400000a, 0x84000009, 0, 0));
    printf_("PSCI_FEATURES(0x12345678) = %lx\n", psci(0x8400000a, 0x12345678, 0, 0));
    printf_("PSCI_FEATURES(MIGRATE) = %lx\n", psci(0x8400000a, 0x84000005, 0, 0));
    printf_("MIGRATE_INFO_TYPE = %lx\n", psci(0x84000006, 0, 0, 0));
    printf_("AFFINITY_INFO(0) = %lx\n", psci(0xc4000004, 0, 0, 0));
    printf_("AFFINITY_INFO(1) = %lx\n", psci(0xc4000004, 1, 0, 0));
    printf_("CPU_ON(0) = %lx\n", psci(0xc4000003, 0, 0x40080000, 0));
    printf_("PSCI_FEATURES(PSCI_FEATURES) = %lx\n", psci(0x8400000a, 0x8400000a, 0, 0));
    printf_("PSCI_FEATURES(SMCCC_VERSION) = %lx\n", psci(0x8400000a, 0x80000000, 0, 0));
    printf_("PSCI_FEATURES(CPU_SUSPEND_64) = %lx\n", psci(0x8400000a, 0xc4000001, 0, 0));
    printf_("PSCI_FEATURES(CPU_OFF) = %lx\n", psci(0x8400000a, 0x84000002, 0, 0));
    printf_("PSCI_FEATURES(AFFINITY_INFO_64) = %lx\n", psci(0x8400000a, 0xc4000004, 0, 0));
    printf_("PSCI_FEATURES(SYSTEM_SUSPEND_64) = %lx\n", psci(0x8400000a, 0xc400000e, 0, 0));
    printf_("PSCI_FEATURES(CPU_ON_32) = %lx\n", psci(0x8400000a, 0x84000003, 0, 0));
    printf_("SMCCC_VERSION = %lx\n", psci(0x80000000, 0, 0, 0));
    printf_("SMCCC_ARCH_FEATURES(WORKAROUND_1) = %lx\n", psci(0x80000001, 0x80008000, 0, 0));
    printf_("AFFINITY_INFO_32(0) = %lx\n", psci(0x84000004, 0, 0, 0));
    printf_("AFFINITY_INFO(0, level 1) = %lx\n", psci(0xc4000004, 0, 1, 0));
    printf_("CPU_ON_32(1) = %lx\n", psci(0x84000003, 1, 0x40080000, 0));
    printf_("CPU_ON(0x100) = %lx\n", psci(0xc4000003, 0x100, 0x40080000, 0));
    printf_("MIGRATE_INFO_UP_CPU = %lx\n", psci(0xc4000007, 0, 0, 0));
    /* (left out: CPU_SUSPEND, which waits for an interrupt like WFI: timer.c tests
     * it; and a function ID with X0[63:32] set, which QEMU 7.2 does not ignore
     * although the SMCCC says only W0 counts) */
    printf_("unknown 0x84000077 = %lx\n", psci(0x84000077, 0, 0, 0));
    printf_("unknown 0x1234 = %lx\n", psci(0x1234, 0, 0, 0));
    printf_("exceptions taken: %d\n", exc_count);
    return 0;
}
