// SPDX-License-Identifier: MIT
/*
 * time-jump: SCHEDOP_poll timeouts at the ends of Xen's time range, and the
 * counter after virtual time has jumped past 2^53 ns (issue 14, items 3, 7).
 *
 * The poll timeout is Xen system time in ns, handed to set_timer() as an
 * s_time_t (signed 64 bits). With IRQs masked and one port allocated for
 * ourselves (nobody can signal it), the domain:
 *   1. polls with an all-ones timeout: as s_time_t that is -1, a time already
 *      past, so the poll times out at once and returns 0;
 *   2. polls until 2^62 ns (about 146 years). On hardware the vCPU would
 *      sleep that long. The reference runs Xen under QEMU with an
 *      instruction-counted clock, which jumps to the next timer deadline
 *      when every CPU idles, so there the poll returns with the counter just
 *      below 2^58 ticks (the guest's counter starts when its domain is
 *      created, a little after Xen's system time). The emulator
 *      fast-forwards idle virtual time to the deadline the same way;
 *   3. reads CNTVCT_EL0 (62.5 MHz: 16 ns a tick): within 2^26 ticks (about
 *      1 s) of 2^58;
 *   4. watches it count: the first change is less than 64 ticks (a clock kept
 *      as a double near 2^62 ns could only move in steps of 64 ticks; the
 *      emulator moves by 1, QEMU's 128 ns instructions by 8 or more), and
 *      it passes +1000 ticks;
 *   5. arms the virtual timer (masked) 100 ticks ahead with CNTV_CVAL_EL0 and
 *      waits for ISTATUS: compare values past 2^53 are exact too.
 * Nothing printed depends on how fast virtual time runs.
 */
#include <stdbool.h>
#include <stdint.h>

#include <xen/public/sched.h>
#include <zephyr/xen/events.h>

#include "../dom-ring/dom-common.h"

#define FAR_NS (1ULL << 62)
#define FAR_TICKS (FAR_NS / 16)
#define CTL_ENABLE (1u << 0)
#define CTL_IMASK (1u << 1)
#define CTL_ISTATUS (1u << 2)

/* The generic timer's registers (Arm ARM D17.2), by hand: <xenvm/arch.h> clashes with the
 * Zephyr headers dom-common.h brings in. */
#define sysreg_get(reg) ({ uint64_t v_; __asm__ volatile("mrs %0, " #reg : "=r"(v_)); v_; })
#define sysreg_set(reg, v) __asm__ volatile("msr " #reg ", %0" : : "r"((uint64_t)(v)) : "memory")
#define isb() __asm__ volatile("isb" : : : "memory")

static uint64_t vct(void)
{
	isb();
	return sysreg_get(cntvct_el0);
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

int main(void)
{
	bool ok = true;

	if (xenvm_map_shared_info() != 0)
		dom_finish("FAILURE (no shared_info)");
	int port = alloc_unbound_event_channel(DOMID_SELF);

	if (port <= 0)
		dom_finish("FAILURE (alloc_unbound_event_channel)");

	/* 1. All ones: -1 as s_time_t, already past. */
	uint64_t c0 = vct();
	long rc = dom_poll((evtchn_port_t)port, ~0ULL);
	uint64_t c1 = vct();
	bool soon = c1 >= c0 && c1 - c0 < (1ULL << 32);

	printk("poll until 0xffffffffffffffff ns: %ld, pending: %s, back within 2^32 ticks: %s\n", rc,
	       yn(xenvm_evtchn_is_pending((unsigned int)port)), yn(soon));
	ok = ok && rc == 0 && soon;

	/* 2. 2^62 ns: the real Xen sleeps here for about 146 years. */
	printk("poll until 0x%llx ns (about 146 years)\n", FAR_NS);
	rc = dom_poll((evtchn_port_t)port, FAR_NS);
	uint64_t t1 = vct();

	printk("poll returned: %ld\n", rc);
	ok = ok && rc == 0;

	/* 3. Where the counter is. */
	uint64_t off = t1 >= FAR_TICKS ? t1 - FAR_TICKS : FAR_TICKS - t1;
	bool at = off < (1ULL << 26);

	printk("counter within 2^26 ticks of 2^58: %s\n", yn(at));
	ok = ok && at;

	/* 4. It counts in single ticks. */
	uint64_t a = vct(), b;

	while ((b = vct()) == a)
		;
	uint64_t c;
	unsigned long spins = 0;

	while ((c = vct()) < a + 1000 && ++spins < 100000000)
		;
	printk("first step below 64 ticks: %s, passes +1000 ticks: %s\n", yn(b - a < 64), yn(c >= a + 1000));
	ok = ok && b - a < 64 && c >= a + 1000;

	/* 5. A compare value past 2^53 ns of virtual time. */
	uint64_t cval = vct() + 100;

	sysreg_set(cntv_cval_el0, cval);
	sysreg_set(cntv_ctl_el0, CTL_ENABLE | CTL_IMASK);
	isb();
	spins = 0;
	while (!(sysreg_get(cntv_ctl_el0) & CTL_ISTATUS) && ++spins < 100000000)
		;
	uint64_t d = vct();
	bool met = (sysreg_get(cntv_ctl_el0) & CTL_ISTATUS) != 0;

	sysreg_set(cntv_ctl_el0, 0);
	isb();
	printk("virtual timer 100 ticks ahead: ISTATUS %s, counter >= CVAL: %s, CVAL read back: %s\n", yn(met),
	       yn(d >= cval), yn(sysreg_get(cntv_cval_el0) == cval));
	ok = ok && met && d >= cval;

	dom_finish(ok ? "SUCCESS" : "FAILURE");
	return 0;
}
