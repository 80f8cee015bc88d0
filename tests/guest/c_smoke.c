#include "lib.h"
static uint64_t fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int main(void) {
    printf_("fib(20)=%lu\n", fib(20));
    int64_t a = -7; uint64_t b = 3;
    printf_("div=%ld mod=%ld hex=%lx\n", a / 2, a % 2, (b << 60) | 0xabc);
    return 3;
}
