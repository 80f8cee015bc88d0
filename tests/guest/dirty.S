/* Writes memory every way a store reaches RAM and never ends: plain and pair stores
 * over 16 pages, DC ZVA over 8 pages it filled with ones, and a store into its own
 * code (followed by IC IVAU) that changes what the next iteration adds to x3.  For
 * the fast snapshot restore's tests (tests/test_restore.py): whatever it wrote since
 * a snapshot must be put back. */
    .section .text.boot, "ax"
    .global _start, patched
    .type _start, %function
_start:
    adrp    x1, buf
    add     x1, x1, :lo12:buf
    adrp    x5, zbuf
    add     x5, x5, :lo12:zbuf
    mov     x6, #0
    mvn     x7, xzr
0:  str     x7, [x5, x6]              // zbuf: all ones
    add     x6, x6, #8
    cmp     x6, #(8 * 4096)
    b.lo    0b
    mov     x2, #0                    // iteration
    mov     x3, #0                    // sum of what `patched` added
loop:
    and     x4, x2, #15               // page 0..15
    lsr     x6, x2, #4
    and     x6, x6, #255              // pair 0..255 in the page
    lsl     x4, x4, #12
    add     x4, x4, x6, lsl #4
    add     x4, x1, x4
    eor     x8, x2, x3
    stp     x2, x8, [x4]
    str     w3, [x4]
    tst     x2, #63
    b.ne    1f
    lsr     x6, x2, #6                // every 64th: zero 64 bytes of zbuf
    and     x6, x6, #511
    add     x6, x5, x6, lsl #6
    dc      zva, x6
1:  tst     x2, #255
    b.ne    2f
    adr     x9, patched               // every 256th: patched = add x3, x3, #((x2 >> 8) & 0xfff)
    lsr     x10, x2, #8
    and     x10, x10, #0xfff
    movz    w11, #0x0063
    movk    w11, #0x9100, lsl #16
    orr     w11, w11, w10, lsl #10
    str     w11, [x9]
    dc      cvau, x9
    dsb     ish
    ic      ivau, x9
    dsb     ish
    isb
2:
patched:
    add     x3, x3, #0
    add     x2, x2, #1
    b       loop
    .size _start, . - _start

    .bss
    .balign 4096
buf:  .skip 16 * 4096
zbuf: .skip 8 * 4096
