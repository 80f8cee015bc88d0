/* CLI test guest: the exception vectors are zeros (UDF #0), so the first exception
 * faults again at its own vector, forever: no instruction ever retires. */
    .section .text.boot, "ax"
    .global _start
_start:
    adr x0, vectors
    msr vbar_el1, x0
    isb
    .word 0x00000000
    .balign 2048
vectors:
    .space 2048
