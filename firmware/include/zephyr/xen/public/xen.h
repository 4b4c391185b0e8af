/* SPDX-License-Identifier: MIT */
/*
 * <zephyr/xen/public/xen.h>: the firmware's Xen public ABI
 * (include/xen/public/xen.h) plus the *_t typedef names that Xen's
 * public headers, and so Zephyr code, use.
 */
#ifndef ZEPHYR_SHIM_XEN_PUBLIC_XEN_H
#define ZEPHYR_SHIM_XEN_PUBLIC_XEN_H

#include <xen/public/xen.h>

typedef struct vcpu_time_info vcpu_time_info_t;
typedef struct vcpu_info vcpu_info_t;
typedef struct shared_info shared_info_t;

#endif
