/* empty: prints its checksum line and powers off at once.  Used to measure the
 * start-up cost of each emulator, which is subtracted from QEMU's wall time. */
#include "bench.h"

int main(void) {
    report("empty", 0);
    return 0;
}
