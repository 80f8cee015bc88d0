/* QEMU's fw_cfg on the virt board (0x09020000, fw-cfg-mmio, big-endian registers) as a
 * guest sees it: the data register at every width, the selector, the DMA interface
 * (read, skip, select, write, an invalid item, an empty request), the file directory.
 * Only what QEMU 7.2 and pyaarch64 share is printed: QEMU's directory also lists its
 * ACPI and SMBIOS tables, which move the files' selectors. */
#include "lib.h"

#define FWCFG 0x09020000UL
#define DATA8 (*(volatile uint8_t *)(FWCFG))
#define DATA16 (*(volatile uint16_t *)(FWCFG))
#define DATA32 (*(volatile uint32_t *)(FWCFG))
#define DATA64 (*(volatile uint64_t *)(FWCFG))
#define SEL (*(volatile uint16_t *)(FWCFG + 8))
#define DMA64 (*(volatile uint64_t *)(FWCFG + 16))
#define DMA_HI (*(volatile uint32_t *)(FWCFG + 16))
#define DMA_LO (*(volatile uint32_t *)(FWCFG + 20))

struct dma { uint32_t control, length; uint64_t address; } __attribute__((aligned(16)));
static struct dma d;
static uint8_t buf[64] __attribute__((aligned(16)));

static void select_(uint16_t key) { SEL = __builtin_bswap16(key); }

static void dump(const uint8_t *p, unsigned n) {
    for (unsigned i = 0; i < n; i++)
        printf_("%x ", p[i]);
    puts_("\n");
}

static uint32_t dma(uint32_t control, uint32_t len, int wide) {
    memset(buf, 0xee, sizeof buf);
    d.control = __builtin_bswap32(control);
    d.length = __builtin_bswap32(len);
    d.address = __builtin_bswap64((uint64_t)(uintptr_t)buf);
    uint64_t a = (uint64_t)(uintptr_t)&d;
    if (wide) {
        DMA64 = __builtin_bswap64(a);
    } else {
        DMA_HI = __builtin_bswap32((uint32_t)(a >> 32));
        DMA_LO = __builtin_bswap32((uint32_t)a);
    }
    return __builtin_bswap32(d.control);
}

int main(void) {
    puts_("== signature through the data register\n");
    select_(0);
    printf_("bytes %c%c%c%c then %x\n", DATA8, DATA8, DATA8, DATA8, DATA8);
    select_(0);
    printf_("r16 %x r16 %x r16 past the end %x\n", DATA16, DATA16, DATA16);
    select_(0);
    printf_("r32 %x\n", DATA32);
    select_(0);
    printf_("r64 %lx (zeros after the item)\n", DATA64);
    DATA32 = 0x12345678;                  /* writes are ignored */
    select_(0);
    printf_("after a data write: r32 %x\n", DATA32);

    puts_("== ID, UUID, NB_CPUS, BOOT_MENU, a kernel item (none without firmware)\n");
    select_(1);
    printf_("id %x\n", DATA32);
    select_(2);
    printf_("uuid %lx %lx\n", DATA64, DATA64);
    select_(5);
    printf_("nb_cpus %x\n", DATA16);
    select_(0x0e);
    printf_("boot_menu %x\n", DATA16);
    select_(0x08);
    printf_("kernel_size %x\n", DATA32);
    select_(0x3fff);
    printf_("no such item %lx\n", DATA64);

    puts_("== DMA register\n");
    printf_("r64 %lx r32 %x %x\n", DMA64, DMA_HI, DMA_LO);

    puts_("== file directory\n");
    select_(0x19);
    uint32_t count = __builtin_bswap32(DATA32);
    uint16_t sel_fail = 0, sel_boot = 0;
    uint32_t size_fail = 0, size_boot = 1;
    for (uint32_t i = 0; i < count && i < 32; i++) {
        uint32_t size = __builtin_bswap32(DATA32);
        uint16_t s = __builtin_bswap16(DATA16);
        (void)DATA16;
        char name[57];
        for (int k = 0; k < 56; k++)
            name[k] = DATA8;
        name[56] = 0;
        int is_fail = 1, is_boot = 1;
        const char *a = "etc/boot-fail-wait", *b = "bootorder";
        for (int k = 0; k < 19; k++) is_fail &= name[k] == a[k];
        for (int k = 0; k < 10; k++) is_boot &= name[k] == b[k];
        if (is_fail) { sel_fail = s; size_fail = size; }
        if (is_boot) { sel_boot = s; size_boot = size; }
    }
    printf_("etc/boot-fail-wait: %s, %d bytes; bootorder: %s, %d bytes\n",
            sel_fail >= 0x20 ? "found" : "missing", size_fail,
            sel_boot >= 0x20 ? "found" : "missing", size_boot);

    puts_("== DMA\n");
    uint32_t c = dma(((uint32_t)sel_fail << 16) | 8 | 2, 8, 1);
    printf_("select+read boot-fail-wait (8 of 4 bytes): control %x: ", c);
    dump(buf, 10);
    select_(0);
    c = dma(4, 2, 0);
    printf_("skip 2: control %x, ", c);
    c = dma(2, 4, 0);
    printf_("read 4: control %x: ", c);
    dump(buf, 6);
    printf_("data register after DMA: %x\n", DATA8);
    c = dma(((uint32_t)0 << 16) | 8 | 16, 4, 1);
    printf_("write: control %x\n", c);
    c = dma(((uint32_t)0x3fff << 16) | 8 | 2, 4, 1);
    printf_("read an invalid item: control %x: ", c);
    dump(buf, 6);
    c = dma(((uint32_t)1 << 16) | 8, 4, 1);
    printf_("select only: control %x, buffer untouched %x; data now %x\n", c, buf[0], DATA32);
    c = dma(((uint32_t)0 << 16) | 8 | 2, 0, 1);
    printf_("read of length 0: control %x, buffer %x\n", c, buf[0]);
    return 0;
}
