/* PL011 receive FIFO interrupts (pyaarch64 only: QEMU 7.2 ignores IFLS and has
 * no receive timeout, so tests/test_pl011_irq.py checks this output itself).
 * The host types "0123456789" before the guest starts; the first character
 * lands in the 1-character holding register and is lost when the guest
 * enables the FIFO (LCR_H.FEN flushes it), the other nine then arrive.
 * RX level 1/2 (8 characters): RX while 8 or more wait; RT (receive timeout)
 * once characters wait below the level with no new one for 32 bit periods. */
#include "lib.h"

#define UART 0x09000000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL

static uint32_t u32(unsigned o) { return *(volatile uint32_t *)(UART + o); }
static void wu32(unsigned o, uint32_t v) { *(volatile uint32_t *)(UART + o) = v; }
static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }

static void show(const char *what) {
    uint32_t ris = u32(0x3c) & 0x50, mis = u32(0x40) & 0x50, pend = (d32(0x204) >> 1) & 1;
    printf_("%s: ris=%x mis=%x gic pending=%u\n", what, ris, mis, pend);
}

int main(void) {
    wd32(0x000, 1);
    wc32(0x000, 1);
    wc32(0x004, 0xff);
    wd32(0x104, 1 << 1);
    while (u32(0x18) & 0x10) ;                /* the first character is held */
    wu32(0x034, 2 << 3);                       /* RX level 1/2 */
    wu32(0x02c, 0x70);                         /* 8 bits, FIFO enabled: flushes */
    wu32(0x044, 0x7ff);
    wu32(0x038, (1 << 4) | (1 << 6));          /* RXIM | RTIM */
    while (!(u32(0x18) & 0x40) && !(u32(0x3c) & 0x10)) ;   /* until RX */
    show("fifo at level");
    char buf[16];
    int n = 0;
    buf[n++] = (char)u32(0);
    buf[n++] = (char)u32(0);
    show("read two (7 left)");
    unsigned spins = 0;
    while (!(u32(0x3c) & 0x40)) spins++;
    show("timeout");
    while (!(u32(0x18) & 0x10)) buf[n++] = (char)u32(0);
    buf[n] = 0;
    show("drained");
    printf_("got %s (%d)\n", buf, n);
    wu32(0x038, 0);
    return 0;
}
