// SPDX-License-Identifier: MIT
/*
 * The kernel half of the Zephyr layer (include/zephyr/kernel.h, irq.h,
 * sys/__assert.h) on top of the firmware's GIC driver and hypercalls.
 */
#include <errno.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <zephyr/kernel.h>

int z_shim_irq_connect(unsigned int irq, unsigned int prio,
		       void (*isr)(void *arg), void *arg, uint32_t flags)
{
	if (irq_connect(irq, isr, arg) != 0)
		return -EINVAL;
	gic_irq_set_priority(irq, (uint8_t)prio);
	/*
	 * SGI and PPI triggers are fixed by the (virtual) GIC and the
	 * hypervisor: Xen's event PPI is level-sensitive whatever we write,
	 * and its vGIC ignores ICFGR writes for them. Only SPIs are configured.
	 */
	if (irq >= GIC_SPI_BASE)
		gic_irq_set_edge(irq, (flags & 0x3) != 0);
	return 0;
}

void irq_enable(unsigned int irq)
{
	gic_irq_enable(irq);
}

void irq_disable(unsigned int irq)
{
	gic_irq_disable(irq);
}

int irq_is_enabled(unsigned int irq)
{
	return gic_irq_is_enabled(irq);
}

void k_cpu_atomic_idle(unsigned int key)
{
	__asm__ volatile("wfi" : : : "memory");
	irq_unlock(key);
}

void k_cpu_idle(void)
{
	__asm__ volatile("wfi\n\tmsr daifclr, #2" : : : "memory");
}

void k_yield(void)
{
	HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

void zephyr_assert_fail(void)
{
	xen_shutdown(SHUTDOWN_crash);
}
