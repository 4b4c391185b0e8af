// SPDX-License-Identifier: MIT
/*
 * enhanced-probe: what Xen sets up for a dom0less domU before it runs, as the guest can read
 * it: the HVM parameters Linux reads at boot (xenstore and console channel and page, the
 * callback), the ports already in use (an "enhanced" domU's xenstore channel is an unbound
 * port towards dom0), its grant table, and vm_assist. Run it as a plain domU and as an enhanced
 * one (Xen 4.17: `reference --enhanced --dom0 idle.img --dom0-idle`) to see the difference.
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/errno.h>
#include <xen/public/event_channel.h>
#include <xen/public/grant_table.h>
#include <xen/public/hvm/hvm_op.h>
#include <xen/public/sched.h>
#include <xenvm/printk.h>

#include "../evtchn-conformance/probe.h"

static void param(uint32_t index, const char *name)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index, .value = 0x5a5a };
	long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);

	if (rc == 0)
		extra("value=0x%llx", (unsigned long long)p.value);
	say(rc, "hvm_op: get_param %s", name);
}

int main(void)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };
	long rc;

	printk("enhanced-probe: start\n");
	param(0, "CALLBACK_IRQ");
	param(1, "STORE_PFN");
	param(2, "STORE_EVTCHN");
	param(17, "CONSOLE_PFN");
	param(18, "CONSOLE_EVTCHN");
	o_status(DOMID_SELF, 1);
	o_status(DOMID_SELF, 2);
	rc = xen_hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, (unsigned long)&q, 1, 0, 0);
	printk("grant_table_op: query_size = %ld status=%d nr_frames=%u max_nr_frames=%u\n", rc, q.status, q.nr_frames,
	       q.max_nr_frames);
	say(xen_hypercall(__HYPERVISOR_vm_assist, 0, 5, 0, 0, 0), "vm_assist: enable runstate_update_flag");
	say(xen_hypercall(__HYPERVISOR_vm_assist, 0, 2, 0, 0, 0), "vm_assist: enable type 2");
	say(xen_hypercall(__HYPERVISOR_vm_assist, 9, 5, 0, 0, 0), "vm_assist: cmd 9");
	say(xen_hypercall(__HYPERVISOR_physdev_op, 1, 0, 0, 0, 0), "physdev_op: cmd 1");
	printk("Test result: SUCCESS\n");
	xen_shutdown(SHUTDOWN_poweroff);
}
