/* SPDX-License-Identifier: MIT */
/*
 * Hypercall entry points in Zephyr's header location. They are the
 * firmware's stubs (lib/xen/hypercall.S: number in x16, "hvc #0xEA1",
 * result in x0). Declared through xen/hypercall-entry.h, which has no Xen
 * types, so a Zephyr tree's own <zephyr/xen/public/...> headers can be used
 * in the same file.
 */
#ifndef ZEPHYR_SHIM_ARCH_ARM64_HYPERCALL_H
#define ZEPHYR_SHIM_ARCH_ARM64_HYPERCALL_H

#include <xen/hypercall-entry.h>

#endif
