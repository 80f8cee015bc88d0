/* For tests/test_api.py: the host raises SPI 40 (level) through Machine.set_irq
 * before the run; the guest enables it in the GIC, sleeps in WFI until the IRQ is
 * taken, prints what it acknowledged and waits for the host to lower the line. */
#include "lib.h"

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define R32(a) (*(volatile uint32_t *)(a))

struct exc_frame { uint64_t x[31]; uint64_t elr, spsr, esr, far, pad; };
extern char vectors[];
static volatile int got = -1;

void exc_handler(struct exc_frame *f, uint64_t vec) {
    (void)f;
    if (vec == 5) {
        uint32_t iar = R32(GICC + 0x0c);
        got = iar & 0x3ff;
        R32(GICD + 0x180 + 4 * (got / 32)) = 1u << (got % 32);   /* disable it */
        R32(GICC + 0x10) = iar;
    }
}

int main(void) {
    __asm__ volatile("msr vbar_el1, %0; isb" :: "r"((uint64_t)vectors));
    R32(GICD + 0x000) = 1;
    R32(GICD + 0x428) = 0x80808080;          /* priorities of 40..43 */
    R32(GICD + 0x104) = 1u << (40 - 32);     /* enable SPI 40 (INTID 40) */
    R32(GICC + 0x004) = 0xf0;
    R32(GICC + 0x000) = 1;
    while (got < 0)
        __asm__ volatile("wfi; msr daifclr, #2; isb; msr daifset, #2" ::: "memory");
    printf_("irq %d taken\n", got);
    guest_exit(0);
    return 0;
}
