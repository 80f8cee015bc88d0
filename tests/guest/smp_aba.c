/* A load-exclusive on CPU 0, then CPU 1 writes the location twice, back to the
 * value CPU 0 read (A-B-A): CPU 0's store-exclusive must fail, as the
 * architecture says (another observer's store clears the monitor).  QEMU 7.2
 * compares values (cmpxchg) and lets it succeed: not a reference here. */
#include "lib.h"

#define PSCI_CPU_ON 0xC4000003UL

uint8_t sec_stacks[2][4096] __attribute__((aligned(16)));
static volatile uint64_t word;
static volatile uint32_t flag;

asm(".text\n.global sec_entry\nsec_entry:\n    ldr x1, =sec_stacks\n    add x2, x0, #1\n"
    "    lsl x2, x2, #12\n    add sp, x1, x2\n    bl secondary_main\n1:  b 1b\n");
extern char sec_entry[];

void secondary_main(uint64_t idx) {
    (void)idx;
    while (flag != 1) ;
    word = 1;
    word = 0;
    asm volatile("dmb ish" ::: "memory");
    flag = 2;
    for (;;) asm volatile("wfi");
}

int main(void) {
    register uint64_t x0 asm("x0") = PSCI_CPU_ON;
    register uint64_t x1 asm("x1") = 1;
    register uint64_t x2 asm("x2") = (uint64_t)sec_entry;
    register uint64_t x3 asm("x3") = 1;
    asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
    uint64_t v;
    uint32_t fail;
    asm volatile("ldxr %0, [%1]" : "=r"(v) : "r"(&word) : "memory");
    flag = 1;
    while (flag != 2) ;
    asm volatile("stxr %w0, %2, [%1]" : "=&r"(fail) : "r"(&word), "r"(v + 5) : "memory");
    printf_("stxr after another CPU's A-B-A: %s, word %ld\n", fail ? "failed" : "succeeded", word);
    return 0;
}
