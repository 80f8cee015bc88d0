/* PL011 interrupts through the GIC (SPI 1 = INTID 33) on the virt board, polled
 * with interrupts masked at the CPU.  The host types "abc" before the guest
 * starts.  FIFO disabled (1-character holding register): RX is raised by each
 * character and cleared by reading it or through ICR; TX is raised by each
 * write to DR and cleared through ICR; MIS = RIS & IMSC drives the GIC line.
 * State is sampled only while no character can arrive (QEMU delivers the next
 * one whenever the holding register is free).  Only the RX and TX bits are printed: the receive timeout (RT) is not
 * compared because QEMU 7.2 does not model it. */
#include "lib.h"

#define UART 0x09000000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL

static uint32_t u32(unsigned o) { return *(volatile uint32_t *)(UART + o); }
static void wu32(unsigned o, uint32_t v) { *(volatile uint32_t *)(UART + o) = v; }
static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static uint32_t c32(unsigned o) { return *(volatile uint32_t *)(GICC + o); }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }
static uint64_t isr(void) { uint64_t v; asm volatile("mrs %0, isr_el1" : "=r"(v)); return v; }

/* sample everything first, print afterwards (printing sets TX) */
static void show(const char *what) {
    uint32_t ris = u32(0x3c) & 0x30, mis = u32(0x40) & 0x30, fr = u32(0x18);
    uint32_t pend = (d32(0x204) >> 1) & 1, hp = c32(0x18);
    uint64_t i = isr();
    printf_("%s: ris=%x mis=%x rxfe=%u gic pending=%u hppir=%x isr=%lx\n", what, ris, mis,
            (fr >> 4) & 1, pend, hp, i);
}

static void wait_rx(void) { while (u32(0x18) & 0x10) ; }

int main(void) {
    wd32(0x000, 1);
    wc32(0x000, 1);
    wc32(0x004, 0xff);
    wd32(0x104, 1 << 1);                  /* enable INTID 33 */
    wu32(0x038, 0);
    wait_rx();                            /* "a" may come before or after start */
    show("a char held, imsc=0");
    wu32(0x038, 1 << 4);
    show("imsc=RX");
    wu32(0x044, 1 << 4);
    show("icr RX with the char still held");
    wu32(0x038, 0);
    wu32(0x038, 1 << 4);
    show("imsc RX again");
    char c = (char)u32(0);              /* the next one may arrive at any time now */
    printf_("got %c\n", c);
    wait_rx();
    show("next char arrived");
    c = (char)u32(0);
    printf_("got %c\n", c);
    wait_rx();
    c = (char)u32(0);
    show("third read");
    printf_("got %c\n", c);
    wu32(0x044, 0x7ff);
    printf_("rx empty: fr rxfe=%u dr=%x\n", (u32(0x18) >> 4) & 1, u32(0));

    puts_("== TX\n");
    wu32(0x038, 1 << 5);
    show("imsc=TX after printing");
    wu32(0x044, 1 << 5);
    show("icr TX");
    wu32(0x000, '.');
    show("\nwrote DR");
    wu32(0x038, (1 << 5) | (1 << 4));
    wu32(0x044, 1 << 5);
    show("imsc=TX|RX, icr TX");
    wu32(0x038, 0);
    show("imsc=0");
    wu32(0x044, 0x7ff);
    return 0;
}
