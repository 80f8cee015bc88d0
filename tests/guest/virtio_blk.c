/* virtio-mmio transports and virtio-blk, driven as a legacy driver would: an empty
 * transport's registers, the plugged one's (the first -device lands in the last
 * transport, 0x0a003e00), the configuration space, a queue set up in the legacy
 * layout, and requests: read, write + read back, indirect descriptors, GET_ID,
 * FLUSH, WRITE_ZEROES, DISCARD, out of range, an unknown type, the interrupt
 * status, the used ring, a device reset, and a malformed chain (the device breaks
 * until reset).  Run with a 64 KiB raw image whose byte i is (i*7 + i/512) & 0xff
 * (tests/test_virtio.py makes it) as -drive ...,id=d0 -device virtio-blk-device,drive=d0. */
#include "lib.h"

#define T0   0x0a000000UL          /* an empty transport */
#define T31  0x0a003e00UL          /* the first -device */
#define GICD 0x08000000UL
#define QN   8

static uint32_t r32(uint64_t a) { return *(volatile uint32_t *)a; }
static void w32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static uint8_t r8(uint64_t a) { return *(volatile uint8_t *)a; }
static uint16_t r16(uint64_t a) { return *(volatile uint16_t *)a; }
static void mb(void) { asm volatile("dsb sy" ::: "memory"); }
static uint64_t cntvct(void) { uint64_t v; asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v)); return v; }
static uint64_t cntfrq(void) { uint64_t v; asm volatile("mrs %0, cntfrq_el0" : "=r"(v)); return v; }

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
/* the queue: descriptors, available ring (+used_event), used ring at the next page */
static uint8_t ring[2 * 4096] __attribute__((aligned(4096)));
static struct desc indirect[4] __attribute__((aligned(16)));
static struct { uint32_t type, ioprio; uint64_t sector; } hdr;
static uint8_t buf[1024];
static uint8_t buf2[512];
static volatile uint8_t status;
static struct { uint64_t sector; uint32_t num, flags; } seg;

#define DESC  ((struct desc *)ring)
#define AVAIL ((volatile uint16_t *)(ring + 16 * QN))
#define USED  ((volatile uint16_t *)(ring + 4096))
static uint16_t avail_idx;

static void set(int i, void *addr, uint32_t len, uint16_t flags, uint16_t next) {
    DESC[i].addr = (uint64_t)addr; DESC[i].len = len; DESC[i].flags = flags; DESC[i].next = next;
}

/* QEMU completes a request that reaches the disk asynchronously (an error at once):
 * wait for the used index to move, a bounded while (1 s; 5 ms where nothing comes) */
static uint64_t wait_div = 1;       /* wait at most 1/wait_div s for the completion */
static void submit(int head) {
    uint16_t before = USED[1];
    AVAIL[2 + avail_idx % QN] = head;
    mb();
    AVAIL[1] = ++avail_idx;
    mb();
    w32(T31 + 0x50, 0);
    mb();
    uint64_t t0 = cntvct(), hz = cntfrq();
    while (USED[1] == before && cntvct() - t0 < hz / wait_div) mb();
}

static void used_last(const char *what) {
    volatile uint32_t *u = (volatile uint32_t *)(ring + 4096 + 4);
    uint16_t idx = USED[1];
    uint16_t k = (idx - 1) % QN;
    printf_("%s: status %d used idx %d id %d len %d isr %d\n", what, status, idx, u[2 * k],
            u[2 * k + 1], r32(T31 + 0x60));
    w32(T31 + 0x64, r32(T31 + 0x60));
}

static void request(const char *what, uint32_t type, uint64_t sector, void *data, uint32_t len,
                    int device_writes) {
    hdr.type = type; hdr.ioprio = 0; hdr.sector = sector;
    status = 0xee;
    set(0, &hdr, 16, 1, 1);
    if (len) {
        set(1, data, len, 1 | (device_writes ? 2 : 0), 2);
        set(2, (void *)&status, 1, 2, 0);
    } else {
        set(1, (void *)&status, 1, 2, 0);
    }
    submit(0);
    used_last(what);
}

static uint32_t sum(const uint8_t *p, int n) {
    uint32_t s = 0;
    for (int i = 0; i < n; i++) s = s * 31 + p[i];
    return s;
}

