/* SPDX-License-Identifier: MIT */
/*
 * HYPERVISOR_hvm_op(op, arg) — Arm guests use only the parameter calls.
 * Numbers/layouts from Xen 4.17 xen/include/public/hvm/hvm_op.h; wording ours.
 */
#ifndef XEN_PUBLIC_HVM_HVM_OP_H
#define XEN_PUBLIC_HVM_HVM_OP_H

#include "../xen.h"

#define HVMOP_set_param 0
#define HVMOP_get_param 1

#ifndef __ASSEMBLER__
#include <stdint.h>

/* domid@0, index@4, value@8; 16 bytes. */
struct xen_hvm_param {
	domid_t domid;    /* in: DOMID_SELF */
	uint32_t index;   /* in: HVM_PARAM_* */
	uint64_t value;   /* in (set) / out (get) */
};

#endif /* !__ASSEMBLER__ */
#endif
