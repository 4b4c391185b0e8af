// SPDX-License-Identifier: MIT
/*
 * fault-vector: an instruction abort with our vectors installed. Jumping to
 * 0x8 (nothing mapped) must land in the default sync handler, which prints
 * "unhandled exception: ESR=... ELR=... FAR=..." and shuts down with
 * SHUTDOWN_crash.
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/printk.h>

#define BAD_PC 0x8UL

int main(void)
{
	void (*volatile target)(void) = (void (*)(void))BAD_PC;

	printk("fault-vector: jump to 0x%lx\n", BAD_PC);
	target();

	printk("unexpected: returned from 0x%lx\n", BAD_PC);
	printk("Test result: FAILURE\n");
	xen_shutdown(SHUTDOWN_crash);
}
