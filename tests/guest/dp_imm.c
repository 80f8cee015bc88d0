/* Data processing -- immediate: ADR/ADRP, ADD/SUB (immediate) and flags,
 * logical (immediate), MOVZ/MOVN/MOVK, bitfield (SBFM/BFM/UBFM and aliases), EXTR. */
#include "insn.h"

static char far_data[8] __attribute__((aligned(4096)));

static void adr_tests(void) {
    uint64_t r0, r1, r2, r3, pc;
    asm volatile("1: adr %0, 1b\n\t"
                 "adr %1, 1b + 0xfffff\n\t"
                 "adr %2, 1b - 0xffff0\n\t"
                 "adr %3, 1b + 3\n\t"
                 : "=r"(pc), "=r"(r1), "=r"(r2), "=r"(r3));
    printf_("adr pc=%lx +0xfffff:%lx -0xffff0:%lx +3:%lx\n", pc, r1 - pc, pc - r2, r3 - pc);
    asm volatile("1: adr %0, 1b\n\t"
                 "adrp %1, 1b\n\t"
                 "adrp %2, 1b + 0x12345678\n\t"
                 "adrp %3, 1b - 0x3fffffff\n\t"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3));
    printf_("adrp pc=%lx page=%lx +0x12345678:%lx -0x3fffffff:%lx\n", r0, r1, r2, r3);
    asm volatile("adrp %0, far_data\n\tadd %0, %0, :lo12:far_data" : "=r"(r0));
    printf_("adrp+add far_data ok=%d\n", r0 == (uint64_t)far_data);
}

static void sp_tests(void) {
    uint64_t sp0, r1, r2, r3;
    asm volatile("mov %0, sp\n\t"
                 "add %1, sp, #0x10\n\t"
                 "sub %2, sp, #0x1, lsl #12\n\t"
                 "mov x9, sp\n\t"
                 "sub sp, sp, #0x30\n\t"
                 "mov %3, sp\n\t"
                 "add sp, sp, #0x30\n\t"
                 : "=r"(sp0), "=r"(r1), "=r"(r2), "=r"(r3) :: "x9");
    printf_("sp: add#0x10 %lx sub#1,lsl12 %lx sub/add sp %lx\n", r1 - sp0, sp0 - r2, sp0 - r3);
    asm volatile("mov %0, sp\n\t"
                 "cmp sp, #0x40\n\t"
                 "cset %1, hi\n\t"
                 "adds %2, sp, #0\n\t"
                 "mrs %3, nzcv\n\t"
                 : "=r"(sp0), "=r"(r1), "=r"(r2), "=r"(r3) :: "cc");
    printf_("sp: cmp sp hi=%ld adds xzr? %d nzcv=%lx\n", r1, r2 == sp0, r3 >> 28);
}

