/* SPDX-License-Identifier: MIT */
/*
 * Test fixture: the events API declarations, as a Zephyr tree provides them.
 * -DFAKE_VOID_API gives the other shape trees have had: notify_evtchn
 * returns void, and mask/unmask/clear and the dom0 allocator are not
 * declared (the driver exports all but clear, which it keeps static).
 */
#ifndef FAKE_ZEPHYR_XEN_EVENTS_H
#define FAKE_ZEPHYR_XEN_EVENTS_H

#include <zephyr/xen/public/event_channel.h>
#include <zephyr/kernel.h>

typedef void (*evtchn_cb_t)(void *priv);
typedef struct { evtchn_cb_t cb; void *priv; } evtchn_handle_t;

int evtchn_status(evtchn_status_t *status);
int evtchn_close(evtchn_port_t port);
int evtchn_set_priority(evtchn_port_t port, uint32_t priority);
#ifdef FAKE_VOID_API
void notify_evtchn(evtchn_port_t port);
#else
int notify_evtchn(evtchn_port_t port);
#endif
int alloc_unbound_event_channel(domid_t remote_dom);
#if defined(CONFIG_XEN_DOM0) && !defined(FAKE_VOID_API)
int alloc_unbound_event_channel_dom0(domid_t dom, domid_t remote_dom);
#endif
int bind_interdomain_event_channel(domid_t remote_dom, evtchn_port_t remote_port,
				   evtchn_cb_t cb, void *data);
int bind_event_channel(evtchn_port_t port, evtchn_cb_t cb, void *data);
int unbind_event_channel(evtchn_port_t port);
int get_missed_events(evtchn_port_t port);
#ifndef FAKE_VOID_API
int mask_event_channel(evtchn_port_t port);
int unmask_event_channel(evtchn_port_t port);
void clear_event_channel(evtchn_port_t port);
#endif
int xen_events_init(void);

#endif
