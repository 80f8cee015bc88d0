/* Arm semihosting (HLT #0xF000): console output, :tt handles, command line,
 * heap info, clocks, errno, and the exit calls.  How it exits depends on the
 * command line: "... exit" -> SYS_EXIT, "... extended" -> SYS_EXIT_EXTENDED,
 * anything else -> return from main (PSCI SYSTEM_OFF). */
#include "lib.h"

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITEC 0x03
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_ISERROR 0x08
#define SYS_ISTTY 0x09
#define SYS_FLEN 0x0c
#define SYS_CLOCK 0x10
#define SYS_TIME 0x11
#define SYS_ERRNO 0x13
#define SYS_GET_CMDLINE 0x15
#define SYS_HEAPINFO 0x16
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define SYS_ELAPSED 0x30
#define SYS_TICKFREQ 0x31

static uint64_t sh(uint64_t op, const void *arg) {
    register uint64_t x0 asm("x0") = op;
    register uint64_t x1 asm("x1") = (uint64_t)arg;
    asm volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
    return x0;
}

static uint64_t sh_open(const char *name, uint64_t mode) {
    uint64_t n = 0;
    while (name[n]) n++;
    uint64_t blk[3] = {(uint64_t)name, mode, n};
    return sh(SYS_OPEN, blk);
}

static uint64_t sh_write(uint64_t h, const char *s) {
    uint64_t n = 0;
    while (s[n]) n++;
    uint64_t blk[3] = {h, (uint64_t)s, n};
    return sh(SYS_WRITE, blk);
}

static uint64_t sh_one(uint64_t op, uint64_t v) {
    uint64_t blk[1] = {v};
    return sh(op, blk);
}

/* EL0 semihosting (vectors.S calls this on exceptions) */
struct exc_frame {
    uint64_t x[31];
    uint64_t elr, spsr, esr, far, pad;
};
extern char vectors[];
static uint64_t el0_stack[64] __attribute__((aligned(16)));
static volatile uint64_t el0_return;

void exc_handler(struct exc_frame *f, uint64_t vec) {
    uint64_t ec = f->esr >> 26;
    printf_("  exception: vector 0x%x esr=%lx\n", (unsigned)(vec * 0x80), f->esr);
    if (ec == 0x15 && el0_return) {          /* SVC from EL0: back to EL1h */
        f->elr = el0_return;
        f->spsr = 0x3c5;
        el0_return = 0;
    } else if (ec != 0x15) {
        f->elr += 4;
    }
}

static void el0_semihosting(void) {
    asm volatile("msr vbar_el1, %0\n\tisb" :: "r"(vectors));
    puts_("semihosting WRITEC from EL0:\n");
    asm volatile("adr x9, 1f\n\tstr x9, [%[res]]\n\t"
                 "adr x9, 2f\n\tmsr elr_el1, x9\n\tmsr spsr_el1, xzr\n\tmsr sp_el0, %[stk]\n\teret\n"
                 "2: mov x0, #3\n\tmov x1, %[c]\n\thlt #0xf000\n\tsvc #0\n"
                 "1:"
                 :: [res] "r"(&el0_return), [stk] "r"(el0_stack + 64), [c] "r"("E")
                 : "x0", "x1", "x9", "x30", "memory");
}

static int has_word(const char *s, const char *w) {
    for (; *s; s++) {
        const char *p = s, *q = w;
        while (*q && *p == *q) p++, q++;
        if (!*q && (*p == 0 || *p == ' ')) return 1;
    }
    return 0;
}

