/* For the -smp guests: PSCI calls over HVC, and the secondary CPUs' entry point
 * `sec_entry` (x0 = the context id CPU_ON passed: the CPU's index), which gives
 * each CPU a 4 KiB stack of sec_stacks and calls secondary_main(index). */
#ifndef SMP_H
#define SMP_H
#include "lib.h"

#define PSCI_AFFINITY_INFO 0xC4000004UL
#define PSCI_CPU_ON 0xC4000003UL
#define PSCI_CPU_OFF 0x84000002UL
#define PSCI_MIGRATE_INFO_TYPE 0x84000006UL

static inline int64_t psci(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 asm("x0") = fn;
    register uint64_t x1 asm("x1") = a1;
    register uint64_t x2 asm("x2") = a2;
    register uint64_t x3 asm("x3") = a3;
    asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
    return (int64_t)x0;
}

/* SECONDARY_ENTRY(n): the stacks of n CPUs and sec_entry (once per guest) */
#define SECONDARY_ENTRY(n)                                                        \
    uint8_t sec_stacks[n][4096] __attribute__((aligned(16)));                     \
    asm(".text\n.global sec_entry\nsec_entry:\n    ldr x1, =sec_stacks\n"         \
        "    add x2, x0, #1\n    lsl x2, x2, #12\n    add sp, x1, x2\n"            \
        "    bl secondary_main\n1:  b 1b\n")
extern char sec_entry[];
void secondary_main(uint64_t idx);
#endif
