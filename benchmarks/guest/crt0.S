/* Start-up for benchmark guests (same as tests/guest/crt0.S): stack, bss, main(),
 * then power off through PSCI.  Kept here so benchmarks do not move with tests/. */
    .section .text.boot, "ax"
    .global _start
    .type _start, %function
_start:
    ldr     x0, =__stack_top
    mov     sp, x0
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    str     xzr, [x0], #8
    b       1b
2:
#ifdef BENCH_FPSIMD
    mrs     x0, cpacr_el1       /* "-neon" builds: compiled code may use FP/SIMD anywhere */
    orr     x0, x0, #(3 << 20)
    msr     cpacr_el1, x0
    isb
#endif
#ifdef BENCH_MMU
    bl      mmu_enable          /* MMU-on variants: identity map with 4K pages (mmu.c) */
#endif
    bl      main
    bl      guest_exit
    b       .
    .size _start, . - _start
