/* For the savevm/loadvm CLI tests: prints a tick line every 100k iterations of a
 * checksum loop (about 30 M instructions in all), then the checksum, then powers off. */
#include "lib.h"

int main(void) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int t = 1; t <= 30; t++) {
        for (int i = 0; i < 100000; i++)
            h = (h ^ (uint64_t)i) * 0x100000001b3ULL + (h >> 29);
        printf_("tick %d %lx\n", t, h & 0xffff);
    }
    printf_("checksum %lx\n", h);
    guest_exit(0);
    return 0;
}
