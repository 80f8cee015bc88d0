/* CLI test guest: busy-waits 2 seconds of the virtual counter (no WFI), prints
 * "waited\n" and powers off.  At a fixed 1 ns per instruction that is 2*10^9
 * instructions; with -icount shift=auto virtual time follows the host clock. */
    .section .text.boot, "ax"
    .global _start
    .type _start, %function
_start:
    mrs     x1, cntfrq_el0
    lsl     x1, x1, #1                // 2 s of ticks
    mrs     x2, cntvct_el0
    add     x2, x2, x1
1:  mrs     x3, cntvct_el0
    cmp     x3, x2
    b.lo    1b
    adr     x1, msg
    mov     x2, #0x09000000           // PL011 DR
2:  ldrb    w3, [x1], #1
    cbz     w3, 3f
    strb    w3, [x2]
    b       2b
3:  movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16      // PSCI SYSTEM_OFF
    hvc     #0
    b       .
    .size _start, . - _start
msg: .asciz "waited\n"
