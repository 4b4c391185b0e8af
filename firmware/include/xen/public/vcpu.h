/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU operations: HYPERVISOR_vcpu_op(cmd, vcpuid, arg).
 * Numbers/layouts from Xen 4.17 xen/include/public/vcpu.h; wording ours.
 */
#ifndef XEN_PUBLIC_VCPU_H
#define XEN_PUBLIC_VCPU_H

#include "xen.h"

#define VCPUOP_initialise                     0
#define VCPUOP_up                             1
#define VCPUOP_down                           2
#define VCPUOP_is_up                          3
#define VCPUOP_get_runstate_info              4
#define VCPUOP_register_runstate_memory_area  5
#define VCPUOP_set_periodic_timer             6
#define VCPUOP_stop_periodic_timer            7
#define VCPUOP_set_singleshot_timer           8
#define VCPUOP_stop_singleshot_timer          9
#define VCPUOP_register_vcpu_info            10
#define VCPUOP_send_nmi                      11
#define VCPUOP_get_physid                    12
#define VCPUOP_register_vcpu_time_memory_area 13

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * Move this vCPU's vcpu_info out of shared_info to guest frame <mfn> at
 * byte <offset> (it must not cross a page). 16 bytes.
 */
struct vcpu_register_vcpu_info {
	uint64_t mfn;
	uint32_t offset;
	uint32_t rsvd;
};

#endif /* !__ASSEMBLER__ */
#endif
