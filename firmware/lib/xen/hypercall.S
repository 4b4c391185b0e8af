/* SPDX-License-Identifier: MIT */
/*
 * Hypercall stubs. Xen on Arm: "hvc #0xEA1", hypercall number in x16,
 * arguments in x0..x4, result in x0 (xen/include/public/arch-arm.h).
 * Each stub is its own section so unused ones are dropped at link time.
 */
#include <xen/public/xen.h>

	.macro	hypercall name, nr
	.section .text.HYPERVISOR_\name, "ax", %progbits
	.globl	HYPERVISOR_\name
	.type	HYPERVISOR_\name, %function
	.balign	4
HYPERVISOR_\name:
	mov	x16, #\nr
	hvc	#XEN_HYPERCALL_TAG
	ret
	.size	HYPERVISOR_\name, . - HYPERVISOR_\name
	.endm

	hypercall sched_op,         __HYPERVISOR_sched_op
	hypercall event_channel_op, __HYPERVISOR_event_channel_op
	hypercall memory_op,        __HYPERVISOR_memory_op
	hypercall xen_version,      __HYPERVISOR_xen_version
	hypercall console_io,       __HYPERVISOR_console_io
	hypercall hvm_op,           __HYPERVISOR_hvm_op
	hypercall vcpu_op,          __HYPERVISOR_vcpu_op

/* long xen_hypercall(nr, a0, a1, a2, a3, a4): shift the C arguments down. */
	.section .text.xen_hypercall, "ax", %progbits
	.globl	xen_hypercall
	.type	xen_hypercall, %function
	.balign	4
xen_hypercall:
	mov	x16, x0
	mov	x0, x1
	mov	x1, x2
	mov	x2, x3
	mov	x3, x4
	mov	x4, x5
	hvc	#XEN_HYPERCALL_TAG
	ret
	.size	xen_hypercall, . - xen_hypercall
