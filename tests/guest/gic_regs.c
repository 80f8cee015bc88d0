/* The virt board's GICv2 (distributor + CPU interface of cpu 0) as a guest sees
 * it: reset values, which bits are writable, byte/halfword/word access, the ID
 * registers.  Interrupts stay masked at the CPU (DAIF); nothing here needs the
 * CPU to take an IRQ. */
#include "lib.h"

#define GICD 0x08000000UL
#define GICC 0x08010000UL

static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static uint32_t c32(unsigned o) { return *(volatile uint32_t *)(GICC + o); }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }

static void dump_d(const char *name, unsigned o) { printf_("gicd[%x] %s = %x\n", o, name, d32(o)); }
static void dump_c(const char *name, unsigned o) { printf_("gicc[%x] %s = %x\n", o, name, c32(o)); }

/* write all-ones then a pattern, print what reads back, restore */
static void probe_d(const char *name, unsigned o) {
    uint32_t old = d32(o);
    wd32(o, 0xffffffff);
    uint32_t a = d32(o);
    wd32(o, 0x5a5a5a5a);
    uint32_t b = d32(o);
    wd32(o, 0);
    uint32_t z = d32(o);
    wd32(o, old);
    printf_("gicd[%x] %s: <-ffffffff %x <-5a5a5a5a %x <-0 %x restored %x\n", o, name, a, b, z, d32(o));
}
static void probe_c(const char *name, unsigned o) {
    uint32_t old = c32(o);
    wc32(o, 0xffffffff);
    uint32_t a = c32(o);
    wc32(o, 0x5a5a5a5a);
    uint32_t b = c32(o);
    wc32(o, 0);
    uint32_t z = c32(o);
    wc32(o, old);
    printf_("gicc[%x] %s: <-ffffffff %x <-5a5a5a5a %x <-0 %x restored %x\n", o, name, a, b, z, c32(o));
}

