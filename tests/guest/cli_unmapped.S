/* CLI test guest: jumps to unmapped memory (0x10000000). */
    .section .text.boot, "ax"
    .global _start
_start:
    mov x0, #0x10000000
    br x0
