/* SPDX-License-Identifier: MIT */
/*
 * Core Xen guest ABI: hypercall numbers, domain ids, and the layout of the
 * shared_info page and per-vCPU vcpu_info block (2-level event-channel ABI).
 *
 * Numbers and layouts are facts of Xen 4.17's public ABI
 * (xen/include/public/xen.h); the text here is ours.
 */
#ifndef XEN_PUBLIC_XEN_H
#define XEN_PUBLIC_XEN_H

#include "arch-arm.h"

/* Hypercall numbers (x16 on Arm). Only those a guest on Arm can meet. */
#define __HYPERVISOR_set_trap_table        0
#define __HYPERVISOR_mmu_update            1
#define __HYPERVISOR_set_gdt               2
#define __HYPERVISOR_stack_switch          3
#define __HYPERVISOR_set_callbacks         4
#define __HYPERVISOR_fpu_taskswitch        5
#define __HYPERVISOR_sched_op_compat       6
#define __HYPERVISOR_platform_op           7
#define __HYPERVISOR_set_debugreg          8
#define __HYPERVISOR_get_debugreg          9
#define __HYPERVISOR_update_descriptor    10
#define __HYPERVISOR_memory_op            12
#define __HYPERVISOR_multicall            13
#define __HYPERVISOR_update_va_mapping    14
#define __HYPERVISOR_set_timer_op         15
#define __HYPERVISOR_event_channel_op_compat 16
#define __HYPERVISOR_xen_version          17
#define __HYPERVISOR_console_io           18
#define __HYPERVISOR_physdev_op_compat    19
#define __HYPERVISOR_grant_table_op       20
#define __HYPERVISOR_vm_assist            21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                 23
#define __HYPERVISOR_vcpu_op              24
#define __HYPERVISOR_set_segment_base     25
#define __HYPERVISOR_mmuext_op            26
#define __HYPERVISOR_xsm_op               27
#define __HYPERVISOR_nmi_op               28
#define __HYPERVISOR_sched_op             29
#define __HYPERVISOR_callback_op          30
#define __HYPERVISOR_xenoprof_op          31
#define __HYPERVISOR_event_channel_op     32
#define __HYPERVISOR_physdev_op           33
#define __HYPERVISOR_hvm_op               34
#define __HYPERVISOR_sysctl               35
#define __HYPERVISOR_domctl               36
#define __HYPERVISOR_kexec_op             37
#define __HYPERVISOR_tmem_op              38
#define __HYPERVISOR_argo_op              39
#define __HYPERVISOR_xenpmu_op            40
#define __HYPERVISOR_dm_op                41
#define __HYPERVISOR_hypfs_op             42
/* 48..55 are reserved for architecture-specific calls. */
#define __HYPERVISOR_arch_0               48
#define __HYPERVISOR_arch_7               55

/* console_io sub-commands. */
#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

/* Virtual IRQs that can be bound with EVTCHNOP_bind_virq. */
#define VIRQ_TIMER      0
#define VIRQ_DEBUG      1
#define VIRQ_CONSOLE    2
#define VIRQ_DOM_EXC    3
#define VIRQ_TBUF       4
#define VIRQ_DEBUGGER   6
#define VIRQ_XENOPROF   7
#define VIRQ_CON_RING   8
#define VIRQ_PCPU_STATE 9
#define VIRQ_MEM_EVENT  10
#define VIRQ_ARGO       11
#define VIRQ_ENOMEM     12
#define VIRQ_XENPMU     13
#define NR_VIRQS        24

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef uint16_t domid_t;

/* Reserved domain ids: "this domain" and friends. */
#define DOMID_FIRST_RESERVED 0x7FF0U
#define DOMID_SELF           0x7FF0U
#define DOMID_IO             0x7FF1U
#define DOMID_XEN            0x7FF2U
#define DOMID_COW            0x7FF3U
#define DOMID_INVALID        0x7FF4U
#define DOMID_IDLE           0x7FFFU

/*
 * Xen's time record for one vCPU (32 bytes). A reader takes a snapshot
 * while `version` is even and unchanged across the read.
 */
struct vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad1[2];
};

/*
 * Per-vCPU event state. Xen sets evtchn_upcall_pending and the selector
 * bit (word index of evtchn_pending[] that has news) before raising the
 * upcall interrupt; the guest clears upcall_pending, then swaps the
 * selector to zero, then scans those words.
 *
 * On arm64: 1 + 1 bytes, 6 bytes padding, 8-byte selector, empty arch
 * part, 32-byte time record = 48 bytes (the "64 bytes" in Xen's comment is
 * the x86 size, where arch_vcpu_info is not empty).
 */
struct vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask; /* not used by Xen on Arm (pad0 there) */
	xen_ulong_t evtchn_pending_sel;
	struct arch_vcpu_info arch;
	struct vcpu_time_info time;
};

/*
 * The page a guest maps with XENMEM_add_to_physmap(XENMAPSPACE_shared_info).
 * 2-level event channels: port p is bit (p % 64) of word (p / 64) of
 * evtchn_pending / evtchn_mask, so 64 * 64 = 4096 ports on arm64.
 */
struct shared_info {
	struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	xen_ulong_t evtchn_pending[sizeof(xen_ulong_t) * 8];
	xen_ulong_t evtchn_mask[sizeof(xen_ulong_t) * 8];
	/* Wallclock at system time 0, same even/odd version protocol. */
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
	struct arch_shared_info arch;
};

#define EVTCHN_2L_NR_CHANNELS (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)

#endif /* !__ASSEMBLER__ */
#endif
