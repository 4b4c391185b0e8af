/* SPDX-License-Identifier: MIT */
/*
 * Interrupt handler table, dispatched from the IRQ vector
 * (drivers/gic/irq.c): ack via the GIC, run the connected handler, EOI.
 */
#ifndef XENVM_IRQ_H
#define XENVM_IRQ_H

typedef void (*irq_isr_t)(void *arg);

#define IRQ_TABLE_SIZE 64  /* SGIs, PPIs and the first 32 SPIs */

/* Connect `isr(arg)` to `intid`; 0 on success, -1 if intid is out of range. */
int irq_connect(unsigned int intid, irq_isr_t isr, void *arg);
/* Remove the handler (the INTID is not disabled: do that first). */
void irq_disconnect(unsigned int intid);

/* How many interrupts the dispatcher has handled so far. */
unsigned long irq_count(void);

#endif
