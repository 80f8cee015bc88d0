/* The generic timer and interrupt delivery through the GICv2: counter, CTL/CVAL/TVAL,
 * ISTATUS, IMASK, the virtual (INTID 27) and physical (INTID 30) timer interrupts
 * taken at the IRQ vector, WFI wake-up (with IRQs unmasked and masked), periodic
 * re-arming, ISR_EL1, EL0 access traps per CNTKCTL_EL1.  Prints only facts that do
 * not depend on how fast time runs, so QEMU (host time) and pyaarch64 (virtual
 * time) print the same. */
#include "lib.h"

struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define R32(a) (*(volatile uint32_t *)(a))

#define MRS(r) ({ uint64_t _v; __asm__ volatile("mrs %0, " #r : "=r"(_v)); _v; })
#define MSR(r, v) __asm__ volatile("msr " #r ", %0; isb" : : "r"((uint64_t)(v)))

extern char vectors[];
static volatile int irqs, last_intid, last_vec, rearm, sync_count;
static volatile uint64_t sync_esr, first_esr, resume_el1;
static uint64_t el0_stack[256] __attribute__((aligned(16)));

void exc_handler(struct exc_frame *f, uint64_t vec) {
    if (vec == 5 || vec == 9) {                    /* IRQ from EL1h / from EL0 */
        uint32_t iar = R32(GICC + 0x0c);
        uint32_t id = iar & 0x3ff;
        last_intid = id;
        last_vec = vec;
        if (id == 27) {
            if (rearm > 0) {
                rearm--;
                MSR(cntv_tval_el0, 3000);
            } else {
                MSR(cntv_ctl_el0, 0);             /* disable: the level line drops */
            }
        } else if (id == 30) {
            MSR(cntp_ctl_el0, 2);                /* masked */
        }
        R32(GICC + 0x10) = iar;                  /* EOI */
        if (id != 1023) irqs++;
        return;
    }
    sync_count++;
    sync_esr = f->esr;
    if (sync_count == 1) first_esr = f->esr;
    if ((f->esr >> 26) == 0x15 && resume_el1) {   /* SVC from EL0: back to EL1h */
        f->elr = resume_el1;
        f->spsr = 0x3c5;
        resume_el1 = 0;
        return;
    }
    f->elr += 4;
}

static void gic_init(void) {
    R32(GICD + 0x000) = 1;                       /* distributor on */
    R32(GICD + 0x100) = (1u << 27) | (1u << 30); /* enable PPIs 27, 30 */
    R32(GICD + 0x418) = 0x80808080;              /* priorities of 24..27 */
    R32(GICD + 0x41c) = 0x80808080;              /* 28..31 */
    R32(GICC + 0x004) = 0xf0;                    /* PMR */
    R32(GICC + 0x000) = 1;                       /* CPU interface on */
}

static void el0_timer_probe(void);

/* wait for n interrupts without the check-then-WFI race: WFI with IRQs masked wakes
 * on a pending interrupt, which is then taken in a short unmasked window */
static void wait_irqs(int n) {
    while (irqs < n)
        __asm__ volatile("wfi; msr daifclr, #2; isb; msr daifset, #2" ::: "memory");
}

int main(void) {
    MSR(vbar_el1, (uint64_t)vectors);
    uint64_t frq = MRS(cntfrq_el0);
    printf_("cntfrq nonzero: %d\n", frq != 0);

    uint64_t c1 = MRS(cntvct_el0);
    for (volatile int i = 0; i < 1000; i++) ;
    uint64_t c2 = MRS(cntvct_el0);
    uint64_t p1 = MRS(cntpct_el0);
    printf_("counter advances: %d, physical >= virtual: %d\n", c2 > c1, p1 >= c2);

    /* --- polling: ISTATUS, TVAL sign, IMASK ------------------------------------ */
    MSR(cntv_ctl_el0, 0);
    printf_("ctl after disable: %lx\n", MRS(cntv_ctl_el0));
    MSR(cntv_tval_el0, 200000);
    MSR(cntv_ctl_el0, 3);                        /* enabled, masked */
    uint64_t cval = MRS(cntv_cval_el0), now = MRS(cntvct_el0);
    printf_("cval - now in (0, 200000]: %d\n", cval > now && cval - now <= 200000);
    while (!(MRS(cntv_ctl_el0) & 4)) ;
    printf_("istatus with imask: ctl=%lx\n", MRS(cntv_ctl_el0));
    uint64_t tval = MRS(cntv_tval_el0);
    printf_("tval after expiry: high word 0: %d, negative: %d\n", (tval >> 32) == 0,
            (tval & 0x80000000) != 0);
    MSR(cntv_cval_el0, ~0ULL);
    printf_("far cval: ctl=%lx\n", MRS(cntv_ctl_el0));
    MSR(cntv_ctl_el0, 0);

    /* --- interrupts through the GIC -------------------------------------------- */
    gic_init();
    printf_("isr before: %lx\n", MRS(isr_el1));
    MSR(cntv_tval_el0, 5000);
    MSR(cntv_ctl_el0, 1);
    wait_irqs(1);
    printf_("virtual timer irq: intid %d at vector %d, count %d, ctl=%lx\n",
            last_intid, last_vec * 0x80, irqs, MRS(cntv_ctl_el0));

    /* periodic: re-armed 4 times from the handler, 5 interrupts in all */
    irqs = 0;
    rearm = 4;
    MSR(cntv_tval_el0, 3000);
    MSR(cntv_ctl_el0, 1);
    wait_irqs(5);
    printf_("periodic: %d interrupts, ctl=%lx\n", irqs, MRS(cntv_ctl_el0));

    /* WFI with IRQs masked wakes on the pending interrupt without taking it */
    irqs = 0;
    MSR(cntp_tval_el0, 4000);
    MSR(cntp_ctl_el0, 1);
    while (!(MRS(isr_el1) & 0x80)) __asm__ volatile("wfi");
    printf_("masked wfi woke: isr=%lx, taken %d, hppir=%d\n", MRS(isr_el1), irqs,
            R32(GICC + 0x18) & 0x3ff);
    __asm__ volatile("msr daifclr, #2; isb; nop; msr daifset, #2");
    printf_("after unmask: physical timer irq intid %d, count %d, ctl=%lx\n",
            last_intid, irqs, MRS(cntp_ctl_el0));
    printf_("isr after: %lx, iar idle: %d\n", MRS(isr_el1), R32(GICC + 0x0c) & 0x3ff);
    MSR(cntp_ctl_el0, 0);

    el0_timer_probe();
    guest_exit(0);
    return 0;
}

