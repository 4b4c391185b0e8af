// SPDX-License-Identifier: MIT
/*
 * dom-broker: a privileged dom0 sets up a channel between two domUs that
 * never talk to each other first. Run the same image three times:
 * `run --dom0 dom-broker.img dom-broker.img dom-broker.img`.
 *
 * Port numbers are the only knowledge the domains share, and they are
 * deterministic because Xen hands out the lowest free port:
 *  1. each domU learns its domid (a port it allocates and frees), then
 *     offers port 1 to dom0: its "control line";
 *  2. dom0 waits until both control lines are offered (EVTCHNOP_status on
 *     another domain's port is allowed to the control domain), binds them,
 *     then allocates port 2 *in d1* with d2 as its remote end
 *     (alloc_unbound_event_channel_dom0(1, 2)) and notifies both domUs;
 *  3. d2 binds d1's port 2 and pings; d1 answers; d2 tells dom0 it is done
 *     and dom0 passes that on to d1 (so d1 also stops waiting when the bind
 *     was refused); d1 then tells dom0 it is done too.
 * Under SILO dom0 may still allocate the port (the control domain is
 * exempt) but d2's bind is refused with -EPERM: d2 prints that, and d1
 * sees its port 2 still unbound; both report SKIPPED.
 *
 * dom0 prints through CONSOLEIO_write (dom_out) and touches no device:
 * under the real Xen it gets the host's board (its GIC elsewhere, its event
 * PPI picked among the free ones, not 31) and its RAM 1:1 at a host address
 * the image is not linked for. It therefore takes no interrupts (it sleeps
 * in SCHEDOP_poll and reads pending bits) and keeps to PC-relative code.
 * It never shuts down: the real Xen halts the board when dom0 does.
 */
#include <zephyr/xen/events.h>
#include <xen/public/sched.h>

#include "../dom-ring/dom-common.h"

#define CONTROL_PORT 1
#define BROKERED_PORT 2

/* domU: notifications from dom0 (control line) and from the peer (brokered port). */
static volatile unsigned int from_dom0, from_peer;

/*
 * dom0 takes no interrupts (see the header comment): it sleeps in
 * SCHEDOP_poll until the port is pending, then consumes the notification.
 */
static void dom0_wait(evtchn_port_t port)
{
	evtchn_port_t ports[1] = { port };
	struct sched_poll poll = { .nr_ports = 1, .timeout = 0 };

	set_xen_guest_handle(poll.ports, ports);
	while (!xenvm_evtchn_is_pending(port))
		HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
	zc_clear_event_channel(port);
}

/* Binds another domain's port; the new local port, or -errno. */
static int dom0_bind(domid_t dom, evtchn_port_t port)
{
	struct evtchn_bind_interdomain bind = { .remote_dom = dom, .remote_port = port };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind);

	if (rc != 0)
		return (int)rc;
	/* Xen leaves a freshly bound port pending; the domU has not notified yet. */
	zc_clear_event_channel(bind.local_port);
	return (int)bind.local_port;
}

static void dom0_role(void)
{
	evtchn_port_t control[3];
	char desc[48];
	evtchn_status_t st;

	if (xenvm_map_shared_info() != 0)
		dom_finish("FAILURE (no shared_info)");
	for (domid_t d = 1; d <= 2; d++) {
		/*
		 * Wait for the domU's offer: its port 1, unbound, remote end us.
		 * (Port 1 is also where it learns its domid, briefly: unbound,
		 * remote end itself; the real Xen showed us that one.)
		 */
		for (;;) {
			st = (evtchn_status_t){ .dom = d, .port = CONTROL_PORT };
			if (evtchn_status(&st) == 0 && st.status == EVTCHNSTAT_unbound &&
			    st.u.unbound.dom == 0)
				break;
			k_yield();
		}
		dom_out("d%u offers its port %d to d%u\n", d, CONTROL_PORT, st.u.unbound.dom);
		int p = dom0_bind(d, CONTROL_PORT);

		if (p < 0) {
			dom_out("bind to d%u port %d failed: %d\n", d, CONTROL_PORT, p);
			dom_finish("FAILURE (bind_interdomain)");
		}
		control[d] = (evtchn_port_t)p;
		dom_out("control line to d%u: local port %d\n", d, p);
	}

	int port = alloc_unbound_event_channel_dom0(1, 2);

	dom_out("alloc_unbound_event_channel_dom0(1, 2): %d\n", port);
	if (port != BROKERED_PORT)
		dom_finish("FAILURE (alloc_unbound_event_channel_dom0)");
	st = (evtchn_status_t){ .dom = 1, .port = BROKERED_PORT };
	evtchn_status(&st);
	dom_out("d1 port %d: %s\n", BROKERED_PORT, dom_describe(&st, desc, sizeof(desc)));
	dom_out("telling d1: %s\n", dom_notify(control[1]));
	dom_out("telling d2: %s\n", dom_notify(control[2]));

	/*
	 * Each line carries one notification at a time: two sends in a row may
	 * merge into one pending bit, so every second notification on a line
	 * waits for an answer to the first. d1 acknowledges "ready"; d2 reports
	 * once (pinged and answered, or refused); then we pass that on to d1,
	 * and d1 reports that it finished.
	 */
	dom0_wait(control[1]);
	dom_out("d1 acknowledged\n");
	dom0_wait(control[2]);
	dom_out("d2 is done; telling d1: %s\n", dom_notify(control[1]));
	dom0_wait(control[1]);
	dom_out("both domUs finished\n");
	/*
	 * No shutdown: when the hardware domain shuts down, the real Xen halts
	 * the whole board. Report, then sleep for good (nothing will be sent).
	 */
	dom_out("Test result: SUCCESS\n");
	for (;;)
		dom0_wait(control[1]);
}

