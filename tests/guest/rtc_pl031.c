/* The virt board's PL031 RTC: register reset values and ID registers, which
 * bits are writable, the load register, the data register's progression and
 * the match interrupt through the GIC (SPI 2 = INTID 34), polled with
 * interrupts masked at the CPU.  Run it with a time base where a guest second
 * is short (pyaarch64: -icount shift=12); on QEMU it takes ~6 s of real time. */
#include "lib.h"

#define RTC  0x09010000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL

static uint32_t r32(unsigned o) { return *(volatile uint32_t *)(RTC + o); }
static void w32(unsigned o, uint32_t v) { *(volatile uint32_t *)(RTC + o) = v; }
static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static uint32_t c32(unsigned o) { return *(volatile uint32_t *)(GICC + o); }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }
static uint64_t isr(void) { uint64_t v; asm volatile("mrs %0, isr_el1" : "=r"(v)); return v; }

static void probe(const char *name, unsigned o) {
    uint32_t old = r32(o);
    w32(o, 0xffffffff);
    uint32_t a = r32(o);
    w32(o, 0x5a5a5a5a);
    uint32_t b = r32(o);
    w32(o, 0);
    uint32_t z = r32(o);
    w32(o, old);
    printf_("rtc[%x] %s: <-ffffffff %x <-5a5a5a5a %x <-0 %x restored %x\n", o, name, a, b, z, r32(o));
}

static uint32_t wait_tick(void) {
    uint32_t t0 = r32(0);
    uint32_t t;
    while ((t = r32(0)) == t0) ;
    return t - t0;
}

int main(void) {
    puts_("== reset values\n");
    static const unsigned regs[] = {0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x100, 0xfdc,
                                    0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc};
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        printf_("rtc[%x] = %x\n", regs[i], r32(regs[i]));
    uint32_t dr = r32(0);
    printf_("DR is a plausible date (after 2020): %d\n", dr > 1577836800u);

    puts_("== writable bits\n");
    probe("MR", 0x04);
    probe("CR", 0x0c);
    probe("IMSC", 0x10);
    probe("RIS", 0x14);
    probe("MIS", 0x18);
    probe("ICR", 0x1c);
    w32(0x00, 0x12345678);
    printf_("DR after a write to DR: changed by 0 or 1: %d\n", r32(0) - dr <= 1);
    printf_("byte reads: DR[0]==DR&ff %d periphid0=%x cellid1 half=%x\n",
            *(volatile uint8_t *)RTC == (r32(0) & 0xff), *(volatile uint8_t *)(RTC + 0xfe0),
            *(volatile uint16_t *)(RTC + 0xff4));

    puts_("== load register\n");
    w32(0x08, 1000000);
    uint32_t d1 = r32(0);
    printf_("LR <- 1000000: LR=%x DR-1000000 in {0,1}: %d\n", r32(0x08), d1 - 1000000 <= 1);
    printf_("DR advances by one second per tick: %u\n", wait_tick());
    printf_("DR advances by one second per tick: %u\n", wait_tick());
    printf_("MR/RIS after load: mr=%x ris=%x\n", r32(0x04), r32(0x14));

    puts_("== match interrupt\n");
    wd32(0x000, 1);
    wc32(0x000, 1);
    wc32(0x004, 0xff);
    wd32(0x104, 1 << 2);                      /* enable INTID 34 */
    w32(0x10, 1);
    wait_tick();
    uint32_t now = r32(0);
    w32(0x04, now + 1);
    printf_("MR=DR+1: ris=%x mis=%x gic pending=%x isr=%lx\n", r32(0x14), r32(0x18),
            (d32(0x204) >> 2) & 1, isr());
    uint32_t n = 0;
    while (!r32(0x14)) n++;
    printf_("match: DR-MR=%u ris=%x mis=%x gic pending=%x hppir=%x isr=%lx\n", r32(0) - (now + 1),
            r32(0x14), r32(0x18), (d32(0x204) >> 2) & 1, c32(0x18), isr());
    uint32_t a = c32(0x0c);
    printf_("iar=%x active=%x\n", a, (d32(0x304) >> 2) & 1);
    w32(0x1c, 1);
    printf_("icr: ris=%x mis=%x gic pending=%x\n", r32(0x14), r32(0x18), (d32(0x204) >> 2) & 1);
    wc32(0x10, a);
    printf_("eoi: hppir=%x isr=%lx\n", c32(0x18), isr());
    w32(0x10, 0);
    w32(0x04, r32(0));
    printf_("MR=DR with IMSC=0: ris=%x mis=%x gic pending=%x\n", r32(0x14), r32(0x18),
            (d32(0x204) >> 2) & 1);
    w32(0x10, 1);
    printf_("IMSC=1: ris=%x mis=%x gic pending=%x hppir=%x\n", r32(0x14), r32(0x18),
            (d32(0x204) >> 2) & 1, c32(0x18));
    w32(0x1c, 1);
    w32(0x10, 0);
    w32(0x04, r32(0) - 5);
    wait_tick();
    printf_("MR in the past: ris=%x\n", r32(0x14));
    w32(0x08, 0x7fffffff);
    w32(0x04, 0x80000000);
    w32(0x10, 1);
    while (!r32(0x14)) ;
    printf_("match after LR moved time: DR=%x ris=%x\n", r32(0), r32(0x14));
    w32(0x1c, 1);
    w32(0x10, 0);
    return 0;
}
