/* SPDX-License-Identifier: MIT */
/*
 * Grant tables, version 1: HYPERVISOR_grant_table_op(cmd, arg, count) through
 * __HYPERVISOR_grant_table_op. Numbers and layouts as Xen 4.17's public grant_table.h gives
 * them for arm64 (natural alignment, 64-bit handles); wording ours. Only what the apps use.
 */
#ifndef XEN_PUBLIC_GRANT_TABLE_H
#define XEN_PUBLIC_GRANT_TABLE_H

#include <stdint.h>

#include "xen.h"

#define GNTTABOP_map_grant_ref   0
#define GNTTABOP_unmap_grant_ref 1
#define GNTTABOP_setup_table     2
#define GNTTABOP_copy            5
#define GNTTABOP_query_size      6
#define GNTTABOP_set_version     8
#define GNTTABOP_get_version     10

/* grant_entry_v1.flags: the granting domain sets permit/readonly, Xen sets reading/writing. */
#define GTF_permit_access 1
#define GTF_readonly      (1 << 2)
#define GTF_reading       (1 << 3)
#define GTF_writing       (1 << 4)

/* gnttab_map_grant_ref.flags */
#define GNTMAP_device_map 1
#define GNTMAP_host_map   2
#define GNTMAP_readonly   4

/* gnttab_copy.flags: which side is named by a grant reference instead of a frame. */
#define GNTCOPY_source_gref 1
#define GNTCOPY_dest_gref   2

/* One entry of a version-1 grant table (8 bytes). */
struct grant_entry_v1 {
	uint16_t flags;
	domid_t domid;
	uint32_t frame;
};

struct gnttab_map_grant_ref {
	uint64_t host_addr;
	uint32_t flags;
	uint32_t ref;
	domid_t dom;
	int16_t status;
	uint32_t handle;
	uint64_t dev_bus_addr;
};

struct gnttab_unmap_grant_ref {
	uint64_t host_addr;
	uint64_t dev_bus_addr;
	uint32_t handle;
	int16_t status;
};

struct gnttab_setup_table {
	domid_t dom;
	uint32_t nr_frames;
	int16_t status;
	uint64_t frame_list; /* guest handle of a uint64_t array */
};

struct gnttab_query_size {
	domid_t dom;
	uint32_t nr_frames;
	uint32_t max_nr_frames;
	int16_t status;
};

struct gnttab_get_version {
	domid_t dom;
	uint32_t version;
};

struct gnttab_copy_ptr {
	union {
		uint32_t ref;
		uint64_t gmfn;
	} u;
	domid_t domid;
	uint16_t offset;
};

struct gnttab_copy {
	struct gnttab_copy_ptr source, dest;
	uint16_t len;
	uint16_t flags;
	int16_t status;
};

#endif
