/* What one CPU changes, another sees (-smp 2, MMU on with shared tables):
 *   code: CPU 0 runs a function, CPU 1 rewrites its first instruction (then
 *         DC CVAU / IC IVAU), CPU 0 runs it again and gets the new result;
 *   TLB:  CPU 0 reads through a 2 MiB mapping, CPU 1 points the mapping
 *         elsewhere and broadcasts TLBI VMALLE1IS, CPU 0 reads the new page. */
#include "smp.h"

#define ALIAS_VA 0x80000000UL
#define PAGE_A 0x44000000UL
#define PAGE_B 0x44200000UL

SECONDARY_ENTRY(2);
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2[512] __attribute__((aligned(4096)));
static volatile uint32_t step;

/* the function CPU 1 rewrites: its own 4 KiB page */
asm(".text\n"
    ".balign 4096\n"
    ".global patched\n"
    "patched:\n"
    "    mov w0, #1\n"
    "    ret\n"
    ".balign 4096\n");
extern int patched(void);

#define BLOCK_NORMAL ((1UL << 10) | (3UL << 8) | (1UL << 2) | 1)   /* AF, inner shareable, attr 1 */
#define BLOCK_DEVICE ((1UL << 10) | 1)                             /* AF, attr 0 */

static void mmu_on(void) {
    asm volatile("msr mair_el1, %0" :: "r"(0xff00UL));
    /* T0SZ 25 (39-bit VAs, level 1 first), WB WA, inner shareable, 4 KiB, EPD1 */
    asm volatile("msr tcr_el1, %0" :: "r"(25UL | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 23)));
    asm volatile("msr ttbr0_el1, %0; isb" :: "r"(l1));
    uint64_t s;
    asm volatile("mrs %0, sctlr_el1" : "=r"(s));
    s |= 1 | (1 << 2) | (1 << 12);
    asm volatile("dsb sy; msr sctlr_el1, %0; isb" :: "r"(s) : "memory");
}

static void wait_step(uint32_t n) { while (step != n) ; asm volatile("dmb ish" ::: "memory"); }
static void set_step(uint32_t n) { asm volatile("dmb ish" ::: "memory"); step = n; }

void secondary_main(uint64_t idx) {
    (void)idx;
    mmu_on();
    set_step(1);
    wait_step(2);
    /* rewrite `patched`: mov w0, #2 */
    volatile uint32_t *insn = (volatile uint32_t *)(uintptr_t)patched;
    *insn = 0x52800040;
    asm volatile("dc cvau, %0; dsb ish; ic ivau, %0; dsb ish; isb" :: "r"(insn) : "memory");
    set_step(3);
    wait_step(4);
    /* point the alias at page B, for every CPU */
    l2[0] = PAGE_B | BLOCK_NORMAL;
    asm volatile("dsb ishst; tlbi vmalle1is; dsb ish; isb" ::: "memory");
    set_step(5);
    for (;;)
        asm volatile("wfi");
}

int main(void) {
    l1[0] = 0x00000000UL | BLOCK_DEVICE;
    l1[1] = 0x40000000UL | BLOCK_NORMAL;
    l1[2] = (uint64_t)l2 | 3;
    l2[0] = PAGE_A | BLOCK_NORMAL;
    *(volatile uint64_t *)PAGE_A = 0xaaaa;
    *(volatile uint64_t *)PAGE_B = 0xbbbb;
    mmu_on();
    printf_("cpu_on: %ld\n", psci(PSCI_CPU_ON, 1, (uint64_t)sec_entry, 1));
    wait_step(1);
    printf_("patched() before: %d\n", patched());
    printf_("patched() again: %d\n", patched());
    set_step(2);
    wait_step(3);
    asm volatile("isb");
    printf_("patched() after CPU 1 rewrote it: %d\n", patched());
    printf_("alias before: %lx\n", *(volatile uint64_t *)ALIAS_VA);
    set_step(4);
    wait_step(5);
    printf_("alias after CPU 1 moved it: %lx\n", *(volatile uint64_t *)ALIAS_VA);
    return 0;
}
