// SPDX-License-Identifier: MIT
/*
 * gic-evtchn: Xen's event-channel upcall through the GIC, end to end:
 *   EVTCHNOP_send -> 2-level pending bits in shared_info -> upcall INTID
 *   (the board's "xen,xen" interrupt) -> IRQ vector -> ISR (clear
 *   upcall_pending, swap the selector, scan pending & ~mask) -> EOI.
 * One loopback channel: alloc_unbound(remote = ourselves) gives port A,
 * bind_interdomain(ourselves, A) gives port B; a send on B raises A.
 *
 * Every observation is one "key: value" line; expected values are what
 * the real Xen 4.17 shows (in QEMU). Promptness uses the same window as
 * gic-sgi: an ISR records window_pos; -1 is "before the first iteration".
 *
 * Only the positive WFI case is tested (pending before WFI, PSTATE.I set):
 * with one vCPU nothing can raise an event while we sleep, and a WFI that
 * should not return would hang the run instead of reporting.
 *
 * Note that the ISR keeps the interrupt's source quiet before the EOI, as a
 * real driver must: Xen raises the upcall on the 0 -> 1 transition of
 * evtchn_upcall_pending, so the ISR clears it first.
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xen/hypercall.h>
#include <xen/public/event_channel.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xen/public/xen.h>
#include <xenvm/arch.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ul << PAGE_SHIFT)
#define PRIO_EVTCHN 0xa0
#define PRIO_MASK   0x80   /* a PMR that hides PRIO_EVTCHN */

/* ---------------------------------------------------------------- observations */

static bool all_ok = true;

static void expect_yes(const char *key, bool got, bool want)
{
	if (got != want)
		all_ok = false;
	printk("%s: %s\n", key, got ? "yes" : "no");
}

static void expect_u(const char *key, unsigned long got, unsigned long want)
{
	if (got != want)
		all_ok = false;
	printk("%s: %lu\n", key, got);
}

static void expect_l(const char *key, long got, long want)
{
	if (got != want)
		all_ok = false;
	printk("%s: %ld\n", key, got);
}

/* The measurement window: include/xenvm/irq-window.h. */
#include <xenvm/irq-window.h>

/* ---------------------------------------------------------------- shared_info and the upcall ISR */

/*
 * A whole page of our own RAM that Xen's shared_info replaces
 * (XENMEM_add_to_physmap), so nothing else of ours lives in it.
 */
static union {
	struct shared_info s;
	uint8_t page[PAGE_SIZE];
} shared_page __attribute__((aligned(PAGE_SIZE)));

static volatile struct shared_info *const shared = &shared_page.s;

#define MAX_PORT 8

static volatile unsigned int upcalls;        /* ISR runs */
static volatile long upcall_pos;             /* window_pos at the last run */
static volatile unsigned int port_hits[MAX_PORT];
static volatile unsigned int other_ports;    /* events on ports we did not expect */

static void upcall_isr(void *arg)
{
	volatile struct vcpu_info *vi = &shared->vcpu_info[0];

	(void)arg;
	upcalls++;
	upcall_pos = window_pos;

	/* Order: upcall_pending, then the selector, then the words it names. */
	vi->evtchn_upcall_pending = 0;
	dmb(ish);
	xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);

	while (sel != 0) {
		unsigned int w = (unsigned int)__builtin_ctzl(sel);

		sel &= sel - 1;
		xen_ulong_t ready = shared->evtchn_pending[w] & ~shared->evtchn_mask[w];

		while (ready != 0) {
			unsigned int b = (unsigned int)__builtin_ctzl(ready);
			unsigned int port = w * 64 + b;

			ready &= ready - 1;
			__atomic_fetch_and(&shared->evtchn_pending[w], ~(1ul << b), __ATOMIC_SEQ_CST);
			if (port < MAX_PORT)
				port_hits[port]++;
			else
				other_ports++;
		}
	}
}

static void reset_counts(void)
{
	upcalls = 0;
	upcall_pos = WINDOW_LEN;
	for (unsigned int i = 0; i < MAX_PORT; i++)
		port_hits[i] = 0;
}

static bool in_window(void) { return upcalls != 0 && upcall_pos < WINDOW_LEN; }
static bool is_prompt(void) { return upcalls != 0 && upcall_pos < PROMPT_ITERS; }

