/* A tiny arm64 Linux "Image" for the boot-protocol tests: the 64-byte Image header
   (text_offset, image_size and flags are patched by tests/test_boot_protocol.py),
   then code that hands the boot registers to bootinfo.c.  Position independent:
   it runs wherever the loader puts it. */
    .section .text.head, "ax"
    .global _head
_head:
    b       start                   // code0
    .long   0                       // code1
    .quad   0                       // text_offset
    .quad   0                       // image_size
    .quad   0                       // flags
    .quad   0, 0, 0                 // res2..res4
    .ascii  "ARM\x64"               // magic at 0x38
    .long   0                       // res5
start:
    adr     x9, stack_top
    mov     sp, x9
    adr     x5, _head               // where we were loaded
    mrs     x6, CurrentEL
    mrs     x7, DAIF
    bl      bootinfo                // (x0, x1, x2, x3, x4, load, el, daif)
1:  b       1b

    .balign 16
    .space  8192
stack_top:
