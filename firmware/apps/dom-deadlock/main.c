// SPDX-License-Identifier: MIT
/*
 * dom-deadlock: every domain waits for an event that nobody sends, each in
 * a different way. Run two or three copies (d1, d2[, d3]).
 *
 *   d1 waits in WFI (the irq_lock / WFI loop of the events API's users),
 *   d2 in SCHEDOP_block,
 *   d3 in SCHEDOP_poll on its port, with no timeout.
 *
 * Each first offers its port 1 to another domain (d1 to d2, the others to
 * d1), which nobody binds. The emulator must end the run with exit status 4
 * and a report that names each domain, what it waits in and its ports.
 * (Under the real Xen this simply never ends.)
 */
#include <zephyr/xen/events.h>
#include <xen/public/sched.h>

#include "../dom-ring/dom-common.h"

static volatile unsigned int events;

int main(void)
{
	int me = dom_init();

	if (me < 1 || me > 3)
		dom_finish("FAILURE (run as d1, d2 and d3)");
	domid_t peer = (domid_t)(me == 1 ? 2 : 1);

	bind_event_channel(1, dom_count_cb, (void *)&events);
	int port = alloc_unbound_event_channel(peer);

	dom_out("dom-deadlock: I am d%d; offered port %d to d%u\n", me, port, peer);
	if (me == 1) {
		dom_out("waiting in WFI for an event on port %d\n", port);
		dom_wait_count(&events, 1);
	} else if (me == 2) {
		dom_out("waiting in SCHEDOP_block for an event on port %d\n", port);
		while (events == 0)
			HYPERVISOR_sched_op(SCHEDOP_block, NULL);
	} else {
		evtchn_port_t ports[1] = { (evtchn_port_t)port };
		struct sched_poll poll = { .nr_ports = 1, .timeout = 0 };

		set_xen_guest_handle(poll.ports, ports);
		dom_out("waiting in SCHEDOP_poll on port %d, no timeout\n", port);
		while (!xenvm_evtchn_is_pending((unsigned int)port) && events == 0)
			HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
	}
	dom_finish("FAILURE (an event nobody sent arrived)");
}
