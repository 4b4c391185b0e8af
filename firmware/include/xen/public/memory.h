/* SPDX-License-Identifier: MIT */
/*
 * Memory reservation and physmap: HYPERVISOR_memory_op(cmd, arg).
 * Numbers/layouts from Xen 4.17 xen/include/public/memory.h; wording ours.
 */
#ifndef XEN_PUBLIC_MEMORY_H
#define XEN_PUBLIC_MEMORY_H

#include "xen.h"

#define XENMEM_increase_reservation   0
#define XENMEM_decrease_reservation   1
#define XENMEM_maximum_ram_page       2
#define XENMEM_current_reservation    3
#define XENMEM_maximum_reservation    4
#define XENMEM_machphys_mfn_list      5
#define XENMEM_populate_physmap       6
#define XENMEM_add_to_physmap         7
#define XENMEM_memory_map             9
#define XENMEM_machine_memory_map    10
#define XENMEM_exchange              11
#define XENMEM_machphys_mapping      12
#define XENMEM_set_memory_map        13
#define XENMEM_maximum_gpfn          14
#define XENMEM_remove_from_physmap   15
#define XENMEM_add_to_physmap_batch  23
#define XENMEM_acquire_resource      28

/* What XENMEM_add_to_physmap maps (field `space`). */
#define XENMAPSPACE_shared_info  0  /* idx 0: the shared_info page */
#define XENMAPSPACE_grant_table  1
#define XENMAPSPACE_gmfn         2
#define XENMAPSPACE_gmfn_range   3
#define XENMAPSPACE_gmfn_foreign 4
#define XENMAPSPACE_dev_mmio     5

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * Make frame <idx> of <space> appear at guest frame <gpfn> of <domid>.
 * Layout on arm64: domid@0, size@2, space@4, idx@8, gpfn@16; 24 bytes.
 */
struct xen_add_to_physmap {
	domid_t domid;
	uint16_t size;        /* page count, XENMAPSPACE_gmfn_range only */
	unsigned int space;   /* XENMAPSPACE_* */
	xen_ulong_t idx;
	xen_pfn_t gpfn;
};

/* Undo an earlier mapping at <gpfn>. */
struct xen_remove_from_physmap {
	domid_t domid;
	xen_pfn_t gpfn;
};

#endif /* !__ASSEMBLER__ */
#endif
