// SPDX-License-Identifier: MIT
/*
 * efault-probe: hypercall buffers that run off the end of RAM (issue 14, item 5). Xen copies
 * to and from a guest page by page, so a result that straddles the end of RAM has its first
 * part written before the call answers -EFAULT; a buffer wholly outside RAM gets -EFAULT with
 * nothing written. Each line prints the result and the bytes left at the end of RAM.
 */
#include <stdint.h>

#include <xen/hypercall-entry.h>
#include <xen/public/errno.h>
#include <xen/public/version.h>
#include <xenvm/printk.h>

/* The end of the domain's 64 MiB at 0x40000000 (the board and Xen's dom0less domU alike). */
#define RAM_END 0x44000000UL

static void show(const char *what, long r, uintptr_t at, unsigned int n)
{
	volatile const uint8_t *p = (volatile const uint8_t *)at;

	printk("%s: %ld, bytes:", what, r);
	for (unsigned int i = 0; i < n; i++)
		printk(" %02x", p[i]);
	printk("\n");
}

int main(void)
{
	long r;

	r = HYPERVISOR_xen_version(XENVER_extraversion, (void *)(RAM_END - 8));
	show("extraversion at end-8", r, RAM_END - 8, 8);

	r = HYPERVISOR_xen_version(XENVER_capabilities, (void *)(RAM_END - 12));
	show("capabilities at end-12", r, RAM_END - 12, 12);

	r = HYPERVISOR_xen_version(XENVER_compile_info, (void *)(RAM_END - 20));
	show("compile_info at end-20", r, RAM_END - 20, 20);

	r = HYPERVISOR_xen_version(XENVER_platform_parameters, (void *)(RAM_END - 4));
	show("platform_parameters at end-4", r, RAM_END - 4, 4);

	r = HYPERVISOR_xen_version(XENVER_extraversion, (void *)RAM_END);
	printk("extraversion at end: %ld\n", r);

	r = HYPERVISOR_console_io(0, 16, (const char *)(RAM_END - 8));
	printk("console_io write from end-8: %ld\n", r);

	printk("Test result: SUCCESS\n");
	return 0;
}
