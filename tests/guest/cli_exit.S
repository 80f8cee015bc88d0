/* CLI test guest: prints, then exits via semihosting EXIT_EXTENDED with status 42
 * (when semihosting is disabled HLT is undefined and there is no vector: the
 * emulator reports an undefined instruction). */
    .section .text.boot, "ax"
    .global _start
_start:
    adr     x1, msg
    mov     x2, #0x09000000
1:  ldrb    w3, [x1], #1
    cbz     w3, 2f
    strb    w3, [x2]
    b       1b
2:  adr     x1, block
    mov     w0, #0x20                // SYS_EXIT_EXTENDED
    hlt     #0xf000
    b       .
    .section .rodata
    .balign 8
block: .quad 0x20026, 42             // ADP_Stopped_ApplicationExit, status
msg: .asciz "exiting with 42\n"