static void domU_role(int me)
{
	char desc[48];
	evtchn_status_t st;
	int rc;

	/* Callbacks first: the events may arrive as soon as the ports exist. */
	bind_event_channel(CONTROL_PORT, dom_count_cb, (void *)&from_dom0);
	if (me == 1)
		bind_event_channel(BROKERED_PORT, dom_count_cb, (void *)&from_peer);
	rc = alloc_unbound_event_channel(0);
	dom_out("offered port %d to d0\n", rc);
	if (rc != CONTROL_PORT)
		dom_finish("FAILURE (alloc_unbound_event_channel)");
	dom_wait_count(&from_dom0, 1);
	dom_out("d0 says port %d is ready\n", BROKERED_PORT);

	const char *result = "SUCCESS";

	if (me == 1) {
		dom_out("acknowledging: %s\n", dom_notify(CONTROL_PORT));
		/* d2's ping, or d0 passing on that d2 is done (it could not bind). */
		unsigned int key = irq_lock();

		while (from_peer == 0 && from_dom0 < 2) {
			k_cpu_atomic_idle(key);
			key = irq_lock();
		}
		irq_unlock(key);
		if (from_peer > 0) {
			dom_out("got d2's ping; answering: %s\n", dom_notify(BROKERED_PORT));
			dom_wait_count(&from_dom0, 2);
		} else {
			result = "SKIPPED (d2 could not bind)";
		}
		dom_port_state(BROKERED_PORT, &st);
		dom_out("my port %d: %s\n", BROKERED_PORT, dom_describe(&st, desc, sizeof(desc)));
	} else {
		int p = bind_interdomain_event_channel(1, BROKERED_PORT, dom_count_cb, (void *)&from_peer);

		if (p == -EPERM) {
			dom_out("bind to d1 port %d refused: %d\n", BROKERED_PORT, p);
			result = "SKIPPED (no domU<->domU channels under this policy)";
		} else if (p < 0) {
			dom_out("bind to d1 port %d failed: %d\n", BROKERED_PORT, p);
			result = "FAILURE (bind_interdomain_event_channel)";
		} else {
			dom_out("bound to d1 port %d as local port %d\n", BROKERED_PORT, p);
			dom_drain_bind_event(&from_peer, (evtchn_port_t)p);
			dom_out("ping d1: %s\n", dom_notify((evtchn_port_t)p));
			dom_wait_count(&from_peer, 1);
			dom_out("got d1's answer\n");
		}
	}
	dom_out("telling d0 I am done: %s\n", dom_notify(CONTROL_PORT));
	dom_finish(result);
}

int main(void)
{
	/* Hypercalls only: dom0 must not touch the domU board's devices. */
	int me = dom_whoami();

	if (me < 0 || me > 2)
		dom_finish("FAILURE (run as d0, d1 and d2)");
	dom_out("dom-broker: I am d%d\n", me);
	if (me == 0) {
		dom0_role();
	} else {
		if (xenvm_kernel_init() != 0 || xenvm_map_shared_info() != 0 || xen_events_init() != 0)
			dom_finish("FAILURE (no event channels)");
		domU_role(me);
	}
	return 0;
}
