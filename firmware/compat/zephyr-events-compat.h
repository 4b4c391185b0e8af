/* SPDX-License-Identifier: MIT */
/*
 * The Zephyr Xen events API as the firmware apps use it, whichever
 * generation the events library in effect implements: ours
 * (lib/zephyr/events.c) or a Zephyr tree's drivers/xen/events.c
 * (make ZEPHYR_BASE=..., firmware/README.md). Zephyr's API changed over
 * time; scripts/zephyr-events-probe.sh asks the compiler which functions
 * the tree's <zephyr/xen/events.h> declares, asks nm which ones its driver
 * exports, and whether notify_evtchn returns int or void, and writes the
 * answers to <zephyr-events-api.h> (ZEPHYR_EVENTS_DECLARES_<fn>,
 * ZEPHYR_EVENTS_DEFINES_<fn>, ZEPHYR_EVENTS_NOTIFY_RETURNS_INT).
 *
 * From those answers this header
 *  - declares what a driver exports but its events.h leaves undeclared
 *    (the probe compiles the driver with this header forced in, so these
 *    prototypes are checked against the definitions);
 *  - gives zc_notify(): notify_evtchn with Xen's result where the API
 *    returns it, and a plain "no result" where it returns void;
 *  - gives zc_clear_event_channel(): the driver's clear_event_channel where
 *    events.h declares it, else the same effect done here.
 * An app tests ZEPHYR_EVENTS_DEFINES_<fn> before calling a function that a
 * tree may not have at all.
 */
#ifndef FIRMWARE_COMPAT_ZEPHYR_EVENTS_COMPAT_H
#define FIRMWARE_COMPAT_ZEPHYR_EVENTS_COMPAT_H

#include <stdbool.h>

#include <zephyr/kernel.h>
#include <zephyr/xen/events.h>
#include <zephyr-events-api.h>

/* Exported by the driver, missing from its events.h (some trees). */
#if !ZEPHYR_EVENTS_DECLARES_get_missed_events && ZEPHYR_EVENTS_DEFINES_get_missed_events
int get_missed_events(evtchn_port_t port);
#endif
#if !ZEPHYR_EVENTS_DECLARES_mask_event_channel && ZEPHYR_EVENTS_DEFINES_mask_event_channel
int mask_event_channel(evtchn_port_t port);
#endif
#if !ZEPHYR_EVENTS_DECLARES_unmask_event_channel && ZEPHYR_EVENTS_DEFINES_unmask_event_channel
int unmask_event_channel(evtchn_port_t port);
#endif
#if !ZEPHYR_EVENTS_DECLARES_alloc_unbound_event_channel_dom0 && \
	ZEPHYR_EVENTS_DEFINES_alloc_unbound_event_channel_dom0
int alloc_unbound_event_channel_dom0(domid_t dom, domid_t remote_dom);
#endif
#if !ZEPHYR_EVENTS_DECLARES_evtchn_close && ZEPHYR_EVENTS_DEFINES_evtchn_close
int evtchn_close(evtchn_port_t port);
#endif
#if !ZEPHYR_EVENTS_DECLARES_evtchn_status && ZEPHYR_EVENTS_DEFINES_evtchn_status
int evtchn_status(evtchn_status_t *status);
#endif
#if !ZEPHYR_EVENTS_DECLARES_evtchn_set_priority && ZEPHYR_EVENTS_DEFINES_evtchn_set_priority
int evtchn_set_priority(evtchn_port_t port, uint32_t priority);
#endif

/*
 * notify_evtchn(port). With an int notify_evtchn: true, and *rc is what the
 * driver returned (EVTCHNOP_send's 0 or -errno). With a void one the driver
 * drops Xen's answer: false, *rc untouched; the caller must not invent one.
 */
static inline bool zc_notify(evtchn_port_t port, int *rc)
{
#if ZEPHYR_EVENTS_NOTIFY_RETURNS_INT
	*rc = notify_evtchn(port);
	return true;
#else
	(void)rc;
	notify_evtchn(port);
	return false;
#endif
}

/*
 * One round of the demo and bench ping-pong: notify, and print "sent <what> <round> (<result>)"
 * when `verbose` or the call failed. The result is formatted only then: bench-ping/pong time
 * this loop. Returns Xen's result (0 where notify_evtchn returns void).
 */
static inline int zc_notify_round(evtchn_port_t port, const char *what, unsigned int round, bool verbose)
{
	int rc = 0;
	bool has_rc = zc_notify(port, &rc);

	if (verbose || rc != 0) {
		char res[12];

		if (has_rc)
			snprintk(res, sizeof(res), "%d", rc);
		printk("sent %s %u (%s)\n", what, round, has_rc ? res : "void");
	}
	return rc;
}

/* The same for a transcript line: the result as "%d", or "void". */
static inline const char *zc_notify_text(evtchn_port_t port, char *buf, unsigned int size)
{
	int rc;

	if (!zc_notify(port, &rc))
		return "void";
	snprintk(buf, size, "%d", rc);
	return buf;
}

/*
 * clear_event_channel(port) where events.h declares it. Where the driver
 * keeps it static (some trees), the same effect: the port's bit in
 * shared_info.evtchn_pending cleared with one atomic AND, since Xen sets
 * other bits of that word concurrently (xen/include/public/xen.h,
 * struct shared_info). Only the pending bit changes; the mask stays.
 */
#if ZEPHYR_EVENTS_DECLARES_clear_event_channel
#define ZC_CLEAR_IS_THE_DRIVERS 1
static inline void zc_clear_event_channel(evtchn_port_t port)
{
	clear_event_channel(port);
}
#else
#define ZC_CLEAR_IS_THE_DRIVERS 0
extern shared_info_t *HYPERVISOR_shared_info;

static inline void zc_clear_event_channel(evtchn_port_t port)
{
	const unsigned int bits = 8 * sizeof(xen_ulong_t);

	__atomic_fetch_and(&HYPERVISOR_shared_info->evtchn_pending[port / bits],
			   ~((xen_ulong_t)1 << (port % bits)), __ATOMIC_SEQ_CST);
}
#endif

#endif
