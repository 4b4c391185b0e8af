// SPDX-License-Identifier: MIT
/*
 * bench-gntcopy: GNTTABOP_copy throughput, N copies of a whole 4 KiB page, one per hypercall,
 * the way a PV backend copies a request's data: the source is a grant reference (this domain
 * grants the page to itself, so one image suffices), the destination a frame of its own.
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/event_channel.h>
#include <xen/public/grant_table.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xenvm/printk.h>

#ifndef BENCH_GNTCOPIES
#define BENCH_GNTCOPIES 100000UL
#endif

#define GNTTAB_GPA 0x38000000UL
#define REF 8

static uint8_t src[4096] __attribute__((aligned(4096)));
static uint8_t dst[4096] __attribute__((aligned(4096)));

int main(void)
{
	volatile struct grant_entry_v1 *gt = (volatile struct grant_entry_v1 *)GNTTAB_GPA;
	struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = 0, .gpfn = GNTTAB_GPA >> 12 };
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	struct evtchn_status s = { .dom = DOMID_SELF };
	unsigned long bad = 0;
	domid_t me;

	/* Who am I? An unbound port to ourselves names our domid. */
	HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
	s.port = a.port;
	HYPERVISOR_event_channel_op(EVTCHNOP_status, &s);
	me = s.u.unbound.dom;
	if (HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x) != 0) {
		printk("Test result: FAILURE (grant frame)\n");
		xen_shutdown(SHUTDOWN_poweroff);
	}
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)i;
	gt[REF].frame = (uint32_t)((unsigned long)src >> 12);
	gt[REF].domid = me;
	__asm__ volatile("dmb ishst" ::: "memory");
	gt[REF].flags = 1 | (1 << 2); /* permit_access, readonly */
	for (unsigned long i = 0; i < BENCH_GNTCOPIES; i++) {
		struct gnttab_copy c = { .source = { .u.ref = REF, .domid = me }, .dest = { .u.gmfn = (unsigned long)dst >> 12, .domid = DOMID_SELF },
					 .len = 4096, .flags = GNTCOPY_source_gref };

		if (xen_hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_copy, (unsigned long)&c, 1, 0, 0) != 0 || c.status != 0)
			bad++;
	}
	printk("grant copies: %lu of 4096 bytes\n", (unsigned long)BENCH_GNTCOPIES);
	printk("Test result: %s\n", bad == 0 && dst[4095] == 255 ? "SUCCESS" : "FAILURE");
	xen_shutdown(SHUTDOWN_poweroff);
}
