/* The virt board's PL061 GPIO (0x09030000, SPI 7 = INTID 39) and GICv2m MSI frame
 * (0x08020000, SPIs 80..143): reset values and PrimeCell IDs, which bits each
 * register keeps, the data register's address mask, interrupt detection the guest
 * can cause on its own (level sense on any line, the edge a line makes when it turns
 * from a driven output into an input), RIS/MIS/IC and the SPI through the GIC; then
 * the MSI frame's registers, access sizes and MSIs raising their SPIs.  Interrupts
 * stay masked at the CPU: the GIC's pending bits and IAR are polled.  Its expected
 * output comes from QEMU 7.2. */
#include "lib.h"

#define GPIO 0x09030000UL
#define V2M  0x08020000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL

static uint32_t r32(unsigned o) { return *(volatile uint32_t *)(GPIO + o); }
static void w32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GPIO + o) = v; }
static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static uint32_t c32(unsigned o) { return *(volatile uint32_t *)(GICC + o); }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }
static uint32_t v32(unsigned o) { return *(volatile uint32_t *)(V2M + o); }
static void wv32(unsigned o, uint32_t v) { *(volatile uint32_t *)(V2M + o) = v; }

static unsigned pending(unsigned intid) { return (d32(0x200 + intid / 32 * 4) >> (intid % 32)) & 1; }

static void state(const char *what) {
    printf_("%s: data=%x dir=%x is=%x ibe=%x iev=%x ie=%x ris=%x mis=%x spi39=%u\n", what,
            r32(0x3fc), r32(0x400), r32(0x404), r32(0x408), r32(0x40c), r32(0x410), r32(0x414),
            r32(0x418), pending(39));
}

static void probe(const char *name, unsigned o) {
    uint32_t old = r32(o);
    w32(o, 0xffffffff);
    uint32_t a = r32(o);
    w32(o, 0x5a5a5a5a);
    uint32_t b = r32(o);
    w32(o, 0);
    uint32_t z = r32(o);
    w32(o, old);
    printf_("gpio[%x] %s: <-ffffffff %x <-5a5a5a5a %x <-0 %x restored %x\n", o, name, a, b, z, r32(o));
}

/* acknowledge what the GIC signals (IAR), print it and end it (EOIR) */
static void ack_all(const char *what) {
    printf_("%s: iar", what);
    for (int i = 0; i < 8; i++) {
        uint32_t iar = c32(0x0c);
        printf_(" %u", iar & 0x3ff);
        if ((iar & 0x3ff) >= 1020)
            break;
        wc32(0x10, iar);
    }
    puts_("\n");
}

