// SPDX-License-Identifier: MIT
/*
 * dom-poll: SCHEDOP_poll with a timeout. Run the same image as d1 and d2.
 *
 * d1 keeps IRQs masked and installs no handler: it watches its ports only
 * through SCHEDOP_poll and the pending bits of shared_info. It allocates
 * port 1 (for itself: nobody can signal it) and port 2 (offered to d2),
 * masks port 2 (a poll still sees a masked port become pending, and no
 * upcall is raised), then
 *   1. polls port 1 until the absolute system time POLL_TIMEOUT_NS: nothing
 *      arrives, the poll returns 0 at the timeout and port 1 is not pending;
 *   2. polls port 2 with a far-away timeout: d2's notification ends it (or
 *      has already arrived, which makes the poll return at once).
 * d2 binds d1's port 2 (retried until offered) and notifies it once.
 * Under SILO d2's bind and d1's offer are refused: both report SKIPPED.
 *
 * The timeout is in Xen system time (ns since Xen booted): the emulator's
 * virtual time counts guest instructions, and fast-forwards idle time to it.
 */
#include <zephyr/xen/events.h>
#include <xen/public/sched.h>

#include "../dom-ring/dom-common.h"

#define POLL_TIMEOUT_NS 100000000000ULL   /* 100 s */
#define FAR_TIMEOUT_NS 1000000000000ULL   /* 1000 s */

static volatile unsigned int events;

static void role_d1(domid_t peer)
{
	if (xenvm_map_shared_info() != 0)
		dom_finish("FAILURE (no shared_info)");
	int idle = alloc_unbound_event_channel(DOMID_SELF);

	mask_event_channel(2);
	int offered = alloc_unbound_event_channel(peer);

	if (offered < 0) {
		dom_out("offer to d%u refused: %d\n", peer, offered);
		dom_finish(offered == -EPERM ? "SKIPPED (no domU<->domU channels under this policy)"
					     : "FAILURE (alloc_unbound_event_channel)");
	}
	dom_out("port %d: for myself; port %d: offered to d%u (masked)\n", idle, offered, peer);
	if (idle != 1 || offered != 2)
		dom_finish("FAILURE (alloc_unbound_event_channel)");

	long rc = dom_poll(1, POLL_TIMEOUT_NS);
	bool pending = xenvm_evtchn_is_pending(1);

	dom_out("poll port 1 until %llu ns: %ld, pending: %s -> %s\n", POLL_TIMEOUT_NS, rc,
		pending ? "yes" : "no", pending ? "signalled?!" : "timed out");
	if (rc != 0 || pending)
		dom_finish("FAILURE (SCHEDOP_poll with a timeout)");

	do
		rc = dom_poll(2, FAR_TIMEOUT_NS);
	while (rc == 0 && !xenvm_evtchn_is_pending(2));
	dom_out("poll port 2 until %llu ns: %ld, pending: %s -> woken by d%u\n", FAR_TIMEOUT_NS, rc,
		xenvm_evtchn_is_pending(2) ? "yes" : "no", peer);
	dom_finish(rc == 0 ? "SUCCESS" : "FAILURE (SCHEDOP_poll)");
}

static void role_d2(domid_t peer)
{
	if (xenvm_kernel_init() != 0 || xenvm_map_shared_info() != 0 || xen_events_init() != 0)
		dom_finish("FAILURE (no event channels)");
	int probe = alloc_unbound_event_channel(peer);

	if (probe < 0) {
		dom_out("channel to d%u refused: %d\n", peer, probe);
		dom_finish(probe == -EPERM ? "SKIPPED (no domU<->domU channels under this policy)"
					   : "FAILURE (alloc_unbound_event_channel)");
	}
	evtchn_close((evtchn_port_t)probe);
	int port = dom_bind_retry(peer, 2, dom_count_cb, (void *)&events);

	dom_out("bound to d%u port 2 as local port %d\n", peer, port);
	if (port < 0)
		dom_finish("FAILURE (bind_interdomain_event_channel)");
	dom_out("notify d%u: %s\n", peer, dom_notify((evtchn_port_t)port));
	dom_finish("SUCCESS");
}

int main(void)
{
	/* Before any other port: the domid probe uses (and frees) port 1. */
	int me = dom_whoami();

	if (me != 1 && me != 2)
		dom_finish("FAILURE (run as d1 and d2)");
	dom_out("dom-poll: I am d%d\n", me);
	if (me == 1)
		role_d1(2);
	else
		role_d2(1);
	return 0;
}
