/* CPU 0 waits for CPU 1 in a WFE loop, as Linux's spin-waits do (sevl; wfe; ldaxr;
 * cbnz; wfe): its WFE lets CPU 1 run at once instead of spinning out its turn. */
#include "lib.h"

#define PSCI_CPU_ON 0xC4000003UL

uint8_t sec_stacks[2][4096] __attribute__((aligned(16)));
static volatile uint32_t flag;

asm(".text\n.global sec_entry\nsec_entry:\n    ldr x1, =sec_stacks\n    add x2, x0, #1\n"
    "    lsl x2, x2, #12\n    add sp, x1, x2\n    bl secondary_main\n1:  b 1b\n");
extern char sec_entry[];

void secondary_main(uint64_t idx) {
    (void)idx;
    asm volatile("stlr %w0, [%1]" :: "r"(1), "r"(&flag) : "memory");
    for (;;) asm volatile("wfi");
}

int main(void) {
    register uint64_t x0 asm("x0") = PSCI_CPU_ON;
    register uint64_t x1 asm("x1") = 1;
    register uint64_t x2 asm("x2") = (uint64_t)sec_entry;
    register uint64_t x3 asm("x3") = 1;
    asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
    uint32_t v;
    asm volatile("sevl\n"
                 "1: wfe\n"
                 "   ldaxr %w0, [%1]\n"
                 "   cbz %w0, 1b\n" : "=&r"(v) : "r"(&flag) : "memory");
    printf_("CPU 1 set the flag: %d\n", v);
    return 0;
}
