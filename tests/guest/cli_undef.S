/* CLI test guest: executes UDF #0 with no vector table set up. */
    .section .text.boot, "ax"
    .global _start
    .type _start, %function
_start:
    .word 0x00000000
    .size _start, . - _start
