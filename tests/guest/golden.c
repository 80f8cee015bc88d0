/* The guest of the golden snapshots (tests/golden/): a computation in rounds with the
 * virtual timer interrupting it and the PL011 receive interrupt enabled, so that a
 * snapshot taken mid-run holds live GIC, timer, UART and CPU state.
 *
 * Each round computes with IRQs masked; between rounds they are unmasked briefly.
 * In round 3 the guest waits (masked) until the timer interrupt is pending, prints
 * "ready", and computes on: tests/golden/make_goldens.py snapshots it a little
 * later, with the timer interrupt pending at the GIC, and first puts "golden!\n" in the
 * PL011's receive FIFO (its interrupt pending too).  After the rounds the guest waits
 * for that line (read in the RX interrupt handler) and prints the checksum, the line
 * and which interrupts it saw, and Q0/Q1/FPCR as set before the snapshot.  Nothing printed depends on how many instructions or
 * interrupts ran, only on the computation and the input. */
#include "lib.h"

struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};

#define GICD 0x08000000UL
#define GICC 0x08010000UL
#define UART 0x09000000UL
#define R32(a) (*(volatile uint32_t *)(a))
#define MRS(r) ({ uint64_t _v; __asm__ volatile("mrs %0, " #r : "=r"(_v)); _v; })
#define MSR(r, v) __asm__ volatile("msr " #r ", %0; isb" : : "r"((uint64_t)(v)))

extern char vectors[];
static volatile int timer_irqs, uart_irqs, other;
static volatile char line[64];
static volatile int nline, done;
static uint32_t table[256];
static uint8_t data[1024];
static uint64_t vsave[4];

void exc_handler(struct exc_frame *f, uint64_t vec) {
    if (vec != 5) {                               /* only IRQs from EL1h are expected */
        other++;
        f->elr += 4;
        return;
    }
    uint32_t iar = R32(GICC + 0x0c);
    uint32_t id = iar & 0x3ff;
    if (id == 27) {
        timer_irqs++;
        MSR(cntv_tval_el0, 20000);               /* periodic */
    } else if (id == 33) {
        uart_irqs++;
        while (!(R32(UART + 0x18) & 0x10)) {     /* FR.RXFE clear: a character */
            char c = (char)R32(UART + 0x00);
            if (nline < (int)sizeof(line) - 1)
                line[nline++] = c;
            if (c == '\n')
                done = 1;
        }
        R32(UART + 0x44) = 0x50;                 /* ICR: RX, RT */
    } else if (id != 1023) {
        other++;
    }
    if (id != 1023)
        R32(GICC + 0x10) = iar;                  /* EOI */
}

static uint32_t crc_round(uint32_t crc, int round) {
    for (int i = 0; i < (int)sizeof(data); i++) {
        data[i] = (uint8_t)(data[i] * 13 + round + (i >> 3));
        crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

int main(void) {
    MSR(vbar_el1, (uint64_t)vectors);
    MSR(cpacr_el1, 3 << 20);                     /* FP/SIMD on */
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
    for (int i = 0; i < (int)sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);

    R32(GICD + 0x000) = 1;                       /* distributor on */
    R32(GICD + 0x100) = 1u << 27;                /* virtual timer PPI */
    R32(GICD + 0x104) = 1u << 1;                 /* SPI 33: PL011 */
    R32(GICD + 0x418) = 0x80808080;              /* priorities 24..27 */
    R32(GICD + 0x420) = 0x90909090;              /* 32..35 */
    R32(GICD + 0x820) = 0x01010101;              /* targets 32..35: CPU 0 */
    R32(GICC + 0x004) = 0xf0;                    /* PMR */
    R32(GICC + 0x000) = 1;                       /* CPU interface on */
    R32(UART + 0x2c) = 0x70;                     /* LCR_H: 8 bits, FIFOs on */
    R32(UART + 0x38) = 0x50;                     /* IMSC: RX, RT */

    MSR(cntv_tval_el0, 20000);
    MSR(cntv_ctl_el0, 1);
    printf_("golden: start\n");

    uint32_t crc = 0xffffffffu;
    for (int round = 0; round < 8; round++) {
        crc = crc_round(crc, round);
        if (round == 3) {
            while (!(MRS(isr_el1) & 0x80)) ;     /* masked: wait for the timer */
            /* FP/SIMD state for the snapshot to carry: Q0, Q1 from the table, FPCR */
            __asm__ volatile("ldp q0, q1, [%0]" : : "r"(&table[8]) : "memory");
            MSR(fpcr, 0x00c00000);                  /* RMode = round towards zero */
            printf_("golden: ready\n");
            crc = crc_round(crc, 100);            /* the snapshot is taken in here */
        }
        printf_("golden: round %d\n", round);
        __asm__ volatile("msr daifclr, #2; isb; nop; nop; msr daifset, #2" ::: "memory");
    }
    MSR(cntv_ctl_el0, 0);
    __asm__ volatile("stp q0, q1, [%0]" : : "r"(vsave) : "memory");
    printf_("golden: q0 %lx %lx q1 %lx %lx fpcr %lx\n", vsave[1], vsave[0], vsave[3], vsave[2],
            MRS(fpcr));
    while (!done)
        __asm__ volatile("msr daifclr, #2; isb; wfi; msr daifset, #2" ::: "memory");
    line[nline] = 0;
    printf_("golden: crc %x\n", ~crc);
    printf_("golden: line %s", (const char *)line);
    printf_("golden: timer irqs seen %d, uart irqs seen %d, other %d\n",
            timer_irqs > 0, uart_irqs > 0, other);
    guest_exit(0);
    return 0;
}
