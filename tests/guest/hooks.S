/* For the hook and run-control tests (tests/test_hooks.py): a counted loop, a call,
 * a store, then power-off.  Labels are global so the tests can find them. */
    .section .text.boot, "ax"
    .global _start, loop, body, after, func, done, spin, cell
    .type _start, %function
_start:
    mov     x0, #0
    mov     x1, #10
loop:
body:
    add     x0, x0, #1
    subs    x1, x1, #1
    b.ne    loop
after:
    bl      func
    adr     x4, cell
    str     x0, [x4]
    ldr     x5, [x4]
    mov     x6, #0x09000000           // PL011 data register
    mov     w7, #'!'
    strb    w7, [x6]
done:
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16      // PSCI SYSTEM_OFF
    hvc     #0
spin:
    b       spin
func:
    add     x0, x0, #100
    ret
    .size _start, . - _start
    .data
cell: .quad 0
