// SPDX-License-Identifier: MIT
/*
 * Default exception handlers. They are weak: a GIC driver provides the real
 * irq_handler, an app may replace any of them, or (for synchronous
 * exceptions) just install a hook with exc_set_sync_hook().
 */
#include <stddef.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/exception.h>
#include <xenvm/printk.h>

static exc_sync_hook_t sync_hook;

exc_sync_hook_t exc_set_sync_hook(exc_sync_hook_t hook)
{
	exc_sync_hook_t old = sync_hook;

	sync_hook = hook;
	return old;
}

void exc_fatal(const char *what, struct exc_frame *f)
{
	unsigned int type = (unsigned int)f->kind & 3;

	/* An interrupt frame has no ESR/FAR (see exception.h). */
	if (type == EXC_IRQ || type == EXC_FIQ)
		printk("%s: ELR=0x%lx\n", what, (unsigned long)f->elr);
	else
		printk("%s: ESR=0x%lx ELR=0x%lx FAR=0x%lx\n", what,
		       (unsigned long)f->esr, (unsigned long)f->elr, (unsigned long)f->far);
	xen_shutdown(SHUTDOWN_crash);
}

__attribute__((weak)) void sync_handler(struct exc_frame *f)
{
	if (sync_hook != NULL && sync_hook(f))
		return;
	exc_fatal("unhandled exception", f);
}

__attribute__((weak)) void irq_handler(struct exc_frame *f)
{
	exc_fatal("unhandled irq", f);
}

__attribute__((weak)) void fiq_handler(struct exc_frame *f)
{
	exc_fatal("unhandled fiq", f);
}

__attribute__((weak)) void serror_handler(struct exc_frame *f)
{
	exc_fatal("unhandled serror", f);
}
