// SPDX-License-Identifier: MIT
/*
 * events-api: conformance of the Zephyr Xen events API (zephyr/xen/events.h)
 * across two dom0less domains running this same image.
 *
 * Each domain learns its domid (the status of a port allocated for
 * DOMID_SELF names us), then
 *   1. runs the single-domain checks on loopback channels (any domid);
 *   2. d1 offers two channels to d2 ("offer"), d2 binds them ("bind"), and
 *      they walk through a fixed script: callbacks with priv, missed events
 *      after unbind, an event held by a mask and delivered by unmask, close
 *      while bound, rebind.
 *
 * The domains share no memory: they coordinate only through notifications
 * on well-known port numbers (Xen allocates the lowest free port). Every
 * wait is for a notification, and the ports are used in strict ping-pong,
 * so no two notifications on one port can merge. Each line a domain prints
 * depends only on its own observations, never on how far the other domain
 * has got, so the per-domain transcripts are the same under a real Xen
 * (domains truly parallel) and under the emulator.
 *
 * If the XSM policy forbids domU<->domU channels (Xen's SILO), both domains
 * see -EPERM when offering to the peer, print it and skip part 2: that
 * refusal is the correct behaviour, so the result is still SUCCESS.
 *
 * Every observation is one "key: value" line; the last line is
 * "Test result: SUCCESS" or "Test result: FAILURE (first mismatch)".
 *
 * apps/events-api-fifo builds this file with EVENTS_API_FIFO defined: the
 * same script on the FIFO event-channel ABI (only set_priority answers
 * differently).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <zephyr/kernel.h>
#include <zephyr/xen/events.h>
#include <zephyr/xenvm.h>
#include <zephyr-events-compat.h>

#include "verdict.h"

#define OFFER_DOMID 1
#define BIND_DOMID  2
#define PORT_CTL    1  /* first port d1 offers, and the port d2 binds it to */
#define PORT_DATA   2
#define BAD_PORT    4096  /* one past the last 2-level port */
#define VIRQ_DEBUG_NR 1

/* What a callback saw; one per bound port. */
struct probe {
	volatile unsigned int count;
	void *volatile last_priv;
};

static struct probe loop_a, loop_b, ctl, data;

static void probe_cb(void *priv)
{
	struct probe *p = priv;

	p->last_priv = priv;
	p->count++;
}

/* Sleep until p->count >= n; events are the only way forward. */
static void wait_count(struct probe *p, unsigned int n)
{
	unsigned int key = irq_lock();

	while (p->count < n) {
		k_cpu_atomic_idle(key);
		key = irq_lock();
	}
	irq_unlock(key);
}

/*
 * Xen marks a freshly bound interdomain port pending (the peer may have
 * notified before we bound). Wait until that event has been handled --
 * by the callback, or recorded as missed if the driver registers the
 * callback only after the hypercall -- and start counting from zero.
 */
static bool settle_bind_event(evtchn_port_t port, struct probe *p)
{
	unsigned int key = irq_lock();
	bool seen;

	while (p->count == 0 && get_missed_events(port) == 0) {
		k_cpu_atomic_idle(key);
		key = irq_lock();
	}
	seen = true;
	p->count = 0;
	irq_unlock(key);
	return seen;
}

/*
 * notify_evtchn's result against the expected one. Where the API's
 * notify_evtchn returns void (some Zephyr trees) there is no result to
 * check: the line says "void" and nothing is compared.
 */
static void check_notify(const char *key, evtchn_port_t port, long want)
{
	int rc;

	if (zc_notify(port, &rc))
		check(key, rc, want);
	else
		printk("%s: void\n", key);
}

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* EVTCHNOP_status of our `port`, as text: "interdomain d1:2", "-22", ... */
static void status_text(evtchn_port_t port, char *buf, size_t size)
{
	evtchn_status_t st = { .dom = DOMID_SELF, .port = port };
	int rc = evtchn_status(&st);

	if (rc != 0) {
		snprintk(buf, size, "%d", rc);
		return;
	}
	switch (st.status) {
	case EVTCHNSTAT_closed:
		snprintk(buf, size, "closed");
		break;
	case EVTCHNSTAT_unbound:
		snprintk(buf, size, "unbound d%u", st.u.unbound.dom);
		break;
	case EVTCHNSTAT_interdomain:
		snprintk(buf, size, "interdomain d%u:%u", st.u.interdomain.dom,
			 st.u.interdomain.port);
		break;
	case EVTCHNSTAT_pirq:
		snprintk(buf, size, "pirq %u", st.u.pirq);
		break;
	case EVTCHNSTAT_virq:
		snprintk(buf, size, "virq %u vcpu%u", st.u.virq, st.vcpu);
		break;
	case EVTCHNSTAT_ipi:
		snprintk(buf, size, "ipi vcpu%u", st.vcpu);
		break;
	default:
		snprintk(buf, size, "state %u", st.status);
	}
}

