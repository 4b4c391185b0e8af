// SPDX-License-Identifier: MIT
/*
 * The IRQ-vector handler: replaces the weak default in boot/exception.c.
 * Drains every pending interrupt before returning so that a level-triggered
 * line does not cost one exception per event.
 */
#include <stddef.h>

#include <xenvm/exception.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>

struct irq_entry {
	irq_isr_t isr;
	void *arg;
};

static struct irq_entry irq_table[IRQ_TABLE_SIZE];
static unsigned long irq_handled;

int irq_connect(unsigned int intid, irq_isr_t isr, void *arg)
{
	if (intid >= IRQ_TABLE_SIZE)
		return -1;
	irq_table[intid].arg = arg;
	irq_table[intid].isr = isr;
	return 0;
}

void irq_disconnect(unsigned int intid)
{
	if (intid < IRQ_TABLE_SIZE)
		irq_table[intid].isr = NULL;
}

unsigned long irq_count(void)
{
	return irq_handled;
}

void irq_handler(struct exc_frame *f)
{
	for (;;) {
		uint32_t iar = gic_ack();
		unsigned int intid = gic_iar_intid(iar);

		/* 1020..1023 are special/spurious: nothing to EOI. */
		if (intid >= 1020)
			return;

		if (intid >= IRQ_TABLE_SIZE || irq_table[intid].isr == NULL) {
			printk("unhandled irq: intid=%u\n", intid);
			gic_eoi(iar);
			exc_fatal("unhandled irq", f);
		}
		irq_table[intid].isr(irq_table[intid].arg);
		irq_handled++;
		gic_eoi(iar);
	}
}
