/* For the QMP tests: waits in WFI for a byte on the PL011 (RX interrupt through the
 * GIC, masked at the CPU: it only wakes the WFI); each byte but 'q' prints
 * "count N C" with N counting up from 1 (state a snapshot carries); 'q' powers off,
 * 'r' resets the machine (PSCI SYSTEM_RESET). */
#include "lib.h"

#define UART 0x09000000UL
#define GICD 0x08000000UL
#define GICC 0x08010000UL

static volatile uint32_t *reg(uint64_t a) { return (volatile uint32_t *)a; }

int main(void) {
    int n = 0;
    *reg(GICD + 0x000) = 1;                 /* distributor on */
    *reg(GICC + 0x000) = 1;                 /* CPU interface on */
    *reg(GICC + 0x004) = 0xff;              /* priority mask: all */
    *reg(GICD + 0x104) = 1 << 1;            /* enable INTID 33 (PL011) */
    *reg(UART + 0x038) = 1 << 4;            /* IMSC: RX */
    printf_("ready\n");
    for (;;) {
        while (*reg(UART + 0x18) & 0x10)    /* FR.RXFE: nothing yet */
            asm volatile("wfi");
        char c = (char)(*reg(UART) & 0xff);
        if (c == 'q')
            break;
        if (c == 'r') {
            register uint64_t x0 asm("x0") = 0x84000009;
            asm volatile("hvc #0" : "+r"(x0));
        }
        printf_("count %d %c\n", ++n, c);
    }
    guest_exit(0);
    return 0;
}
