/* PL011 receive interrupts with the FIFO enabled, RX level 1/2 (8 characters).
 * The host types "X" and then "ABCDEFGHIJKLMNOP" (17 characters) before the
 * guest starts.  "X" lands in the 1-character holding register and is lost when
 * the guest enables the FIFO (LCR_H.FEN flushes it); the other sixteen fill the
 * FIFO (the guest waits for RXFF, so the arrival timing cannot matter).
 *
 * pyaarch64's virt-7.2 .. virt-9.1 behave as QEMU 7.2's PL011 is meant to:
 * IFLS is ignored, RX is raised at the first character and cleared when the
 * FIFO is empty, there is no receive timeout.  The newest machine type follows
 * the PL011 TRM: RX while 8 or more characters wait, RT once characters wait
 * below the level for 32 bit periods.  tests/test_pl011_irq.py checks both
 * outputs itself: QEMU 7.2's own run of this program is not reproducible (its
 * FIFO flush on FEN races with the characters arriving; sometimes "X" stays). */
#include "lib.h"

#define UART 0x09000000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL

static uint32_t u32(unsigned o) { return *(volatile uint32_t *)(UART + o); }
static void wu32(unsigned o, uint32_t v) { *(volatile uint32_t *)(UART + o) = v; }
static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }

static char buf[20];
static int n;

static void show(const char *what) {
    uint32_t ris = u32(0x3c) & 0x50, mis = u32(0x40) & 0x50, pend = (d32(0x204) >> 1) & 1;
    printf_("%s: ris=%x mis=%x gic pending=%u\n", what, ris, mis, pend);
}

static void rd(int k) { while (k--) buf[n++] = (char)u32(0); }

/* bounded wait for the receive timeout: 1e5 polls are far more than 32 bit
 * periods of virtual time on pyaarch64, and a moment on QEMU (which has none) */
static unsigned wait_rt(void) {
    for (unsigned i = 0; i < 100000; i++)
        if (u32(0x3c) & 0x40) return 1;
    return 0;
}

int main(void) {
    wd32(0x000, 1);
    wc32(0x000, 1);
    wc32(0x004, 0xff);
    wd32(0x104, 1 << 1);
    while (u32(0x18) & 0x10) ;                 /* "X" is held */
    wu32(0x034, 2 << 3);                        /* RX level 1/2 */
    wu32(0x044, 0x7ff);
    wu32(0x038, (1 << 4) | (1 << 6));           /* RXIM | RTIM */
    wu32(0x02c, 0x70);                          /* 8 bits, FIFO enabled: flushes "X" */
    while (!(u32(0x18) & 0x40)) ;               /* FIFO full: all 16 arrived */
    show("16 waiting");
    rd(8);
    show("8 waiting");
    rd(1);
    show("7 waiting");
    printf_("receive timeout seen: %u\n", wait_rt());
    show("7 waiting, later");
    wu32(0x044, 0x50);
    show("after icr");
    rd(6);
    show("1 waiting");
    rd(1);
    show("empty");
    buf[n] = 0;
    printf_("got %s (%d)\n", buf, n);
    wu32(0x038, 0);
    wu32(0x02c, 0x60);
    return 0;
}
