/* SPDX-License-Identifier: MIT */
/*
 * Event channels: HYPERVISOR_event_channel_op(cmd, arg).
 * Commands and argument layouts are facts of Xen 4.17
 * (xen/include/public/event_channel.h); wording is ours.
 * "in" fields are read by Xen, "out" fields written back on success.
 */
#ifndef XEN_PUBLIC_EVENT_CHANNEL_H
#define XEN_PUBLIC_EVENT_CHANNEL_H

#include "xen.h"

#define EVTCHNOP_bind_interdomain  0
#define EVTCHNOP_bind_virq         1
#define EVTCHNOP_bind_pirq         2
#define EVTCHNOP_close             3
#define EVTCHNOP_send              4
#define EVTCHNOP_status            5
#define EVTCHNOP_alloc_unbound     6
#define EVTCHNOP_bind_ipi          7
#define EVTCHNOP_bind_vcpu         8
#define EVTCHNOP_unmask            9
#define EVTCHNOP_reset            10
#define EVTCHNOP_init_control     11
#define EVTCHNOP_expand_array     12
#define EVTCHNOP_set_priority     13
#define EVTCHNOP_reset_cont       14 /* internal to Xen; guests get -ENOSYS */

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef uint32_t evtchn_port_t;

/* 6: make a fresh port in <dom> that <remote_dom> may later bind to. */
struct evtchn_alloc_unbound {
	domid_t dom;          /* in (DOMID_SELF for unprivileged callers) */
	domid_t remote_dom;   /* in */
	evtchn_port_t port;   /* out */
};

/* 0: connect a fresh local port to <remote_dom, remote_port> (unbound). */
struct evtchn_bind_interdomain {
	domid_t remote_dom;         /* in */
	evtchn_port_t remote_port;  /* in (offset 4) */
	evtchn_port_t local_port;   /* out */
};

/* 1: bind a virtual IRQ (VIRQ_*) of vCPU <vcpu> to a fresh port. */
struct evtchn_bind_virq {
	uint32_t virq;       /* in */
	uint32_t vcpu;       /* in */
	evtchn_port_t port;  /* out */
};

/* 2: bind a physical IRQ (privileged). */
#define BIND_PIRQ__WILL_SHARE 1
struct evtchn_bind_pirq {
	uint32_t pirq;       /* in */
	uint32_t flags;      /* in, BIND_PIRQ__* */
	evtchn_port_t port;  /* out */
};

/* 7: a port for inter-vCPU notifications, delivered to <vcpu>. */
struct evtchn_bind_ipi {
	uint32_t vcpu;       /* in */
	evtchn_port_t port;  /* out */
};

/* 3: close a port; an interdomain peer falls back to unbound. */
struct evtchn_close {
	evtchn_port_t port;  /* in */
};

/* 4: raise an event on the other end of <port>. */
struct evtchn_send {
	evtchn_port_t port;  /* in */
};

/* 5: what <dom, port> is bound to. */
#define EVTCHNSTAT_closed      0
#define EVTCHNSTAT_unbound     1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq        3
#define EVTCHNSTAT_virq        4
#define EVTCHNSTAT_ipi         5
struct evtchn_status {
	domid_t dom;          /* in */
	evtchn_port_t port;   /* in (offset 4) */
	uint32_t status;      /* out, EVTCHNSTAT_* */
	uint32_t vcpu;        /* out */
	union {
		struct { domid_t dom; } unbound;
		struct { domid_t dom; evtchn_port_t port; } interdomain;
		uint32_t pirq;
		uint32_t virq;
	} u;                  /* out (offset 16) */
};

/* 8: which vCPU gets the upcall for <port>. */
struct evtchn_bind_vcpu {
	evtchn_port_t port;  /* in */
	uint32_t vcpu;       /* in */
};

/* 9: clear the mask bit of <port>, and re-raise if it is pending. */
struct evtchn_unmask {
	evtchn_port_t port;  /* in */
};

/* 10: close every port of <dom>. */
struct evtchn_reset {
	domid_t dom;         /* in */
};

/* 11: switch to the FIFO ABI with a control block at <control_gfn>. */
struct evtchn_init_control {
	uint64_t control_gfn;  /* in */
	uint32_t offset;       /* in */
	uint32_t vcpu;         /* in */
	uint8_t link_bits;     /* out */
	uint8_t _pad[7];
};

/* 12: give the FIFO ABI one more event-array page. */
struct evtchn_expand_array {
	uint64_t array_gfn;  /* in */
};

/* 13: FIFO priority of <port>, 0 (highest) .. 15. */
struct evtchn_set_priority {
	evtchn_port_t port;  /* in */
	uint32_t priority;   /* in */
};

/* Argument of the old event_channel_op_compat hypercall (16). */
struct evtchn_op {
	uint32_t cmd;
	union {
		struct evtchn_alloc_unbound alloc_unbound;
		struct evtchn_bind_interdomain bind_interdomain;
		struct evtchn_bind_virq bind_virq;
		struct evtchn_bind_pirq bind_pirq;
		struct evtchn_bind_ipi bind_ipi;
		struct evtchn_close close;
		struct evtchn_send send;
		struct evtchn_status status;
		struct evtchn_bind_vcpu bind_vcpu;
		struct evtchn_unmask unmask;
	} u;
};

/* FIFO ABI constants. */
#define EVTCHN_FIFO_PRIORITY_MAX     0
#define EVTCHN_FIFO_PRIORITY_DEFAULT 7
#define EVTCHN_FIFO_PRIORITY_MIN     15
#define EVTCHN_FIFO_LINK_BITS        17

/*
 * FIFO ABI layouts (Xen 4.17 public/event_channel.h, facts only). Each port has a 32-bit
 * event word in the event array (pages handed to Xen with EVTCHNOP_expand_array, 1024
 * words each); each vCPU a control block (EVTCHNOP_init_control) with one `ready` bit per
 * priority whose queue is non-empty and the port at the head of each queue.
 */
typedef uint32_t event_word_t;

#define EVTCHN_FIFO_PENDING     31
#define EVTCHN_FIFO_MASKED      30
#define EVTCHN_FIFO_LINKED      29
#define EVTCHN_FIFO_BUSY        28
#define EVTCHN_FIFO_LINK_MASK   ((1U << EVTCHN_FIFO_LINK_BITS) - 1)
#define EVTCHN_FIFO_NR_CHANNELS (1U << EVTCHN_FIFO_LINK_BITS)
#define EVTCHN_FIFO_MAX_QUEUES  (EVTCHN_FIFO_PRIORITY_MIN + 1)

struct evtchn_fifo_control_block {
	uint32_t ready;
	uint32_t _rsvd;
	uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
};

#endif /* !__ASSEMBLER__ */
#endif
