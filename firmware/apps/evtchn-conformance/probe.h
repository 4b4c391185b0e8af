/* SPDX-License-Identifier: MIT */
/*
 * Observation helpers shared by the event-channel conformance guests
 * (evtchn-conformance, evtchn-conformance-fifo, evtchn-pair, gnttab-share,
 * enhanced-probe).
 *
 * Every observation is one console line "op: detail = result", where the
 * result is Xen's return value, followed by the errno name when negative and
 * by any output fields. Nothing printed may depend on addresses, time or
 * scheduling, so the same guest gives the same transcript on every run and
 * the transcript of the real Xen can be kept as a golden file.
 */
#ifndef EVTCHN_PROBE_H
#define EVTCHN_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/public/event_channel.h>
#include <xen/public/xen.h>

/* A guest physical address with nothing behind it in a dom0less domU's p2m. */
#define PROBE_BAD_PTR ((void *)0x10000000UL)
#define PROBE_BAD_GFN 0x10000UL

/* Extra text for the next say(): output fields of a successful call. */
__attribute__((format(printf, 1, 2))) void extra(const char *fmt, ...);

/* Print "<detail> = rc[ ERRNAME][ extra]" and return rc. */
__attribute__((format(printf, 2, 3))) long say(long rc, const char *fmt, ...);

const char *errname(long rc);

/* Event-channel calls, argument struct built here; *port receives the output port. */
long ev_alloc_unbound(domid_t dom, domid_t remote, evtchn_port_t *port);
long ev_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port);
long ev_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long ev_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
long ev_close(evtchn_port_t port);
long ev_send(evtchn_port_t port);
long ev_unmask(evtchn_port_t port);
long ev_bind_vcpu(evtchn_port_t port, uint32_t vcpu);
long ev_reset(domid_t dom, int cont);

/* The observing variants: print one line each. */
long o_alloc_unbound(domid_t dom, domid_t remote, evtchn_port_t *port);
long o_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port);
long o_close(evtchn_port_t port);
long o_send(evtchn_port_t port);
long o_unmask(evtchn_port_t port);
/* EVTCHNOP_status of <dom, port>, printed with its decoded output. */
long o_status(domid_t dom, evtchn_port_t port);
/* Lowest port in [from, 4097) that EVTCHNOP_status calls invalid (-EINVAL). */
uint32_t first_invalid_port(domid_t dom, uint32_t from);

/*
 * Our own domid, without a line printed: a dom0less domU has no xenstore to ask, but the
 * status of a port it allocates for DOMID_SELF names it as the remote end. The port is
 * closed again, so the next allocation gets the same number. DOMID_INVALID on failure.
 */
domid_t self_domid(void);

/* ---- two domains taking turns (evtchn-pair, gnttab-share) ---- */

/* How often a bounded wait yields before it gives up. */
#define PROBE_WAIT_ROUNDS 400000UL

/*
 * Waits (SCHEDOP_yield between looks, bounded) for our port to become pending in
 * shared_info's 2-level bits, then prints "wait: <what> = seen" or "= timeout".
 */
bool wait_pending(evtchn_port_t port, const char *what);
/* ev_bind_interdomain, retried (with a yield) while the peer has not offered the port (-EINVAL). */
long ev_bind_interdomain_retry(domid_t remote, evtchn_port_t rport, evtchn_port_t *port);

/* A domain id as the guest wrote it: SELF/XEN/IO/... by name, else decimal. */
const char *domname(domid_t dom);

/* ---- shared_info and vcpu_info ---- */

/* XENMEM_add_to_physmap(shared_info) at the page `page`; prints; 0 on success. */
long map_shared_info(void *page, const char *detail);
/* The vcpu_info show_bits() reads (shared_info's slot, or a registered one). */
void use_vcpu_info(volatile struct vcpu_info *vi);
extern volatile struct shared_info *shinfo;
extern volatile struct vcpu_info *vinfo;

/* "bits: <what> = pend0=.. pend1=.. mask0=.. mask1=.. sel=.. upcall=.." */
void show_bits(const char *what);
/* Population count of every pending and mask word (after exhaustion/reset). */
void show_bit_totals(const char *what);
/* The guest's part of the protocol, done by hand: forget all pending events. */
void clear_events(void);
void mask_port(evtchn_port_t port);
void unmask_port_locally(evtchn_port_t port);

/*
 * FIFO ABI (evtchn-conformance-fifo): once Xen switched the domain, the app
 * points these at its event array page (ports 0..1023) and control block;
 * the helpers above then read and change FIFO event words instead of the
 * 2-level bits. NULL again after EVTCHNOP_reset (back to 2-level).
 */
extern volatile event_word_t *fifo_words;
extern volatile struct evtchn_fifo_control_block *fifo_cb;

#endif
