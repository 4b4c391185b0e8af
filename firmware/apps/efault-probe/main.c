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
#include <xen/public/event_channel.h>
#include <xen/public/hvm/hvm_op.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xen/public/vcpu.h>
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

/* The last `n` bytes of RAM set to 0xee, so that what a call writes there shows. */
static void fill_end(unsigned int n)
{
	volatile uint8_t *p = (volatile uint8_t *)(RAM_END - n);

	for (unsigned int i = 0; i < n; i++)
		p[i] = 0xee;
}

#define AT_END(k) ((void *)(RAM_END - (k)))

/* What VCPUOP_register_runstate_memory_area is given: Xen keeps writing there. */
static uint8_t runstate[64] __attribute__((aligned(8)));

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

	/*
	 * Argument structs that straddle the end of RAM are copied in whole or not at all: -EFAULT
	 * and nothing done. The next call in RAM shows that no port was taken.
	 */
	r = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, AT_END(4));
	printk("alloc_unbound at end-4: %ld\n", r);
	struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	r = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au);
	printk("alloc_unbound in RAM: %ld, port %u\n", r, au.port);

	r = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, AT_END(8));
	printk("bind_virq at end-8: %ld\n", r);
	struct evtchn_bind_virq bv = { .virq = VIRQ_TIMER, .vcpu = 0 };
	r = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv);
	printk("bind_virq in RAM: %ld, port %u\n", r, bv.port);

	r = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, AT_END(4));
	printk("bind_ipi at end-4: %ld\n", r);
	r = HYPERVISOR_event_channel_op(EVTCHNOP_send, AT_END(2));
	printk("send at end-2: %ld\n", r);
	r = HYPERVISOR_event_channel_op(EVTCHNOP_close, AT_END(0));
	printk("close at end: %ld\n", r);

	fill_end(16);
	r = HYPERVISOR_event_channel_op(EVTCHNOP_status, AT_END(16));
	show("status at end-16", r, RAM_END - 16, 16);

	fill_end(8);
	r = HYPERVISOR_hvm_op(HVMOP_get_param, AT_END(8));
	show("hvm get_param at end-8", r, RAM_END - 8, 8);

	r = HYPERVISOR_memory_op(XENMEM_add_to_physmap, AT_END(8));
	printk("add_to_physmap at end-8: %ld\n", r);
	r = HYPERVISOR_memory_op(XENMEM_remove_from_physmap, AT_END(8));
	printk("remove_from_physmap at end-8: %ld\n", r);

	r = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, AT_END(8));
	printk("register_vcpu_info at end-8: %ld\n", r);
	r = HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, AT_END(4));
	printk("register_runstate_memory_area at end-4: %ld\n", r);
	r = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 1, AT_END(0));
	printk("register_vcpu_info for vcpu 1, arg at end: %ld\n", r);

	fill_end(8);
	r = HYPERVISOR_xen_version(XENVER_get_features, AT_END(4));
	show("get_features at end-4", r, RAM_END - 8, 8);
	fill_end(8);
	r = HYPERVISOR_xen_version(XENVER_guest_handle, AT_END(8));
	show("guest_handle at end-8", r, RAM_END - 8, 8);
	fill_end(4);
	r = HYPERVISOR_xen_version(XENVER_commandline, AT_END(4));
	show("commandline at end-4", r, RAM_END - 4, 4);

	/* Poll: the port array is read one port at a time; the second one is past the end. */
	*(volatile uint32_t *)(RAM_END - 4) = au.port;
	struct sched_poll poll = { .nr_ports = 2, .timeout = 0 };
	set_xen_guest_handle(poll.ports, (evtchn_port_t *)(RAM_END - 4));
	r = HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
	printk("poll, ports at end-4, first not pending: %ld\n", r);
	r = HYPERVISOR_sched_op(SCHEDOP_poll, AT_END(12));
	printk("poll, struct at end-12: %ld\n", r);
	r = HYPERVISOR_sched_op(SCHEDOP_shutdown_code, AT_END(2));
	printk("shutdown_code at end-2: %ld\n", r);

	r = HYPERVISOR_console_io(0, 200, (const char *)(RAM_END - 150));
	printk("console_io write 200 from end-150: %ld\n", r);

	/* Xen writes the vCPU's runstate into a newly registered area at once. */
	for (unsigned int i = 0; i < sizeof(runstate); i++)
		runstate[i] = 0xee;
	uint64_t area = (uint64_t)(uintptr_t)runstate; /* struct vcpu_register_runstate_memory_area */
	r = HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &area);
	show("register_runstate_memory_area in RAM, state", r, (uintptr_t)runstate, 4);

	printk("Test result: SUCCESS\n");
	return 0;
}
