/* CLI test guest: spins forever (for --max-insns). */
    .section .text.boot, "ax"
    .global _start
_start:
    b _start
