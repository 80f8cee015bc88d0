/* GICv3 of the virt board (-M virt,gic-version=3), as a guest sees it: the
 * distributor, CPU 0's redistributor and the ICC_* system registers (reset values,
 * ID registers, priority bits), then the interrupt flow: an SGI to self through
 * ICC_SGI1R_EL1 (polled, then taken), preemption and the running priority, the
 * binary point, EOImode with ICC_DIR_EL1, a group-0 SGI as FIQ, the virtual
 * timer's PPI 27, the PL011's SPI 33 routed by GICD_IROUTER. */
#include "lib.h"

#define GICD 0x08000000UL
#define GICR 0x080A0000UL
#define SGIB (GICR + 0x10000UL)
#define UART 0x09000000UL

struct exc_frame { uint64_t x[31]; uint64_t elr, spsr, esr, far, pad; };
extern char vectors[];

static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static uint64_t d64(unsigned o) { return *(volatile uint64_t *)(GICD + o); }
static void wd64(unsigned o, uint64_t v) { *(volatile uint64_t *)(GICD + o) = v; }
static uint32_t r32(unsigned o) { return *(volatile uint32_t *)(GICR + o); }
static void wr32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICR + o) = v; }
static uint64_t r64(unsigned o) { return *(volatile uint64_t *)(GICR + o); }
static uint32_t s32(unsigned o) { return *(volatile uint32_t *)(SGIB + o); }
static void ws32(unsigned o, uint32_t v) { *(volatile uint32_t *)(SGIB + o) = v; }
static void wu32(unsigned o, uint32_t v) { *(volatile uint32_t *)(UART + o) = v; }

#define RD(name) ({ uint64_t v_; asm volatile("mrs %0, " #name : "=r"(v_)); v_; })
#define WR(name, v) asm volatile("msr " #name ", %0; isb" :: "r"((uint64_t)(v)) : "memory")

#define LOGN 64
static volatile uint32_t log_[LOGN];
static volatile int nlog, depth;
static void logv(uint32_t v) { if (nlog < LOGN) log_[nlog++] = v; }

static void sgi1(unsigned id) { WR(icc_sgi1r_el1, ((uint64_t)id << 24) | 1); }   /* Aff0 list: CPU 0 */
static void sgi0(unsigned id) { WR(icc_sgi0r_el1, ((uint64_t)id << 24) | 1); }

void exc_handler(struct exc_frame *f, uint64_t vec) {
    if (vec != 5 && vec != 6) {
        printf_("unexpected exception: vector %x esr %lx elr %lx\n", (unsigned)(vec * 0x80), f->esr, f->elr);
        guest_exit(1);
    }
    uint32_t iar = vec == 6 ? RD(icc_iar0_el1) : RD(icc_iar1_el1);
    logv((uint32_t)(vec << 24) | ((uint32_t)RD(icc_rpr_el1) << 12) | iar);
    depth++;
    if (iar == 2) {                         /* low priority: a higher one preempts */
        sgi1(1);
        sgi1(3);                            /* same priority as 2: must wait */
        asm volatile("msr daifclr, #2; isb; nop; nop; msr daifset, #2" ::: "memory");
        logv(0xee000000 | (depth << 8));
    }
    if (iar == 27)
        WR(cntv_ctl_el0, 3);                /* mask the timer: its line drops */
    if (iar == 33)
        wu32(0x044, 1 << 5);                /* clear the UART's TX interrupt */
    depth--;
    if (iar < 1020) {
        if (vec == 6)
            WR(icc_eoir0_el1, iar);
        else
            WR(icc_eoir1_el1, iar);
    }
}

static void dump(const char *what) {
    printf_("%s:", what);
    for (int i = 0; i < nlog; i++) printf_(" %x", log_[i]);
    printf_(" | rpr=%lx hppir1=%lx ap1r0=%lx act=%x pend=%x\n", RD(icc_rpr_el1), RD(icc_hppir1_el1),
            RD(icc_ap1r0_el1), s32(0x300), s32(0x200));
    nlog = 0;
}

