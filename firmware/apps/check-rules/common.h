// SPDX-License-Identifier: MIT
/*
 * What both check-rules apps (2-level and FIFO) share besides their mode: the
 * handled-event counters a test waits on, the start and end of a run, mapping
 * shared_info (XENMEM_add_to_physmap, public/memory.h) and the loopback
 * channel. Everything here is correct use of the ABI: the code that breaks a
 * rule stays in each app's main.c, where the checker's reports point.
 */
#ifndef CHECK_RULES_COMMON_H
#define CHECK_RULES_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xen/hypercall.h>
#include <xen/public/event_channel.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>
#include <xenvm/gic.h>
#include <xenvm/printk.h>

#include "mode.h"

#define SPIN_LIMIT 20000000UL
#define EVT_INTID  BOARD_XEN_EVTCHN_INTID
/* The loopback channel: PORT_A (alloc_unbound for ourselves) <-> PORT_B (bind_interdomain). */
#define PORT_A     1
#define PORT_B     2

/* Events handled, by port (mod 8). */
static volatile unsigned int handled[8];

static bool wait_handled(evtchn_port_t p, unsigned int n)
{
	for (unsigned long i = 0; i < SPIN_LIMIT; i++) {
		if (handled[p] >= n)
			return true;
	}
	return false;
}

__attribute__((noreturn)) static void finish(bool ok)
{
	irq_disable();
	printk("Test result: %s\n", ok ? "SUCCESS" : "FAILURE");
	xen_shutdown(SHUTDOWN_poweroff);
}

/* Puts shared_info at the page `frame`; NULL when Xen refuses. */
static struct shared_info *map_shared_info(uint8_t *frame)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0,
		.gpfn = (uintptr_t)frame >> 12,
	};

	if (HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp) != 0)
		return 0;
	return (struct shared_info *)(void *)frame;
}

/*
 * The start of a run: the mode from /chosen/bootargs, the first line ("<app>: <mode>"), the
 * GIC, and shared_info at the page `frame`; FAILURE when either cannot be had.
 */
static struct shared_info *start(const char *app, uint8_t *frame)
{
	struct shared_info *si;

	read_mode();
	printk("%s: %s\n", app, mode[0] ? mode : "none (correct use)");
	if (gic_init() != 0)
		finish(false);
	si = map_shared_info(frame);
	if (!si)
		finish(false);
	return si;
}

/* Opens the loopback channel (Xen leaves port 2 pending); true when both ports are the expected ones. */
static bool open_loopback(void)
{
	struct evtchn_alloc_unbound alloc = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	struct evtchn_bind_interdomain bind = { .remote_dom = DOMID_SELF, .remote_port = PORT_A };
	bool ok = true;

	ok &= HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &alloc) == 0 && alloc.port == PORT_A;
	ok &= HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind) == 0 && bind.local_port == PORT_B;
	return ok;
}

/*
 * The end of the correct use in both apps, once PORT_B is masked (each ABI masks its own way):
 * an event posted while masked, EVTCHNOP_unmask has it delivered, then both ports are closed.
 * Prints "mask_unmask: ok" or "broken" with the verdict so far, and returns that verdict.
 */
static bool unmask_delivers_then_close(bool ok)
{
	struct evtchn_send s = { .port = PORT_A };
	struct evtchn_unmask u = { .port = PORT_B };
	struct evtchn_close c1 = { .port = PORT_A }, c2 = { .port = PORT_B };

	ok &= HYPERVISOR_event_channel_op(EVTCHNOP_send, &s) == 0;
	ok &= HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u) == 0;
	ok &= wait_handled(PORT_B, 3);
	ok &= HYPERVISOR_event_channel_op(EVTCHNOP_close, &c1) == 0 &&
	      HYPERVISOR_event_channel_op(EVTCHNOP_close, &c2) == 0;
	printk("mask_unmask: %s\n", ok ? "ok" : "broken");
	return ok;
}

#endif
