// SPDX-License-Identifier: MIT
/*
 * check-race: a ping-pong with a seeded race, for schedule exploration
 * (`xenvm-emu check --seeds A..B`, docs/check.md). Run the same image as d1
 * and d2: d1 offers port 1 to d2, d2 binds it, and they exchange ROUNDS
 * notifications, each side waiting for the other's.
 *
 * The bug: the wait tests its counter and then executes WFI with interrupts
 * enabled. An event whose interrupt lands between the test and the WFI is
 * handled there (the callback bumps the counter), and the WFI then sleeps
 * with nothing left to wake it: both domains wait for ever. It happens only
 * when this domain is preempted in that two-instruction window while its
 * peer sends, so a plain run passes and some schedules deadlock. The
 * correct wait (xenvm_wait_for) locks interrupts across the test and the
 * WFI; build with -DCHECK_RACE_FIXED to use it.
 */
#include <errno.h>

#include <zephyr/kernel.h>
#include <zephyr/xen/events.h>
#include <zephyr/xenvm.h>

#include "../dom-ring/dom-common.h"

#define ROUNDS 40
#define OFFERED_PORT 1

static volatile unsigned int events;

static void racy_wait(volatile unsigned int *counter, unsigned int n)
{
#ifdef CHECK_RACE_FIXED
	xenvm_wait_for(counter, n);
#else
	while (*counter < n)
		__asm__ volatile("wfi" : : : "memory");
#endif
}

int main(void)
{
	int me = dom_init();

	if (me == -EIO)
		dom_finish("FAILURE (no event channels)");
	if (me < 1)
		dom_finish("FAILURE (cannot learn our domid)");
	bool offerer = (me % 2) == 1;
	domid_t peer = (domid_t)(offerer ? me + 1 : me - 1);
	int port;

	if (offerer) {
		bind_event_channel(OFFERED_PORT, xenvm_count_cb, (void *)&events);
		port = alloc_unbound_event_channel(peer);
		if (port == -EPERM)
			dom_finish("SKIPPED (no domU<->domU channels under this policy)");
		if (port != OFFERED_PORT)
			dom_finish("FAILURE (alloc_unbound_event_channel)");
	} else {
		while ((port = bind_interdomain_event_channel(peer, OFFERED_PORT, xenvm_count_cb,
							      (void *)&events)) == -EINVAL)
			;
		if (port < 0)
			dom_finish("SKIPPED (no domU<->domU channels under this policy)");
		/* Xen leaves a freshly bound port pending: that first event is not a ping. */
		racy_wait(&events, 1);
		events = 0;
	}
	printk("check-race: d%d <-> d%u on port %d\n", me, peer, port);
	for (unsigned int i = 1; i <= ROUNDS; i++) {
		if (offerer) {
			racy_wait(&events, i);
			notify_evtchn((evtchn_port_t)port);
		} else {
			notify_evtchn((evtchn_port_t)port);
			racy_wait(&events, i);
		}
	}
	printk("rounds: %u\n", ROUNDS);
	dom_finish("SUCCESS");
}