int main(void) {
    puts_("== distributor reset values\n");
    dump_d("CTLR", 0x000);
    dump_d("TYPER", 0x004);
    dump_d("IIDR", 0x008);
    for (unsigned o = 0x00c; o < 0x080; o += 4) if (d32(o)) dump_d("hole", o);
    for (unsigned i = 0; i < 10; i++) dump_d("IGROUPR", 0x080 + 4 * i);
    for (unsigned i = 0; i < 10; i++) dump_d("ISENABLER", 0x100 + 4 * i);
    for (unsigned i = 0; i < 2; i++) dump_d("ICENABLER", 0x180 + 4 * i);
    for (unsigned i = 0; i < 10; i++) dump_d("ISPENDR", 0x200 + 4 * i);
    for (unsigned i = 0; i < 2; i++) dump_d("ICPENDR", 0x280 + 4 * i);
    for (unsigned i = 0; i < 2; i++) dump_d("ISACTIVER", 0x300 + 4 * i);
    for (unsigned i = 0; i < 2; i++) dump_d("ICACTIVER", 0x380 + 4 * i);
    for (unsigned i = 0; i < 12; i++) dump_d("IPRIORITYR", 0x400 + 4 * i);
    dump_d("IPRIORITYR last", 0x400 + 4 * 71);
    dump_d("IPRIORITYR beyond", 0x400 + 4 * 72);
    for (unsigned i = 0; i < 12; i++) dump_d("ITARGETSR", 0x800 + 4 * i);
    for (unsigned i = 0; i < 6; i++) dump_d("ICFGR", 0xc00 + 4 * i);
    dump_d("ICFGR last", 0xc00 + 4 * 17);
    dump_d("ICFGR beyond", 0xc00 + 4 * 18);
    dump_d("PPISR", 0xd00);
    dump_d("SGIR", 0xf00);
    for (unsigned i = 0; i < 4; i++) dump_d("CPENDSGIR", 0xf10 + 4 * i);
    for (unsigned i = 0; i < 4; i++) dump_d("SPENDSGIR", 0xf20 + 4 * i);
    for (unsigned o = 0xfd0; o < 0x1000; o += 4) dump_d("ID", o);
    dump_d("beyond", 0xfc0);

    puts_("== cpu interface reset values\n");
    dump_c("CTLR", 0x00);
    dump_c("PMR", 0x04);
    dump_c("BPR", 0x08);
    dump_c("IAR", 0x0c);
    dump_c("RPR", 0x14);
    dump_c("HPPIR", 0x18);
    dump_c("ABPR", 0x1c);
    dump_c("AIAR", 0x20);
    dump_c("AHPPIR", 0x28);
    for (unsigned i = 0; i < 4; i++) dump_c("APR", 0xd0 + 4 * i);
    for (unsigned i = 0; i < 4; i++) dump_c("NSAPR", 0xe0 + 4 * i);
    dump_c("IIDR", 0xfc);
    dump_c("DIR", 0x1000);
    dump_c("hole", 0x30);
    dump_c("hole", 0x100);
    dump_c("hole", 0xfd0);

    puts_("== distributor writable bits\n");
    probe_d("CTLR", 0x000);
    probe_d("TYPER", 0x004);
    probe_d("IIDR", 0x008);
    probe_d("IGROUPR0", 0x080);
    probe_d("IGROUPR1", 0x084);
    probe_d("IGROUPR9", 0x0a4);
    probe_d("IPRIORITYR0", 0x400);
    probe_d("IPRIORITYR4", 0x410);
    probe_d("IPRIORITYR8", 0x420);
    probe_d("ITARGETSR0", 0x800);
    probe_d("ITARGETSR4", 0x810);
    probe_d("ITARGETSR7", 0x81c);
    probe_d("ITARGETSR8", 0x820);
    probe_d("ICFGR0", 0xc00);
    probe_d("ICFGR1", 0xc04);
    probe_d("ICFGR2", 0xc08);
    probe_d("ICFGR17", 0xc44);
    probe_d("ID2", 0xfe8);

    /* enables: set then clear */
    wd32(0x100, 0xffffffff); wd32(0x104, 0xffffffff); wd32(0x108, 0xffffffff);
    printf_("ISENABLER <-ffffffff: %x %x %x ICENABLER: %x %x %x\n", d32(0x100), d32(0x104), d32(0x108),
            d32(0x180), d32(0x184), d32(0x188));
    wd32(0x180, 0xffffffff); wd32(0x184, 0xffffffff); wd32(0x188, 0xffffffff);
    printf_("ICENABLER <-ffffffff: %x %x %x\n", d32(0x100), d32(0x104), d32(0x108));
    wd32(0x104, 0x5a5a5a5a);
    wd32(0x184, 0x0000ff00);
    printf_("ISENABLER1 <-5a5a5a5a, ICENABLER1 <-ff00: %x\n", d32(0x104));
    wd32(0x184, 0xffffffff);

    /* byte and halfword access */
    puts_("== access sizes\n");
    *(volatile uint8_t *)(GICD + 0x421) = 0xa5;
    *(volatile uint8_t *)(GICD + 0x422) = 0x37;
    printf_("IPRIORITYR8 after byte writes = %x byte[1]=%x byte[2]=%x half[2]=%x\n", d32(0x420),
            *(volatile uint8_t *)(GICD + 0x421), *(volatile uint8_t *)(GICD + 0x422),
            *(volatile uint16_t *)(GICD + 0x422));
    *(volatile uint16_t *)(GICD + 0x424) = 0x1234;
    printf_("IPRIORITYR9 after half write = %x\n", d32(0x424));
    *(volatile uint8_t *)(GICD + 0x402) = 0xff;
    printf_("IPRIORITYR0 after byte write = %x\n", d32(0x400));
    wd32(0x400, 0); wd32(0x420, 0); wd32(0x424, 0);
    *(volatile uint8_t *)(GICD + 0x823) = 0xff;
    *(volatile uint8_t *)(GICD + 0x801) = 0xff;
    printf_("ITARGETSR8 byte write = %x ITARGETSR0 = %x byte[0x81c]=%x\n", d32(0x820), d32(0x800),
            *(volatile uint8_t *)(GICD + 0x81c));
    wd32(0x820, 0);
    printf_("ld8 TYPER=%x IIDR byte1=%x ld16 IIDR=%x ld16 IIDR+2=%x\n", *(volatile uint8_t *)(GICD + 4),
            *(volatile uint8_t *)(GICD + 9), *(volatile uint16_t *)(GICD + 8),
            *(volatile uint16_t *)(GICD + 0xa));
    printf_("ld64 IIDR=%lx\n", *(volatile uint64_t *)(GICD + 8));
    *(volatile uint8_t *)(GICD + 0x101) = 0xff;
    printf_("ISENABLER0 after byte write to byte1 = %x\n", d32(0x100));
    *(volatile uint8_t *)(GICD + 0x105) = 0x0f;
    printf_("ISENABLER1 after byte write to byte1 = %x\n", d32(0x104));
    wd32(0x184, 0xffffffff);
    printf_("gicc ld8 IIDR=%x ld16 PMR=%x\n", *(volatile uint8_t *)(GICC + 0xfc), *(volatile uint16_t *)(GICC + 4));
    *(volatile uint8_t *)(GICC + 4) = 0xf0;
    printf_("gicc PMR after byte write=%x\n", c32(4));
    wc32(4, 0);

    puts_("== cpu interface writable bits\n");
    probe_c("CTLR", 0x00);
    probe_c("PMR", 0x04);
    probe_c("BPR", 0x08);
    probe_c("ABPR", 0x1c);
    probe_c("APR0", 0xd0);
    probe_c("APR1", 0xd4);
    probe_c("NSAPR0", 0xe0);
    probe_c("IIDR", 0xfc);
    probe_c("RPR", 0x14);
    for (unsigned v = 0; v < 8; v++) {
        wc32(0x08, v);
        wc32(0x1c, v);
        printf_("BPR<-%u: %x ABPR<-%u: %x\n", v, c32(0x08), v, c32(0x1c));
    }
    for (unsigned v = 0; v < 256; v += 17) {
        wc32(0x04, v);
        printf_("PMR<-%x: %x  ", v, c32(0x04));
    }
    putc_('\n');
    return 0;
}
