/* SPDX-License-Identifier: MIT */
/*
 * The hypercall entry points (lib/xen/hypercall.S), declared without any Xen type so this file
 * can sit next to either our Xen public headers (xen/hypercall.h) or a Zephyr tree's own
 * (zephyr/arch/arm64/hypercall.h). Each is "mov x16, #nr; hvc #0xEA1; ret": arguments in
 * x0..x4, result (0 or -errno, sign-extended) in x0.
 */
#ifndef XEN_HYPERCALL_ENTRY_H
#define XEN_HYPERCALL_ENTRY_H

long HYPERVISOR_sched_op(int cmd, void *arg);
long HYPERVISOR_event_channel_op(int cmd, void *arg);
long HYPERVISOR_memory_op(unsigned int cmd, void *arg);
long HYPERVISOR_xen_version(int cmd, void *arg);
long HYPERVISOR_console_io(int cmd, int count, const char *str);
long HYPERVISOR_hvm_op(int op, void *arg);
long HYPERVISOR_vcpu_op(int cmd, int vcpuid, void *arg);

#endif
