// SPDX-License-Identifier: MIT
/*
 * hcall-fuzz: random hypercalls from a seed, issued through the CPU (issue 14: the machine
 * path — HVC decode, handles read through the vCPU, continuations, scheduling outcomes — is
 * fuzzed too, not only the hypervisor's functions). The seed and the count come from the
 * kernel command line ("fuzzseed=N fuzzcount=M", --cmdline or a domain's cmdline=).
 *
 * Arguments are random within what keeps the guest itself alive: handles point into a scratch
 * area, just past the end of RAM, or anywhere at all; frames handed to Xen (shared_info,
 * vcpu_info) are scratch pages; nothing blocks for ever (SCHEDOP_block and shutdown are left
 * out, a poll has a timeout already past). It prints a checksum of every result, so a run is
 * reproducible from its seed, and then its result line.
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/bootargs.h>
#include <xenvm/printk.h>

#define RAM_END 0x44000000UL
#define SCRATCH_SIZE (192 * 1024)

/* Where calls read their arguments and write their results. */
static uint8_t scratch[SCRATCH_SIZE] __attribute__((aligned(4096)));
/* Zeros that no call writes: console writes from here print nothing (NULs are dropped). */
#define QUIET_SIZE (128 * 1024)
static uint8_t quiet[QUIET_SIZE] __attribute__((aligned(4096)));

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64 */
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static unsigned int below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* A handle: inside scratch mostly, else across or past the end of RAM, or garbage. */
static uint64_t handle(unsigned int size)
{
	switch (below(10)) {
	case 0:
		return RAM_END - 1 - below(size + 8);
	case 1:
		return RAM_END + below(4096);
	case 2:
		return rnd();
	default:
		return (uint64_t)(uintptr_t)(scratch + below(SCRATCH_SIZE - size));
	}
}

/* A guest frame for Xen to use: one of the scratch pages, or not RAM at all. */
static uint64_t frame(void)
{
	if (below(8) == 0)
		return (RAM_END >> 12) + below(16);
	return ((uint64_t)(uintptr_t)scratch >> 12) + below(SCRATCH_SIZE / 4096);
}

/* A small struct at a handle inside scratch, with fields that name real things. */
static uint64_t arg_struct(void)
{
	uint64_t h = handle(32);
	if (h < (uint64_t)(uintptr_t)scratch || h >= (uint64_t)(uintptr_t)scratch + SCRATCH_SIZE - 32)
		return h;
	volatile uint32_t *w = (volatile uint32_t *)(uintptr_t)(h & ~7ull);
	for (int i = 0; i < 8; i++) {
		switch (below(4)) {
		case 0: w[i] = below(8); break;          /* small: ports, vcpus, domids, virqs */
		case 1: w[i] = 0x7ff0; break;            /* DOMID_SELF */
		case 2: w[i] = (uint32_t)rnd(); break;
		default: w[i] = 0; break;
		}
	}
	if (below(3) == 0)
		*(volatile uint64_t *)(uintptr_t)(h & ~7ull) = frame();
	return h & ~7ull;
}

int main(void)
{
	rng_state = bootargs_number("fuzzseed=", 1) * 0x9e3779b97f4a7c15ull + 1;
	uint64_t count = bootargs_number("fuzzcount=", 2000);
	uint64_t sum = 0;

	printk("hcall-fuzz: seed %lu, %lu calls\n", (unsigned long)bootargs_number("fuzzseed=", 1), (unsigned long)count);
	for (uint64_t n = 0; n < count; n++) {
		long r;
		unsigned int pick = below(100);
		if (pick < 45) {
			/* event_channel_op: every sub-op but the ones that change nothing here */
			r = xen_hypercall(32, below(16), arg_struct(), rnd(), 0, 0);
		} else if (pick < 53) {
			r = xen_hypercall(12, below(4) == 0 ? below(64) : (below(2) ? 7 : 15), arg_struct(), 0, 0, 0);
		} else if (pick < 63) {
			/* sched_op: yield, poll with a timeout already past, the rest (not shutdown_code: the run should end in a clean poweroff) */
			static const unsigned int ops[] = { 0, 3, 3, 4, 0, 6, 7, 9 };
			unsigned int op = ops[below(8)];
			uint64_t a = arg_struct();
			if (op == 3 && a >= (uint64_t)(uintptr_t)scratch && a < (uint64_t)(uintptr_t)scratch + SCRATCH_SIZE) {
				volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)a;
				p[0] = handle(16);
				p[1] = 1 + below(3);
				p[2] = 1; /* absolute time 1 ns: long past */
			} else if (op == 3) {
				op = 0;
			}
			r = xen_hypercall(29, op, a, 0, 0, 0);
		} else if (pick < 73) {
			r = xen_hypercall(17, below(12), handle(1024), 0, 0, 0);
		} else if (pick < 80) {
			r = xen_hypercall(34, below(3), arg_struct(), 0, 0, 0);
		} else if (pick < 87) {
			r = xen_hypercall(24, below(2) ? 10 : below(16), below(3), arg_struct(), 0, 0);
		} else if (pick < 95) {
			/* console_io: reads; writes of zeros, short or continued (over 64 KiB); a write
			 * that runs off the end of RAM after a few continuations; a handle nowhere. */
			uint64_t cnt, buf;
			unsigned int cmd = 0;
			switch (below(6)) {
			case 0: cmd = 1; cnt = below(2) ? 0x80000000u : below(4096); buf = handle(64); break;
			case 1: cnt = QUIET_SIZE - below(4096); buf = (uint64_t)(uintptr_t)quiet; break;
			case 2: cnt = 0xffffffffu; buf = RAM_END - 0x30000; break;
			case 3: cnt = below(4096); buf = below(2) ? RAM_END + below(64) : rnd(); break;
			default: cnt = below(2048); buf = (uint64_t)(uintptr_t)quiet + below(4096); break;
			}
			r = xen_hypercall(18, cmd, cnt, buf, 0, 0);
		} else {
			r = xen_hypercall(below(64), rnd(), handle(64), rnd(), rnd(), rnd());
		}
		sum = sum * 31 + (uint64_t)r;
	}
	printk("hcall-fuzz: checksum %016lx\n", (unsigned long)sum);
	printk("Test result: SUCCESS\n");
	xen_shutdown(SHUTDOWN_poweroff);
}
