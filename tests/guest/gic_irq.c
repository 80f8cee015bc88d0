/* GICv2 interrupts taken by the CPU (needs IRQ/FIQ exceptions): an SGI taken
 * when PSTATE.I is cleared, preemption by a higher-priority SGI inside the
 * handler, the PL011's TX interrupt (SPI 1) taken on a write, a group-0 SGI as
 * FIQ with GICC_CTLR.FIQEn, WFI woken by a pending interrupt while masked. */
#include "lib.h"

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define UART 0x09000000UL

struct exc_frame { uint64_t x[31]; uint64_t elr, spsr, esr, far, pad; };
extern char vectors[];

static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static uint32_t c32(unsigned o) { return *(volatile uint32_t *)(GICC + o); }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }
static void wu32(unsigned o, uint32_t v) { *(volatile uint32_t *)(UART + o) = v; }

#define LOGN 64
static volatile uint32_t log_[LOGN];
static volatile int nlog, depth;
static void logv(uint32_t v) { if (nlog < LOGN) log_[nlog++] = v; }

static void sgi(unsigned id) { wd32(0xf00, (2 << 24) | id); }

void exc_handler(struct exc_frame *f, uint64_t vec) {
    if (vec != 5 && vec != 6) {
        printf_("unexpected exception: vector %x esr %lx elr %lx\n", (unsigned)(vec * 0x80), f->esr, f->elr);
        guest_exit(1);
    }
    uint32_t iar = c32(0x0c);
    uint32_t id = iar & 0x3ff;
    logv((uint32_t)(vec << 24) | (c32(0x14) << 12) | iar);    /* vector, running priority, IAR */
    depth++;
    if (id == 2) {                          /* low priority: let a higher one preempt */
        sgi(1);
        sgi(3);                             /* same priority as 2: must wait */
        asm volatile("msr daifclr, #2; isb; nop; nop; msr daifset, #2" ::: "memory");
        logv(0xee000000 | (depth << 8));
    }
    if (id == 33)
        wu32(0x044, 1 << 5);                /* clear the UART's TX interrupt */
    depth--;
    if (id < 1020)
        wc32(0x10, iar);
}

static void dump(const char *what) {
    printf_("%s:", what);
    for (int i = 0; i < nlog; i++) printf_(" %x", log_[i]);
    printf_(" | rpr=%x hppir=%x act0=%x act1=%x\n", c32(0x14), c32(0x18), d32(0x300), d32(0x304));
    nlog = 0;
}

int main(void) {
    asm volatile("msr vbar_el1, %0; isb" :: "r"(vectors));
    wd32(0x000, 3);
    wc32(0x000, 3);
    wc32(0x004, 0xf0);
    wd32(0x400, 0x80804080);               /* SGI0 80, SGI1 40, SGI2 80, SGI3 80 */

    sgi(0);
    dump("pending, masked");
    asm volatile("msr daifclr, #2; isb" ::: "memory");
    asm volatile("nop; nop");
    asm volatile("msr daifset, #2" ::: "memory");
    dump("sgi0 taken");

    sgi(2);
    asm volatile("msr daifclr, #2; isb; nop; nop; msr daifset, #2" ::: "memory");
    dump("sgi2 preempted by sgi1, then sgi3");

    wd32(0x104, 1 << 1);                   /* INTID 33: the UART */
    wd32(0x420, 0xa0 << 8);
    wu32(0x044, 1 << 5);                   /* TX was set by printing: clear it first */
    wu32(0x038, 1 << 5);
    asm volatile("msr daifclr, #2; isb" ::: "memory");
    wu32(0x000, '*');                      /* raises TX: taken soon after the write */
    for (volatile int i = 0; i < 1000 && nlog == 0; i++) ;
    asm volatile("msr daifset, #2" ::: "memory");
    wu32(0x038, 0);
    putc_('\n');
    dump("uart tx taken");

    wc32(0x000, 0xb);                       /* FIQEn: group 0 to FIQ */
    sgi(0);
    asm volatile("msr daifclr, #1; isb; nop; nop; msr daifset, #1" ::: "memory");
    wc32(0x000, 0x3);
    dump("sgi0 as fiq");

    sgi(0);
    asm volatile("dsb sy; wfi" ::: "memory");
    dump("woke from wfi, masked");
    asm volatile("msr daifclr, #2; isb; nop; nop; msr daifset, #2" ::: "memory");
    dump("then taken");
    return 0;
}