static bool port_bit(volatile xen_ulong_t *words, evtchn_port_t p)
{
	return (words[p / 64] >> (p % 64)) & 1;
}

static long evtchn_send(evtchn_port_t port)
{
	struct evtchn_send send = { .port = port };

	return HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

/* ---------------------------------------------------------------- tests */

static evtchn_port_t port_a, port_b;   /* a send on port_b raises port_a */

static bool setup(void)
{
	struct xen_add_to_physmap map = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uintptr_t)&shared_page >> PAGE_SHIFT,
	};
	long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &map);

	expect_l("map_shared_info", rc, 0);
	if (rc != 0)
		return false;

	struct evtchn_alloc_unbound alloc = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };

	rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &alloc);
	printk("alloc_unbound: %ld port=%u\n", rc, alloc.port);
	if (rc != 0)
		return false;
	struct evtchn_bind_interdomain bind = { .remote_dom = DOMID_SELF, .remote_port = alloc.port };

	rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind);
	printk("bind_interdomain: %ld port=%u\n", rc, bind.local_port);
	if (rc != 0 || alloc.port >= MAX_PORT || bind.local_port >= MAX_PORT)
		return false;
	port_a = alloc.port;
	port_b = bind.local_port;

	/* The ISR sits on the board's event INTID only: any other INTID is fatal. */
	printk("evtchn_intid: %u\n", (unsigned int)BOARD_XEN_EVTCHN_INTID);
	irq_connect(BOARD_XEN_EVTCHN_INTID, upcall_isr, NULL);
	gic_irq_set_priority(BOARD_XEN_EVTCHN_INTID, PRIO_EVTCHN);
	gic_irq_enable(BOARD_XEN_EVTCHN_INTID);
	return true;
}

/*
 * Binding notifies the new local port unconditionally (Xen does it in case
 * the unbound remote end missed a send), so port_b starts out pending with
 * the upcall raised. Take that one first, so later counts start from zero.
 */
static void test_bind_notification(void)
{
	reset_counts();
	expect_yes("bind_port_b_pending", port_bit(shared->evtchn_pending, port_b), true);
	expect_u("bind_upcall_pending", shared->vcpu_info[0].evtchn_upcall_pending, 1);
	window_open();
	window_unmask_spin();
	irq_disable();
	expect_yes("bind_irq_in_loop", in_window(), true);
	expect_u("bind_upcalls", upcalls, 1);
	expect_u("bind_port_b_hits", port_hits[port_b], 1);
	expect_u("bind_port_a_hits", port_hits[port_a], 0);
}

/* The ISR has run by the time the hypercall that raised the event returns. */
static void test_counter_after_send(void)
{
	reset_counts();
	irq_enable();
	long rc = evtchn_send(port_b);
	unsigned int seen = upcalls;    /* first thing after the HVC returns */

	irq_disable();
	expect_l("send", rc, 0);
	expect_u("counter_after_send", seen, 1);
	expect_u("port_a_hits", port_hits[port_a], 1);
	expect_u("port_b_hits", port_hits[port_b], 0);
	expect_u("upcall_pending_after_isr", shared->vcpu_info[0].evtchn_upcall_pending, 0);

	/* The other direction: a send on port_a raises port_b. */
	reset_counts();
	irq_enable();
	rc = evtchn_send(port_a);
	seen = upcalls;
	irq_disable();
	expect_u("counter_after_reverse_send", seen, 1);
	expect_u("reverse_port_b_hits", port_hits[port_b], 1);
}

/* One upcall per send when the ISR acknowledges each one. */
static void test_repeated(void)
{
	reset_counts();
	irq_enable();
	for (int i = 0; i < 10; i++)
		evtchn_send(port_b);
	irq_disable();
	expect_u("upcalls_for_10_sends", upcalls, 10);
	expect_u("port_a_hits_for_10_sends", port_hits[port_a], 10);
}

/*
 * Sent twice with PSTATE.I set: Xen marks the port pending (a bit, so the
 * two coalesce) and raises the upcall; WFI returns although the IRQ is
 * masked; unmasking runs the ISR once, at once.
 */
