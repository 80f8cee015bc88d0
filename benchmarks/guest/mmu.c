/* MMU-on variants of the benchmarks (built with -DBENCH_MMU): crt0.S calls
 * mmu_enable() before main.  With -DBENCH_MMU_OFF too it does the same work but
 * leaves the MMU off: a twin with the same code and data layout, the fair
 * baseline (layout alone moves these workloads by several percent here).  It identity-maps the 128 MiB of RAM with 4 KiB pages
 * (4-level tables, 48-bit VA, normal write-back memory) and the PL011 with a
 * device page, then turns the MMU and caches on. */
#include "bench.h"

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE (128ULL << 20)
#define UART     0x09000000ULL

#define NL3 (RAM_SIZE >> 21)                    /* one L3 table per 2 MiB */
static uint64_t l0[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2ram[512] __attribute__((aligned(4096)));
static uint64_t l2io[512] __attribute__((aligned(4096)));
static uint64_t l3io[512] __attribute__((aligned(4096)));
static uint64_t l3[NL3][512] __attribute__((aligned(4096)));

#define TABLE   3ULL
#define PAGE    3ULL
#define AF      (1ULL << 10)
#define SH_IS   (3ULL << 8)
#define NORMAL  (AF | SH_IS | (0ULL << 2))     /* MAIR attr0 */
#define DEVICE  (AF | (1ULL << 2) | (3ULL << 53))  /* MAIR attr1, PXN+UXN */

void mmu_enable(void) {
    /* crt0 cleared .bss (our tables) before calling here */
    l0[0] = (uint64_t)l1 | TABLE;
    l1[0] = (uint64_t)l2io | TABLE;
    l1[1] = (uint64_t)l2ram | TABLE;
    l2io[(UART >> 21) & 511] = (uint64_t)l3io | TABLE;
    l3io[(UART >> 12) & 511] = UART | DEVICE | PAGE;
    for (uint64_t i = 0; i < NL3; i++) {
        l2ram[i] = (uint64_t)l3[i] | TABLE;
        uint64_t pa = RAM_BASE + (i << 21);
        for (uint64_t j = 0; j < 512; j++)
            l3[i][j] = (pa + (j << 12)) | NORMAL | PAGE;
    }
    uint64_t mair = 0x00ffULL;                  /* attr0 normal WB, attr1 Device-nGnRnE */
    uint64_t tcr = 16 | (1 << 8) | (1 << 10) | (3 << 12)          /* T0SZ 16, WB, inner shareable, 4K */
                 | (1 << 23)                                       /* EPD1: no TTBR1 walks */
                 | (2ULL << 30) | (4ULL << 32);                    /* TG1 4K, IPS 44 bits */
    __asm__ volatile(
        "msr mair_el1, %0\n\t"
        "msr tcr_el1, %1\n\t"
        "msr ttbr0_el1, %2\n\t"
        "isb\n\t"
        "tlbi vmalle1\n\t"
        "dsb ish\n\t"
        "isb\n\t"
        "mrs x9, sctlr_el1\n\t"
#ifdef BENCH_MMU_OFF
        "nop\n\t"                               /* layout twin: tables built, MMU left off */
#else
        "orr x9, x9, #1\n\t"                     /* M */
#endif
        "orr x9, x9, #4\n\t"                     /* C */
        "orr x9, x9, #0x1000\n\t"                /* I */
        "msr sctlr_el1, x9\n\t"
        "isb"
        :: "r"(mair), "r"(tcr), "r"((uint64_t)l0) : "x9", "memory");
}
