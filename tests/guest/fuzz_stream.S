/* Fuzz guest: runs the words the test writes at `stream` (64 KiB) at EL1 (x0 = 0) or
 * EL0 (x0 != 0).  Every exception vector skips the instruction that trapped and goes
 * on, so a random stream keeps running until the budget ends, the guest powers off,
 * or it breaks its own vectors (an exception loop). */
    .section .text.boot, "ax"
    .global _start
_start:
    adr x1, vectors
    msr vbar_el1, x1
    ldr x2, =stream
    ldr x3, =stack_top
    mov sp, x3
    cbz x0, 1f
    msr sp_el0, x3
    msr elr_el1, x2
    msr spsr_el1, xzr          /* EL0t */
    isb
    eret
1:  br x2

    .balign 2048
vectors:
    .rept 16
    mrs x30, elr_el1
    add x30, x30, #4
    msr elr_el1, x30
    eret
    .balign 128
    .endr

    .balign 4096
    .global stream
stream:
    .space 65536
    .space 4096
stack_top:
