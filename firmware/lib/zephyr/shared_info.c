// SPDX-License-Identifier: MIT
/*
 * The shared_info page: Xen's per-domain page with the event-channel bits
 * and vCPU 0's vcpu_info. A guest chooses where it appears with
 * XENMEM_add_to_physmap(space XENMAPSPACE_shared_info, idx 0, gpfn):
 * here a page of our own .bss that nothing else uses. Xen replaces the RAM
 * behind that frame with the shared page, so the array is never used as
 * ordinary memory.
 *
 * The MMU is off, so guest accesses are non-cacheable. That is coherent
 * with Xen's cacheable view under QEMU TCG and under the emulator (neither
 * models caches); on hardware a guest must enable its MMU and caches first.
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/memory.h>

#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE  (1UL << XEN_PAGE_SHIFT)

/* What Zephyr's drivers/xen code expects to find: NULL until mapped. */
struct shared_info *HYPERVISOR_shared_info;

static uint8_t shared_info_frame[XEN_PAGE_SIZE] __attribute__((aligned(XEN_PAGE_SIZE)));

int xenvm_map_shared_info(void)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		/* MMU off: the address of the array is its guest-physical address. */
		.gpfn = (uintptr_t)shared_info_frame >> XEN_PAGE_SHIFT,
	};
	long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);

	if (rc != 0)
		return (int)rc;
	HYPERVISOR_shared_info = (struct shared_info *)(void *)shared_info_frame;
	return 0;
}
