/* The gdb stub's test guest (tests/test_gdbstub.py): a few frames to break in and
 * backtrace through, a global to watch, FP registers to read, then power-off. */
#include "lib.h"

volatile uint64_t counter;          /* written: the write watchpoint */
volatile uint64_t limit = 3;        /* read: the read watchpoint */
volatile uint64_t sink;

__attribute__((noinline)) uint64_t leaf(uint64_t a, uint64_t b) {
    sink = a * b;
    return sink + 1;
}

__attribute__((noinline)) uint64_t middle(uint64_t x) {
    return leaf(x, x + 1) + 2;
}

int main(void) {
    printf_("gdb_prog: start\n");
    for (uint64_t i = 0; i < limit; i++) {
        counter = counter + 10;
        middle(i);
    }
    printf_("gdb_prog: counter=%lu sink=%lu\n", counter, sink);
    return 0;
}
