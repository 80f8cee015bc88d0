/* The event register: SEVL then WFE does not wait (the event is consumed), so
 * with CPU 1 busy counting, CPU 0's SEVL;WFE pair does not hand it the turn (a WFE
 * with no event would).  Deterministic here; on real hardware or QEMU the count
 * may move anyway (CPU 1 runs in parallel): not a QEMU comparison. */
#include "lib.h"

#define PSCI_CPU_ON 0xC4000003UL

uint8_t sec_stacks[2][4096] __attribute__((aligned(16)));
static volatile uint64_t count;
static volatile uint32_t go;

asm(".text\n.global sec_entry\nsec_entry:\n    ldr x1, =sec_stacks\n    add x2, x0, #1\n"
    "    lsl x2, x2, #12\n    add sp, x1, x2\n    bl secondary_main\n1:  b 1b\n");
extern char sec_entry[];

void secondary_main(uint64_t idx) {
    (void)idx;
    go = 1;
    for (;;)
        count++;
}

int main(void) {
    register uint64_t x0 asm("x0") = PSCI_CPU_ON;
    register uint64_t x1 asm("x1") = 1;
    register uint64_t x2 asm("x2") = (uint64_t)sec_entry;
    register uint64_t x3 asm("x3") = 1;
    asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
    while (!go) ;
    uint64_t a = count;
    asm volatile("sevl; wfe" ::: "memory");
    uint64_t b = count;
    asm volatile("wfe" ::: "memory");
    uint64_t c = count;
    printf_("across sevl;wfe: %s; across wfe: %s\n", a == b ? "same" : "moved", b == c ? "same" : "moved");
    return 0;
}
