/* The virt board's PL011 as a guest sees it: register reset values, read-back of
 * writable registers, ID registers, access sizes, and interrupt status bits. */
#include "lib.h"

#define UART 0x09000000UL

static uint32_t rd32(unsigned off) { return *(volatile uint32_t *)(UART + off); }
static void wr32(unsigned off, uint32_t v) { *(volatile uint32_t *)(UART + off) = v; }

int main(void) {
    static const unsigned regs[] = {0x004, 0x018, 0x020, 0x024, 0x028, 0x02c, 0x030, 0x034,
                                    0x038, 0x03c, 0x040, 0x048,
                                    0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc};
    puts_("== reset values\n");
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        printf_("uart[%x] = %x\n", regs[i], rd32(regs[i]));

    puts_("== writable registers\n");
    static const unsigned w[] = {0x020, 0x024, 0x028, 0x034, 0x038, 0x048};
    for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        uint32_t old = rd32(w[i]);
        wr32(w[i], 0xffffffff);
        uint32_t a = rd32(w[i]);
        wr32(w[i], 0x5a5a5a5a);
        uint32_t b = rd32(w[i]);
        wr32(w[i], old);
        printf_("uart[%x]: <-ffffffff %x <-5a5a5a5a %x restored %x\n", w[i], a, b, rd32(w[i]));
    }
    /* interrupt mask: TX interrupt (bit 5) shows in MIS when enabled */
    wr32(0x038, 1 << 5);
    printf_("imsc=TX: ris=%x mis=%x\n", rd32(0x03c), rd32(0x040));
    wr32(0x044, 0x7ff);
    printf_("after icr: ris=%x mis=%x\n", rd32(0x03c), rd32(0x040));
    wr32(0x038, 0);
    printf_("imsc=0: ris=%x mis=%x\n", rd32(0x03c), rd32(0x040));

    puts_("== access sizes\n");
    printf_("ldrb fr=%x ldrh fr=%x ldrb periphid0=%x ldrh cellid1=%x\n",
            *(volatile uint8_t *)(UART + 0x18), *(volatile uint16_t *)(UART + 0x18),
            *(volatile uint8_t *)(UART + 0xfe0), *(volatile uint16_t *)(UART + 0xff4));
    *(volatile uint8_t *)(UART + 0) = 'b';
    *(volatile uint16_t *)(UART + 0) = 'h';
    *(volatile uint64_t *)(UART + 0) = 'x';
    putc_('\n');
    printf_("ldr x (64-bit) fr=%lx\n", *(volatile uint64_t *)(UART + 0x18));
    uint32_t v;
    asm volatile("ldar %w0, [%1]" : "=r"(v) : "r"(UART + 0x18));
    printf_("ldar fr=%x\n", v);
    asm volatile("stlrb %w0, [%1]" :: "r"('s'), "r"(UART));
    putc_('\n');
    return 0;
}