static void take(void) { asm volatile("msr daifclr, #3; isb; nop; nop; msr daifset, #3" ::: "memory"); }

static void regs(void) {
    printf_("pfr0=%lx sre=%lx ctlr=%lx pmr=%lx bpr0=%lx bpr1=%lx grpen0=%lx grpen1=%lx rpr=%lx\n",
            RD(id_aa64pfr0_el1), RD(icc_sre_el1), RD(icc_ctlr_el1), RD(icc_pmr_el1),
            RD(icc_bpr0_el1), RD(icc_bpr1_el1), RD(icc_igrpen0_el1), RD(icc_igrpen1_el1),
            RD(icc_rpr_el1));
    printf_("hppir0=%lx hppir1=%lx iar1=%lx ap0r0=%lx ap1r0=%lx\n", RD(icc_hppir0_el1),
            RD(icc_hppir1_el1), RD(icc_iar1_el1), RD(icc_ap0r0_el1), RD(icc_ap1r0_el1));
    printf_("gicd ctlr=%x typer=%x iidr=%x typer2=%x statusr=%x pidr2=%x cidr0=%x\n",
            d32(0x0), d32(0x4), d32(0x8), d32(0xc), d32(0x10), d32(0xffe8), d32(0xfff0));
    printf_("gicd igroupr1=%x isenabler1=%x ipriorityr8=%x icfgr2=%x icfgr3=%x irouter32=%lx\n",
            d32(0x84), d32(0x104), d32(0x420), d32(0xc08), d32(0xc0c), d64(0x6100));
    printf_("gicd sgi-range igroupr0=%x isenabler0=%x ipriorityr0=%x irouter0=%lx\n",
            d32(0x80), d32(0x100), d32(0x400), d64(0x6000));
    printf_("gicr ctlr=%x iidr=%x typer=%lx statusr=%x waker=%x pidr2=%x\n",
            r32(0x0), r32(0x4), r64(0x8), r32(0x10), r32(0x14), r32(0xffe8));
    printf_("gicd ids:");
    for (unsigned o = 0xffd0; o < 0x10000; o += 4) printf_(" %x", d32(o));
    printf_("\ngicr ids:");
    for (unsigned o = 0xffd0; o < 0x10000; o += 4) printf_(" %x", r32(o));
    printf_("\ngicr propbaser=%lx pendbaser=%lx\n", r64(0x70), r64(0x78));
    printf_("gicr sgi igroupr0=%x isenabler0=%x ipriorityr0=%x ipriorityr6=%x icfgr0=%x icfgr1=%x\n",
            s32(0x80), s32(0x100), s32(0x400), s32(0x418), s32(0xc00), s32(0xc04));
}

static void widths(void) {
    WR(icc_pmr_el1, 0xff);
    printf_("pmr ff -> %lx", RD(icc_pmr_el1));
    WR(icc_bpr0_el1, 0);
    WR(icc_bpr1_el1, 0);
    printf_(", bpr0 0 -> %lx, bpr1 0 -> %lx", RD(icc_bpr0_el1), RD(icc_bpr1_el1));
    WR(icc_bpr0_el1, 7);
    WR(icc_bpr1_el1, 7);
    printf_(", bpr 7 -> %lx %lx", RD(icc_bpr0_el1), RD(icc_bpr1_el1));
    WR(icc_ctlr_el1, 0xffffffff);
    printf_(", ctlr all -> %lx", RD(icc_ctlr_el1));
    WR(icc_ctlr_el1, 0);
    WR(icc_sre_el1, 0);
    printf_(", sre 0 -> %lx\n", RD(icc_sre_el1));
    wd32(0x420, 0xffffffff);
    ws32(0x400, 0xffffffff);
    printf_("ipriorityr ff -> d %x r %x", d32(0x420), s32(0x400));
    wd32(0x420, 0);
    ws32(0x400, 0);
    wd64(0x6100, 0xffffffffffffffffUL);
    printf_(", irouter all -> %lx", d64(0x6100));
    wd64(0x6100, 0);
    wd32(0x0, 0xffffffff);
    printf_(", gicd ctlr all -> %x", d32(0x0));
    wd32(0x0, 0);
    wr32(0x14, 0xffffffff);
    printf_(", waker all -> %x", r32(0x14));
    wr32(0x14, 0);
    printf_(", waker 0 -> %x\n", r32(0x14));
}

