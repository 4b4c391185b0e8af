// SPDX-License-Identifier: MIT
/*
 * evtchn-pair: what two dom0less domUs (d1 and d2, the same image) see of
 * each other through event channels. Run with two copies of this image.
 *
 * d1 offers two unbound ports to d2: A (under test) and B (a control line:
 * each side waits for the other by watching B's pending bit, so the order
 * of observations is fixed whatever the scheduling). d2 binds both; they
 * send to each other; d1 closes A and d2 sees its end fall back to unbound;
 * d1 binds d2's now-unbound end again. Cross-domain calls that XSM refuses
 * come first. Under SILO the channels cannot be made: both sides report
 * that and skip the exchange. Waits are bounded; a timeout is printed.
 */
#include <stdbool.h>
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/errno.h>
#include <xen/public/event_channel.h>
#include <xen/public/hvm/hvm_op.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xenvm/printk.h>

#include "../evtchn-conformance/probe.h"

static uint8_t shinfo_page[4096] __attribute__((aligned(4096)));
static domid_t me, peer;

/* bind_interdomain, retried while the peer has not offered the port yet. */
static long bind_retry(domid_t dom, evtchn_port_t rport, evtchn_port_t *local)
{
	long rc = ev_bind_interdomain_retry(dom, rport, local);

	if (rc == 0)
		extra("local_port=%u", *local);
	return say(rc, "bind_interdomain: remote=%u port=%u (retried while not offered)", dom, rport);
}

static void cross_domain_denials(void)
{
	struct xen_add_to_physmap x = { .domid = peer, .space = XENMAPSPACE_shared_info, .gpfn = 0x10000 };
	struct xen_hvm_param hp = { .domid = peer, .index = 0 };
	struct sched_remote_shutdown rs = { .domain_id = peer, .reason = SHUTDOWN_poweroff };

	o_alloc_unbound(peer, DOMID_SELF, NULL);
	o_alloc_unbound(peer, me, NULL);
	o_status(peer, 0);
	o_status(peer, 4095);
	say(ev_reset(peer, 0), "reset: dom=%u", peer);
	say(ev_reset(peer, 1), "reset_cont: dom=%u", peer);
	say(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x), "memory_op: add_to_physmap shared_info dom=%u", peer);
	say(HYPERVISOR_hvm_op(HVMOP_get_param, &hp), "hvm_op: get_param dom=%u index=0", peer);
	hp.index = 3;  /* not a parameter Arm lets anyone read */
	say(HYPERVISOR_hvm_op(HVMOP_get_param, &hp), "hvm_op: get_param dom=%u index=3", peer);
	hp.index = 39; /* out of range */
	say(HYPERVISOR_hvm_op(HVMOP_get_param, &hp), "hvm_op: get_param dom=%u index=39", peer);
	say(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), "sched_op: remote_shutdown dom=%u", peer);
}

/*
 * The exchange is a series of turns. A turn ends with a send on B; the other
 * side waits for B, looks (show_bits, status), clears its events and plays
 * its own turn. So every observation sees exactly the previous turn.
 */
static void role_d1(void)
{
	evtchn_port_t a, b, a2;

	if (o_alloc_unbound(DOMID_SELF, peer, &a) != 0 || o_alloc_unbound(DOMID_SELF, peer, &b) != 0) {
		printk("pair: no channel to d%u under this policy\n", peer);
		return;
	}
	/* T1: d2 bound both and sent on A, then B. */
	if (!wait_pending(b, "T1 d2 bound and sent"))
		return;
	o_status(DOMID_SELF, a);
	o_status(DOMID_SELF, b);
	show_bits("T1 d1 sees d2 sends on A and B");
	clear_events();
	o_send(a);
	show_bits("T1 d1 after own send on A (lands in d2)");
	o_send(b);
	/* T3: close A; d2's end must fall back to unbound, naming us. */
	if (!wait_pending(b, "T3 d2 saw our send"))
		return;
	clear_events();
	o_close(a);
	o_status(DOMID_SELF, a);
	o_send(b);
	/* T5: d2 sent on its unbound end: nothing may arrive here. */
	if (!wait_pending(b, "T5 d2 sent on its unbound end"))
		return;
	show_bits("T5 d1 sees only B");
	clear_events();
	/* Bind d2's unbound end (its port 1) again. */
	o_bind_interdomain(peer, 1, &a2);
	o_status(DOMID_SELF, a2);
	show_bits("T5 d1 after rebinding (own new port raised)");
	clear_events();
	o_send(b);
	/* T7: d2 sent on the rebound channel, then B. */
	if (!wait_pending(b, "T7 d2 sent on rebound A"))
		return;
	show_bits("T7 d1 sees A and B");
	clear_events();
	o_close(a2);
	o_close(b);
}

static void role_d2(void)
{
	evtchn_port_t a, b, p;

	/* Under SILO no port for d1 can exist: say so instead of waiting for one. */
	if (o_alloc_unbound(DOMID_SELF, peer, &p) != 0) {
		printk("pair: no channel to d%u under this policy\n", peer);
		return;
	}
	o_close(p);
	/* T0: d1 offers its ports 1 (A) and 2 (B). */
	if (bind_retry(peer, 1, &a) != 0)
		return;
	if (bind_retry(peer, 2, &b) != 0)
		return;
	o_status(DOMID_SELF, a);
	show_bits("T0 d2 after binding (own ports raised)");
	clear_events();
	o_send(a);
	o_send(b);
	/* T2 */
	if (!wait_pending(b, "T2 d1 sent"))
		return;
	show_bits("T2 d2 sees d1 sends on A and B");
	clear_events();
	o_send(b);
	/* T4: d1 closed A. */
	if (!wait_pending(b, "T4 d1 closed A"))
		return;
	o_status(DOMID_SELF, a);
	show_bits("T4 d2 sees only B");
	clear_events();
	o_send(a);
	show_bits("T4 d2 after send on unbound A");
	o_send(b);
	/* T6: d1 bound our port 1 again. */
	if (!wait_pending(b, "T6 d1 rebound A"))
		return;
	o_status(DOMID_SELF, a);
	show_bits("T6 d2 sees only B");
	clear_events();
	o_send(a);
	o_send(b);
}

int main(void)
{
	printk("evtchn-pair: start\n");
	map_shared_info(shinfo_page, "page");
	clear_events();
	me = self_domid();
	peer = me == 1 ? 2 : 1;
	printk("pair: domid = %u, peer = %u\n", me, peer);

	cross_domain_denials();
	if (me == 1)
		role_d1();
	else
		role_d2();
	printk("Test result: SUCCESS\n");
	xen_shutdown(SHUTDOWN_poweroff);
}
