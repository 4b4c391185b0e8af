/* SPDX-License-Identifier: MIT */
/*
 * Xen event channels for Zephyr-style guests: <zephyr/xen/events.h>.
 *
 * Written from Zephyr's published API documentation; implemented in
 * lib/zephyr/events.c on the 2-level event-channel ABI (shared_info bits).
 * Every function returns 0 (or a port) on success and a negative errno on
 * failure; hypercall-backed ones return Xen's errno unchanged.
 *
 * CONFIG_XEN_EVENTS (and CONFIG_XEN_DOM0 for the _dom0 variant) gate the
 * declarations the way Kconfig gates the driver: using a disabled function
 * is a compile error rather than a link error.
 */
#ifndef ZEPHYR_XEN_EVENTS_H
#define ZEPHYR_XEN_EVENTS_H

#include <zephyr/xen/public/event_channel.h>
#include <zephyr/types.h>

/* Called from the event interrupt handler with the pointer given at bind time. */
typedef void (*evtchn_cb_t)(void *priv);

/* One entry of the per-port callback table. */
typedef struct evtchn_handle {
	evtchn_cb_t cb;
	void *priv;
} evtchn_handle_t;

#if defined(CONFIG_XEN_EVENTS) && CONFIG_XEN_EVENTS

/* EVTCHNOP_status: caller fills status->dom and ->port, Xen the rest. */
int evtchn_status(evtchn_status_t *status);
/* EVTCHNOP_close; an interdomain peer falls back to unbound. */
int evtchn_close(evtchn_port_t port);
/* EVTCHNOP_set_priority (FIFO ABI only: -ENOSYS on the 2-level ABI). */
int evtchn_set_priority(evtchn_port_t port, uint32_t priority);
/* EVTCHNOP_send on a local port. */
int notify_evtchn(evtchn_port_t port);

/* EVTCHNOP_alloc_unbound for ourselves: the new local port, or -errno. */
int alloc_unbound_event_channel(domid_t remote_dom);
#if defined(CONFIG_XEN_DOM0) && CONFIG_XEN_DOM0
/* The same for domain `dom` (DOMID_SELF allowed); others need privilege. */
int alloc_unbound_event_channel_dom0(domid_t dom, domid_t remote_dom);
#endif

/*
 * EVTCHNOP_bind_interdomain and attach cb(data): local port or -errno.
 * Xen leaves the new port pending (the peer may have notified before we
 * bound), so cb runs once right after binding.
 */
int bind_interdomain_event_channel(domid_t remote_dom, evtchn_port_t remote_port,
				   evtchn_cb_t cb, void *data);
/* Attach cb(data) to a local port (replaces any previous callback). */
int bind_event_channel(evtchn_port_t port, evtchn_cb_t cb, void *data);
/* Detach the callback; later events on the port are recorded as missed. */
int unbind_event_channel(evtchn_port_t port);
/* 1 if an event arrived while no callback was bound (and forget it), else 0. */
int get_missed_events(evtchn_port_t port);

/* Set / clear the port's bit in shared_info.evtchn_mask (see events.c). */
int mask_event_channel(evtchn_port_t port);
int unmask_event_channel(evtchn_port_t port);
/* Clear the port's bit in shared_info.evtchn_pending. */
void clear_event_channel(evtchn_port_t port);

/*
 * Reset the callback table, connect the handler to the event interrupt of
 * the devicetree's "xen,xen" node and enable it. -EINVAL if the shared_info
 * page is not mapped yet (HYPERVISOR_shared_info == NULL).
 */
int xen_events_init(void);

#endif /* CONFIG_XEN_EVENTS */
#endif
