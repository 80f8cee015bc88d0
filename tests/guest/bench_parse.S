/* The fuzz-loop benchmark's target (benchmarks/restore.py): hash the 64-byte input
 * at INPUT (djb2 over its bytes, about 330 instructions), store the hash after it,
 * power off through PSCI.  `done` is where a harness that runs until an address
 * stops (unicorn's emu_start(until=)). */
    .section .text.boot, "ax"
    .global _start, done
    .type _start, %function
_start:
    movz    x1, #0x4020, lsl #16      // INPUT = 0x40200000
    mov     x2, #64
    mov     x3, #0x1505
1:  ldrb    w4, [x1], #1
    add     x3, x3, x3, lsl #5
    add     x3, x3, x4
    subs    x2, x2, #1
    b.ne    1b
    str     x3, [x1]                  // the hash, at INPUT + 64
done:
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16      // PSCI SYSTEM_OFF
    hvc     #0
    b       .
    .size _start, . - _start
