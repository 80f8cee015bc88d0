/* Encodings a Cortex-A57 (Armv8.0 + CRC32) must treat as UNDEFINED, or as NOP
 * (hint space), or execute: later-architecture instructions (LSE, LOR, RCpc,
 * PAuth, FlagM, PAN/UAO/DIT/SSBS, SB, MTE, DCPoP, WFxT), plus the RAZ ID register
 * space and AT with the MMU off.  Each line says "executed" or which exception. */
#include "lib.h"

asm(".arch armv8.7-a+memtag+rcpc+lse+flagm+pauth+predres+ssbs+sb+rng");

struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};
extern char vectors[];
static volatile int taken;
static uint64_t buf[8] __attribute__((aligned(64)));

void exc_handler(struct exc_frame *f, uint64_t vec) {
    uint64_t ec = f->esr >> 26;
    taken = 1;
    printf_("UNDEF? vector 0x%x esr=%lx", (unsigned)(vec * 0x80), f->esr);
    if (ec == 0x24 || ec == 0x25) printf_(" far-buf=%lx", f->far - (uint64_t)buf);
    putc_('\n');
    f->elr += 4;
}

#define X(insn)                                                                       \
    do {                                                                              \
        taken = 0;                                                                    \
        puts_(insn ": ");                                                             \
        asm volatile("mov x11, %0\n\tmov x9, #0\n\tmov x10, #0\n\t" insn              \
                     :: "r"(buf) : "x8", "x9", "x10", "x11", "x12", "x13", "x30", "memory", "cc"); \
        if (!taken) puts_("executed\n");                                              \
    } while (0)

#define IDREG(enc)                                                                    \
    do {                                                                              \
        uint64_t _v;                                                                  \
        taken = 0;                                                                    \
        puts_(enc ": ");                                                              \
        asm volatile("mov %0, #0xdead\n\tmrs %0, " enc : "=&r"(_v) :: "memory");      \
        if (!taken) printf_("%lx\n", _v);                                             \
    } while (0)

