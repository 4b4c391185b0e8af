// SPDX-License-Identifier: MIT
/*
 * What both check-rules apps (2-level and FIFO) share besides their mode: the
 * handled-event counters a test waits on, the end of a run, and mapping
 * shared_info (XENMEM_add_to_physmap, public/memory.h).
 */
#ifndef CHECK_RULES_COMMON_H
#define CHECK_RULES_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>
#include <xenvm/printk.h>

#define SPIN_LIMIT 20000000UL

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

#endif
