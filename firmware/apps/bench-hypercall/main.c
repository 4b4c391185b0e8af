// SPDX-License-Identifier: MIT
/* bench-hypercall: cost of the trivial hypercall round trip, N times. */
#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xen/public/version.h>
#include <xenvm/printk.h>

#ifndef BENCH_HYPERCALLS
#define BENCH_HYPERCALLS 1000000UL
#endif

int main(void)
{
	long first = HYPERVISOR_xen_version(XENVER_version, NULL);
	unsigned long mismatches = 0;

	for (unsigned long i = 0; i < BENCH_HYPERCALLS; i++) {
		if (HYPERVISOR_xen_version(XENVER_version, NULL) != first)
			mismatches++;
	}
	printk("hypercalls: %lu\n", (unsigned long)BENCH_HYPERCALLS);
	printk("Test result: %s\n", mismatches == 0 && first > 0 ? "SUCCESS" : "FAILURE");
	xen_shutdown(SHUTDOWN_poweroff);
}