int main(void) {
    puts_("== empty transport\n");
    printf_("magic %x version %d device %d vendor %x features %x\n", r32(T0), r32(T0 + 4),
            r32(T0 + 8), r32(T0 + 0xc), r32(T0 + 0x10));
    printf_("byte read of magic %x, halfword %x, status %x, config %x\n", r8(T0), r16(T0),
            r32(T0 + 0x70), r32(T0 + 0x100));
    w32(T0 + 0x70, 7);
    printf_("status after write %x\n", r32(T0 + 0x70));

    puts_("== virtio-blk transport\n");
    printf_("magic %x version %d device %d vendor %x\n", r32(T31), r32(T31 + 4), r32(T31 + 8),
            r32(T31 + 0xc));
    w32(T31 + 0x14, 0);
    uint32_t f0 = r32(T31 + 0x10);
    w32(T31 + 0x14, 1);
    printf_("host features %x %x\n", f0, r32(T31 + 0x10));
    for (uint32_t q = 0; q < 3; q++) {
        w32(T31 + 0x30, q);
        printf_("queue %d: num max %d pfn %x\n", q, r32(T31 + 0x34), r32(T31 + 0x40));
    }
    printf_("write-only reads: %x %x %x\n", r32(T31 + 0x14), r32(T31 + 0x30), r32(T31 + 0x50));
    puts_("config:");
    for (int o = 0; o < 64; o += 4) printf_(" %x", r32(T31 + 0x100 + o));
    printf_("\nconfig bytes %x %x %x halfword %x\n", r8(T31 + 0x100), r8(T31 + 0x101),
            r8(T31 + 0x112), r16(T31 + 0x110));

    puts_("== driver set-up\n");
    w32(T31 + 0x70, 0);
    w32(T31 + 0x70, 1);
    w32(T31 + 0x70, 3);
    w32(T31 + 0x24, 0);
    w32(T31 + 0x20, f0 & ~(1u << 29) & ~(1u << 28));    /* no event index, no indirect */
    w32(T31 + 0x28, 4096);
    w32(T31 + 0x30, 0);
    w32(T31 + 0x38, QN);
    w32(T31 + 0x3c, 4096);
    w32(T31 + 0x40, (uint32_t)((uint64_t)ring >> 12));
    w32(T31 + 0x70, 7);
    printf_("status %x pfn ok %d isr %d\n", r32(T31 + 0x70),
            r32(T31 + 0x40) == (uint32_t)((uint64_t)ring >> 12), r32(T31 + 0x60));

    puts_("== requests\n");
    request("read 0+2", 0, 0, buf, 1024, 1);
    printf_("data %x %x %x %x sum %x\n", buf[0], buf[1], buf[511], buf[512], sum(buf, 1024));
    for (int i = 0; i < 512; i++) buf2[i] = (uint8_t)(255 - i);
    request("write 3", 1, 3, buf2, 512, 0);
    memset(buf, 0, sizeof buf);
    request("read 3", 0, 3, buf, 512, 1);
    printf_("read back %x %x sum %x same %d\n", buf[0], buf[511], sum(buf, 512),
            sum(buf, 512) == sum(buf2, 512));
    request("read past the end", 0, 127, buf, 1024, 1);
    request("read of half a sector", 0, 0, buf, 100, 1);
    request("get id", 8, 0, buf, 20, 1);
    printf_("id %x %x\n", buf[0], buf[1]);
    request("flush", 4, 0, 0, 0, 0);
    request("unknown type 99", 99, 0, buf, 512, 1);
    seg.sector = 3; seg.num = 1; seg.flags = 0;
    request("write zeroes 3", 13, 0, &seg, 16, 0);
    request("read 3 again", 0, 3, buf, 512, 1);
    int zero = 1;
    for (int i = 0; i < 512; i++) zero &= buf[i] == 0;
    printf_("zeroed %d\n", zero);
    seg.sector = 120; seg.num = 16;
    request("write zeroes past the end", 13, 0, &seg, 16, 0);
    seg.sector = 4; seg.num = 2;
    request("discard", 11, 0, &seg, 16, 0);
    seg.flags = 1;
    request("discard with unmap flag", 11, 0, &seg, 16, 0);

    puts_("== no interrupt wanted\n");
    AVAIL[0] = 1;
    request("read 1 quietly", 0, 1, buf, 512, 1);
    AVAIL[0] = 0;

    puts_("== reset\n");
    w32(T31 + 0x70, 0);
    w32(T31 + 0x30, 0);
    printf_("status %x pfn %x features sel0 %x\n", r32(T31 + 0x70), r32(T31 + 0x40),
            r32(T31 + 0x10) == f0);

    puts_("== indirect descriptors\n");
    memset(ring, 0, sizeof ring);
    avail_idx = 0;
    w32(T31 + 0x70, 3);
    w32(T31 + 0x20, f0 & ~(1u << 29));
    w32(T31 + 0x28, 4096);
    w32(T31 + 0x38, QN);
    w32(T31 + 0x3c, 4096);
    w32(T31 + 0x40, (uint32_t)((uint64_t)ring >> 12));
    w32(T31 + 0x70, 7);
    hdr.type = 0; hdr.sector = 2; status = 0xee;
    indirect[0].addr = (uint64_t)&hdr; indirect[0].len = 16; indirect[0].flags = 1; indirect[0].next = 1;
    indirect[1].addr = (uint64_t)buf; indirect[1].len = 256; indirect[1].flags = 3; indirect[1].next = 2;
    indirect[2].addr = (uint64_t)buf + 256; indirect[2].len = 256; indirect[2].flags = 3; indirect[2].next = 3;
    indirect[3].addr = (uint64_t)&status; indirect[3].len = 1; indirect[3].flags = 2; indirect[3].next = 0;
    set(5, indirect, sizeof indirect, 4, 0);
    submit(5);
    used_last("indirect read 2");
    printf_("data %x %x\n", buf[0], buf[511]);

    puts_("== a looping chain breaks the device\n");
    wait_div = 200;
    hdr.type = 0; hdr.sector = 0; status = 0xee;
    set(0, &hdr, 16, 1, 1);
    set(1, buf, 512, 3, 0);                 /* 1 -> 0 -> 1 ... */
    submit(0);
    printf_("status byte %x used idx %d device status %x isr %d\n", status, USED[1],
            r32(T31 + 0x70), r32(T31 + 0x60));
    request("after the error", 0, 0, buf, 512, 1);
    w32(T31 + 0x70, 0);
    printf_("after reset: status %x\n", r32(T31 + 0x70));
    guest_exit(0);
    return 0;
}
