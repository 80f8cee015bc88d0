/* The event register: SEVL then WFE does not wait (the event is consumed), so
 * with CPU 1 busy counting, CPU 0's SEVL;WFE pair does not hand it the turn (a WFE
 * with no event would).  Deterministic here; on real hardware or QEMU the count
 * may move anyway (CPU 1 runs in parallel): not a QEMU comparison. */
#include "smp.h"

SECONDARY_ENTRY(2);
static volatile uint64_t count;
static volatile uint32_t go;


void secondary_main(uint64_t idx) {
    (void)idx;
    go = 1;
    for (;;)
        count++;
}

int main(void) {
    psci(PSCI_CPU_ON, 1, (uint64_t)sec_entry, 1);
    while (!go) ;
    uint64_t a = count;
    asm volatile("sevl; wfe" ::: "memory");
    uint64_t b = count;
    asm volatile("wfe" ::: "memory");
    uint64_t c = count;
    printf_("across sevl;wfe: %s; across wfe: %s\n", a == b ? "same" : "moved", b == c ? "same" : "moved");
    return 0;
}
