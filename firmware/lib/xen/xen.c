// SPDX-License-Identifier: MIT
/* Thin C helpers over the hypercall stubs. */
#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>

void xen_shutdown(unsigned int reason)
{
	struct sched_shutdown arg = { .reason = reason };

	HYPERVISOR_sched_op(SCHEDOP_shutdown, &arg);
	/* Xen does not return from a successful shutdown; if it refuses, park. */
	for (;;)
		wfi();
}

long console_io_write(const char *buf, unsigned long len)
{
	return HYPERVISOR_console_io(CONSOLEIO_write, (int)len, buf);
}
