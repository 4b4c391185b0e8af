/* SPDX-License-Identifier: MIT */
/*
 * Zephyr's interrupt API mapped onto the firmware GIC driver
 * (drivers/gic/, xenvm/irq.h): IRQ_CONNECT registers the handler with the
 * GIC dispatcher, which acknowledges (IAR) before and EOIs after calling it,
 * so a connected ISR never touches the GIC itself.
 *
 * irq_enable(irq)/irq_disable(irq) take an INTID, as in Zephyr; the CPU-wide
 * mask is irq_lock()/irq_unlock(). (This header and xenvm/arch.h both name
 * an irq_enable; do not include both in one file.)
 */
#ifndef ZEPHYR_SHIM_IRQ_H
#define ZEPHYR_SHIM_IRQ_H

#include <zephyr/types.h>
/*
 * In Zephyr, <zephyr/irq.h> (through the arch headers) makes the
 * devicetree macros visible, and drivers rely on that: a Zephyr Xen events
 * driver names DT_IRQ_BY_IDX / DT_INST_IRQ_BY_IDX after including only
 * kernel.h and irq.h.
 */
#include <zephyr/devicetree.h>

/*
 * Connect `isr(arg)` to INTID `irq` with GIC priority `prio` (0 highest,
 * 0xa0 is the firmware default) and devicetree interrupt flags `flags`
 * (Arm GIC binding: bits [3:0] 1/2 = edge, 4/8 = level). Returns 0, or
 * -EINVAL for an INTID the dispatcher cannot hold.
 */
int z_shim_irq_connect(unsigned int irq, unsigned int prio,
		       void (*isr)(void *arg), void *arg, uint32_t flags);

/* Zephyr evaluates IRQ_CONNECT at build time; here it is a call. */
#define IRQ_CONNECT(irq_p, priority_p, isr_p, isr_param_p, flags_p) \
	z_shim_irq_connect((irq_p), (priority_p), (void (*)(void *))(isr_p), \
			   (void *)(isr_param_p), (flags_p))

void irq_enable(unsigned int irq);
void irq_disable(unsigned int irq);
int irq_is_enabled(unsigned int irq);

/* Mask IRQs at the CPU (PSTATE.I); the key restores the previous state. */
static inline unsigned int irq_lock(void)
{
	uint64_t daif;

	__asm__ volatile("mrs %0, daif\n\tmsr daifset, #2" : "=r"(daif) : : "memory");
	return (unsigned int)daif;
}

static inline void irq_unlock(unsigned int key)
{
	/* Only the I bit (DAIF bit 7) is restored. */
	if ((key & (1u << 7)) == 0)
		__asm__ volatile("msr daifclr, #2" : : : "memory");
}

#endif
