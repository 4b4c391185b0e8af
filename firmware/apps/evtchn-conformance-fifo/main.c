// SPDX-License-Identifier: MIT
/*
 * evtchn-conformance on the FIFO event-channel ABI: the same sections as
 * apps/evtchn-conformance (see there), after EVTCHNOP_init_control and
 * EVTCHNOP_expand_array switched the domain to FIFO; the observation helpers
 * print and change FIFO event words instead of 2-level bits.
 */
#define CONFORMANCE_FIFO 1
#include "../evtchn-conformance/main.c"
#include "../evtchn-conformance/probe.c"
