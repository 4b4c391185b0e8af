/* SPDX-License-Identifier: MIT */
/*
 * Hypercall entry points in Zephyr's header location. They are the
 * firmware's stubs (lib/xen/hypercall.S: number in x16, "hvc #0xEA1",
 * result in x0). Declared here directly, without the firmware's Xen public
 * headers, so a Zephyr tree's own <zephyr/xen/public/...> headers can be
 * used in the same file; the prototypes match xen/hypercall.h exactly.
 */
#ifndef ZEPHYR_SHIM_ARCH_ARM64_HYPERCALL_H
#define ZEPHYR_SHIM_ARCH_ARM64_HYPERCALL_H

long HYPERVISOR_sched_op(int cmd, void *arg);
long HYPERVISOR_event_channel_op(int cmd, void *arg);
long HYPERVISOR_memory_op(unsigned int cmd, void *arg);
long HYPERVISOR_xen_version(int cmd, void *arg);
long HYPERVISOR_console_io(int cmd, int count, const char *str);
long HYPERVISOR_hvm_op(int op, void *arg);
long HYPERVISOR_vcpu_op(int cmd, int vcpuid, void *arg);

#endif
