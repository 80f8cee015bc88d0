/* CPU 0 waits for CPU 1 in a WFE loop, as Linux's spin-waits do (sevl; wfe; ldaxr;
 * cbnz; wfe): its WFE lets CPU 1 run at once instead of spinning out its turn. */
#include "smp.h"

SECONDARY_ENTRY(2);
static volatile uint32_t flag;


void secondary_main(uint64_t idx) {
    (void)idx;
    asm volatile("stlr %w0, [%1]" :: "r"(1), "r"(&flag) : "memory");
    for (;;) asm volatile("wfi");
}

int main(void) {
    psci(PSCI_CPU_ON, 1, (uint64_t)sec_entry, 1);
    uint32_t v;
    asm volatile("sevl\n"
                 "1: wfe\n"
                 "   ldaxr %w0, [%1]\n"
                 "   cbz %w0, 1b\n" : "=&r"(v) : "r"(&flag) : "memory");
    printf_("CPU 1 set the flag: %d\n", v);
    return 0;
}
