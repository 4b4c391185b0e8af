// SPDX-License-Identifier: MIT
/*
 * console-flood: CONSOLEIO_write with a count that runs past the end of RAM (issue 14, item 2).
 * Xen copies 127 bytes at a time, continues the call when it has run long enough, and answers
 * -EFAULT (-14) once a copy leaves RAM. The buffer is the last MiB of the domain's 64 MiB,
 * which nothing uses (the devicetree sits below it), so only zeros are read: nothing prints.
 */
#include <stdint.h>

#include <xen/hypercall-entry.h>
#include <xen/public/errno.h>
#include <xenvm/printk.h>

#define CONSOLEIO_WRITE 0
#define LAST_MIB 0x43f00000UL

int main(void)
{
	long r = HYPERVISOR_console_io(CONSOLEIO_WRITE, (int)0xffffffff, (const char *)LAST_MIB);

	printk("console_io write, count 0xffffffff from the last MiB: %ld\n", r);
	printk("Test result: %s\n", r == -XEN_EFAULT ? "SUCCESS" : "FAILURE");
	return 0;
}
