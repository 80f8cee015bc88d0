#include <stdarg.h>
#include "lib.h"

#define UART_DR ((volatile uint32_t *)0x09000000)
#define UART_FR ((volatile uint32_t *)0x09000018)

void putc_(char c) { while (*UART_FR & (1 << 5)) ; *UART_DR = (uint8_t)c; }
void puts_(const char *s) { while (*s) putc_(*s++); }

void put_hex(uint64_t v) {
    puts_("0x");
    for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

static void put_udec(uint64_t v) {
    char buf[24]; int n = 0;
    do { buf[n++] = '0' + v % 10; v /= 10; } while (v);
    while (n) putc_(buf[--n]);
}

void put_dec(int64_t v) {
    if (v < 0) { putc_('-'); put_udec((uint64_t)0 - (uint64_t)v); } else put_udec(v);
}

static void put_xnum(uint64_t v) {
    char buf[20]; int n = 0;
    do { buf[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    while (n) putc_(buf[--n]);
}

void printf_(const char *fmt, ...) {
    va_list ap; va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') { putc_(*fmt); continue; }
        fmt++;
        int l = 0;
        while (*fmt == 'l') { l++; fmt++; }
        switch (*fmt) {
        case 'd': put_dec(l ? va_arg(ap, int64_t) : va_arg(ap, int)); break;
        case 'u': put_udec(l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned)); break;
        case 'x': put_xnum(l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned)); break;
        case 's': puts_(va_arg(ap, const char *)); break;
        case 'c': putc_((char)va_arg(ap, int)); break;
        case '%': putc_('%'); break;
        default: putc_('?');
        }
    }
    va_end(ap);
}

void *memset(void *d, int c, size_t n) { uint8_t *p = d; while (n--) *p++ = (uint8_t)c; return d; }
void *memcpy(void *d, const void *s, size_t n) {
    uint8_t *p = d; const uint8_t *q = s; while (n--) *p++ = *q++; return d;
}

/* Exit: PSCI SYSTEM_OFF after printing the status (works on any board config);
 * guests run with -semihosting-config enable=on may call semihost_exit instead. */
void guest_exit(int code) {
    printf_("EXIT %d\n", code);
    register uint64_t x0 asm("x0") = 0x84000008;
    asm volatile("hvc #0" : "+r"(x0) :: "memory");
    for (;;) ;
}
