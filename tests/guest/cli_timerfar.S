/* CLI test guest: the virtual timer armed at CNTV_CVAL_EL0 = 2^63 (the counter gets
 * there after thousands of years), then WFI with nothing else to wake it. */
    .section .text.boot, "ax"
    .global _start
_start:
    mov x0, #1
    lsl x0, x0, #63
    msr cntv_cval_el0, x0
    mov x1, #1
    msr cntv_ctl_el0, x1
    isb
    wfi
    b .
