// SPDX-License-Identifier: MIT
/*
 * demo-bind: the binding half of the two-domain demo (the domain right
 * after demo-offer). Binds to port 1 of the previous domain (domid - 1)
 * with bind_interdomain_event_channel, then sends DEMO_ROUNDS pings and
 * waits for each pong, all through the Zephyr events API.
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
#define OFFERED_PORT 1

static volatile unsigned int pongs;

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

	if (me < 1)
		finish("FAILURE (cannot learn our domid)");
	domid_t peer = (domid_t)(me - 1);

	printk("demo-bind: I am d%d, binding to port %d of d%u\n", me, OFFERED_PORT, peer);

	/* May Xen connect us to the peer at all? Offering it a port tells. */
	int probe = alloc_unbound_event_channel(peer);

	if (probe == -EPERM) {
		printk("channel to d%u refused: %d (the XSM policy forbids domU<->domU channels)\n",
		       peer, probe);
		finish("SKIPPED (no domU<->domU channels under this policy)");
	}
	if (probe >= 0)
		evtchn_close((evtchn_port_t)probe);

	/* d1 may not have offered yet: Xen says -EINVAL until it has. */
	int port;

	while ((port = bind_interdomain_event_channel(peer, OFFERED_PORT, xenvm_count_cb,
						      (void *)&pongs)) == -EINVAL)
		k_yield();
	if (port < 0) {
		printk("bind failed: %d\n", port);
		finish("FAILURE (bind_interdomain_event_channel)");
	}
	printk("bound to d%u port %d as local port %d\n", peer, OFFERED_PORT, port);

	/*
	 * Xen leaves a freshly bound port pending; wait for that first event
	 * (callback, or "missed" if it beat the callback) before counting pongs.
	 */
	unsigned int key = irq_lock();

	while (pongs == 0 && get_missed_events((evtchn_port_t)port) == 0) {
		k_cpu_atomic_idle(key);
		key = irq_lock();
	}
	pongs = 0;
	irq_unlock(key);

	for (unsigned int i = 1; i <= DEMO_ROUNDS; i++) {
		int rc = zc_notify_round((evtchn_port_t)port, "ping", i, DEMO_VERBOSE);

		if (rc != 0)
			finish("FAILURE (notify_evtchn)");
		xenvm_wait_for(&pongs, i);
		if (DEMO_VERBOSE)
			printk("got pong %u\n", i);
	}
	char res[12];

	printk("done: telling d%u: %s\n", peer, zc_notify_text((evtchn_port_t)port, res, sizeof(res)));
	printk("closing port %d: %d\n", port, evtchn_close((evtchn_port_t)port));
	finish("SUCCESS");
}
