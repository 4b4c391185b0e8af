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
#include <xen/hypercall-entry.h>

/* Any hypercall by number, for probing unknown or unwrapped ones. */
long xen_hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
		   unsigned long a2, unsigned long a3, unsigned long a4);

/* SCHEDOP_shutdown(reason); never returns (spins in WFI if Xen refuses). */
__attribute__((noreturn)) void xen_shutdown(unsigned int reason);

/* CONSOLEIO_write of len bytes; returns Xen's result. */
long console_io_write(const char *buf, unsigned long len);

#endif