static void test_masked_then_wfi(void)
{
	reset_counts();
	evtchn_send(port_b);
	evtchn_send(port_b);
	window_spin();
	expect_u("masked_send_upcalls", upcalls, 0);
	expect_u("masked_upcall_pending", shared->vcpu_info[0].evtchn_upcall_pending, 1);
	expect_yes("masked_port_pending", port_bit(shared->evtchn_pending, port_a), true);
	wfi();
	printk("wfi_returned: yes\n");
	expect_u("wfi_upcalls", upcalls, 0);
	window_open();
	window_unmask_spin();
	irq_disable();
	expect_yes("unmask_irq_in_loop", in_window(), true);
	expect_yes("unmask_irq_prompt", is_prompt(), true);
	expect_u("coalesced_upcalls", upcalls, 1);
	expect_u("coalesced_port_a_hits", port_hits[port_a], 1);
}

/*
 * A port masked in shared_info: the send sets its pending bit but raises
 * no upcall; EVTCHNOP_unmask finds it pending and raises the upcall, which
 * is taken before the unmask hypercall returns.
 */
static void test_port_mask(void)
{
	reset_counts();
	__atomic_fetch_or(&shared->evtchn_mask[port_a / 64], 1ul << (port_a % 64), __ATOMIC_SEQ_CST);
	irq_enable();
	long rc = evtchn_send(port_b);

	window_spin();
	irq_disable();
	expect_l("masked_port_send", rc, 0);
	expect_u("masked_port_upcalls", upcalls, 0);
	expect_yes("masked_port_pending_bit", port_bit(shared->evtchn_pending, port_a), true);
	expect_u("masked_port_upcall_pending", shared->vcpu_info[0].evtchn_upcall_pending, 0);

	struct evtchn_unmask unmask = { .port = port_a };

	irq_enable();
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &unmask);
	unsigned int seen = upcalls;

	irq_disable();
	expect_l("unmask", rc, 0);
	expect_u("counter_after_unmask", seen, 1);
	expect_yes("mask_bit_after_unmask", port_bit(shared->evtchn_mask, port_a), false);
	expect_u("port_a_hits_after_unmask", port_hits[port_a], 1);
}

/* The upcall INTID obeys the GIC like any other: priority vs PMR, enable. */
static void test_gic_masking(void)
{
	reset_counts();
	gic_set_pmr(PRIO_MASK);
	irq_enable();
	evtchn_send(port_b);
	window_spin();
	expect_u("pmr_masked_upcalls", upcalls, 0);
	window_open();
	gic_set_pmr(GIC_PMR_ALLOW_ALL);
	window_spin();
	irq_disable();
	expect_yes("pmr_raise_irq_in_loop", in_window(), true);
	expect_yes("pmr_raise_irq_prompt", is_prompt(), true);
	expect_u("pmr_raise_upcalls", upcalls, 1);

	reset_counts();
	gic_irq_disable(BOARD_XEN_EVTCHN_INTID);
	irq_enable();
	evtchn_send(port_b);
	window_spin();
	expect_u("disabled_upcalls", upcalls, 0);
	window_open();
	gic_irq_enable(BOARD_XEN_EVTCHN_INTID);
	window_spin();
	irq_disable();
	expect_yes("enable_irq_in_loop", in_window(), true);
	expect_yes("enable_irq_prompt", is_prompt(), true);
	expect_u("enable_upcalls", upcalls, 1);
	expect_u("enable_port_a_hits", port_hits[port_a], 1);
}

int main(void)
{
	if (gic_init() != 0) {
		printk("gic_init: failed\n");
		printk("Test result: FAILURE\n");
		xen_shutdown(SHUTDOWN_poweroff);
	}
	printk("gic_version: %u\n", gic_version());
	if (!setup()) {
		printk("Test result: FAILURE\n");
		xen_shutdown(SHUTDOWN_poweroff);
	}

	test_bind_notification();
	test_counter_after_send();
	test_repeated();
	test_masked_then_wfi();
	test_port_mask();
	test_gic_masking();

	expect_u("other_port_events", other_ports, 0);
	printk("irq_count: %lu\n", irq_count());
	printk("Test result: %s\n", all_ok ? "SUCCESS" : "FAILURE");
	xen_shutdown(SHUTDOWN_poweroff);
}
