// SPDX-License-Identifier: MIT
/*
 * dom-crash: a domain crashes while its peer is bound to it. Run the same
 * image as d1 and d2.
 *
 * d1 offers port 1 to d2; d2 binds it and pings; d1 answers with a last
 * notification and shuts itself down with SHUTDOWN_crash. d2, once it has
 * that notification, gives d1's vCPU the time to finish dying (SCHEDOP_yield
 * a fixed number of times: the crash is a handful of instructions after the
 * send), then looks at its end of the channel: Xen keeps a shut-down domain
 * and its ports until a toolstack destroys it, which never happens to a
 * dom0less domU, so the port still reads interdomain, sends to the dead
 * domain still succeed, and new channels to it can still be offered. Then it
 * closes its port and reports. Under SILO both report SKIPPED.
 */
#include <zephyr/xen/events.h>
#include <xen/public/sched.h>

#include "../dom-ring/dom-common.h"

#define OFFER_PORT 1
/* Yields after the goodbye before d2 assumes d1 is gone (each is a full hypercall). */
#define SETTLE_YIELDS 2000

static volatile unsigned int events;

static void role_d1(domid_t peer)
{
	bind_event_channel(OFFER_PORT, dom_count_cb, (void *)&events);
	int port = alloc_unbound_event_channel(peer);

	if (port < 0) {
		dom_out("offer to d%u refused: %d\n", peer, port);
		dom_finish(port == -EPERM ? "SKIPPED (no domU<->domU channels under this policy)"
					  : "FAILURE (alloc_unbound_event_channel)");
	}
	dom_out("offered port %d to d%u\n", port, peer);
	dom_wait_count(&events, 1);
	dom_out("got the ping; answering, then crashing on purpose\n");
	dom_out("goodbye sent: %s\n", dom_notify((evtchn_port_t)port));
	xen_shutdown(SHUTDOWN_crash);
}

static void role_d2(domid_t peer)
{
	char desc[48];
	evtchn_status_t st;
	/* Under SILO no port for d1 can exist: find out before waiting for one. */
	int probe = alloc_unbound_event_channel(peer);

	if (probe < 0) {
		dom_out("channel to d%u refused: %d\n", peer, probe);
		dom_finish(probe == -EPERM ? "SKIPPED (no domU<->domU channels under this policy)"
					   : "FAILURE (alloc_unbound_event_channel)");
	}
	evtchn_close((evtchn_port_t)probe);

	int port = dom_bind_retry(peer, OFFER_PORT, dom_count_cb, (void *)&events);

	if (port < 0) {
		dom_out("bind to d%u port %d failed: %d\n", peer, OFFER_PORT, port);
		dom_finish("FAILURE (bind_interdomain_event_channel)");
	}
	dom_out("bound to d%u port %d as local port %d\n", peer, OFFER_PORT, port);
	dom_drain_bind_event(&events, (evtchn_port_t)port);
	dom_out("ping sent: %s\n", dom_notify((evtchn_port_t)port));
	dom_wait_count(&events, 1);
	dom_out("got d%u's goodbye\n", peer);
	for (int i = 0; i < SETTLE_YIELDS; i++)
		k_yield();

	dom_port_state((evtchn_port_t)port, &st);
	dom_out("after the crash, port %d: %s\n", port, dom_describe(&st, desc, sizeof(desc)));
	for (int i = 1; i <= 3; i++)
		dom_out("send %d to the crashed d%u: %s\n", i, peer, dom_notify((evtchn_port_t)port));
	int again = alloc_unbound_event_channel(peer);

	dom_out("new offer to the crashed d%u: %s%d\n", peer, again >= 0 ? "port " : "", again);
	if (again >= 0)
		evtchn_close((evtchn_port_t)again);
	dom_out("bind to the crashed d%u port %d again: %d\n", peer, OFFER_PORT,
		bind_interdomain_event_channel(peer, OFFER_PORT, dom_count_cb, (void *)&events));
	dom_out("closing port %d: %d\n", port, evtchn_close((evtchn_port_t)port));
	dom_port_state((evtchn_port_t)port, &st);
	dom_out("port %d now: %s\n", port, dom_describe(&st, desc, sizeof(desc)));
	dom_finish("SUCCESS");
}

int main(void)
{
	int me = dom_init();

	if (me != 1 && me != 2)
		dom_finish("FAILURE (run as d1 and d2)");
	dom_out("dom-crash: I am d%d\n", me);
	if (me == 1)
		role_d1(2);
	else
		role_d2(1);
	return 0;
}
