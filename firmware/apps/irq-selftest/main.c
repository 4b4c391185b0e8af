// SPDX-License-Identifier: MIT
/*
 * irq-selftest: the GIC driver and the IRQ vector, end to end.
 *  1. a software-generated interrupt (SGI 1) sent to ourselves;
 *  2. Xen's event-channel upcall interrupt (the INTID from the board's
 *     "xen,xen" node), raised by sending on a loopback channel
 *     (alloc_unbound + bind_interdomain to ourselves, then send).
 * The upcall stays asserted while vcpu_info.evtchn_upcall_pending is set,
 * and clearing that needs shared_info (the events API's job), so the ISR
 * simply disables the INTID after the first delivery.
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xen/hypercall.h>
#include <xen/public/event_channel.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>

#define TEST_SGI 1
#define SPIN_LIMIT 50000000UL

static volatile unsigned int sgi_hits, evtchn_hits;

static void sgi_isr(void *arg)
{
	(void)arg;
	sgi_hits++;
}

static void evtchn_isr(void *arg)
{
	(void)arg;
	evtchn_hits++;
	gic_irq_disable(BOARD_XEN_EVTCHN_INTID);
}

/* Spin (bounded, so a missing interrupt reports instead of hanging). */
static bool wait_for(volatile unsigned int *counter)
{
	for (unsigned long i = 0; i < SPIN_LIMIT; i++) {
		if (*counter != 0)
			return true;
	}
	return false;
}

int main(void)
{
	bool ok = true;

	if (gic_init() != 0) {
		printk("gic_init: failed\n");
		printk("Test result: FAILURE\n");
		xen_shutdown(SHUTDOWN_poweroff);
	}
	printk("gic_version: %u\n", gic_version());
	printk("gic_pmr: 0x%02x\n", gic_get_pmr());

	irq_connect(TEST_SGI, sgi_isr, NULL);
	gic_irq_enable(TEST_SGI);
	irq_enable();
	gic_send_sgi_self(TEST_SGI);
	ok &= wait_for(&sgi_hits);
	printk("sgi_%d: %s\n", TEST_SGI, sgi_hits == 1 ? "received" : "missing");

	irq_connect(BOARD_XEN_EVTCHN_INTID, evtchn_isr, NULL);
	gic_irq_enable(BOARD_XEN_EVTCHN_INTID);

	struct evtchn_alloc_unbound alloc = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &alloc);

	printk("alloc_unbound: %ld port=%u\n", rc, alloc.port);
	ok &= rc == 0;

	struct evtchn_bind_interdomain bind = { .remote_dom = DOMID_SELF, .remote_port = alloc.port };

	rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind);
	printk("bind_interdomain: %ld local_port=%u\n", rc, bind.local_port);
	ok &= rc == 0;

	struct evtchn_send send = { .port = bind.local_port };

	rc = HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
	printk("send: %ld\n", rc);
	ok &= rc == 0 && wait_for(&evtchn_hits);
	printk("evtchn_irq_%d: %s\n", BOARD_XEN_EVTCHN_INTID,
	       evtchn_hits == 1 ? "received" : "missing");
	irq_disable();

	printk("irq_count: %lu\n", irq_count());
	printk("Test result: %s\n", ok ? "SUCCESS" : "FAILURE");
	xen_shutdown(SHUTDOWN_poweroff);
}
