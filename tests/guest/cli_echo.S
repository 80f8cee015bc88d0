/* CLI test guest: echoes each byte read from the PL011 plus one ('a' -> 'b')
 * until it reads 'q', then powers off through PSCI. */
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x2, #0x09000000
1:  ldr     w3, [x2, #0x18]          // FR
    tbnz    w3, #4, 1b               // RXFE: wait for input
    ldr     w3, [x2]
    cmp     w3, #'q'
    b.eq    2f
    add     w3, w3, #1
    str     w3, [x2]
    b       1b
2:  movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16
    hvc     #0
