/* GICv2 interrupt flow on the virt board, polled with interrupts masked at the
 * CPU (DAIF): SGIs through GICD_SGIR, SPENDSGIR/CPENDSGIR, acknowledge (IAR),
 * end of interrupt (EOIR), split priority drop/deactivate (EOImodeS + DIR),
 * groups and AckCtl, priority mask, preemption with the binary point, running
 * priority and the active priority registers, edge and level SPIs (the PL011's
 * SPI 1 as a level source).  No IRQ exception is taken. */
#include "lib.h"

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define UART 0x09000000UL

static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static void wd8(unsigned o, uint8_t v) { *(volatile uint8_t *)(GICD + o) = v; }
static uint32_t c32(unsigned o) { return *(volatile uint32_t *)(GICC + o); }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }
static uint32_t u32(unsigned o) { return *(volatile uint32_t *)(UART + o); }
static void wu32(unsigned o, uint32_t v) { *(volatile uint32_t *)(UART + o) = v; }

static uint64_t isr(void) { uint64_t v; asm volatile("mrs %0, isr_el1" : "=r"(v)); return v; }

static void state(const char *what) {
    printf_("%s: hppir=%x rpr=%x pend0=%x pend1=%x act0=%x act1=%x apr0=%x nsapr0=%x spend=%x isr=%lx\n",
            what, c32(0x18), c32(0x14), d32(0x200), d32(0x204), d32(0x300), d32(0x304),
            c32(0xd0), c32(0xe0), d32(0xf20), isr());
}
static uint32_t ack(const char *what) {
    uint32_t v = c32(0x0c);
    printf_("%s: iar=%x\n", what, v);
    return v;
}
static void eoi(uint32_t v) { wc32(0x10, v); }

