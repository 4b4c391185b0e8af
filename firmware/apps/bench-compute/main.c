// SPDX-License-Identifier: MIT
/*
 * bench-compute: pure integer work, no hypercalls until the end. The
 * iteration count comes from make (BENCH_ITERS=...), so the host bench can
 * size the run.
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/printk.h>

#ifndef BENCH_ITERS
#define BENCH_ITERS 100000000UL
#endif

int main(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;  /* xorshift64 state, never 0 */
	uint64_t sum = 0;

	for (uint64_t i = 0; i < (uint64_t)BENCH_ITERS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x;
	}
	printk("iterations: %lu\n", (unsigned long)BENCH_ITERS);
	printk("checksum: 0x%016lx\n", (unsigned long)sum);
	printk("Test result: SUCCESS\n");
	xen_shutdown(SHUTDOWN_poweroff);
}