/* EL0 reads of the virtual counter and timer: allowed or trapped per CNTKCTL_EL1 */
static uint64_t el0_val;

__attribute__((noinline)) static void el0_body(void) {
    /* runs at EL0: read CNTVCT, then CNTV_CTL, then SVC back to EL1 */
    uint64_t v = 0, w = 0;
    __asm__ volatile("mrs %0, cntvct_el0" : "+r"(v));    /* a trap skips it: v stays 0 */
    el0_val = v;
    __asm__ volatile("mrs %0, cntv_ctl_el0" : "+r"(w));
    __asm__ volatile("svc #0");
}

static volatile uint64_t kctl_v;

/* enter_el0(fn, stack_top, &resume): ERET to fn at EL0 with SP_EL0 = stack_top; the
 * SVC handler comes back to the label with SPSR = EL1h; callee-saved regs kept */
void enter_el0(void (*fn)(void), uint64_t *stack, volatile uint64_t *resume);
__asm__(
    ".global enter_el0\n"
    "enter_el0:\n"
    "  stp x29, x30, [sp, #-96]!\n"
    "  stp x19, x20, [sp, #16]\n"
    "  stp x21, x22, [sp, #32]\n"
    "  stp x23, x24, [sp, #48]\n"
    "  stp x25, x26, [sp, #64]\n"
    "  stp x27, x28, [sp, #80]\n"
    "  adr x9, 1f\n"
    "  str x9, [x2]\n"
    "  msr elr_el1, x0\n"
    "  msr spsr_el1, xzr\n"
    "  msr sp_el0, x1\n"
    "  eret\n"
    "1:\n"
    "  ldp x19, x20, [sp, #16]\n"
    "  ldp x21, x22, [sp, #32]\n"
    "  ldp x23, x24, [sp, #48]\n"
    "  ldp x25, x26, [sp, #64]\n"
    "  ldp x27, x28, [sp, #80]\n"
    "  ldp x29, x30, [sp], #96\n"
    "  ret\n");

static void run_el0(uint64_t kctl) {
    kctl_v = kctl;
    MSR(cntkctl_el1, kctl);
    sync_count = 0;
    sync_esr = 0;
    first_esr = 0;
    el0_val = 0;
    enter_el0(el0_body, &el0_stack[256], &resume_el1);
    /* sync_count: traps taken (the SVC back is one of them) */
    printf_("cntkctl=%lx: el0 traps %d, counter read %d, first esr=%lx, last esr=%lx\n",
            kctl_v, sync_count - 1, el0_val != 0, first_esr, sync_esr);
}

__attribute__((noinline)) static void el0_wfi(void) {
    __asm__ volatile("wfi; svc #0");
}

static void el0_timer_probe(void) {
    run_el0(0x0);      /* EL0VCTEN=0: CNTVCT traps; EL0VTEN=0: CNTV_CTL traps */
    run_el0(0x2);      /* counter allowed, timer trapped */
    run_el0(0x102);    /* both allowed */

    /* WFI at EL0: trapped (EC 0x01) when SCTLR_EL1.nTWI is 0 */
    uint64_t sctlr = MRS(sctlr_el1);
    MSR(sctlr_el1, sctlr & ~(1ULL << 16));
    sync_count = 0;
    first_esr = 0;
    enter_el0(el0_wfi, &el0_stack[256], &resume_el1);
    printf_("el0 wfi, nTWI=0: traps %d, esr=%lx\n", sync_count - 1, first_esr);
    /* nTWI=1: WFI sleeps at EL0 until the timer interrupt, taken from EL0 */
    MSR(sctlr_el1, sctlr | (1ULL << 16));
    sync_count = 0;
    irqs = 0;
    last_vec = 0;
    MSR(cntv_tval_el0, 2000000);   /* 32 ms at 62.5 MHz: EL0 is asleep well before */
    MSR(cntv_ctl_el0, 1);
    enter_el0(el0_wfi, &el0_stack[256], &resume_el1);
    printf_("el0 wfi, nTWI=1: traps %d, irqs %d at vector %x, intid %d\n", sync_count - 1,
            irqs, last_vec * 0x80, last_intid);
    MSR(sctlr_el1, sctlr);
}
