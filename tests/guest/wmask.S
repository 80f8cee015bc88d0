/* Writes all-ones to ACTLR_EL1 and prints what reads back ("actlr 0x<16 hex>"), then
 * powers off: which bits a machine type lets software change (tests/test_golden.py). */
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x2, #0x09000000          // PL011 DR
    adr     x1, msg
1:  ldrb    w3, [x1], #1
    cbz     w3, 2f
    strb    w3, [x2]
    b       1b
2:  mov     x0, #-1
    msr     actlr_el1, x0
    isb
    mrs     x4, actlr_el1
    mov     x5, #60                  // 16 hex digits, most significant first
3:  lsr     x6, x4, x5
    and     x6, x6, #0xf
    cmp     x6, #10
    add     x7, x6, #'0'
    add     x8, x6, #('a' - 10)
    csel    x6, x7, x8, lo
    strb    w6, [x2]
    subs    x5, x5, #4
    b.ge    3b
    mov     w6, #'\n'
    strb    w6, [x2]
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16     // PSCI SYSTEM_OFF
    hvc     #0
    b       .
    .section .rodata
msg: .asciz "actlr 0x"
