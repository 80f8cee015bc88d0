/* Several CPUs (-smp 4) on the GICv2 board: PSCI CPU_ON / AFFINITY_INFO /
 * CPU_OFF, each CPU's MPIDR and banked GIC registers, a counter incremented by
 * every CPU with load/store-exclusive (it must come out exact), SGIs from CPU 0
 * to each secondary (WFI woken, source CPU in IAR), each secondary's own
 * virtual timer (PPI 27 of that CPU only).  CPU 0 prints everything after the
 * others are done, so the output does not depend on how the CPUs interleave. */
#include "smp.h"

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define NCPU 4
#define INCS 30000

static uint32_t d32(unsigned o) { return *(volatile uint32_t *)(GICD + o); }
static void wd32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICD + o) = v; }
static uint32_t c32(unsigned o) { return *(volatile uint32_t *)(GICC + o); }
static void wc32(unsigned o, uint32_t v) { *(volatile uint32_t *)(GICC + o) = v; }

SECONDARY_ENTRY(NCPU);
static volatile uint64_t counter;
static volatile uint32_t up[NCPU], done[NCPU], context[NCPU], targets[NCPU];
static volatile uint64_t mpidr[NCPU], sgi_iar[NCPU], timer_hppir[NCPU], timer_iar[NCPU];
static volatile uint32_t timer_other[NCPU];


static void add_many(void) {
    for (int i = 0; i < INCS; i++) {
        uint64_t v;
        uint32_t fail;
        do {
            asm volatile("ldaxr %0, [%2]\n add %0, %0, #1\n stlxr %w1, %0, [%2]"
                         : "=&r"(v), "=&r"(fail) : "r"(&counter) : "memory");
        } while (fail);
    }
}

static uint64_t read_mpidr(void) { uint64_t v; asm volatile("mrs %0, mpidr_el1" : "=r"(v)); return v; }

void secondary_main(uint64_t idx) {
    context[idx] = (uint32_t)idx;
    mpidr[idx] = read_mpidr();
    targets[idx] = d32(0x800) & 0xff;           /* GICD_ITARGETSR0: this CPU's own mask */
    wc32(0x004, 0xf0);                          /* PMR */
    wc32(0x000, 1);                             /* this CPU's interface on */
    asm volatile("dsb sy" ::: "memory");
    up[idx] = 1;
    add_many();
    /* its own virtual timer: PPI 27, pending on this CPU only */
    wd32(0x100, 1u << 27);                      /* GICD_ISENABLER0 (banked) */
    asm volatile("msr cntv_tval_el0, %0; msr cntv_ctl_el0, %1; isb" :: "r"(2000UL), "r"(1UL));
    uint64_t ctl;
    do { asm volatile("mrs %0, cntv_ctl_el0" : "=r"(ctl)); } while (!(ctl & 4));
    while ((c32(0x18) & 0x3ff) == 1023) ;       /* the GIC may see the line a little later */
    timer_hppir[idx] = c32(0x18);
    timer_iar[idx] = c32(0x0c);
    asm volatile("msr cntv_ctl_el0, %0; isb" :: "r"(0UL));
    wc32(0x10, (uint32_t)timer_iar[idx]);
    asm volatile("dsb sy" ::: "memory");
    done[idx] = 1;
    /* wait (WFI, interrupts masked at the CPU) for CPU 0's SGI */
    while ((c32(0x18) & 0x3ff) == 1023)
        asm volatile("wfi");
    uint32_t iar = c32(0x0c);
    sgi_iar[idx] = iar;
    wc32(0x10, iar);
    asm volatile("dsb sy" ::: "memory");
    done[idx] = 2;
    psci(PSCI_CPU_OFF, 0, 0, 0);
    printf_("CPU_OFF returned on CPU %d\n", (int)idx);
    for (;;) ;
}

int main(void) {
    printf_("cpu0 mpidr %lx\n", read_mpidr());
    printf_("migrate_info_type %ld\n", psci(PSCI_MIGRATE_INFO_TYPE, 0, 0, 0));
    wd32(0x000, 1);                             /* distributor on */
    wc32(0x004, 0xf0);
    wc32(0x000, 1);
    printf_("cpu0 itargetsr0 %x typer.cpus %d\n", d32(0x800) & 0xff, (d32(0x004) >> 5) & 7);
    for (int i = 0; i < NCPU; i++)
        printf_("affinity %d: %ld\n", i, psci(PSCI_AFFINITY_INFO, i, 0, 0));
    printf_("affinity level 1: %ld\n", psci(PSCI_AFFINITY_INFO, 0x100, 1, 0));
    printf_("affinity of 9: %ld\n", psci(PSCI_AFFINITY_INFO, 9, 0, 0));
    printf_("cpu_on 9: %ld\n", psci(PSCI_CPU_ON, 9, (uint64_t)sec_entry, 9));
    printf_("cpu_on 0: %ld\n", psci(PSCI_CPU_ON, 0, (uint64_t)sec_entry, 0));
    for (int i = 1; i < NCPU; i++)
        printf_("cpu_on %d: %ld\n", i, psci(PSCI_CPU_ON, i, (uint64_t)sec_entry, i));
    for (int i = 1; i < NCPU; i++)
        while (!up[i]) ;
    for (int i = 1; i < NCPU; i++)
        printf_("cpu_on %d again: %ld\n", i, psci(PSCI_CPU_ON, i, (uint64_t)sec_entry, i));
    add_many();
    for (int i = 1; i < NCPU; i++)
        while (done[i] != 1) ;
    printf_("counter %ld (expected %d)\n", counter, NCPU * INCS);
    for (int i = 1; i < NCPU; i++)
        printf_("cpu%d: context %d mpidr %lx itargetsr0 %x timer hppir %lx iar %lx\n", i,
                context[i], mpidr[i], targets[i], timer_hppir[i], timer_iar[i]);
    printf_("cpu0 hppir after the others' timers %x\n", c32(0x18));
    for (int i = 1; i < NCPU; i++) {
        wd32(0xf00, (1u << (16 + i)) | (4 + i));     /* SGI 4+i to CPU i */
        while (done[i] != 2) ;
        printf_("cpu%d took sgi: iar %lx\n", i, sgi_iar[i]);
    }
    for (int i = 1; i < NCPU; i++) {
        int64_t st;
        while ((st = psci(PSCI_AFFINITY_INFO, i, 0, 0)) != 1) ;
        printf_("affinity %d after CPU_OFF: %ld\n", i, st);
    }
    /* CPU 1 again, from the start */
    up[1] = 0;
    done[1] = 0;
    printf_("cpu_on 1 after off: %ld\n", psci(PSCI_CPU_ON, 1, (uint64_t)sec_entry, 1));
    while (!up[1]) ;
    while (done[1] != 1) ;
    printf_("counter %ld (expected %d)\n", counter, (NCPU + 1) * INCS);
    wd32(0xf00, (1u << 17) | 7);
    while (done[1] != 2) ;
    printf_("cpu1 took sgi: iar %lx\n", sgi_iar[1]);
    return 0;
}
