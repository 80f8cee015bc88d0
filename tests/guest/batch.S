/* Machine.run_inputs' target (tests/test_run_inputs.py): the 64-byte input at INPUT
 * (0x40200000) picks what a run does by its first byte, so that one batch takes
 * every path a run can take:
 *   'P'  print the input's next bytes (up to a NUL) over the PL011: MMIO, a run
 *        that calls the host
 *   'L'  spin: the run spends its budget
 *   'W'  store the input's second byte into one word of each of 64 pages from
 *        0x40300000 (pages the next restore must copy back), power off
 *   'X'  an undefined instruction with no vector to take it
 *   'R'  count down a loop of its own, set the PL031's match register (the RTC
 *        plans a new deadline: the run leaves the jitted loop with EXIT_TIMER and
 *        the host finishes it), then hash
 *   else hash the 64 bytes (djb2) into INPUT + 64 and power off through PSCI. */
    .section .text.boot, "ax"
    .global _start, entry
    .type _start, %function
_start:
    movz    x1, #0x4020, lsl #16      // INPUT
entry:
    ldrb    w2, [x1]
    cmp     w2, #'P'
    b.eq    print
    cmp     w2, #'L'
    b.eq    spin
    cmp     w2, #'W'
    b.eq    wide
    cmp     w2, #'X'
    b.eq    undef
    cmp     w2, #'R'
    b.eq    rtc
hash:
    mov     x2, #64
    mov     x3, #0x1505
    mov     x4, x1
1:  ldrb    w5, [x4], #1
    add     x3, x3, x3, lsl #5
    add     x3, x3, x5
    subs    x2, x2, #1
    b.ne    1b
    str     x3, [x4]
    b       off
print:
    mov     x3, #0x09000000           // PL011 DR
    add     x4, x1, #1
2:  ldrb    w5, [x4], #1
    cbz     w5, off
    strb    w5, [x3]
    b       2b
spin:
    b       spin
wide:
    ldrb    w5, [x1, #1]
    movz    x4, #0x4030, lsl #16
    mov     x6, #64
3:  str     x5, [x4]
    add     x4, x4, #4096
    subs    x6, x6, #1
    b.ne    3b
    b       off
undef:
    udf     #0
rtc:
    mov     x6, #3
4:  subs    x6, x6, #1
    b.ne    4b
    movz    x4, #0x0901, lsl #16      // PL031
    mov     w5, #0x7fffffff
    str     w5, [x4, #4]              // MR
    b       hash
off:
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16      // PSCI SYSTEM_OFF
    hvc     #0
    b       .
    .size _start, . - _start