int main(void) {
    asm volatile("msr vbar_el1, %0; isb" :: "r"(vectors));
    regs();
    widths();

    /* enable: distributor group 1 (ARE is on), redistributor awake, CPU interface */
    wd32(0x0, 2);
    wr32(0x14, 0);
    ws32(0x80, 0xfffffffe);                 /* SGI 0: group 0, the rest group 1 */
    ws32(0x400, 0x80804080);                /* SGI0 80, SGI1 40, SGI2 80, SGI3 80 */
    ws32(0x100, 0xf);                       /* SGIs have enable bits in GICv3 */
    WR(icc_pmr_el1, 0xf0);
    WR(icc_bpr1_el1, 0);
    WR(icc_igrpen1_el1, 1);
    printf_("enabled: gicd ctlr=%x rpr=%lx hppir1=%lx\n", d32(0x0), RD(icc_rpr_el1), RD(icc_hppir1_el1));

    /* polled: SGI 2 pending, acknowledged, running priority, EOI */
    sgi1(2);
    printf_("sgi2 sent: pend=%x hppir1=%lx", s32(0x200), RD(icc_hppir1_el1));
    uint64_t iar = RD(icc_iar1_el1);
    printf_(" iar1=%lx rpr=%lx ap1r0=%lx act=%x hppir1=%lx", iar, RD(icc_rpr_el1), RD(icc_ap1r0_el1),
            s32(0x300), RD(icc_hppir1_el1));
    sgi1(1);                                /* higher priority: would preempt */
    printf_(" | sgi1: hppir1=%lx isr=%lx", RD(icc_hppir1_el1), RD(isr_el1));
    uint64_t iar2 = RD(icc_iar1_el1);
    printf_(" iar1=%lx rpr=%lx ap1r0=%lx", iar2, RD(icc_rpr_el1), RD(icc_ap1r0_el1));
    WR(icc_eoir1_el1, iar2);
    WR(icc_eoir1_el1, iar);
    printf_(" | eoi: rpr=%lx ap1r0=%lx act=%x\n", RD(icc_rpr_el1), RD(icc_ap1r0_el1), s32(0x300));

    /* the binary point: with BPR1 = 7 nothing preempts */
    WR(icc_bpr1_el1, 7);
    sgi1(2);
    iar = RD(icc_iar1_el1);
    sgi1(1);
    printf_("bpr1=7: rpr=%lx hppir1=%lx isr=%lx", RD(icc_rpr_el1), RD(icc_hppir1_el1), RD(isr_el1));
    WR(icc_eoir1_el1, iar);
    iar = RD(icc_iar1_el1);
    printf_(" then iar1=%lx", iar);
    WR(icc_eoir1_el1, iar);
    WR(icc_bpr1_el1, 0);
    printf_(" bpr1 -> %lx\n", RD(icc_bpr1_el1));

    /* EOImode: EOIR drops the priority, DIR deactivates */
    WR(icc_ctlr_el1, 2);
    sgi1(3);
    iar = RD(icc_iar1_el1);
    WR(icc_eoir1_el1, iar);
    printf_("eoimode: iar1=%lx after eoi rpr=%lx act=%x", iar, RD(icc_rpr_el1), s32(0x300));
    WR(icc_dir_el1, iar);
    printf_(" after dir act=%x\n", s32(0x300));
    WR(icc_ctlr_el1, 0);

    /* taken: SGI 0 (group 0: FIQ) needs IGRPEN0; SGIs 2, 1, 3 as IRQs */
    sgi1(2);
    take();
    dump("sgi2 preempted by sgi1, then sgi3");
    sgi0(0);
    dump("sgi0 pending, grpen0 off");
    WR(icc_igrpen0_el1, 1);
    take();
    dump("sgi0 as fiq, group 0 off at the distributor");
    wd32(0x0, 3);
    take();
    dump("sgi0 as fiq");
    WR(icc_asgi1r_el1, (0UL << 24) | 1);   /* group 0 under DS: SGI 0 */
    WR(icc_sgi0r_el1, (2UL << 24) | 1);    /* SGI 2 is group 1: ignored */
    printf_("asgi1r sgi0, sgi0r sgi2: pend=%x\n", s32(0x200));
    take();
    dump("asgi1r sgi0 taken");

    /* ICC_SGI1R_EL1 IRM=1: every CPU but this one (none here); a target list
       without CPU 0; ICC_ASGI1R_EL1 (secure group 1: nothing without security) */
    WR(icc_sgi1r_el1, (1UL << 40) | (2UL << 24));
    WR(icc_sgi1r_el1, (2UL << 24) | 2);
    WR(icc_sgi1r_el1, (2UL << 24) | (1UL << 16) | 1);
    WR(icc_asgi1r_el1, (2UL << 24) | 1);
    printf_("sgi1r irm/others: pend=%x\n", s32(0x200));

    /* the virtual timer's PPI 27 */
    ws32(0x418, 0xa0 << 24);
    ws32(0x100, 1 << 27);
    WR(cntv_cval_el0, RD(cntvct_el0) + 1000);
    WR(cntv_ctl_el0, 1);
    while (!(s32(0x200) & (1 << 27))) ;
    printf_("timer: pend=%x hppir1=%lx", s32(0x200), RD(icc_hppir1_el1));
    take();
    putc_('\n');
    dump("timer taken");
    WR(cntv_ctl_el0, 0);

    /* the PL011's SPI 33, routed to CPU 0 by IROUTER */
    wd64(0x6108, 0);
    wd32(0x84, 1 << 1);
    wd32(0x420, 0xa0 << 8);
    wd32(0x104, 1 << 1);
    wu32(0x044, 1 << 5);
    wu32(0x038, 1 << 5);
    printf_("spi33 enabled\n");
    printf_("spi33: pend=%x hppir1=%lx", d32(0x204), RD(icc_hppir1_el1));
    take();
    wu32(0x038, 0);
    putc_('\n');
    dump("uart tx taken");

    /* IROUTER: IRM=1 (1-of-N) and a target that does not exist */
    wu32(0x038, 1 << 5);
    wd64(0x6108, 1UL << 31);
    printf_("irm=1: irouter=%lx hppir1=%lx isr=%lx", d64(0x6108), RD(icc_hppir1_el1), RD(isr_el1));
    wd64(0x6108, 1UL << 8);
    printf_(" aff1=1: hppir1=%lx isr=%lx", RD(icc_hppir1_el1), RD(isr_el1));
    wd64(0x6108, 0);
    printf_(" aff 0: hppir1=%lx isr=%lx\n", RD(icc_hppir1_el1), RD(isr_el1));
    wu32(0x038, 0);

    /* running priority from the APRs, PMR masking */
    WR(icc_pmr_el1, 0x40);
    sgi1(1);
    printf_("pmr 40: hppir1=%lx isr=%lx", RD(icc_hppir1_el1), RD(isr_el1));
    WR(icc_pmr_el1, 0x50);
    printf_(" pmr 50: hppir1=%lx isr=%lx", RD(icc_hppir1_el1), RD(isr_el1));
    take();
    printf_("\n");
    dump("sgi1 taken");
    WR(icc_igrpen1_el1, 0);
    sgi1(1);
    printf_("grpen1 off: hppir1=%lx isr=%lx iar1=%lx", RD(icc_hppir1_el1), RD(isr_el1), RD(icc_iar1_el1));
    WR(icc_igrpen1_el1, 1);
    iar = RD(icc_iar1_el1);
    WR(icc_eoir1_el1, iar);
    printf_(" on: iar1=%lx rpr=%lx\n", iar, RD(icc_rpr_el1));
    printf_("sleep: waker=%x\n", r32(0x14));
    return 0;
}
