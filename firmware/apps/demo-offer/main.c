// SPDX-License-Identifier: MIT
/*
 * demo-offer: the offering half of the two-domain demo (pair it with
 * demo-bind as the next domain: `run demo-offer.img demo-bind.img`).
 *
 * Offers an event channel to the next domain (domid + 1) with
 * alloc_unbound_event_channel, then answers each "ping" notification from
 * the peer with a "pong" on the same channel, DEMO_ROUNDS times. Everything
 * goes through the Zephyr events API (zephyr/xen/events.h); the only
 * synchronisation between the domains is the notifications themselves.
 */
#include <errno.h>
#include <zephyr/kernel.h>
#include <zephyr/xen/events.h>
#include <zephyr/xenvm.h>
#include <zephyr-events-compat.h>

/* bench-ping/bench-pong reuse this file with more rounds and no per-round lines. */
#ifndef DEMO_ROUNDS
#define DEMO_ROUNDS 5
#endif
#ifndef DEMO_VERBOSE
#define DEMO_VERBOSE 1
#endif

static volatile unsigned int pings;

__attribute__((noreturn)) static void finish(const char *result)
{
	printk("Test result: %s\n", result);
	xenvm_poweroff();
}

int main(void)
{
	if (xenvm_kernel_init() != 0 || xenvm_map_shared_info() != 0 || xen_events_init() != 0)
		finish("FAILURE (no event channels)");

	int me = xenvm_my_domid();

	if (me < 0)
		finish("FAILURE (cannot learn our domid)");
	domid_t peer = (domid_t)(me + 1);

	printk("demo-offer: I am d%d, offering a channel to d%u\n", me, peer);
	/* The first free port is known (1): bind the callback before d2 can ping. */
	evtchn_port_t expected = 1;

	bind_event_channel(expected, xenvm_count_cb, (void *)&pings);
	int port = alloc_unbound_event_channel(peer);

	if (port == -EPERM) {
		printk("offer refused: %d (the XSM policy forbids domU<->domU channels)\n", port);
		finish("SKIPPED (no domU<->domU channels under this policy)");
	}
	if (port != (int)expected) {
		printk("offer failed: %d\n", port);
		finish("FAILURE (alloc_unbound_event_channel)");
	}
	printk("offered port %d to d%u\n", port, peer);

	for (unsigned int i = 1; i <= DEMO_ROUNDS; i++) {
		xenvm_wait_for(&pings, i);
		if (DEMO_VERBOSE)
			printk("got ping %u\n", i);
		int rc = zc_notify_round((evtchn_port_t)port, "pong", i, DEMO_VERBOSE);

		if (rc != 0)
			finish("FAILURE (notify_evtchn)");
	}
	/* d2 sends one last notification once it has seen the last pong. */
	xenvm_wait_for(&pings, DEMO_ROUNDS + 1);
	printk("d%u is done; closing port %d: %d\n", peer, port, evtchn_close((evtchn_port_t)port));
	finish("SUCCESS");
}
