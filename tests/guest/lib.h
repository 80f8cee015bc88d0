/* Tiny freestanding support library for C guests. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H
#include <stdint.h>
#include <stddef.h>

void putc_(char c);
void puts_(const char *s);              /* no newline added */
void put_hex(uint64_t v);               /* 0x%016llx */
void put_dec(int64_t v);
void printf_(const char *fmt, ...);     /* %d %u %x %lx %llx %s %c %% (and %ld/%lu) */
void guest_exit(int code);              /* semihosting EXIT if enabled, else PSCI SYSTEM_OFF */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
#endif
