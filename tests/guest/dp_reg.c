/* Data processing -- register: shifted/extended add/sub, logical, ADC/SBC,
 * CCMP/CCMN, the CSEL family, multiply/divide, variable shifts, CRC32/CRC32C,
 * REV/RBIT/CLZ/CLS. */
#include "insn.h"
asm(".arch_extension crc");

static void ext_sp_tests(void) {
    uint64_t sp0, r1, r2, r3;
    asm volatile("mov %0, sp\n\t"
                 "mov x9, #0x18\n\t"
                 "add %1, sp, x9\n\t"                 /* extended form: uxtx */
                 "sub %2, sp, w9, uxtw #4\n\t"
                 "mov x10, sp\n\t"
                 "sub sp, sp, x9, lsl #1\n\t"
                 "mov %3, sp\n\t"
                 "mov sp, x10\n\t"
                 : "=r"(sp0), "=r"(r1), "=r"(r2), "=r"(r3) :: "x9", "x10");
    printf_("ext sp: add %lx sub uxtw#4 %lx sub lsl#1 %lx\n", r1 - sp0, sp0 - r2, sp0 - r3);
    asm volatile("mov %0, sp\n\t"
                 "mov x9, #-16\n\t"
                 "cmp sp, x9, sxtx\n\t"
                 "cset %1, lo\n\t"
                 "adds %2, sp, w9, sxtw\n\t"
                 "mrs %3, nzcv\n\t"
                 : "=r"(sp0), "=r"(r1), "=r"(r2), "=r"(r3) :: "x9", "cc");
    printf_("ext sp: cmp lo=%ld adds sxtw %lx nzcv=%lx\n", r1, sp0 - r2, r3 >> 28);
}