static void check_status(const char *key, evtchn_port_t port, const char *want)
{
	char got[40];

	status_text(port, got, sizeof(got));
	printk("%s: %s\n", key, got);
	if (!streq(got, want))
		fail(key, got, want);
}

/* Status text with a domid filled in ("unbound d%u" and friends). */
static const char *fmt_dom(char *buf, size_t size, const char *fmt, unsigned int a, unsigned int b)
{
	snprintk(buf, size, fmt, a, b);
	return buf;
}

static void check_yes(const char *key, bool got)
{
	printk("%s: %s\n", key, got ? "yes" : "no");
	if (!got)
		fail(key, "no", "yes");
}

/* Who are we? The status of an unbound port for DOMID_SELF names us. */
static domid_t learn_domid(void)
{
	int port = alloc_unbound_event_channel(DOMID_SELF);
	evtchn_status_t st = { .dom = DOMID_SELF, .port = (evtchn_port_t)port };
	domid_t me = DOMID_INVALID;

	check("self_port", port, 1);
	if (port < 0)
		return me;
	if (evtchn_status(&st) == 0 && st.status == EVTCHNSTAT_unbound)
		me = st.u.unbound.dom;
	printk("domid: %u\n", me);
	check("close_self", evtchn_close((evtchn_port_t)port), 0);
	check_status("status_closed", (evtchn_port_t)port, "closed");
	check("close_closed", evtchn_close((evtchn_port_t)port), -EINVAL);
	check_notify("notify_closed", (evtchn_port_t)port, -EINVAL);
	evtchn_status_t bad = { .dom = DOMID_SELF, .port = BAD_PORT };

	check("status_bad_port", evtchn_status(&bad), -EINVAL);
	check("close_bad_port", evtchn_close(BAD_PORT), -EINVAL);
#ifdef EVENTS_API_FIFO
	/* FIFO (events-api-fifo): a closed port takes no priority, checked before the value. */
	check("set_priority", evtchn_set_priority((evtchn_port_t)port, 7), -EACCES);
	check("set_priority_16", evtchn_set_priority((evtchn_port_t)port, 16), -EACCES);
#else
	/* 2-level has no priorities. */
	check("set_priority", evtchn_set_priority((evtchn_port_t)port, 7), -ENOSYS);
#endif
	return me;
}

