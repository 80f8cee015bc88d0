/* A firmware image (-bios; linked at 0 with link0.ld, flat binary): what a firmware
 * boot hands it.  It runs in place from flash bank 0 and prints over the PL011: its
 * PC, x0..x3 at entry (QEMU: all 0), the DTB magic at the start of RAM, the kernel
 * and initrd sizes and the command line from fw_cfg (selector and data register,
 * then DMA into RAM), the first word of the kernel by DMA; then powers off. */
#define UART 0x09000000
#define FWCFG 0x09020000
#define RAM 0x40000000
    .section .text.boot, "ax"
    .global _start
    .type _start, %function
_start:
    orr     x19, x0, x1
    orr     x19, x19, x2
    orr     x19, x19, x3
    movz    x20, #(UART >> 16), lsl #16
    movz    x21, #(FWCFG >> 16), lsl #16
    movk    x21, #(FWCFG & 0xffff)
    adr     x1, m_hello
    bl      puts
    adr     x0, _start
    bl      puthex
    adr     x1, m_regs
    bl      puts
    mov     x0, x19
    bl      puthex
    adr     x1, m_dtb
    bl      puts
    movz    x4, #(RAM >> 16), lsl #16
    ldr     w0, [x4]
    rev     w0, w0
    bl      puthex
    /* KERNEL_SIZE (0x08) and INITRD_SIZE (0x0b): selector (big-endian), data register */
    adr     x1, m_ksize
    bl      puts
    mov     w5, #0x0800                 // 0x0008 big-endian
    strh    w5, [x21, #8]
    ldr     w0, [x21]
    bl      puthex
    adr     x1, m_isize
    bl      puts
    mov     w5, #0x0b00
    strh    w5, [x21, #8]
    ldr     w0, [x21]
    bl      puthex
    /* CMDLINE_DATA (0x15) by DMA: descriptor at RAM + 1 MiB, data to RAM + 1 MiB + 256 */
    movz    x6, #(RAM >> 16), lsl #16
    add     x6, x6, #0x100000
    add     x7, x6, #0x100
    movz    w8, #0x0015, lsl #16
    movk    w8, #0xa                    // SELECT | READ
    rev     w8, w8
    str     w8, [x6]
    mov     w8, #200
    rev     w8, w8
    str     w8, [x6, #4]
    rev     x8, x7
    str     x8, [x6, #8]
    rev     x8, x6
    str     x8, [x21, #16]              // 64-bit write: starts the transfer
    adr     x1, m_cmd
    bl      puts
    mov     x1, x7
    bl      puts
    adr     x1, m_ctl
    bl      puts
    ldr     w0, [x6]
    bl      puthex
    /* the kernel's first 8 bytes (KERNEL_DATA, 0x11) by DMA, the address in two halves */
    movz    w8, #0x0011, lsl #16
    movk    w8, #0xa
    rev     w8, w8
    str     w8, [x6]
    mov     w8, #8
    rev     w8, w8
    str     w8, [x6, #4]
    rev     x8, x7
    str     x8, [x6, #8]
    lsr     x8, x6, #32
    rev     w8, w8
    str     w8, [x21, #16]
    rev     w8, w6
    str     w8, [x21, #20]              // the low half: starts the transfer
    adr     x1, m_kernel
    bl      puts
    ldr     x0, [x7]
    bl      puthex
    adr     x1, m_nl
    bl      puts
    movz    w0, #0x0008
    movk    w0, #0x8400, lsl #16        // PSCI SYSTEM_OFF
    hvc     #0
    b       .

puts:                                   // x1: NUL-terminated string
    ldrb    w3, [x1], #1
    cbz     w3, 1f
    strb    w3, [x20]
    b       puts
1:  ret

puthex:                                 // x0: 64-bit value, 16 hex digits
    mov     x9, #60
2:  lsr     x10, x0, x9
    and     x10, x10, #15
    cmp     x10, #10
    add     x11, x10, #'0'
    add     x12, x10, #('a' - 10)
    csel    x10, x11, x12, lt
    strb    w10, [x20]
    subs    x9, x9, #4
    b.pl    2b
    ret
    .size _start, . - _start

m_hello:  .asciz "firmware running at "
m_regs:   .asciz "\nx0|x1|x2|x3 at entry: "
m_dtb:    .asciz "\nDTB magic at RAM: "
m_ksize:  .asciz "\nkernel size: "
m_isize:  .asciz "\ninitrd size: "
m_cmd:    .asciz "\ncommand line: "
m_ctl:    .asciz "\nDMA control after: "
m_kernel: .asciz "\nkernel's first word: "
m_nl:     .asciz "\n"
