/* Prints what a Linux kernel would find at entry: x0..x4, load address, EL, DAIF,
   then /chosen and /memory from the DTB at x0, and the initrd's first bytes; then
   powers off through PSCI.  Built position independent (see image_head.S). */
typedef unsigned long u64;
typedef unsigned int u32;

static void putc_(char c) { *(volatile u32 *)0x09000000UL = (unsigned char)c; }
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void hex(u64 v)
{
    puts_("0x");
    int started = 0;
    for (int i = 60; i >= 0; i -= 4) {
        int d = (v >> i) & 0xF;
        if (d || started || i == 0) {
            putc_(d < 10 ? '0' + d : 'a' + d - 10);
            started = 1;
        }
    }
}
static void kv(const char *k, u64 v) { puts_(k); puts_("="); hex(v); puts_(" "); }
static u32 be32(const unsigned char *p) { return (u32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static int streq(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }
static int startswith(const char *a, const char *b) { while (*b && *a == *b) { a++; b++; } return !*b; }
static u64 cellval(const unsigned char *p, u32 len)
{
    return len == 8 ? ((u64)be32(p) << 32 | be32(p + 4)) : be32(p);
}

static __attribute__((noreturn)) void off(void)
{
    register u64 x0 __asm__("x0") = 0x84000008;
    __asm__ volatile("hvc #0" : : "r"(x0));
    for (;;) { }
}

void bootinfo(u64 x0, u64 x1, u64 x2, u64 x3, u64 x4, u64 load, u64 el, u64 daif)
{
    kv("x0", x0); kv("x1", x1); kv("x2", x2); kv("x3", x3); kv("x4", x4); puts_("\n");
    kv("load", load); kv("el", el >> 2); kv("daif", daif >> 6); puts_("\n");
    const unsigned char *fdt = (const unsigned char *)x0;
    if (!x0 || be32(fdt) != 0xd00dfeed) {
        puts_("no device tree\n");
        off();
    }
    kv("version", be32(fdt + 20)); puts_("\n");
    const unsigned char *st = fdt + be32(fdt + 8);
    const char *strs = (const char *)fdt + be32(fdt + 12);
    u64 rd_start = 0, rd_end = 0;
    int depth = 0, in_chosen = 0, in_memory = 0;
    for (;;) {
        u32 tok = be32(st);
        st += 4;
        if (tok == 1) {                 /* BEGIN_NODE */
            const char *name = (const char *)st;
            u32 n = 0;
            while (name[n]) n++;
            st += (n + 4) & ~3u;
            depth++;
            in_chosen = depth == 2 && streq(name, "chosen");
            in_memory = depth == 2 && startswith(name, "memory");
            if (in_memory) { puts_(name); puts_("\n"); }
        } else if (tok == 2) {          /* END_NODE */
            depth--;
            in_chosen = in_memory = 0;
        } else if (tok == 3) {          /* PROP */
            u32 len = be32(st), nameoff = be32(st + 4);
            const unsigned char *val = st + 8;
            const char *pname = strs + nameoff;
            st += 8 + ((len + 3) & ~3u);
            if (in_chosen) {
                if (streq(pname, "bootargs") || streq(pname, "stdout-path")) {
                    puts_(pname); puts_("=\""); puts_((const char *)val); puts_("\"\n");
                } else if (streq(pname, "linux,initrd-start")) {
                    rd_start = cellval(val, len); kv(pname, rd_start); puts_("\n");
                } else if (streq(pname, "linux,initrd-end")) {
                    rd_end = cellval(val, len); kv(pname, rd_end); puts_("\n");
                } else {
                    puts_(pname); puts_("\n");
                }
            } else if (in_memory && streq(pname, "reg") && len == 16) {
                kv("reg", cellval(val, 8)); kv("size", cellval(val + 8, 8)); puts_("\n");
            }
        } else if (tok == 4) {          /* NOP */
        } else {
            break;
        }
    }
    if (rd_end > rd_start) {
        puts_("initrd: ");
        const char *p = (const char *)rd_start;
        for (u64 i = 0; i < rd_end - rd_start && i < 48; i++)
            putc_(p[i] >= 32 && p[i] < 127 ? p[i] : '.');
        puts_("\n");
    }
    puts_("done\n");
    off();
}
