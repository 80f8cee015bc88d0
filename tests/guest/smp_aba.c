/* A load-exclusive on CPU 0, then CPU 1 writes the location twice, back to the
 * value CPU 0 read (A-B-A): CPU 0's store-exclusive must fail, as the
 * architecture says (another observer's store clears the monitor).  QEMU 7.2
 * compares values (cmpxchg) and lets it succeed: not a reference here. */
#include "smp.h"

SECONDARY_ENTRY(2);
static volatile uint64_t word;
static volatile uint32_t flag;


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
    psci(PSCI_CPU_ON, 1, (uint64_t)sec_entry, 1);
    uint64_t v;
    uint32_t fail;
    asm volatile("ldxr %0, [%1]" : "=r"(v) : "r"(&word) : "memory");
    flag = 1;
    while (flag != 2) ;
    asm volatile("stxr %w0, %2, [%1]" : "=&r"(fail) : "r"(&word), "r"(v + 5) : "memory");
    printf_("stxr after another CPU's A-B-A: %s, word %ld\n", fail ? "failed" : "succeeded", word);
    return 0;
}