int main(void) {
    /* the GIC: distributor and CPU interface on, every priority above the mask */
    wd32(0x000, 1);
    wc32(0x000, 1);
    wc32(0x004, 0xff);

    puts_("== PL061 reset values and IDs\n");
    static const unsigned regs[] = {0x000, 0x3fc, 0x400, 0x404, 0x408, 0x40c, 0x410, 0x414, 0x418,
                                    0x41c, 0x420, 0x424, 0x500, 0x510, 0x520, 0x528, 0x800, 0xfcc,
                                    0xfd0, 0xfdc, 0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8,
                                    0xffc};
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        printf_("gpio[%x] = %x\n", regs[i], r32(regs[i]));
    printf_("byte reads: dir=%x periphid0=%x periphid1=%x half cellid1=%x byte 0x401=%x\n",
            *(volatile uint8_t *)(GPIO + 0x400), *(volatile uint8_t *)(GPIO + 0xfe0),
            *(volatile uint8_t *)(GPIO + 0xfe4), *(volatile uint16_t *)(GPIO + 0xff4),
            *(volatile uint8_t *)(GPIO + 0x401));

    puts_("== writable bits\n");
    probe("DIR", 0x400);
    probe("IS", 0x404);
    probe("IBE", 0x408);
    probe("IEV", 0x40c);
    probe("IE", 0x410);
    probe("AFSEL", 0x420);
    probe("RIS", 0x414);
    probe("MIS", 0x418);
    probe("lum-DR2R", 0x500);
    state("after probing");

    puts_("== data register address mask\n");
    w32(0x400, 0xf0);                          /* lines 4..7 outputs, 0..3 inputs */
    w32(0x3fc, 0xff);
    printf_("all-mask write ff: data=%x\n", r32(0x3fc));
    w32(0x10 << 2, 0);                         /* mask: line 4 only */
    printf_("mask 10 write 0: data=%x\n", r32(0x3fc));
    w32(0x60 << 2, 0xff);                      /* mask: lines 5, 6 (already 1) */
    w32(0x11 << 2, 0xff);                      /* mask: lines 0 (an input) and 4 */
    printf_("mask 11 write ff: data=%x\n", r32(0x3fc));
    for (unsigned m = 0; m < 0x100; m += 0x33)
        printf_("read mask %x: %x\n", m, r32(m << 2));
    *(volatile uint8_t *)(GPIO + (0x80 << 2)) = 0;   /* byte write, mask line 7 */
    printf_("byte write mask 80: data=%x byte read 3fc=%x half read 3fc=%x\n", r32(0x3fc),
            *(volatile uint8_t *)(GPIO + 0x3fc), *(volatile uint16_t *)(GPIO + 0x3fc));
    w32(0x400, 0);
    w32(0x3fc, 0);
    state("all inputs, data write ignored");

    puts_("== level sense\n");
    wd32(0x104, 1 << 7);                       /* enable INTID 39 */
    w32(0x40c, 0x00);                          /* IEV: low */
    w32(0x404, 0x0c);                          /* lines 2, 3 level-sensitive: low now */
    state("IS=0c IEV=00");
    w32(0x410, 0x08);                          /* IE: line 3 */
    state("IE=08");
    ack_all("spi");
    w32(0x41c, 0xff);
    state("IC=ff (the level holds)");
    w32(0x40c, 0x0c);                          /* IEV: high: no longer active */
    w32(0x41c, 0xff);
    state("IEV=0c, IC=ff");
    w32(0x400, 0x04);                          /* line 2 an output, driven high: active */
    w32(0x3fc, 0x04);
    state("line 2 output high");
    w32(0x410, 0x04);
    state("IE=04");
    ack_all("spi");
    w32(0x404, 0);
    w32(0x410, 0);
    w32(0x41c, 0xff);
    state("IS=0 IE=0 IC=ff");

    puts_("== edges: outputs turning into inputs\n");
    w32(0x400, 0xff);
    w32(0x3fc, 0x35);                          /* drive 0,2,4,5 high */
    w32(0x408, 0x01);                          /* line 0: both edges */
    w32(0x40c, 0x10);                          /* line 4: rising; others falling */
    state("driven 35");
    w32(0x400, 0x00);                          /* all inputs: they changed from 0 */
    state("all inputs");
    w32(0x410, 0xff);
    state("IE=ff");
    w32(0x41c, 0x11);
    state("IC=11");
    w32(0x41c, 0xff);
    w32(0x410, 0);
    ack_all("spi");
    w32(0x400, 0x01);                          /* line 0 output again, drive it low */
    w32(0x3fc, 0x00);
    w32(0x400, 0x00);
    state("line 0 falls (both edges)");
    w32(0x41c, 0xff);
    w32(0x420, 0xff);
    state("AFSEL=ff");

    puts_("== GICv2m\n");
    printf_("typer=%x iidr=%x fd0=%x fe0=%x ffc=%x off0=%x off40=%x\n", v32(0x008), v32(0xfcc),
            v32(0xfd0), v32(0xfe0), v32(0xffc), v32(0x000), v32(0x040));
    printf_("byte typer=%x half typer=%x quad typer=%lx\n", *(volatile uint8_t *)(V2M + 0x008),
            *(volatile uint16_t *)(V2M + 0x008), *(volatile uint64_t *)(V2M + 0x008));
    wd32(0xc00 + 80 / 16 * 4, 0xaaaaaaaa);    /* INTIDs 80..95 edge-triggered */
    wd32(0xc00 + 128 / 16 * 4, 0xaaaaaaaa);   /* 128..143 */
    wd32(0x108, 0xffff0000);                   /* enable 80..95 */
    wd32(0x110, 0xffff);                       /* and 128..143 */
    wv32(0x040, 80);
    printf_("MSI 80: pending 80=%u\n", pending(80));
    ack_all("msi");
    wv32(0x040, 79);
    wv32(0x040, 144);
    wv32(0x040, 0x400 + 81);                   /* bits above 9 ignored */
    *(volatile uint16_t *)(V2M + 0x040) = 143;
    *(volatile uint8_t *)(V2M + 0x040) = 82;  /* bad size: ignored */
    wv32(0x044, 83);                           /* bad offset */
    printf_("after 79 144 0x451 h143 b82 @44-83: pending 79=%u 81=%u 82=%u 83=%u 143=%u\n",
            pending(79), pending(81), pending(82), pending(83), pending(143));
    ack_all("msi");
    wd32(0x108, 0x00010000);                   /* 80 disabled: pending, not signalled */
    wd32(0x188, 0x00010000);
    wv32(0x040, 80);
    printf_("disabled 80: pending=%u iar=%u\n", pending(80), c32(0x0c) & 0x3ff);
    wd32(0x108, 0x00010000);
    ack_all("msi");
    wd32(0x10c, 1);                            /* 96: enabled, level-sensitive */
    wv32(0x040, 96);
    printf_("level-sensitive 96: pending=%u\n", pending(96));
    ack_all("msi");
    return 0;
}
