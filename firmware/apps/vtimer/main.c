// SPDX-License-Identifier: MIT
/*
 * vtimer: the Arm generic timer as a Xen 4.17 domU sees it (Arm ARM D11,
 * "The Generic Timer in AArch64 state"): the counter, the virtual timer
 * (CNTV_*, INTID BOARD_TIMER_VIRT_INTID) and the EL1 physical timer
 * (CNTP_*, INTID BOARD_TIMER_PHYS_INTID), which Xen traps and emulates.
 *
 * Every observation is one "key: value" line whose value does not depend on
 * how fast virtual time runs: the emulator counts 1 ns per instruction, the
 * real Xen under QEMU -icount shift=7 128 ns, so delays are only ever
 * compared with the counter, never with instruction counts.
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>

/* CNTx_CTL_EL0 bits (Arm ARM D17.2: CNTV_CTL_EL0, CNTP_CTL_EL0). */
#define CTL_ENABLE  (1u << 0)
#define CTL_IMASK   (1u << 1)
#define CTL_ISTATUS (1u << 2)

/* One EL1-visible timer: its registers behind plain functions. */
struct gtimer {
	const char *name;
	unsigned int intid;
	uint64_t (*count)(void);
	uint64_t (*ctl)(void);
	void (*set_ctl)(uint64_t);
	uint64_t (*cval)(void);
	void (*set_cval)(uint64_t);
	int32_t (*tval)(void);
	void (*set_tval)(int32_t);
};

/* isb before reading the counter: the read must not be hoisted above earlier code. */
static uint64_t vct(void) { isb(); return read_sysreg(cntvct_el0); }
static uint64_t pct(void) { isb(); return read_sysreg(cntpct_el0); }
static uint64_t v_ctl(void) { return read_sysreg(cntv_ctl_el0); }
static void v_set_ctl(uint64_t v) { write_sysreg(cntv_ctl_el0, v); isb(); }
static uint64_t v_cval(void) { return read_sysreg(cntv_cval_el0); }
static void v_set_cval(uint64_t v) { write_sysreg(cntv_cval_el0, v); isb(); }
static int32_t v_tval(void) { return (int32_t)read_sysreg(cntv_tval_el0); }
static void v_set_tval(int32_t v) { write_sysreg(cntv_tval_el0, (uint64_t)(int64_t)v); isb(); }
static uint64_t p_ctl(void) { return read_sysreg(cntp_ctl_el0); }
static void p_set_ctl(uint64_t v) { write_sysreg(cntp_ctl_el0, v); isb(); }
static uint64_t p_cval(void) { return read_sysreg(cntp_cval_el0); }
static void p_set_cval(uint64_t v) { write_sysreg(cntp_cval_el0, v); isb(); }
static int32_t p_tval(void) { return (int32_t)read_sysreg(cntp_tval_el0); }
static void p_set_tval(int32_t v) { write_sysreg(cntp_tval_el0, (uint64_t)(int64_t)v); isb(); }

static const struct gtimer timers[] = {
	{ "virt", BOARD_TIMER_VIRT_INTID, vct, v_ctl, v_set_ctl, v_cval, v_set_cval, v_tval, v_set_tval },
	{ "phys", BOARD_TIMER_PHYS_INTID, pct, p_ctl, p_set_ctl, p_cval, p_set_cval, p_tval, p_set_tval },
};

static bool all_ok = true;

static void expect_u(const char *t, const char *key, unsigned long got, unsigned long want)
{
	if (got != want)
		all_ok = false;
	printk("%s_%s: %lu\n", t, key, got);
}

static void expect_x(const char *t, const char *key, unsigned long got, unsigned long want)
{
	if (got != want)
		all_ok = false;
	printk("%s_%s: 0x%lx\n", t, key, got);
}

static void expect_yes(const char *t, const char *key, bool got)
{
	if (!got)
		all_ok = false;
	printk("%s_%s: %s\n", t, key, got ? "yes" : "no");
}

/* ---------------------------------------------------------------- the ISR */

enum isr_mode { ISR_RECORD, ISR_PERIODIC, ISR_STOP };

static const struct gtimer *cur;
static volatile enum isr_mode mode;
static volatile unsigned int fires;
static volatile uint64_t isr_ctl, isr_count, isr_cval;
static volatile bool early;
static uint64_t period;

static void timer_isr(void *arg)
{
	(void)arg;
	uint64_t now = cur->count();
	uint64_t cval = cur->cval();

	if (now < cval)
		early = true;
	if (fires == 0) {
		isr_ctl = cur->ctl();
		isr_count = now;
		isr_cval = cval;
	}
	fires++;
	switch (mode) {
	case ISR_RECORD:
		/* Leave the timer alone: does the interrupt come back by itself? */
		break;
	case ISR_PERIODIC:
		/* The next deadline, and ENABLE with IMASK clear (what an OS tick does). */
		cur->set_cval(cval + period);
		cur->set_ctl(CTL_ENABLE);
		break;
	case ISR_STOP:
		cur->set_ctl(0);
		break;
	}
}

/* Spins with IRQs unmasked; a level interrupt that stays asserted would be taken many times. */
static void spin_unmasked(unsigned long iters)
{
	irq_enable();
	for (volatile unsigned long i = 0; i < iters; i++)
		;
	irq_disable();
}

