/* SPDX-License-Identifier: MIT */
/* <zephyr/xen/public/event_channel.h>: ours plus the *_t typedef names. */
#ifndef ZEPHYR_SHIM_XEN_PUBLIC_EVENT_CHANNEL_H
#define ZEPHYR_SHIM_XEN_PUBLIC_EVENT_CHANNEL_H

#include <zephyr/xen/public/xen.h>
#include <xen/public/event_channel.h>

typedef struct evtchn_alloc_unbound evtchn_alloc_unbound_t;
typedef struct evtchn_bind_interdomain evtchn_bind_interdomain_t;
typedef struct evtchn_bind_virq evtchn_bind_virq_t;
typedef struct evtchn_bind_ipi evtchn_bind_ipi_t;
typedef struct evtchn_close evtchn_close_t;
typedef struct evtchn_send evtchn_send_t;
typedef struct evtchn_status evtchn_status_t;
typedef struct evtchn_bind_vcpu evtchn_bind_vcpu_t;
typedef struct evtchn_unmask evtchn_unmask_t;
typedef struct evtchn_set_priority evtchn_set_priority_t;

#endif
