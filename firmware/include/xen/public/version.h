/* SPDX-License-Identifier: MIT */
/*
 * HYPERVISOR_xen_version(cmd, arg).
 * Numbers/layouts from Xen 4.17 xen/include/public/version.h; wording ours.
 */
#ifndef XEN_PUBLIC_VERSION_H
#define XEN_PUBLIC_VERSION_H

#include "xen.h"

/* arg NULL; returns (major << 16) | minor, e.g. 0x00040011 for 4.17. */
#define XENVER_version      0
#define XENVER_extraversion 1   /* char[16] */
#define XENVER_compile_info 2   /* struct xen_compile_info */
#define XENVER_capabilities 3   /* char[1024] */
#define XENVER_changeset    4   /* char[64] */
#define XENVER_platform_parameters 5
#define XENVER_get_features 6   /* struct xen_feature_info */
#define XENVER_pagesize     7   /* arg NULL; returns the page size */
#define XENVER_guest_handle 8   /* xen_domain_handle_t (16 bytes) */
#define XENVER_commandline  9   /* char[1024] */
#define XENVER_build_id     10

#define XENVER_MAJOR(v) ((unsigned)(v) >> 16)
#define XENVER_MINOR(v) ((unsigned)(v) & 0xffffu)

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef char xen_extraversion_t[16];
typedef char xen_capabilities_info_t[1024];
typedef char xen_changeset_info_t[64];
typedef char xen_commandline_t[1024];

struct xen_compile_info {
	char compiler[64];
	char compile_by[16];
	char compile_domain[32];
	char compile_date[32];
};

struct xen_feature_info {
	unsigned int submap_idx;   /* in: which 32-bit word of features */
	uint32_t submap;           /* out */
};

#endif /* !__ASSEMBLER__ */
#endif