int main(void) {
    sh(SYS_WRITEC, "A");
    sh(SYS_WRITEC, "\n");
    printf_("writec returned %lx\n", sh(SYS_WRITEC, "\n"));
    uint64_t r = sh(SYS_WRITE0, "hello from WRITE0\n");
    printf_("write0 returned %lx\n", r);

    /* fd 1 before any open: ARM-compat semihosting has no pre-opened handles */
    r = sh_write(1, "write to fd 1 before open\n");
    printf_("write(1) before open returned %lx errno %lu\n", r, sh(SYS_ERRNO, 0));

    uint64_t hin = sh_open(":tt", 0), hout = sh_open(":tt", 4), herr = sh_open(":tt", 8);
    printf_("open :tt r=%lx w=%lx a=%lx\n", hin, hout, herr);
    r = sh_write(hout, "hello via :tt\n");
    printf_("write(:tt) returned %lx\n", r);
    r = sh_one(SYS_ISTTY, hout);
    printf_("istty(:tt w) is 0 or 1: %d\n", r == 0 || r == 1);  /* QEMU: the host's isatty */
    r = sh_one(SYS_ISTTY, 99);
    printf_("istty(99)=%lx errno %lu\n", r, sh(SYS_ERRNO, 0));
    printf_("iserror(0)=%lx iserror(-1)=%lx iserror(-5)=%lx\n", sh_one(SYS_ISERROR, 0),
            sh_one(SYS_ISERROR, (uint64_t)-1), sh_one(SYS_ISERROR, (uint64_t)-5));
    r = sh_open("/nonexistent/file/for/sure", 0);
    printf_("open nonexistent returned %lx errno %lu\n", r, sh(SYS_ERRNO, 0));
    r = sh_write(77, "bad handle\n");
    printf_("write(77) returned %lx errno %lu\n", r, sh(SYS_ERRNO, 0));
    printf_("close(w) %lx close(w) again %lx errno %lu\n", sh_one(SYS_CLOSE, hout),
            sh_one(SYS_CLOSE, hout), sh(SYS_ERRNO, 0));
    sh_one(SYS_CLOSE, hin);
    sh_one(SYS_CLOSE, herr);

    static char cmd[256];
    uint64_t blk[2] = {(uint64_t)cmd, sizeof(cmd)};
    r = sh(SYS_GET_CMDLINE, blk);
    const char *base = cmd;
    for (const char *p = cmd; *p && *p != ' '; p++)
        if (*p == '/') base = p + 1;
    uint64_t n = 0;
    while (cmd[n]) n++;
    /* argv0 may be a host path (QEMU's fallback is the kernel file name): print its basename */
    printf_("get_cmdline returned %lx len ok=%d argv0 basename=\"", r, blk[1] == n);
    const char *p = base;
    for (; *p && *p != ' '; p++) putc_(*p);
    printf_("\" rest=\"%s\"\n", p);
    static char small[4];
    uint64_t blk2[2] = {(uint64_t)small, sizeof(small)};
    r = sh(SYS_GET_CMDLINE, blk2);
    printf_("get_cmdline small buffer returned %lx errno %lu\n", r, sh(SYS_ERRNO, 0));

    uint64_t hi[4] = {1, 2, 3, 4};
    uint64_t hp = (uint64_t)hi;
    r = sh(SYS_HEAPINFO, &hp);
    /* QEMU: heap from the end of the loaded image (= __stack_top here) to the top of RAM */
    extern char __stack_top[];
    uint64_t end = (uint64_t)__stack_top;
    printf_("heapinfo returned %lx heap base=image end:%d limit %lx stack base %lx limit=image end:%d\n",
            r, hi[0] == end, hi[1], hi[2], hi[3] == end);

    uint64_t c1 = sh(SYS_CLOCK, 0);
    uint64_t e1 = 0, e2 = 0;
    sh(SYS_ELAPSED, &e1);
    for (volatile int i = 0; i < 200000; i++) ;
    uint64_t c2 = sh(SYS_CLOCK, 0);
    sh(SYS_ELAPSED, &e2);
    printf_("clock monotonic=%d elapsed nonzero=%d monotonic=%d\n", c2 >= c1 && c1 != (uint64_t)-1,
            e1 != 0, e2 > e1);
    printf_("tickfreq %lu\n", sh(SYS_TICKFREQ, 0));
    uint64_t t = sh(SYS_TIME, 0);
    printf_("time plausible=%d\n", t > 1600000000 && t < 4000000000ULL);

    el0_semihosting();

    if (has_word(cmd, "extended")) {
        puts_("exiting with SYS_EXIT_EXTENDED 42\n");
        uint64_t ex[2] = {0x20026, 42};
        sh(SYS_EXIT_EXTENDED, ex);
    } else if (has_word(cmd, "exit")) {
        puts_("exiting with SYS_EXIT 7\n");
        uint64_t ex[2] = {0x20026, 7};
        sh(SYS_EXIT, ex);
    } else if (has_word(cmd, "reset")) {
        puts_("PSCI SYSTEM_RESET\n");
        register uint64_t x0 asm("x0") = 0x84000009;
        asm volatile("hvc #0" : "+r"(x0) :: "memory");
        puts_("still here?\n");
    } else if (has_word(cmd, "fail")) {
        puts_("exiting with SYS_EXIT RunTimeErrorUnknown\n");
        uint64_t ex[2] = {0x20023, 0};
        sh(SYS_EXIT, ex);
    }
    puts_("returning from main\n");
    return 5;
}
