/* The virt board's CFI flash as a guest sees it (bank 1 at 0x04000000, no drive: QEMU's
 * blank bank): the Intel command set -- read ID, CFI query, status, block erase, word
 * program, buffered program, lock commands, an unknown command -- at 8/16/32-bit
 * widths, and code programmed into the flash and executed there, then erased and
 * programmed again (the CPU must run the new code, not what it decoded before). */
#include "lib.h"

#define BANK 0x04000000UL
#define SECTOR 0x40000UL

static void w32(unsigned long off, uint32_t v) { *(volatile uint32_t *)(BANK + off) = v; }
static uint32_t r32(unsigned long off) { return *(volatile uint32_t *)(BANK + off); }
static uint16_t r16(unsigned long off) { return *(volatile uint16_t *)(BANK + off); }
static uint8_t r8(unsigned long off) { return *(volatile uint8_t *)(BANK + off); }
static uint64_t r64(unsigned long off) { return *(volatile uint64_t *)(BANK + off); }

#define CMD(c) ((uint32_t)(c) * 0x00010001u)

static void program_word(unsigned long off, uint32_t v) {
    w32(off, CMD(0x40));
    w32(off, v);
    printf_("  program %lx <- %x: status %x\n", off, v, r32(off));
}

static void erase(unsigned long off) {
    w32(off, CMD(0x20));
    w32(off, CMD(0xd0));
    printf_("  erase %lx: status %x\n", off, r32(off));
}

typedef int (*fn_t)(void);

int main(void) {
    puts_("== read array (blank)\n");
    printf_("r32 %x r16 %x r8 %x r64 %lx\n", r32(0), r16(2), r8(3), r64(8));

    puts_("== read ID (0x90)\n");
    w32(0, CMD(0x90));
    for (unsigned long o = 0; o < 0x10; o += 4)
        printf_("id[%lx] r32 %x r16 %x r8 %x\n", o, r32(o), r16(o), r8(o));
    printf_("lock status of sector 3: %x\n", r32(3 * SECTOR + 8));
    w32(0, CMD(0xff));

    puts_("== CFI query (0x98)\n");
    w32(0x55 * 4, CMD(0x98));
    for (unsigned long i = 0x10; i < 0x52; i++)
        printf_("%x%c", r32(i * 4) & 0xff, (i & 15) == 15 ? '\n' : ' ');
    puts_("\n");
    printf_("query r16 %x r8 %x r32 past the table %x\n", r16(0x10 * 4), r8(0x11 * 4), r32(0x60 * 4));
    w32(0, CMD(0xff));
    printf_("back to read array: %x\n", r32(0x40));

    puts_("== status (0x70), clear status (0x50)\n");
    w32(0, CMD(0x70));
    printf_("status r32 %x r16 %x r8 %x\n", r32(0), r16(0), r8(0));
    w32(0, CMD(0x50));
    printf_("after clear (read array): %x\n", r32(0));
    w32(0, CMD(0x70));
    printf_("status after clear: %x\n", r32(0));
    w32(0, CMD(0xff));

    puts_("== erase, program\n");
    erase(SECTOR);
    w32(0, CMD(0xff));
    printf_("erased: %x %x\n", r32(SECTOR), r32(2 * SECTOR - 4));
    program_word(SECTOR + 0x10, 0x12345678);
    program_word(SECTOR + 0x14, 0x0000ffff);
    w32(0, CMD(0xff));
    printf_("read back: %x %x %x %lx\n", r32(SECTOR + 0x10), r32(SECTOR + 0x14), r32(SECTOR + 0x18),
            r64(SECTOR + 0x10));

    puts_("== buffered program (0xe8)\n");
    unsigned long b = SECTOR + 0x1000;
    w32(b, CMD(0xe8));
    printf_("  status %x\n", r32(b));
    w32(b, CMD(7));                      /* 8 words */
    for (unsigned i = 0; i < 8; i++)
        w32(b + 4 * i, 0xa0000000u + i);
    w32(b, CMD(0xd0));
    printf_("  confirmed: status %x\n", r32(b));
    w32(0, CMD(0xff));
    for (unsigned i = 0; i < 9; i++)
        printf_("%x ", r32(b + 4 * i));
    puts_("\n");

    puts_("== lock commands, unknown command\n");
    w32(SECTOR, CMD(0x60));
    w32(SECTOR, CMD(0x01));
    printf_("lock: status %x\n", r32(SECTOR));
    w32(SECTOR, CMD(0x60));
    w32(SECTOR, CMD(0xd0));
    printf_("unlock: status %x\n", r32(SECTOR));
    w32(0, CMD(0x77));
    printf_("unknown command -> read array: %x\n", r32(SECTOR + 0x10));

    puts_("== code in flash\n");
    unsigned long c = 2 * SECTOR;
    erase(c);
    program_word(c, 0x52800540);          /* mov w0, #42 */
    program_word(c + 4, 0xd65f03c0);      /* ret */
    w32(0, CMD(0xff));
    fn_t f = (fn_t)(BANK + c);
    printf_("call: %d\n", f());
    printf_("call again: %d\n", f());
    erase(c);
    program_word(c, 0x52800ee0);          /* mov w0, #119 */
    program_word(c + 4, 0xd65f03c0);
    w32(0, CMD(0xff));
    printf_("after erase and program: %d\n", f());
    w32(c, CMD(0x40));                    /* a program over it (QEMU writes the word as given) */
    w32(c, 0x52800000);                   /* mov w0, #0 */
    w32(0, CMD(0xff));
    printf_("after programming over it: %d\n", f());
    return 0;
}