int main(void) {
    puts_("== add/sub shifted register\n");
    T("add %[d], %[a], %[b]");
    T("add %[d], %[a], %[b], lsl #4");
    T("add %[d], %[a], %[b], lsr #63");
    T("add %[d], %[a], %[b], asr #17");
    T("sub %[d], %[a], %[b]");
    T("sub %[d], %[a], %[b], lsl #63");
    T("sub %[d], %[a], %[b], asr #1");
    T("neg %[d], %[b], lsr #3");
    T("add %w[d], %w[a], %w[b]");
    T("add %w[d], %w[a], %w[b], lsl #31");
    T("sub %w[d], %w[a], %w[b], asr #31");
    T("sub %w[d], %w[a], %w[b], lsr #5");
    TF("adds %[d], %[a], %[b]");
    TF("adds %[d], %[a], %[b], asr #63");
    TF("subs %[d], %[a], %[b]");
    TF("subs %[d], %[a], %[b], lsl #1");
    TF("adds %w[d], %w[a], %w[b]");
    TF("subs %w[d], %w[a], %w[b]");
    TF("subs %w[d], %w[a], %w[b], lsr #1");
    TF("cmp %[a], %[b]");
    TF("cmn %[a], %[b]");
    TF("cmp %w[a], %w[b], lsl #2");
    TF("negs %[d], %[b]");
    TF("negs %w[d], %w[b]");

    puts_("== add/sub extended register\n");
    T("add %[d], %[a], %w[b], uxtb");
    T("add %[d], %[a], %w[b], uxth #1");
    T("add %[d], %[a], %w[b], uxtw #2");
    T("add %[d], %[a], %[b], uxtx #3");
    T("add %[d], %[a], %w[b], sxtb #4");
    T("add %[d], %[a], %w[b], sxth");
    T("add %[d], %[a], %w[b], sxtw #1");
    T("add %[d], %[a], %[b], sxtx #2");
    T("sub %[d], %[a], %w[b], sxtw");
    T("sub %[d], %[a], %w[b], uxtb #4");
    T("add %w[d], %w[a], %w[b], sxtb");
    T("add %w[d], %w[a], %w[b], uxth #3");
    T("sub %w[d], %w[a], %w[b], sxth #2");
    TF("adds %[d], %[a], %w[b], sxtw");
    TF("subs %[d], %[a], %w[b], uxtw #4");
    TF("adds %w[d], %w[a], %w[b], uxtb");
    TF("subs %w[d], %w[a], %w[b], sxtb #1");
    TF("cmp %[a], %w[b], sxth");
    TF("cmn %w[a], %w[b], uxth");
    ext_sp_tests();

    puts_("== logical shifted register\n");
    T("and %[d], %[a], %[b]");
    T("and %[d], %[a], %[b], ror #8");
    T("bic %[d], %[a], %[b], lsl #3");
    T("orr %[d], %[a], %[b], lsr #60");
    T("orn %[d], %[a], %[b], asr #5");
    T("eor %[d], %[a], %[b], ror #63");
    T("eon %[d], %[a], %[b]");
    T("mov %[d], %[b]");
    T("mvn %[d], %[b], ror #4");
    T("and %w[d], %w[a], %w[b], ror #4");
    T("bic %w[d], %w[a], %w[b]");
    T("orr %w[d], %w[a], %w[b], asr #31");
    T("orn %w[d], %w[a], %w[b], lsl #16");
    T("eor %w[d], %w[a], %w[b], lsr #1");
    T("eon %w[d], %w[a], %w[b], ror #31");
    T("mov %w[d], %w[b]");
    T("mvn %w[d], %w[b]");
    TF("ands %[d], %[a], %[b]");
    TF("ands %[d], %[a], %[b], lsl #1");
    TF("bics %[d], %[a], %[b]");
    TF("bics %[d], %[a], %[b], ror #32");
    TF("ands %w[d], %w[a], %w[b]");
    TF("bics %w[d], %w[a], %w[b], asr #7");
    TF("tst %[a], %[b], lsr #1");
    TF("tst %w[a], %w[b]");

    puts_("== add/subtract with carry\n");
    TF("adc %[d], %[a], %[b]");
    TF("adcs %[d], %[a], %[b]");
    TF("sbc %[d], %[a], %[b]");
    TF("sbcs %[d], %[a], %[b]");
    TF("adc %w[d], %w[a], %w[b]");
    TF("adcs %w[d], %w[a], %w[b]");
    TF("sbc %w[d], %w[a], %w[b]");
    TF("sbcs %w[d], %w[a], %w[b]");
    TF("ngc %[d], %[b]");
    TF("ngcs %w[d], %w[b]");

    puts_("== conditional compare\n");
    ALLCOND(TCOND, "ccmp %[a], %[b], #5, ", "");
    TCOND("ccmp %w[a], %w[b], #0xa, ge");
    TCOND("ccmp %[a], #31, #0, hi");
    TCOND("ccmp %w[a], #0, #0xf, ne");
    TCOND("ccmn %[a], %[b], #3, lt");
    TCOND("ccmn %w[a], %w[b], #0xc, le");
    TCOND("ccmn %[a], #17, #1, cc");
    TF("ccmp %[a], %[b], #2, eq");
    TF("ccmp %w[a], %w[b], #8, vs");
    TF("ccmn %[a], #1, #4, pl");
    TF("ccmn %w[a], %w[b], #6, ls");

    puts_("== conditional select\n");
    ALLCOND(TCOND, "csel %[d], %[a], %[b], ", "");
    TCOND("csinc %[d], %[a], %[b], eq");
    TCOND("csinc %w[d], %w[a], %w[b], hi");
    TCOND("csinv %[d], %[a], %[b], ge");
    TCOND("csinv %w[d], %w[a], %w[b], mi");
    TCOND("csneg %[d], %[a], %[b], gt");
    TCOND("csneg %w[d], %w[a], %w[b], vc");
    TCOND("cset %[d], cs");
    TCOND("csetm %w[d], le");
    TCOND("cinc %[d], %[a], lt");
    TCOND("cinv %w[d], %w[a], ne");
    TCOND("cneg %[d], %[a], ls");
    TF("csel %w[d], %w[a], %w[b], ne");
    TF("csinc %[d], %[a], %[b], cs");
    TF("csinv %[d], %[a], %[b], lt");
    TF("csneg %[d], %[a], %[b], eq");
    TF("csneg %w[d], %w[a], %w[b], al");

    puts_("== multiply and divide\n");
    T("madd %[d], %[a], %[b], %[c]");
    T("msub %[d], %[a], %[b], %[c]");
    T("mul %[d], %[a], %[b]");
    T("mneg %[d], %[a], %[b]");
    T("madd %w[d], %w[a], %w[b], %w[c]");
    T("msub %w[d], %w[a], %w[b], %w[c]");
    T("mul %w[d], %w[a], %w[b]");
    T("mneg %w[d], %w[a], %w[b]");
    T("smaddl %[d], %w[a], %w[b], %[c]");
    T("smsubl %[d], %w[a], %w[b], %[c]");
    T("umaddl %[d], %w[a], %w[b], %[c]");
    T("umsubl %[d], %w[a], %w[b], %[c]");
    T("smull %[d], %w[a], %w[b]");
    T("umull %[d], %w[a], %w[b]");
    T("smnegl %[d], %w[a], %w[b]");
    T("umnegl %[d], %w[a], %w[b]");
    T("smulh %[d], %[a], %[b]");
    T("umulh %[d], %[a], %[b]");
    T("udiv %[d], %[a], %[b]");
    T("sdiv %[d], %[a], %[b]");
    T("udiv %w[d], %w[a], %w[b]");
    T("sdiv %w[d], %w[a], %w[b]");
    T("sdiv %[d], %[a], xzr");
    T("udiv %w[d], %w[a], wzr");
    {
        uint64_t r1, r2, r3, r4;
        asm volatile("mov x9, #0x8000000000000000\n\t"
                     "mov x10, #-1\n\t"
                     "sdiv %0, x9, x10\n\t"
                     "sdiv %w1, w9, w10\n\t"
                     "mov w9, #0x80000000\n\t"
                     "sdiv %w2, w9, w10\n\t"
                     "sdiv %3, x10, x9\n\t"
                     : "=r"(r1), "=r"(r2), "=r"(r3), "=r"(r4) :: "x9", "x10");
        printf_("sdiv INT64_MIN/-1=%lx (w, low 0)/-1=%lx INT32_MIN/-1=%lx -1/INT64_MIN=%lx\n",
                r1, r2, r3, r4);
    }

    puts_("== variable shifts\n");
    T("lsl %[d], %[a], %[b]");
    T("lsr %[d], %[a], %[b]");
    T("asr %[d], %[a], %[b]");
    T("ror %[d], %[a], %[b]");
    T("lsl %w[d], %w[a], %w[b]");
    T("lsr %w[d], %w[a], %w[b]");
    T("asr %w[d], %w[a], %w[b]");
    T("ror %w[d], %w[a], %w[b]");
    T("lslv %[d], %[b], %[a]");
    T("asrv %w[d], %w[b], %w[a]");

    puts_("== crc32\n");
    T("crc32b %w[d], %w[a], %w[b]");
    T("crc32h %w[d], %w[a], %w[b]");
    T("crc32w %w[d], %w[a], %w[b]");
    T("crc32x %w[d], %w[a], %[b]");
    T("crc32cb %w[d], %w[a], %w[b]");
    T("crc32ch %w[d], %w[a], %w[b]");
    T("crc32cw %w[d], %w[a], %w[b]");
    T("crc32cx %w[d], %w[a], %[b]");
    {
        /* CRC-32 and CRC-32C of "123456789" (check values cbf43926 / e3069283) */
        static const char s[] = "123456789";
        uint32_t c1 = 0xffffffff, c2 = 0xffffffff;
        for (int i = 0; i < 9; i++) {
            uint32_t b = (uint8_t)s[i];
            asm volatile("crc32b %w0, %w0, %w2\n\tcrc32cb %w1, %w1, %w2" : "+r"(c1), "+r"(c2) : "r"(b));
        }
        printf_("crc32 check %x crc32c check %x\n", ~c1, ~c2);
    }

    puts_("== one-source\n");
    T("rbit %[d], %[a]");
    T("rbit %w[d], %w[a]");
    T("rev %[d], %[a]");
    T("rev %w[d], %w[a]");
    T("rev16 %[d], %[a]");
    T("rev16 %w[d], %w[a]");
    T("rev32 %[d], %[a]");
    T("clz %[d], %[a]");
    T("clz %w[d], %w[a]");
    T("cls %[d], %[a]");
    T("cls %w[d], %w[a]");
    T("clz %[d], %[b]");
    T("cls %w[d], %w[b]");
    return 0;
}
