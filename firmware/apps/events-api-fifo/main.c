// SPDX-License-Identifier: MIT
/*
 * events-api on the FIFO event-channel ABI: the very same script as
 * apps/events-api (see there), with the events library switched to FIFO.
 * Under the real Xen 4.17 and the emulator every line must match, as for
 * the 2-level build, except set_priority, which FIFO implements.
 */
#include <stdbool.h>

#include <zephyr/xen/events.h>
#include <zephyr/xenvm.h>

XEN_EVENTS_USE_FIFO();

#define EVENTS_API_FIFO 1
#include "../events-api/main.c"
