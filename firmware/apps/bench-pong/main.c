/*
 * bench-pong: demo-offer with 100,000 round trips and no per-round output, for the
 * interdomain ping-pong figure in `npm run bench` (run as d1, before bench-ping as d2).
 */
#include <zephyr/xen/events.h> /* links the events library (the Makefile looks for this line) */
#define DEMO_ROUNDS 100000
#define DEMO_VERBOSE 0
#include "../demo-offer/main.c"
