/* SPDX-License-Identifier: MIT */
/* The FIFO event-channel ABI for the events library (evtchn_fifo.c). */
#ifndef XENVM_LIB_EVTCHN_FIFO_H
#define XENVM_LIB_EVTCHN_FIFO_H

#include <stdbool.h>
#include <xen/public/event_channel.h>

/* Event array pages we can hand to Xen: 4 x 1024 ports, the events library's table size. */
#define EVTCHN_FIFO_ARRAY_PAGES 4

/* init_control for vCPU 0 + the first array page: 0, or Xen's -errno (then still 2-level). */
int evtchn_fifo_init(void);
/* True once Xen switched the domain to FIFO (read on every upcall: inline). */
extern bool evtchn_fifo_on;
static inline bool evtchn_fifo_active(void)
{
	return evtchn_fifo_on;
}
/* Adds array pages until `port` has an event word. */
int evtchn_fifo_ensure_port(evtchn_port_t port);
/* The port's event word, or NULL (not FIFO, or no word yet). */
volatile event_word_t *evtchn_fifo_word(evtchn_port_t port);
void evtchn_fifo_set_masked(evtchn_port_t port, bool masked);
void evtchn_fifo_clear_pending(evtchn_port_t port);
/* Serves every ready queue, highest priority first, calling dispatch(port) per event. */
void evtchn_fifo_handle(void (*dispatch)(evtchn_port_t));
/* For tests: the control block Xen writes (NULL when not FIFO). */
const struct evtchn_fifo_control_block *evtchn_fifo_control_block(void);

#endif