/* Part 1: every local behaviour, on loopback channels (port 1 <-> port 2). */
static void loopback_checks(domid_t me)
{
	char want[40];
	int a = alloc_unbound_event_channel(DOMID_SELF);

	check("loop_a", a, 1);
	int b = bind_interdomain_event_channel(DOMID_SELF, (evtchn_port_t)a, probe_cb, &loop_b);

	check("loop_b", b, 2);
	if (a != 1 || b != 2)
		return;
	check_yes("loop_b_bind_event", settle_bind_event(2, &loop_b));
	check_status("status_loop_a", 1, fmt_dom(want, sizeof(want), "interdomain d%u:%u", me, 2));
	check_status("status_loop_b", 2, fmt_dom(want, sizeof(want), "interdomain d%u:%u", me, 1));

	/*
	 * Events on port 1 while nothing is bound there are missed. To know the
	 * handler has run, "flush": notify port 2 (from port 1) and wait for its
	 * callback. Port 1 was posted first and the handler scans each word
	 * from the lowest port, so port 1 is handled by then.
	 */
	unsigned int flushes = 0;
#define FLUSH() do { notify_evtchn(1); wait_count(&loop_b, ++flushes); } while (0)

	check_notify("notify_to_unbound_cb", 2, 0);
	FLUSH();
	check("missed_no_cb", get_missed_events(1), 1);
	check("missed_no_cb_again", get_missed_events(1), 0);
	check_yes("loop_b_priv_ok", loop_b.last_priv == &loop_b);

	check("bind_loop_a", bind_event_channel(1, probe_cb, &loop_a), 0);
	check_notify("notify_loop_b", 2, 0);
	wait_count(&loop_a, 1);
	check("cb_loop_a", loop_a.count, 1);
	check_yes("cb_loop_a_priv_ok", loop_a.last_priv == &loop_a);
	check("missed_while_bound", get_missed_events(1), 0);

	/* Mask with an event pending: held back, then delivered by unmask. */
	check("mask", mask_event_channel(1), 0);
	check_yes("masked_bit", xenvm_evtchn_is_masked(1));
	check_notify("notify_masked", 2, 0);
	FLUSH();
	check_yes("pending_while_masked", xenvm_evtchn_is_pending(1));
	check("cb_while_masked", loop_a.count, 1);
	check("unmask", unmask_event_channel(1), 0);
	wait_count(&loop_a, 2);
	check("cb_after_unmask", loop_a.count, 2);
	check("pending_after_unmask", xenvm_evtchn_is_pending(1), 0);
	check("masked_after_unmask", xenvm_evtchn_is_masked(1), 0);

	/*
	 * clear_event_channel drops a pending (masked) event for good. (Trees
	 * whose driver keeps it static: the app clears the pending bit itself,
	 * see zc_clear_event_channel.)
	 */
	check("mask_again", mask_event_channel(1), 0);
	check_notify("notify_masked_again", 2, 0);
	check("pending_before_clear", xenvm_evtchn_is_pending(1), 1);
	zc_clear_event_channel(1);
	check("pending_after_clear", xenvm_evtchn_is_pending(1), 0);
	check("unmask_cleared", unmask_event_channel(1), 0);
	FLUSH();
	check("cb_after_clear", loop_a.count, 2);

	/* unbind: the channel stays, events become missed. */
	check("unbind", unbind_event_channel(1), 0);
	check_status("status_after_unbind", 1, fmt_dom(want, sizeof(want), "interdomain d%u:%u", me, 2));
	check_notify("notify_unbound_cb", 2, 0);
	FLUSH();
	check("missed_after_unbind", get_missed_events(1), 1);
	check("cb_after_unbind", loop_a.count, 2);

	/* Close one end while bound: the other end falls back to unbound. */
	check("close_loop_b", evtchn_close(2), 0);
	check_status("status_loop_a_peer_closed", 1, fmt_dom(want, sizeof(want), "unbound d%u", me, 0));
	check_status("status_loop_b_closed", 2, "closed");
	check_notify("notify_peer_closed", 1, 0);
	check("close_loop_a", evtchn_close(1), 0);
	check("unbind_loop_b", unbind_event_channel(2), 0);
#undef FLUSH

	/* States the API cannot create, for evtchn_status: IPI and VIRQ. */
	int ipi = xenvm_evtchn_bind_ipi(0);

	check("ipi_port", ipi, 1);
	check_status("status_ipi", (evtchn_port_t)ipi, "ipi vcpu0");
	int virq = xenvm_evtchn_bind_virq(VIRQ_DEBUG_NR, 0);

	check("virq_port", virq, 2);
	check_status("status_virq", (evtchn_port_t)virq, "virq 1 vcpu0");
	check("close_ipi", evtchn_close((evtchn_port_t)ipi), 0);
	check("close_virq", evtchn_close((evtchn_port_t)virq), 0);

#if ZEPHYR_EVENTS_DEFINES_alloc_unbound_event_channel_dom0
	/*
	 * The dom0 variant: fine for ourselves, -ESRCH for a domain that does
	 * not exist. (Another live domain, refused with -EPERM, is checked in
	 * part 2 while the peer is known to be alive.)
	 */
	int d0 = alloc_unbound_event_channel_dom0(DOMID_SELF, DOMID_SELF);

	check("alloc_dom0_self", d0, 1);
	check_status("status_dom0_self", 1, fmt_dom(want, sizeof(want), "unbound d%u", me, 0));
	check("close_dom0_self", evtchn_close(1), 0);
	check("alloc_dom0_nodomain", alloc_unbound_event_channel_dom0(DOMID_INVALID, DOMID_SELF), -ESRCH);
#endif
}