int main(void) {
    wd32(0x000, 3);          /* distributor: both groups */
    wc32(0x000, 3);          /* cpu interface: both groups */
    wc32(0x004, 0xff);       /* priority mask: everything but 0xff */
    state("enabled, idle");

    puts_("== SGIs\n");
    wd32(0xf00, (0 << 24) | (1 << 16) | 5);          /* target list cpu0, SGI 5 */
    state("sgir list=1 id=5");
    wd32(0xf00, (1 << 24) | 6);                      /* all but self: nobody */
    state("sgir filter=1 id=6");
    wd32(0xf00, (2 << 24) | 7);                      /* self */
    state("sgir filter=2 id=7");
    wd32(0xf00, (3 << 24) | 8);                      /* reserved filter */
    state("sgir filter=3 id=8");
    wd32(0xf00, (0 << 24) | (0xfe << 16) | 9);       /* list without cpu0 */
    state("sgir list=fe id=9");
    wd32(0xf00, (2 << 24) | (1 << 15) | 10);         /* NSATT set */
    state("sgir nsatt id=10");
    uint32_t a = ack("ack 1");
    state("after ack 1");
    uint32_t b = ack("ack 2 (same priority, not preempting)");
    eoi(a);
    state("after eoi 1");
    b = ack("ack 2");
    eoi(b);
    b = ack("ack 3");
    eoi(b);
    state("after eoi 3");
    ack("ack nothing");
    eoi(1023);
    eoi(5);                                           /* nothing active: ignored */
    state("after stray eois");

    puts_("== SPENDSGIR / CPENDSGIR / ISPENDR on SGIs\n");
    wd8(0xf20 + 3, 1);
    state("spendsgir sgi3");
    printf_("cpendsgir word0=%x spendsgir byte3=%x\n", d32(0xf10), *(volatile uint8_t *)(GICD + 0xf23));
    wd8(0xf10 + 3, 1);
    state("cpendsgir sgi3");
    wd32(0x200, 0xffff);
    state("ispendr0 <- ffff");
    wd32(0xf20, 0x01010101);
    state("spendsgir word <- 01010101");
    wd32(0x280, 0xffff);
    state("icpendr0 <- ffff");
    wd32(0xf10, 0xffffffff);
    state("cpendsgir word <- ffffffff");

    puts_("== priorities and preemption\n");
    wd32(0x400, 0x80604020);                      /* SGI0 0x20, SGI1 0x40, SGI2 0x60, SGI3 0x80 */
    wd32(0xf00, (2 << 24) | 2);
    a = ack("ack sgi2 (prio 60)");
    state("active 60");
    wd32(0xf00, (2 << 24) | 3);
    state("pend sgi3 (prio 80)");
    ack("ack while 60 runs");
    wd32(0xf00, (2 << 24) | 1);
    state("pend sgi1 (prio 40)");
    b = ack("preempt by 40");
    state("active 60 and 40");
    eoi(b);
    state("eoi 40");
    eoi(a);
    state("eoi 60");
    b = ack("ack 80");
    eoi(b);
    state("eoi 80");
    for (unsigned bpr = 0; bpr < 8; bpr++) {
        wc32(0x08, bpr);
        wd32(0x400, 0x00004440 | (0x41 << 16) | (0x3f << 24));   /* SGI0 40, SGI1 44, SGI2 41, SGI3 3f */
        wd32(0xf00, (2 << 24) | 0);
        a = c32(0x0c);
        uint32_t r0 = c32(0x14);
        wd32(0xf00, (2 << 24) | 1);
        wd32(0xf00, (2 << 24) | 2);
        wd32(0xf00, (2 << 24) | 3);
        uint32_t hp = c32(0x18);
        b = c32(0x0c);
        uint32_t r1 = c32(0x14);
        printf_("bpr=%u: first=%x rpr=%x hppir=%x second=%x rpr=%x apr0=%x", bpr, a, r0, hp, b, r1, c32(0xd0));
        if (b != 1023) eoi(b);
        eoi(a);
        printf_(" after eois rpr=%x apr0=%x", c32(0x14), c32(0xd0));
        uint32_t n = 0, v;
        while ((v = c32(0x0c)) != 1023 && n < 8) { printf_(" +%x", v); eoi(v); n++; }
        putc_('\n');
    }
    wc32(0x08, 0);
    wd32(0x400, 0);

    puts_("== priority mask\n");
    wd32(0x400, 0x00000080);
    wc32(0x004, 0x80);
    wd32(0xf00, (2 << 24) | 0);
    state("pmr=80 sgi0 prio 80");
    ack("ack masked");
    wc32(0x004, 0x81);
    state("pmr=81");
    eoi(ack("ack"));
    wc32(0x004, 0xff);
    wd32(0x400, 0);

    puts_("== active registers\n");
    wd32(0x300, 0x10);
    state("isactiver sgi4");
    wd32(0xf00, (2 << 24) | 4);
    state("pend active sgi4");
    ack("ack active+pending");
    wd32(0x380, 0x10);
    state("icactiver sgi4");
    eoi(ack("ack sgi4"));
    wc32(0xd0, 0x10);
    state("apr0 <- 10");
    wc32(0xd0, 0);
    wc32(0xe0, 0x4);
    state("nsapr0 <- 4");
    wc32(0xe0, 0);
    state("aprs cleared");

    puts_("== EOImodeS and DIR\n");
    wc32(0x000, 0x203);
    wd32(0xf00, (2 << 24) | 6);
    a = ack("ack sgi6");
    eoi(a);
    state("eoi (drop only)");
    wd32(0xf00, (2 << 24) | 6);
    state("sgi6 pending again");
    wc32(0x1000, a);
    state("dir");
    eoi(ack("ack sgi6"));
    wc32(0x1000, 6);
    wc32(0x000, 3);
    wd32(0xf00, (2 << 24) | 6);
    a = ack("ack sgi6");
    wc32(0x1000, a);
    state("dir with EOImodeS clear");
    eoi(a);
    state("eoi");

    puts_("== groups\n");
    wd32(0x080, 1 << 7);                   /* SGI7 group 1 */
    wd32(0xf00, (2 << 24) | 7);
    state("sgi7 group1 pending");
    ack("ack without AckCtl");
    printf_("aiar=%x ahppir=%x\n", c32(0x20), c32(0x28));
    wc32(0x000, 0x7);
    state("AckCtl");
    a = ack("ack with AckCtl");
    state("group1 active");
    eoi(a);
    state("eoi group1");
    wc32(0x000, 0x1);                       /* cpu: group 0 only */
    wd32(0xf00, (2 << 24) | 7);
    state("cpu group1 disabled, sgi7 pending");
    wc32(0x000, 0x3);
    wd32(0x000, 0x1);                       /* distributor: group 0 only */
    state("dist group1 disabled");
    wd32(0x000, 0x3);
    wc32(0x000, 0x7);
    eoi(ack("ack"));
    wc32(0x000, 0xb);                       /* FIQEn: group 0 goes to FIQ */
    wd32(0x080, 0);
    wd32(0xf00, (2 << 24) | 7);
    state("FIQEn, sgi7 group0 pending");
    eoi(ack("ack"));
    wc32(0x000, 0x3);
    wd32(0x000, 0);
    wd32(0xf00, (2 << 24) | 7);
    state("distributor disabled, sgi7 pending");
    ack("ack with distributor disabled");
    wd32(0x000, 3);
    wc32(0x000, 0);
    state("cpu interface disabled");
    ack("ack with cpu interface disabled");
    wc32(0x000, 3);
    eoi(ack("ack"));

    puts_("== SPIs: edge by ISPENDR, level from the PL011\n");
    wd32(0x104, 0xffffffff);               /* enable SPIs 32..63 */
    wd32(0xc08, 0x2 << 16);                /* INTID 40 edge */
    wd32(0x204, 1 << 8);                   /* pend 40 */
    state("ispendr 40 (edge)");
    a = ack("ack 40");
    state("active 40");
    wd32(0x204, 1 << 8);
    state("pend 40 again while active");
    eoi(a);
    state("eoi 40");
    eoi(ack("ack 40"));
    wd32(0x204, 1 << 9);                   /* INTID 41 level, pending by software */
    state("ispendr 41 (level)");
    wd32(0x284, 1 << 9);
    state("icpendr 41");
    wu32(0x038, 1 << 5);                   /* UART TX interrupt enabled: SPI 1 = INTID 33 */
    state("uart imsc=tx");
    wd32(0x284, 1 << 1);
    state("icpendr 33 (line still high)");
    a = ack("ack 33");
    state("33 active, line high");
    wu32(0x044, 1 << 5);                   /* clear TX interrupt: line low */
    state("uart icr tx");
    eoi(a);
    state("eoi 33");
    wu32(0x038, 1 << 5);
    wu32(0x044, 1 << 5);
    state("line pulsed high-low");
    wd32(0xc08, (0x2 << 16) | (0x2 << 2)); /* INTID 33 edge (40 stays edge) */
    wu32(0x044, 1 << 5);
    state("33 edge, line low");
    wu32(0x000, '!');
    putc_('\n');
    state("33 edge, line rose");
    wu32(0x044, 1 << 5);
    wu32(0x038, 0);
    state("line low again");
    eoi(ack("ack 33"));
    wd32(0xc08, 0x2 << 16);
    wd32(0x184, 0xffffffff);
    wd32(0x104, 1 << 1);
    wu32(0x038, 1 << 5);
    state("33 level again, pending by line");
    wd32(0x184, 1 << 1);
    state("33 disabled");
    wu32(0x038, 0);
    wd32(0x284, 0xffffffff);
    state("end");

    puts_("== aliased EOI, access sizes on the CPU interface and SGIR\n");
    a = ack("ack");
    wd32(0xf00, (2 << 24) | 5);
    a = ack("ack sgi5");
    wc32(0x24, a);                          /* GICC_AEOIR */
    state("aeoir");
    eoi(a);
    state("eoir");
    wc32(0x004, 0xf0);
    printf_("ld64 ctlr/pmr=%lx ld8 pmr=%x ld8 pmr+1=%x ld16 iidr+2=%x\n", *(volatile uint64_t *)(GICC + 0),
            *(volatile uint8_t *)(GICC + 4), *(volatile uint8_t *)(GICC + 5),
            *(volatile uint16_t *)(GICC + 0xfe));
    *(volatile uint8_t *)(GICC + 5) = 0x80;
    printf_("pmr after strb to pmr+1=%x\n", c32(0x04));
    *(volatile uint64_t *)(GICC + 0) = 0x000000e000000003ULL;
    printf_("std ctlr/pmr: ctlr=%x pmr=%x\n", c32(0x00), c32(0x04));
    wc32(0x004, 0xff);
    *(volatile uint8_t *)(GICD + 0xf00) = 6;
    state("strb sgir");
    *(volatile uint16_t *)(GICD + 0xf00) = 6;
    state("strh sgir");
    *(volatile uint64_t *)(GICD + 0xf00) = (2 << 24) | 6;
    state("std sgir");
    eoi(ack("ack"));

    puts_("== group 1 binary point (ABPR unless CBPR)\n");
    wc32(0x000, 0x7);                       /* both groups, AckCtl */
    wd32(0x080, 1 << 9);                    /* SGI9 group 1 */
    wd32(0x408, 0x47 << 8);                 /* SGI9 priority 0x47 */
    wd32(0x408 + 0, (0x47 << 8) | 0x45);    /* SGI8 (group 0) priority 0x45 */
    for (unsigned cbpr = 0; cbpr < 2; cbpr++) {
        for (unsigned abpr = 1; abpr < 8; abpr += 3) {
            wc32(0x000, 0x7 | (cbpr << 4));
            wc32(0x008, 0);
            wc32(0x01c, abpr);
            wd32(0xf00, (2 << 24) | 9);
            a = c32(0x0c);
            uint32_t r = c32(0x14);
            wd32(0xf00, (2 << 24) | 8);     /* group 0, 0x45: preempts? */
            b = c32(0x0c);
            printf_("cbpr=%u abpr=%u: iar=%x rpr=%x nsapr0=%x nsapr1=%x then iar=%x rpr=%x apr1=%x\n", cbpr, abpr,
                    a, r, c32(0xe0), c32(0xe4), b, c32(0x14), c32(0xd4));
            if (b < 1020) eoi(b);
            eoi(a);
            while ((b = c32(0x0c)) < 1020) eoi(b);
        }
    }
    wc32(0x000, 0x3);
    wd32(0x080, 0);
    return 0;
}
