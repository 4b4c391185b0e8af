/*
 * bench-pong-fifo: bench-pong with the events library on the FIFO ABI, for the
 * "event delivery under FIFO vs 2-level" figure of `npm run bench` (d1, before
 * bench-ping-fifo as d2).
 */
#include <stdbool.h>

#include <zephyr/xen/events.h> /* links the events library (the Makefile looks for this line) */
#include <zephyr/xenvm.h>

XEN_EVENTS_USE_FIFO();

#define DEMO_ROUNDS 100000
#define DEMO_VERBOSE 0
#include "../demo-offer/main.c"
