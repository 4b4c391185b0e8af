/* SPDX-License-Identifier: MIT */
/*
 * Hypercall entry points (lib/xen/hypercall.S). Each is "mov x16, #nr;
 * hvc #0xEA1; ret": arguments in x0..x4, result (0 or -errno, sign-extended)
 * in x0. They are ordinary AAPCS64 calls, so the compiler already assumes
 * x0..x18 are clobbered — which covers Xen debug builds that scribble on
 * the argument registers.
 */
#ifndef XEN_HYPERCALL_H
#define XEN_HYPERCALL_H

#include <xen/public/xen.h>

long HYPERVISOR_sched_op(int cmd, void *arg);
long HYPERVISOR_event_channel_op(int cmd, void *arg);
long HYPERVISOR_memory_op(unsigned int cmd, void *arg);
long HYPERVISOR_xen_version(int cmd, void *arg);
long HYPERVISOR_console_io(int cmd, int count, const char *str);
long HYPERVISOR_hvm_op(int op, void *arg);
long HYPERVISOR_vcpu_op(int cmd, int vcpuid, void *arg);

/* Any hypercall by number, for probing unknown or unwrapped ones. */
long xen_hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
		   unsigned long a2, unsigned long a3, unsigned long a4);

/* SCHEDOP_shutdown(reason); never returns (spins in WFI if Xen refuses). */
__attribute__((noreturn)) void xen_shutdown(unsigned int reason);

/* CONSOLEIO_write of len bytes; returns Xen's result. */
long console_io_write(const char *buf, unsigned long len);

#endif
