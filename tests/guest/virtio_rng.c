/* virtio-rng behind the first -device transport (0x0a003e00): registers, then two
 * requests of 16 and 8 bytes (the second split over two buffers), printed in hex.
 * The bytes are a deterministic stream on pyaarch64 (seed 0 unless -device
 * ...,seed=N) and random on QEMU: tests/test_virtio.py compares the rest. */
#include "lib.h"

#define T  0x0a003e00UL
#define QN 4
static uint32_t r32(uint64_t a) { return *(volatile uint32_t *)a; }
static void w32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static void mb(void) { asm volatile("dsb sy" ::: "memory"); }
static uint64_t cntvct(void) { uint64_t v; asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v)); return v; }
static uint64_t cntfrq(void) { uint64_t v; asm volatile("mrs %0, cntfrq_el0" : "=r"(v)); return v; }

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
static uint8_t ring[2 * 4096] __attribute__((aligned(4096)));
static uint8_t buf[32];
#define DESC  ((struct desc *)ring)
#define AVAIL ((volatile uint16_t *)(ring + 16 * QN))
#define USED  ((volatile uint16_t *)(ring + 4096))

static uint64_t wait_div = 1;       /* wait at most 1/wait_div s for the completion */
static void submit(int head, int n) {
    uint16_t before = USED[1];
    AVAIL[2 + n % QN] = head;
    mb();
    AVAIL[1] = n + 1;
    mb();
    w32(T + 0x50, 0);
    uint64_t t0 = cntvct(), hz = cntfrq();
    while (USED[1] == before && cntvct() - t0 < hz / wait_div) mb();
}

static void dump(const char *what, int n) {
    volatile uint32_t *u = (volatile uint32_t *)(ring + 4096 + 4);
    uint16_t k = (USED[1] - 1) % QN;
    printf_("%s: used idx %d len %d isr %d bytes", what, USED[1], u[2 * k + 1], r32(T + 0x60));
    for (int i = 0; i < n; i++) printf_(" %x", buf[i]);
    puts_("\n");
    w32(T + 0x64, 3);
}

int main(void) {
    printf_("device %d features %x config %x\n", r32(T + 8), r32(T + 0x10), r32(T + 0x100));
    w32(T + 0x30, 0);
    printf_("queue 0 num max %d; queue 1 num max %d\n", r32(T + 0x34), (w32(T + 0x30, 1), r32(T + 0x34)));
    w32(T + 0x70, 3);
    w32(T + 0x20, r32(T + 0x10) & ~(1u << 29));
    w32(T + 0x28, 4096);
    w32(T + 0x30, 0);
    w32(T + 0x38, QN);
    w32(T + 0x3c, 4096);
    w32(T + 0x40, (uint32_t)((uint64_t)ring >> 12));
    w32(T + 0x70, 7);
    DESC[0].addr = (uint64_t)buf; DESC[0].len = 16; DESC[0].flags = 2; DESC[0].next = 0;
    submit(0, 0);
    dump("16 bytes", 16);
    DESC[1].addr = (uint64_t)buf; DESC[1].len = 3; DESC[1].flags = 3; DESC[1].next = 2;
    DESC[2].addr = (uint64_t)buf + 3; DESC[2].len = 5; DESC[2].flags = 2; DESC[2].next = 0;
    submit(1, 1);
    dump("3+5 bytes", 8);
    guest_exit(0);
    return 0;
}