int main(void) {
    puts_("== adr/adrp\n");
    adr_tests();
    sp_tests();

    puts_("== add/sub immediate\n");
    T("add %[d], %[a], #0");
    T("add %[d], %[a], #4095");
    T("add %[d], %[a], #0xabc, lsl #12");
    T("sub %[d], %[a], #1");
    T("sub %[d], %[a], #0xfff, lsl #12");
    T("add %w[d], %w[a], #1");
    T("add %w[d], %w[a], #0x800, lsl #12");
    T("sub %w[d], %w[a], #4095");
    TF("adds %[d], %[a], #1");
    TF("adds %[d], %[a], #0xfff, lsl #12");
    TF("subs %[d], %[a], #1");
    TF("subs %[d], %[a], #0");
    TF("adds %w[d], %w[a], #1");
    TF("subs %w[d], %w[a], #1");
    TF("subs %w[d], %w[a], #0x1, lsl #12");
    TF("cmp %[a], #100");
    TF("cmn %[a], #1");
    TF("cmp %w[a], #7");
    TF("cmn %w[a], #0xfff");

    puts_("== logical immediate\n");
    T("and %[d], %[a], #0xff");
    T("and %[d], %[a], #0xaaaaaaaaaaaaaaaa");
    T("and %[d], %[a], #0x00ff00ff00ff00ff");
    T("orr %[d], %[a], #0x8000000000000000");
    T("orr %[d], %[a], #0x7ffffffffffffffe");
    T("eor %[d], %[a], #0x5555555555555555");
    T("eor %[d], %[a], #0x0f0f0f0f0f0f0f0f");
    T("eor %[d], %[a], #0xfffffffffffffffe");
    T("and %w[d], %w[a], #0xf0f0f0f0");
    T("orr %w[d], %w[a], #0x1");
    T("eor %w[d], %w[a], #0x80000001");
    T("eor %w[d], %w[a], #0x33333333");
    T("mov %[d], #0x1111111111111111");
    T("mov %w[d], #0xfffefffe");
    TF("ands %[d], %[a], #0x8000000000000001");
    TF("ands %[d], %[a], #0x3ffffffff");
    TF("ands %w[d], %w[a], #0x80000000");
    TF("tst %[a], #0xe0");
    TF("tst %w[a], #0xffff");

    puts_("== move wide\n");
    T("movz %[d], #0x1234");
    T("movz %[d], #0xabcd, lsl #16");
    T("movz %[d], #0xffff, lsl #32");
    T("movz %[d], #0x8001, lsl #48");
    T("movz %w[d], #0xbeef, lsl #16");
    T("movn %[d], #0");
    T("movn %[d], #0x1234, lsl #16");
    T("movn %[d], #0x8000, lsl #48");
    T("movn %w[d], #0x1");
    T("movn %w[d], #0xffff, lsl #16");
    T("movk %[d], #0x1234");
    T("movk %[d], #0x5678, lsl #16");
    T("movk %[d], #0x9abc, lsl #32");
    T("movk %[d], #0xdef0, lsl #48");
    T("movk %w[d], #0xbeef");
    T("movk %w[d], #0xcafe, lsl #16");

    puts_("== bitfield\n");
    T("sbfm %[d], %[a], #0, #7");
    T("sbfm %[d], %[a], #60, #3");
    T("sbfm %[d], %[a], #4, #63");
    T("ubfm %[d], %[a], #63, #62");
    T("bfm %[d], %[a], #8, #3");
    T("bfm %[d], %[a], #61, #59");
    T("sxtb %[d], %w[a]");
    T("sxth %[d], %w[a]");
    T("sxtw %[d], %w[a]");
    T("sxtb %w[d], %w[a]");
    T("sxth %w[d], %w[a]");
    T("uxtb %w[d], %w[a]");
    T("uxth %w[d], %w[a]");
    T("lsl %[d], %[a], #1");
    T("lsl %[d], %[a], #63");
    T("lsr %[d], %[a], #1");
    T("lsr %[d], %[a], #63");
    T("asr %[d], %[a], #1");
    T("asr %[d], %[a], #63");
    T("lsl %w[d], %w[a], #31");
    T("lsr %w[d], %w[a], #31");
    T("asr %w[d], %w[a], #31");
    T("asr %w[d], %w[a], #4");
    T("sbfx %[d], %[a], #4, #8");
    T("sbfx %[d], %[a], #32, #32");
    T("ubfx %[d], %[a], #4, #8");
    T("ubfx %[d], %[a], #1, #63");
    T("sbfiz %[d], %[a], #4, #8");
    T("ubfiz %[d], %[a], #60, #4");
    T("bfi %[d], %[a], #8, #12");
    T("bfi %[d], %[a], #0, #64");
    T("bfxil %[d], %[a], #56, #8");
    T("bfi %[d], xzr, #4, #40");
    T("sbfx %w[d], %w[a], #28, #4");
    T("ubfx %w[d], %w[a], #16, #16");
    T("sbfiz %w[d], %w[a], #30, #2");
    T("bfi %w[d], %w[a], #3, #5");
    T("bfxil %w[d], %w[a], #0, #32");
    T("bfm %w[d], %w[a], #31, #30");

    puts_("== extract\n");
    T("extr %[d], %[a], %[b], #0");
    T("extr %[d], %[a], %[b], #1");
    T("extr %[d], %[a], %[b], #32");
    T("extr %[d], %[a], %[b], #63");
    T("extr %w[d], %w[a], %w[b], #0");
    T("extr %w[d], %w[a], %w[b], #16");
    T("extr %w[d], %w[a], %w[b], #31");
    T("ror %[d], %[a], #13");
    T("ror %w[d], %w[a], #7");
    return 0;
}
