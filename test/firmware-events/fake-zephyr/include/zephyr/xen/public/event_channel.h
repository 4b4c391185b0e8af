/* SPDX-License-Identifier: MIT */
/* Test fixture: event-channel operation numbers and argument layouts. */
#ifndef FAKE_ZEPHYR_XEN_PUBLIC_EVENT_CHANNEL_H
#define FAKE_ZEPHYR_XEN_PUBLIC_EVENT_CHANNEL_H

#include <zephyr/xen/public/xen.h>

#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_unmask           9
#define EVTCHNOP_set_priority    13

typedef uint32_t evtchn_port_t;

struct evtchn_alloc_unbound { domid_t dom, remote_dom; evtchn_port_t port; };
struct evtchn_bind_interdomain { domid_t remote_dom; evtchn_port_t remote_port, local_port; };
struct evtchn_close { evtchn_port_t port; };
struct evtchn_send { evtchn_port_t port; };
struct evtchn_unmask { evtchn_port_t port; };
struct evtchn_set_priority { evtchn_port_t port; uint32_t priority; };

#define EVTCHNSTAT_closed      0
#define EVTCHNSTAT_unbound     1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq        3
#define EVTCHNSTAT_virq        4
#define EVTCHNSTAT_ipi         5
struct evtchn_status {
	domid_t dom;
	evtchn_port_t port;
	uint32_t status, vcpu;
	union {
		struct { domid_t dom; } unbound;
		struct { domid_t dom; evtchn_port_t port; } interdomain;
		uint32_t pirq, virq;
	} u;
};
typedef struct evtchn_status evtchn_status_t;

#endif