/* Part 2, d1: offer two channels to d2 and drive the script. */
static void offer_side(void)
{
	char want[40];

	/*
	 * Bind the callbacks before the ports exist: d2 may notify the moment
	 * it has bound, and the port numbers are known in advance.
	 */
	check("prebind_ctl", bind_event_channel(PORT_CTL, probe_cb, &ctl), 0);
	check("prebind_data", bind_event_channel(PORT_DATA, probe_cb, &data), 0);
	int p = alloc_unbound_event_channel(BIND_DOMID);

	if (p < 0) {
		check("offer_ctl_denied", p, -EPERM);
		printk("cross_domain: skipped (policy forbids d%u<->d%u)\n", OFFER_DOMID, BIND_DOMID);
		return;
	}
	check("offer_ctl", p, PORT_CTL);
	check("offer_data", alloc_unbound_event_channel(BIND_DOMID), PORT_DATA);

	wait_count(&ctl, 1);
	check("hello_from_d2", ctl.count, 1);
	check_yes("ctl_priv_ok", ctl.last_priv == &ctl);
	check_status("status_ctl", PORT_CTL, fmt_dom(want, sizeof(want), "interdomain d%u:%u", BIND_DOMID, PORT_CTL));
	check_status("status_data", PORT_DATA, fmt_dom(want, sizeof(want), "interdomain d%u:%u", BIND_DOMID, PORT_DATA));
#if ZEPHYR_EVENTS_DEFINES_alloc_unbound_event_channel_dom0
	/* d2 is alive until its goodbye: allocating in it needs privilege. */
	check("alloc_dom0_in_d2", alloc_unbound_event_channel_dom0(BIND_DOMID, DOMID_SELF), -EPERM);
#endif

	/* 1: d2 sends data while we have no callback there. */
	check("unbind_data", unbind_event_channel(PORT_DATA), 0);
	check_notify("token_1", PORT_CTL, 0);
	wait_count(&ctl, 2);
	check("missed_data", get_missed_events(PORT_DATA), 1);
	check("missed_data_again", get_missed_events(PORT_DATA), 0);
	check("pending_data_after_missed", xenvm_evtchn_is_pending(PORT_DATA), 0);

	/* 2: d2 sends data while it is masked here. */
	check("rebind_data_cb", bind_event_channel(PORT_DATA, probe_cb, &data), 0);
	check("mask_data", mask_event_channel(PORT_DATA), 0);
	check_notify("token_2", PORT_CTL, 0);
	wait_count(&ctl, 3);
	check("pending_data_masked", xenvm_evtchn_is_pending(PORT_DATA), 1);
	check("data_cb_masked", data.count, 0);
	check("unmask_data", unmask_event_channel(PORT_DATA), 0);
	wait_count(&data, 1);
	check("data_cb_after_unmask", data.count, 1);
	check_yes("data_priv_ok", data.last_priv == &data);

	/* 3: d2 closes its data port while we are bound. */
	check_notify("token_3", PORT_CTL, 0);
	wait_count(&ctl, 4);
	check_status("status_data_peer_closed", PORT_DATA, fmt_dom(want, sizeof(want), "unbound d%u", BIND_DOMID, 0));
	check_notify("notify_data_unbound", PORT_DATA, 0);

	/* 4: d2 binds our data port again and sends on it. */
	check_notify("token_4", PORT_CTL, 0);
	wait_count(&data, 2);
	check("data_cb_after_rebind", data.count, 2);
	check_status("status_data_rebound", PORT_DATA, fmt_dom(want, sizeof(want), "interdomain d%u:%u", BIND_DOMID, PORT_DATA));

	/* 5: done. */
	check_notify("token_5", PORT_CTL, 0);
	wait_count(&ctl, 5);
	check("goodbye_from_d2", ctl.count, 5);
	check("close_ctl", evtchn_close(PORT_CTL), 0);
	check("close_data", evtchn_close(PORT_DATA), 0);
}

/*
 * Bind to the peer's port, waiting (yielding) until it has been offered,
 * then absorb the bind-time event.
 */
