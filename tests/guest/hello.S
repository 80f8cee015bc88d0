/* The demo guest: prints over the PL011 and powers off through PSCI. */
    .section .text.boot, "ax"
    .global _start
    .type _start, %function
_start:
    adr     x1, msg
    mov     x2, #0x09000000          // PL011 DR
1:  ldrb    w3, [x1], #1
    cbz     w3, 2f
    strb    w3, [x2]
    b       1b
2:  movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16     // PSCI SYSTEM_OFF
    hvc     #0
    b       .
    .size _start, . - _start
    .section .rodata
msg: .asciz "Hello from pyaarch64!\n"
