// SPDX-License-Identifier: MIT
/*
 * fault-unmapped: a data abort with no vectors to catch it (VBAR_EL1 = 0).
 * Nothing in a domU's memory map lives at 0x10000000, so the load faults at
 * stage 2; what happens next is the hypervisor's business, and the host is
 * expected to report the fault rather than hang silently.
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>
#include <xenvm/printk.h>

#define UNMAPPED_ADDR 0x10000000UL

int main(void)
{
	write_sysreg(vbar_el1, 0);
	isb();

	printk("fault-unmapped: load from 0x%lx\n", UNMAPPED_ADDR);
	uint32_t v = mmio_read32(UNMAPPED_ADDR);

	/* Only reached if something mapped the address after all. */
	printk("unexpected: load returned 0x%x\n", v);
	printk("Test result: FAILURE\n");
	xen_shutdown(SHUTDOWN_crash);
}
