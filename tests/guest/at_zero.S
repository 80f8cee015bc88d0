/* hello.S linked at address 0 (link0.ld): for Machine.map_ram's test. */
#include "hello.S"
