/* gdb stub test guest: waits for an interrupt that never comes (no timer armed, no
 * input): only gdb's Ctrl-C can stop it. */
    .section .text.boot, "ax"
    .global _start
_start:
    wfi
    b       _start