int main(void) {
    asm volatile("msr vbar_el1, %0\n\tisb" :: "r"(vectors));
    puts_("== later-architecture instructions\n");
    X("ldadd x9, x10, [x11]");
    X("swpal w9, w10, [x11]");
    X("cas x9, x10, [x11]");
    X("casp x8, x9, x12, x13, [x11]");
    X("stadd w9, [x11]");
    X("ldsmaxlh w9, w10, [x11]");
    X("ldlar x9, [x11]");
    X("stllr x9, [x11]");
    X("ldaprb w9, [x11]");
    X("ldapr x9, [x11]");
    X("ldapur x9, [x11, #1]");
    X("stlur w9, [x11, #-1]");
    X("pacia x9, x10");
    X("autia x9, x10");
    X("xpaci x9");
    X("pacga x9, x10, x11");
    X("braa x9, x10");
    X("ldraa x9, [x11]");
    X("paciasp");
    X("autiasp");
    X("xpaclri");
    X("pacia1716");
    X("bti c");
    X("dgh");
    X("csdb");
    X("esb");
    X("cfinv");
    X("rmif x9, #3, #2");
    X("setf8 w9");
    X("axflag");
    X("xaflag");
    X("msr pan, #1");
    X("msr uao, #1");
    X("msr dit, #1");
    X("msr ssbs, #1");
    X("mrs x9, s3_0_c4_c2_3");           /* PAN */
    X("sb");
    X("irg x9, x10");
    X("stg x11, [x11]");
    X("stgp x9, x10, [x11]");
    X("ldg x9, [x11]");
    X("wfet x9");
    X("dc cvap, x11");
    X("dc cvadp, x11");
    X("cfp rctx, x11");
    X("mrs x9, rndr");
    X("rev64 x9, x10");
    X("ldxp w9, w10, [x11]");
    X("clrex #5");
    X("dsb #0");
    X("dmb #13");
    X("isb #3");
    X(".inst 0xd503349f");               /* CLREX with op2=4? (DSB with CRm 4 -> "dsb nsh") */
    X(".inst 0xd50330ff");               /* barrier space op2=7 (SB on v8.5) */
    X(".inst 0xd50330df");               /* op2=6: ISB #0 */
    X(".inst 0xd503305f");               /* op2=2: CLREX #0 */
    X(".inst 0xd503309f");               /* op2=4: DSB #0 (SSBB) */
    X(".inst 0xd50330bf");               /* op2=5: DMB #0 */
    X(".inst 0xd500401f");               /* MSR imm op1=0 op2=0 CRn=4 (CFINV on 8.4) */
    X(".inst 0xd500407f");               /* op1=0 op2=3: UAO */
    X(".inst 0xd503201f | (1 << 12)");   /* hint space CRm=1 */
    X(".inst 0xd50b7420");               /* DC GVA (MTE) */
    X(".inst 0xd5087800");               /* AT S1E1R, x0 (op1=0 crn=7 crm=8) */
    X(".inst 0xd508791f");               /* AT S1E1RP (8.2) */
    X(".inst 0xd50b7c3f");               /* DC CVADP with xzr */
    X(".inst 0xd50b7d3f");               /* DC CVAP with xzr */
    X(".inst 0xd508871f");               /* TLBI VMALLE1 */
    X(".inst 0xd508831f");               /* TLBI VMALLE1IS */
    X(".inst 0xd508811f");               /* TLBI VMALLE1OS (8.4) */
    X(".inst 0xd50c871f");               /* TLBI ALLE2 (no EL2) */
    X(".inst 0xd50e871f");               /* TLBI ALLE3 (no EL3) */
    X(".inst 0xd508761f");               /* DC IVAC xzr */
    X(".inst 0xd508765f");               /* DC ISW xzr */
    X(".inst 0xd5087a5f");               /* DC CSW xzr */
    X(".inst 0xd5087e5f");               /* DC CISW xzr */
    X(".inst 0xd50b751f");               /* IC IVAU xzr */
    X(".inst 0xd508751f");               /* IC IALLU */
    X(".inst 0xd5087f1f");               /* unallocated SYS crn=7 crm=15 */
    X(".inst 0xd5094f1f");               /* SYS op1=1 crn=4 (unallocated) */
    X(".inst 0xd5201f1f");               /* SYSL (unallocated) */

    puts_("== encoding space\n");
    X(".inst 0xb8600800");   /* LDR (register) option=000 */
    X(".inst 0xb9c00000");   /* LDRSW (imm) size=10 opc=11 */
    X(".inst 0xf8c00000");   /* LDUR size=11 opc=11 */
    X(".inst 0xf8800800");   /* LDTR size=11 opc=10 */
    X(".inst 0xe9400000");   /* LDP opc=11 */
    X(".inst 0x69000000");   /* STGP */
    X(".inst 0x68400000");   /* LDNP opc=01 */
    X(".inst 0x8b206400");   /* ADD (extended) imm3=5 */
    X(".inst 0xabc00000");   /* ADDS (shifted) shift=11 */
    X(".inst 0x0a008000");   /* AND w, lsl #32 */
    X(".inst 0x93000000");   /* SBFM x N=0 */
    X(".inst 0x13808000");   /* EXTR w imms=32 */
    X(".inst 0x52c00000");   /* MOVZ w hw=2 */
    X(".inst 0x12400000");   /* AND w (imm) N=1 */
    X(".inst 0x9ac01000");   /* DP2 opcode=000100 */
    X(".inst 0x5ac00c00");   /* DP1 w opcode=000011 */
    X(".inst 0x9ba00000");   /* DP3 op54=01 */
    X(".inst 0x9b400000");   /* DP3 op31=010 o0=0 smulh */
    X(".inst 0x9bc00000");   /* DP3 umulh */
    X(".inst 0x9b408000");   /* DP3 op31=010 o0=1 */
    X(".inst 0xfa400c00");   /* CCMP o2=1 */
    X(".inst 0xfa400810");   /* CCMP o3=1 */
    X(".inst 0x9a800800");   /* CSEL op2=10 */
    X(".inst 0x54000010");   /* B.cond bit4=1 */
    X(".inst 0xd4a00001");   /* DCPS1 */
    X(".inst 0xd4000005");   /* SVC op2=1 */
    X(".inst 0xd61e0000");   /* BR op2!=31 */
    X(".inst 0xd6bf03e0");   /* DRPS */
    /* (ERET with Rn != 31, e.g. 0xd69f0000, is left out: QEMU 7.2 executes it as
     * ERET; the Arm ARM and pyaarch64 make it UNDEFINED) */
    X(".inst 0xd6a00000");   /* BR_REG opc=0101 */
    X(".inst 0x9ac04000");   /* CRC32B sf=1 */
    X(".inst 0xbac00c00");   /* SDIV S=1 */
    X(".inst 0x1ac05c00");   /* CRC32CX sf=0 */
    X(".inst 0x9ac05c00");   /* CRC32CX */
    X(".inst 0xd503201f");   /* NOP */
    X(".inst 0xd50320ff");   /* hint #7 (XPACLRI) */
    X(".inst 0xd503233f");   /* hint #25 (PACIASP) */
    X(".inst 0xd503245f");   /* hint #34 (BTI c) */
    X(".inst 0xd503241f");   /* hint #32 (BTI) */
    X(".inst 0xd503221f");   /* hint #16 (ESB) */
    X(".inst 0xd503229f");   /* hint #20 (CSDB) */
    X(".inst 0xd503305f");   /* CLREX #0 */
    X(".inst 0xd5033fdf");   /* ISB */
    X(".inst 0xd500401f");   /* MSR imm op1=0 op2=0 */
    X(".inst 0xd500409f");   /* MSR imm op1=0 op2=4 (PAN) */
    X(".inst 0xd503405f");   /* MSR imm op1=3 op2=2 */
    X(".inst 0xd50340df");   /* MSR imm op1=3 op2=6 (DAIFSet #0) */
    X(".inst 0xd50b403f");   /* MSR imm op1=3 op2=1 crn=4? (SSBS) */
    X(".inst 0x885f7c00");   /* LDXR w o1=0 L=1 rt2=31 */
    X(".inst 0x885f0000");   /* LDXR w rt2=0 */
    X(".inst 0x88dffc00");   /* LDAR w */
    X(".inst 0x889ffc00");   /* STLR w */
    X(".inst 0x88df7c00");   /* LDLAR w (o0=0) */
    X(".inst 0x887f0000");   /* LDXP w rs!=31 */
    X(".inst 0xc87f0000");   /* LDXP x */
    X(".inst 0x485f7c00");   /* LDXRH */
    X(".inst 0x08dffc00");   /* LDARB */

    puts_("== AT with the MMU off\n");
    {
        uint64_t par;
        asm volatile("at s1e1r, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(buf));
        printf_("at s1e1r buf: par^page=%lx\n", par ^ ((uint64_t)buf & ~0xfffULL));
        asm volatile("at s1e0w, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(0x09000004ULL));
        printf_("at s1e0w uart: par=%lx\n", par);
    }

    puts_("== ID register space\n");
    IDREG("s3_0_c0_c1_0");   /* ID_PFR0_EL1 */
    IDREG("s3_0_c0_c1_1");   /* ID_PFR1_EL1 */
    IDREG("s3_0_c0_c1_2");   /* ID_DFR0_EL1 */
    IDREG("s3_0_c0_c1_3");   /* ID_AFR0_EL1 */
    IDREG("s3_0_c0_c1_4");   /* ID_MMFR0_EL1 */
    IDREG("s3_0_c0_c1_5");
    IDREG("s3_0_c0_c1_6");
    IDREG("s3_0_c0_c1_7");
    IDREG("s3_0_c0_c2_0");   /* ID_ISAR0_EL1 */
    IDREG("s3_0_c0_c2_1");
    IDREG("s3_0_c0_c2_2");
    IDREG("s3_0_c0_c2_3");
    IDREG("s3_0_c0_c2_4");
    IDREG("s3_0_c0_c2_5");
    IDREG("s3_0_c0_c2_6");   /* ID_MMFR4_EL1 */
    IDREG("s3_0_c0_c2_7");
    IDREG("s3_0_c0_c3_0");   /* MVFR0_EL1 */
    IDREG("s3_0_c0_c3_1");
    IDREG("s3_0_c0_c3_2");
    IDREG("s3_0_c0_c3_3");
    IDREG("s3_0_c0_c3_4");   /* ID_PFR2_EL1 */
    IDREG("s3_0_c0_c3_5");
    IDREG("s3_0_c0_c3_6");
    IDREG("s3_0_c0_c3_7");
    IDREG("s3_0_c0_c4_2");
    IDREG("s3_0_c0_c4_4");   /* ID_AA64ZFR0_EL1 */
    IDREG("s3_0_c0_c4_5");   /* ID_AA64SMFR0_EL1 */
    IDREG("s3_0_c0_c5_2");
    IDREG("s3_0_c0_c6_2");   /* ID_AA64ISAR2_EL1 */
    IDREG("s3_0_c0_c6_7");
    IDREG("s3_0_c0_c7_3");   /* ID_AA64MMFR3_EL1 */
    IDREG("s3_0_c0_c7_7");
    IDREG("s3_0_c0_c0_1");   /* impl-defined in the MIDR block */
    IDREG("s3_0_c0_c0_4");
    IDREG("s3_1_c0_c0_2");   /* CCSIDR2 (8.3) */
    IDREG("s3_3_c14_c0_0");  /* CNTFRQ_EL0 */
    IDREG("s3_0_c14_c1_0");  /* CNTKCTL_EL1 */
    IDREG("s3_0_c10_c4_0");  /* LORSA_EL1 (8.1) */
    IDREG("s3_0_c2_c1_0");   /* APIAKeyLo_EL1 (8.3) */
    IDREG("s3_0_c4_c6_0");   /* ICC_PMR_EL1 (GICv3 sysregs, GICv2 board) */
    IDREG("s2_0_c1_c0_4");   /* MDRAR_EL1 */
    IDREG("s3_0_c1_c0_1");   /* ACTLR_EL1 */
    IDREG("s3_4_c1_c1_0");   /* HCR_EL2 (no EL2) */
    /* not compared yet (pyaarch64 has no CCSIDR_EL1, generic-timer control, ISR_EL1,
     * debug breakpoint/OS-lock or PMU registers): QEMU reads CCSIDR_EL1 0x701fe00a,
     * CPUECTLR_EL1 0, CNTP_CTL/CNTV_CTL 0, ISR_EL1 0, DBGBVR0_EL1 0, OSDLR_EL1 0,
     * PMINTENSET_EL1 0, PMCR_EL0 0x41013000 */

    puts_("== cache size ID, ISR, OS lock, debug and PMU user-enable registers\n");
    for (uint64_t sel = 0; sel < 5; sel++) {
        uint64_t v;
        asm volatile("msr csselr_el1, %1\n\tisb\n\tmrs %0, ccsidr_el1" : "=r"(v) : "r"(sel));
        printf_("ccsidr_el1 (csselr %lu) = %lx\n", sel, v);
    }
    asm volatile("msr csselr_el1, xzr");
    IDREG("isr_el1");
    IDREG("oslsr_el1");
    asm volatile("msr oslar_el1, xzr\n\tisb");
    IDREG("oslsr_el1");
    asm volatile("msr oslar_el1, %0\n\tisb" :: "r"(1ULL));
    IDREG("oslsr_el1");
    asm volatile("msr oslar_el1, xzr\n\tisb");
    IDREG("osdlr_el1");
    asm volatile("msr osdlr_el1, %0" :: "r"(~0ULL));
    IDREG("osdlr_el1");
    asm volatile("msr osdlr_el1, xzr");
    X("mrs x9, oslar_el1");
    X("msr oslsr_el1, x9");
#define DBG(n)                                                                        \
    asm volatile("msr dbgbvr" #n "_el1, xzr\n\tmsr dbgbcr" #n "_el1, xzr");          \
    IDREG("dbgbvr" #n "_el1");                                                        \
    IDREG("dbgbcr" #n "_el1")
#define DBGW(n)                                                                       \
    asm volatile("msr dbgwvr" #n "_el1, xzr\n\tmsr dbgwcr" #n "_el1, xzr");          \
    IDREG("dbgwvr" #n "_el1");                                                        \
    IDREG("dbgwcr" #n "_el1")
    DBG(0); DBG(1); DBG(2); DBG(3); DBG(4); DBG(5);
    DBGW(0); DBGW(1); DBGW(2); DBGW(3);
    asm volatile("msr dbgbvr1_el1, %0\n\tmsr dbgwvr2_el1, %0" :: "r"(0x0000123456789abcULL));
    IDREG("dbgbvr1_el1");
    IDREG("dbgwvr2_el1");
    asm volatile("msr dbgbvr1_el1, xzr\n\tmsr dbgwvr2_el1, xzr");
    X("mrs x9, s2_0_c0_c6_4");           /* DBGBVR6_EL1: only 6 breakpoints */
    X("mrs x9, s2_0_c0_c4_6");           /* DBGWVR4_EL1: only 4 watchpoints */
    asm volatile("msr pmuserenr_el0, xzr");
    IDREG("pmuserenr_el0");
    return 0;
}
