/* Minimal freestanding runtime for the benchmark guests. */
#ifndef BENCH_H
#define BENCH_H
#include <stdint.h>
#include <stddef.h>

void puts_(const char *s);
void put_hex(uint64_t v);
void guest_exit(int code);
/* "CHECKSUM <name> 0x<16 hex digits>\n": the line every runner compares. */
void report(const char *name, uint64_t sum);
/* Stops the compiler from folding repeated work across iterations. */
#define BARRIER() __asm__ volatile("" ::: "memory")
#endif
