/* A standalone assembly guest: small algorithms (loop sum, prime sieve, insertion
 * sort, CRC32 of a pseudo-random buffer, recursive Fibonacci, LCG + 128-bit
 * multiply) printing their results in hex over the PL011, then PSCI SYSTEM_OFF. */
    .arch_extension crc
    .equ    UART, 0x09000000

    .section .text.boot, "ax"
    .global _start
_start:
    ldr     x0, =stack_top
    mov     sp, x0

    /* sum 1..1000000 */
    mov     x1, #0
    ldr     x2, =1000000
1:  add     x1, x1, x2
    subs    x2, x2, #1
    b.ne    1b
    adr     x0, s_sum
    bl      print_kv

    /* primes below 20000: byte sieve */
    ldr     x3, =sieve
    ldr     x4, =20000
    mov     x5, #0
2:  strb    wzr, [x3, x5]
    add     x5, x5, #1
    cmp     x5, x4
    b.lo    2b
    mov     x5, #2
    mov     x1, #0                  // count
3:  ldrb    w6, [x3, x5]
    cbnz    w6, 5f
    add     x1, x1, #1
    mul     x7, x5, x5
    mov     w8, #1
4:  cmp     x7, x4
    b.hs    5f
    strb    w8, [x3, x7]
    add     x7, x7, x5
    b       4b
5:  add     x5, x5, #1
    cmp     x5, x4
    b.lo    3b
    adr     x0, s_primes
    bl      print_kv

    /* fill 256 words with an LCG, insertion sort them, print a checksum */
    ldr     x3, =words
    ldr     x9, =0x5851f42d4c957f2d
    mov     x10, #12345
    mov     x5, #0
6:  madd    x10, x10, x9, x9
    lsr     x11, x10, #17
    str     x11, [x3, x5, lsl #3]
    add     x5, x5, #1
    cmp     x5, #256
    b.lo    6b
    mov     x5, #1
7:  ldr     x11, [x3, x5, lsl #3]   // key
    sub     x6, x5, #1
8:  tbnz    x6, #63, 9f
    ldr     x12, [x3, x6, lsl #3]
    cmp     x12, x11
    b.ls    9f
    add     x13, x6, #1
    str     x12, [x3, x13, lsl #3]
    sub     x6, x6, #1
    b       8b
9:  add     x13, x6, #1
    str     x11, [x3, x13, lsl #3]
    add     x5, x5, #1
    cmp     x5, #256
    b.lo    7b
    mov     x1, #0                  // sorted? and a position-weighted sum
    mov     x5, #1
    mov     x14, #1
10:
    ldr     x11, [x3, x5, lsl #3]
    sub     x13, x5, #1
    ldr     x12, [x3, x13, lsl #3]
    cmp     x12, x11
    csel    x14, xzr, x14, hi
    madd    x1, x11, x5, x1
    add     x5, x5, #1
    cmp     x5, #256
    b.lo    10b
    eor     x1, x1, x14, lsl #63
    adr     x0, s_sort
    bl      print_kv

    /* CRC32 (crc32x) and CRC32C (crc32cb) of the 2 KiB of sorted words */
    mov     w1, #-1
    mov     w2, #-1
    mov     x5, #0
11: ldr     x11, [x3, x5]
    crc32x  w1, w1, x11
    add     x5, x5, #8
    cmp     x5, #2048
    b.lo    11b
    mvn     w1, w1
    adr     x0, s_crc
    bl      print_kv
    mov     x5, #0
12: ldrb    w11, [x3, x5]
    crc32cb w2, w2, w11
    add     x5, x5, #1
    cmp     x5, #2048
    b.lo    12b
    mvn     w1, w2
    adr     x0, s_crcc
    bl      print_kv

    /* recursive fib(22) */
    mov     x0, #22
    bl      fib
    mov     x1, x0
    adr     x0, s_fib
    bl      print_kv

    /* 128-bit products: sum of umulh/smulh/mul over the LCG */
    mov     x1, #0
    mov     x2, #0
    mov     x5, #1000
13: madd    x10, x10, x9, x9
    umulh   x11, x10, x9
    smulh   x12, x10, x10
    add     x1, x1, x11
    eor     x2, x12, x2, ror #7
    subs    x5, x5, #1
    b.ne    13b
    eor     x1, x1, x2
    adr     x0, s_mul
    bl      print_kv

    adr     x0, s_exit
    bl      puts
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16    // PSCI SYSTEM_OFF
    hvc     #0
    b       .

fib:                                // x0 = n -> fib(n)
    cmp     x0, #2
    b.hs    1f
    ret
1:  stp     x29, x30, [sp, #-32]!
    mov     x29, sp
    str     x19, [sp, #16]
    mov     x19, x0
    sub     x0, x0, #1
    bl      fib
    str     x0, [sp, #24]
    sub     x0, x19, #2
    bl      fib
    ldr     x1, [sp, #24]
    add     x0, x0, x1
    ldr     x19, [sp, #16]
    ldp     x29, x30, [sp], #32
    ret

putc:                               // w0
    mov     x16, #UART
1:  ldr     w17, [x16, #0x18]
    tbnz    w17, #5, 1b
    str     w0, [x16]
    ret

puts:                               // x0 = string
    mov     x15, x30
    mov     x14, x0
1:  ldrb    w0, [x14], #1
    cbz     w0, 2f
    bl      putc
    b       1b
2:  mov     x30, x15
    ret

print_kv:                           // x0 = label, x1 = value: "label 0x...\n"
    stp     x29, x30, [sp, #-32]!
    str     x1, [sp, #16]
    bl      puts
    ldr     x13, [sp, #16]
    mov     w0, #'0'
    bl      putc
    mov     w0, #'x'
    bl      putc
    mov     x12, #60
1:  lsr     x0, x13, x12
    and     x0, x0, #15
    cmp     x0, #10
    add     x11, x0, #'0'
    add     x0, x0, #('a' - 10)
    csel    x0, x11, x0, lo
    bl      putc
    subs    x12, x12, #4
    b.pl    1b
    mov     w0, #'\n'
    bl      putc
    ldp     x29, x30, [sp], #32
    ret

    .section .rodata
s_sum:    .asciz "sum 1..1000000 = "
s_primes: .asciz "primes below 20000 = "
s_sort:   .asciz "insertion sort of 256 LCG words: weighted sum (bit 63 flipped when sorted) = "
s_crc:    .asciz "crc32x of the sorted words = "
s_crcc:   .asciz "crc32cb of the sorted words = "
s_fib:    .asciz "fib(22) = "
s_mul:    .asciz "umulh/smulh mix = "
s_exit:   .asciz "EXIT 0\n"

    .section .bss
    .balign 16
sieve:  .skip 20000
    .balign 16
words:  .skip 2048
    .balign 16
        .skip 8192
stack_top:
