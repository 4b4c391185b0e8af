/* SPDX-License-Identifier: MIT */
/* Test fixture: the events API declarations, as a Zephyr tree provides them. */
#ifndef FAKE_ZEPHYR_XEN_EVENTS_H
#define FAKE_ZEPHYR_XEN_EVENTS_H

#include <zephyr/xen/public/event_channel.h>
#include <zephyr/kernel.h>

typedef void (*evtchn_cb_t)(void *priv);
typedef struct { evtchn_cb_t cb; void *priv; } evtchn_handle_t;

int evtchn_status(evtchn_status_t *status);
int evtchn_close(evtchn_port_t port);
int evtchn_set_priority(evtchn_port_t port, uint32_t priority);
int notify_evtchn(evtchn_port_t port);
int alloc_unbound_event_channel(domid_t remote_dom);
#ifdef CONFIG_XEN_DOM0
int alloc_unbound_event_channel_dom0(domid_t dom, domid_t remote_dom);
#endif
int bind_interdomain_event_channel(domid_t remote_dom, evtchn_port_t remote_port,
				   evtchn_cb_t cb, void *data);
int bind_event_channel(evtchn_port_t port, evtchn_cb_t cb, void *data);
int unbind_event_channel(evtchn_port_t port);
int get_missed_events(evtchn_port_t port);
int mask_event_channel(evtchn_port_t port);
int unmask_event_channel(evtchn_port_t port);
void clear_event_channel(evtchn_port_t port);
int xen_events_init(void);

#endif
