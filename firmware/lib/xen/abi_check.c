// SPDX-License-Identifier: MIT
/*
 * Compile-time checks that our Xen public headers have the arm64 layouts
 * Xen 4.17 expects. Generates no code.
 */
#include <stddef.h>

#include <xen/public/event_channel.h>
#include <xen/public/hvm/hvm_op.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xen/public/vcpu.h>
#include <xen/public/version.h>
#include <xen/public/xen.h>

#define CHECK_SIZE(t, n) _Static_assert(sizeof(t) == (n), "sizeof " #t)
#define CHECK_OFF(t, f, n) _Static_assert(offsetof(t, f) == (n), #t "." #f)

CHECK_SIZE(xen_ulong_t, 8);
CHECK_SIZE(struct vcpu_time_info, 32);
CHECK_SIZE(struct vcpu_info, 48);
CHECK_OFF(struct vcpu_info, evtchn_upcall_pending, 0);
CHECK_OFF(struct vcpu_info, evtchn_upcall_mask, 1);
CHECK_OFF(struct vcpu_info, evtchn_pending_sel, 8);
CHECK_OFF(struct vcpu_info, time, 16);
CHECK_OFF(struct shared_info, evtchn_pending, 48);
CHECK_OFF(struct shared_info, evtchn_mask, 48 + 512);
CHECK_OFF(struct shared_info, wc_version, 48 + 1024);
CHECK_OFF(struct shared_info, wc_sec_hi, 48 + 1024 + 12);
CHECK_SIZE(struct shared_info, 48 + 1024 + 16);

CHECK_SIZE(struct evtchn_alloc_unbound, 8);
CHECK_SIZE(struct evtchn_bind_interdomain, 12);
CHECK_OFF(struct evtchn_bind_interdomain, remote_port, 4);
CHECK_SIZE(struct evtchn_bind_virq, 12);
CHECK_SIZE(struct evtchn_bind_pirq, 12);
CHECK_SIZE(struct evtchn_bind_ipi, 8);
CHECK_SIZE(struct evtchn_close, 4);
CHECK_SIZE(struct evtchn_send, 4);
CHECK_SIZE(struct evtchn_status, 24);
CHECK_OFF(struct evtchn_status, u, 16);
CHECK_SIZE(struct evtchn_bind_vcpu, 8);
CHECK_SIZE(struct evtchn_unmask, 4);
CHECK_SIZE(struct evtchn_reset, 2);
CHECK_SIZE(struct evtchn_init_control, 24);
CHECK_SIZE(struct evtchn_expand_array, 8);
CHECK_SIZE(struct evtchn_set_priority, 8);
CHECK_SIZE(struct evtchn_fifo_control_block, 72);
CHECK_OFF(struct evtchn_fifo_control_block, head, 8);
CHECK_OFF(struct evtchn_init_control, link_bits, 16);

CHECK_SIZE(struct sched_shutdown, 4);
CHECK_SIZE(struct sched_poll, 24);
CHECK_SIZE(struct sched_remote_shutdown, 8);

CHECK_SIZE(struct xen_add_to_physmap, 24);
CHECK_OFF(struct xen_add_to_physmap, space, 4);
CHECK_OFF(struct xen_add_to_physmap, idx, 8);
CHECK_OFF(struct xen_add_to_physmap, gpfn, 16);

CHECK_SIZE(struct xen_hvm_param, 16);
CHECK_OFF(struct xen_hvm_param, index, 4);
CHECK_OFF(struct xen_hvm_param, value, 8);

CHECK_SIZE(struct vcpu_register_vcpu_info, 16);
CHECK_SIZE(struct xen_feature_info, 8);