/* Waits (WFI, IRQs unmasked) until `n` fires or `tries` wake-ups. */
static void wait_fires(unsigned int n, unsigned int tries)
{
	while (fires < n && tries--) {
		irq_enable();
		wfi();
		irq_disable();
	}
	/* A WFI may return before the ISR ran (an interrupt pending but masked). */
	spin_unmasked(10);
}

static void reset(enum isr_mode m)
{
	fires = 0;
	early = false;
	mode = m;
}

/* ---------------------------------------------------------------- checks per timer */

static void check_timer(const struct gtimer *t, uint64_t freq)
{
	const char *n = t->name;
	uint64_t delay = freq / 1000; /* 1 ms in ticks */

	cur = t;
	irq_connect(t->intid, timer_isr, 0);
	gic_irq_enable(t->intid);

	expect_x(n, "ctl_at_boot", t->ctl() & 7, 0);

	/* A deadline in the past with IMASK set: ISTATUS shows it, no interrupt. */
	reset(ISR_RECORD);
	t->set_cval(t->count() - 1);
	t->set_ctl(CTL_ENABLE | CTL_IMASK);
	spin_unmasked(2000);
	expect_x(n, "masked_ctl", t->ctl() & 7, CTL_ENABLE | CTL_IMASK | CTL_ISTATUS);
	expect_u(n, "masked_fires", fires, 0);
	expect_yes(n, "tval_negative_when_expired", t->tval() < 0);

	/* Disabled: ISTATUS reads 0 even though the deadline has passed. */
	t->set_ctl(0);
	expect_x(n, "disabled_ctl", t->ctl() & 7, 0);

	/* TVAL writes set CVAL = now + TVAL (sign-extended). */
	uint64_t before = t->count();
	t->set_tval((int32_t)delay);
	uint64_t cv = t->cval();
	expect_yes(n, "tval_sets_cval", cv >= before + delay && cv <= t->count() + delay);
	t->set_tval(-5);
	expect_yes(n, "negative_tval_in_past", t->cval() < t->count());

	/* One shot, 1 ms ahead; the ISR leaves the timer as it is. */
	reset(ISR_RECORD);
	t->set_ctl(0);
	t->set_tval((int32_t)delay);
	t->set_ctl(CTL_ENABLE);
	wait_fires(1, 1000);
	expect_u(n, "oneshot_fires", fires, 1);
	expect_yes(n, "oneshot_not_early", !early && isr_count >= isr_cval);
	printk("%s_isr_ctl: 0x%lx\n", n, (unsigned long)(isr_ctl & 7));
	/* Left alone after its interrupt: does it fire again? */
	spin_unmasked(2000);
	printk("%s_refires_unhandled: %u\n", n, fires - 1);
	printk("%s_ctl_after_fire: 0x%lx\n", n, (unsigned long)(t->ctl() & 7));
	/* A deadline moved into the future: is ISTATUS live or latched? */
	uint64_t keep = t->cval();
	t->set_cval(t->count() + 100 * delay);
	printk("%s_ctl_future_cval: 0x%lx\n", n, (unsigned long)(t->ctl() & 7));
	t->set_cval(keep);
	spin_unmasked(2000);
	printk("%s_ctl_past_cval_again: 0x%lx\n", n, (unsigned long)(t->ctl() & 7));
	printk("%s_fires_past_cval_again: %u\n", n, fires - 1);

	/* Rewriting CTL = ENABLE (IMASK clear) with the deadline still past. */
	reset(ISR_STOP);
	t->set_ctl(CTL_ENABLE);
	spin_unmasked(2000);
	expect_u(n, "rearm_past_fires", fires, 1);

	/* Periodic: the ISR moves CVAL on by one period and writes ENABLE. */
	reset(ISR_PERIODIC);
	period = delay;
	t->set_ctl(0);
	t->set_cval(t->count() + period);
	t->set_ctl(CTL_ENABLE);
	wait_fires(3, 1000);
	t->set_ctl(0);
	expect_u(n, "periodic_fires", fires >= 3 ? 3 : fires, 3);
	expect_yes(n, "periodic_not_early", !early);

	/* SCHEDOP_block sleeps until the timer interrupt (Xen unmasks IRQs for it). */
	reset(ISR_STOP);
	t->set_tval((int32_t)delay);
	t->set_ctl(CTL_ENABLE);
	for (unsigned int i = 0; i < 100 && fires == 0; i++) {
		HYPERVISOR_sched_op(SCHEDOP_block, 0);
		irq_disable();
	}
	expect_u(n, "block_woken", fires, 1);

	t->set_ctl(0);
	gic_irq_disable(t->intid);
	irq_disconnect(t->intid);
}

int main(void)
{
	uint64_t freq = read_sysreg(cntfrq_el0);

	gic_init();
	printk("cntfrq_hz: %lu\n", (unsigned long)freq);

	uint64_t a = vct();
	for (volatile int i = 0; i < 1000; i++)
		;
	uint64_t b = vct();
	printk("counter_advances: %s\n", b > a ? "yes" : "no");
	all_ok &= b > a;
	printk("vct_le_pct: %s\n", vct() <= pct() ? "yes" : "no");

	for (unsigned int i = 0; i < sizeof timers / sizeof timers[0]; i++)
		check_timer(&timers[i], freq);

	printk("Test result: %s\n", all_ok ? "SUCCESS" : "FAILURE");
	xen_shutdown(SHUTDOWN_poweroff);
}
