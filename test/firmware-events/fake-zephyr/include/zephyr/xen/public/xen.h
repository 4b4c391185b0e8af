/* SPDX-License-Identifier: MIT */
/* Test fixture: the Xen ABI facts the fake driver needs (arm64 layouts). */
#ifndef FAKE_ZEPHYR_XEN_PUBLIC_XEN_H
#define FAKE_ZEPHYR_XEN_PUBLIC_XEN_H

#include <stdint.h>

typedef uint64_t xen_ulong_t;
typedef uint16_t domid_t;

/* A guest pointer inside a hypercall argument: 8 bytes on arm64. */
#define XEN_GUEST_HANDLE_64(type) union { type *p; uint64_t q; } __attribute__((aligned(8)))
#define set_xen_guest_handle(h, ptr) do { (h).q = 0; (h).p = (ptr); } while (0)

#define DOMID_SELF    0x7FF0U
#define DOMID_INVALID 0x7FF4U

struct vcpu_time_info {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad1[2];
};

struct vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t pad0;
	xen_ulong_t evtchn_pending_sel;
	struct vcpu_time_info time;
};
typedef struct vcpu_info vcpu_info_t;

struct shared_info {
	struct vcpu_info vcpu_info[1];
	xen_ulong_t evtchn_pending[64];
	xen_ulong_t evtchn_mask[64];
	uint32_t wc_version, wc_sec, wc_nsec, wc_sec_hi;
};
typedef struct shared_info shared_info_t;

#define EVTCHN_2L_NR_CHANNELS (64 * 64)

#endif