static int bind_when_offered(domid_t peer, evtchn_port_t port, struct probe *p, const char *key)
{
	for (;;) {
		int rc = bind_interdomain_event_channel(peer, port, probe_cb, p);

		/* -EINVAL: not (yet) unbound for us; anything else is final. */
		if (rc == -EINVAL) {
			k_yield();
			continue;
		}
		if (rc >= 0)
			check_yes(key, settle_bind_event((evtchn_port_t)rc, p));
		return rc;
	}
}

/* Part 2, d2: bind d1's channels and answer its script. */
static void bind_side(void)
{
	char want[40];
	/* Would Xen let us talk to d1 at all? Try offering it a port. */
	int probe = alloc_unbound_event_channel(OFFER_DOMID);

	if (probe < 0) {
		check("offer_probe_denied", probe, -EPERM);
		printk("cross_domain: skipped (policy forbids d%u<->d%u)\n", OFFER_DOMID, BIND_DOMID);
		return;
	}
	check("offer_probe", probe, 1);
	check("close_probe", evtchn_close((evtchn_port_t)probe), 0);

	check("bind_ctl", bind_when_offered(OFFER_DOMID, PORT_CTL, &ctl, "bind_ctl_event"), PORT_CTL);
	check("bind_data", bind_when_offered(OFFER_DOMID, PORT_DATA, &data, "bind_data_event"), PORT_DATA);
	check_status("status_ctl", PORT_CTL, fmt_dom(want, sizeof(want), "interdomain d%u:%u", OFFER_DOMID, PORT_CTL));
	check_status("status_data", PORT_DATA, fmt_dom(want, sizeof(want), "interdomain d%u:%u", OFFER_DOMID, PORT_DATA));
	check_notify("hello", PORT_CTL, 0);

	/* 1 and 2: send data, then acknowledge on ctl. */
	wait_count(&ctl, 1);
	check_notify("data_1", PORT_DATA, 0);
	check_notify("ack_1", PORT_CTL, 0);
	wait_count(&ctl, 2);
	check_notify("data_2", PORT_DATA, 0);
	check_notify("ack_2", PORT_CTL, 0);

	/* 3: close our data end while d1 is bound to it. */
	wait_count(&ctl, 3);
	check("close_data", evtchn_close(PORT_DATA), 0);
	check_status("status_data_closed", PORT_DATA, "closed");
	check_notify("ack_3", PORT_CTL, 0);

	/* 4: bind d1's data port again (now unbound for us) and send. */
	wait_count(&ctl, 4);
	int rebound = bind_interdomain_event_channel(OFFER_DOMID, PORT_DATA, probe_cb, &data);

	check("rebind_data", rebound, PORT_DATA);
	if (rebound >= 0)
		check_yes("rebind_data_event", settle_bind_event((evtchn_port_t)rebound, &data));
	check_notify("data_4", PORT_DATA, 0);

	/* 5: goodbye; d1 may close its ends (and shut down) any time after this. */
	wait_count(&ctl, 5);
#if ZEPHYR_EVENTS_DEFINES_alloc_unbound_event_channel_dom0
	/* d1 waits for our goodbye, so it is alive: allocating in it needs privilege. */
	check("alloc_dom0_in_d1", alloc_unbound_event_channel_dom0(OFFER_DOMID, DOMID_SELF), -EPERM);
#endif
	check_notify("goodbye", PORT_CTL, 0);
	check("data_cb_total", data.count, 0);
	check("close_ctl", evtchn_close(PORT_CTL), 0);
	check("close_data_final", evtchn_close(PORT_DATA), 0);
}

int main(void)
{
	printk("events_api: start\n");
	check("kernel_init", xenvm_kernel_init(), 0);
	check("init_unmapped", xen_events_init(), -EINVAL);
	check("map_shared_info", xenvm_map_shared_info(), 0);
	check("init", xen_events_init(), 0);

	domid_t me = learn_domid();

	loopback_checks(me);
	if (me == OFFER_DOMID) {
		printk("role: offer to d%u\n", BIND_DOMID);
		offer_side();
	} else if (me == BIND_DOMID) {
		printk("role: bind to d%u\n", OFFER_DOMID);
		bind_side();
	} else {
		printk("role: none (cross-domain part needs d%u and d%u)\n", OFFER_DOMID, BIND_DOMID);
	}

	verdict_print();
	xenvm_poweroff();
}
