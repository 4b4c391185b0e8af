/* SPDX-License-Identifier: MIT */
/* <zephyr/xen/public/memory.h>: ours plus the *_t typedef names. */
#ifndef ZEPHYR_SHIM_XEN_PUBLIC_MEMORY_H
#define ZEPHYR_SHIM_XEN_PUBLIC_MEMORY_H

#include <zephyr/xen/public/xen.h>
#include <xen/public/memory.h>

typedef struct xen_add_to_physmap xen_add_to_physmap_t;
typedef struct xen_remove_from_physmap xen_remove_from_physmap_t;

#endif
