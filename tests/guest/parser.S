/* The coverage tests' and examples/fuzz_parser.py's target: checks the 64-byte input
 * at INPUT (0x40200000) one byte at a time -- 'B', 'U', 'G', '!' -- so that each
 * byte it gets right reaches new code; all four right reach a planted bug (a store
 * through a wild pointer: a data abort the guest has no vector for).  Otherwise it
 * powers off. */
    .section .text.boot, "ax"
    .global _start, bug, out
    .type _start, %function
_start:
    movz    x1, #0x4020, lsl #16
    ldrb    w2, [x1]
    cmp     w2, #'B'
    b.ne    out
    ldrb    w2, [x1, #1]
    cmp     w2, #'U'
    b.ne    out
    ldrb    w2, [x1, #2]
    cmp     w2, #'G'
    b.ne    out
    ldrb    w2, [x1, #3]
    cmp     w2, #'!'
    b.ne    out
bug:
    movz    x3, #0xdead, lsl #16
    str     x2, [x3]                  // the planted bug
out:
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16      // PSCI SYSTEM_OFF
    hvc     #0
    b       .
    .size _start, . - _start
