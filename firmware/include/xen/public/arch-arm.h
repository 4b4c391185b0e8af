/* SPDX-License-Identifier: MIT */
/*
 * Arm (AArch64) part of the Xen guest ABI, as used by this firmware.
 *
 * Facts from Xen 4.17 xen/include/public/arch-arm.h: on arm64 the "native
 * word" types xen_ulong_t and xen_pfn_t are 64-bit, guest handles are plain
 * 64-bit pointers, the hypercall instruction is HVC with immediate 0xEA1,
 * the number goes in x16 and arguments in x0..x4, the result comes back in x0.
 */
#ifndef XEN_PUBLIC_ARCH_ARM_H
#define XEN_PUBLIC_ARCH_ARM_H

/* Immediate of the HVC instruction that Xen recognises as a hypercall. */
#define XEN_HYPERCALL_TAG 0xEA1

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef uint64_t xen_ulong_t;
typedef int64_t xen_long_t;
typedef uint64_t xen_pfn_t;

/*
 * A guest handle is a pointer widened to 64 bits so that 32- and 64-bit
 * guests share one layout. On arm64 it is just the pointer.
 */
#define XEN_GUEST_HANDLE_64(type) \
	union { type *p; uint64_t q; } __attribute__((aligned(8)))
#define set_xen_guest_handle(h, ptr) do { (h).q = 0; (h).p = (ptr); } while (0)

/*
 * Only vCPU 0 has its vcpu_info inside shared_info on Arm; further vCPUs
 * must place theirs with VCPUOP_register_vcpu_info.
 */
#define XEN_LEGACY_MAX_VCPUS 1
#define MAX_VIRT_CPUS XEN_LEGACY_MAX_VCPUS

/* Nothing architecture-specific lives in vcpu_info/shared_info on Arm. */
struct arch_vcpu_info { };
struct arch_shared_info { };

/* Fixed guest physical memory map (same header, "guest memory layout"). */
#define GUEST_GICD_BASE        0x03001000UL
#define GUEST_GICD_SIZE        0x00001000UL
#define GUEST_GICC_BASE        0x03002000UL
#define GUEST_GICC_SIZE        0x00002000UL
#define GUEST_GICV3_GICD_BASE  0x03001000UL
#define GUEST_GICV3_GICD_SIZE  0x00010000UL
#define GUEST_GICV3_GICR0_BASE 0x03020000UL
#define GUEST_GICV3_RDIST_STRIDE 0x00020000UL
#define GUEST_PL011_BASE       0x22000000UL
#define GUEST_PL011_SIZE       0x00001000UL
#define GUEST_GNTTAB_BASE      0x38000000UL
#define GUEST_GNTTAB_SIZE      0x01000000UL
#define GUEST_RAM0_BASE        0x40000000UL

/* Interrupt numbers Xen uses for every guest (GIC INTIDs). */
#define GUEST_EVTCHN_PPI       31
#define GUEST_VPL011_SPI       32
#define GUEST_TIMER_VIRT_PPI   27
#define GUEST_TIMER_PHYS_S_PPI 29
#define GUEST_TIMER_PHYS_NS_PPI 30

#endif /* !__ASSEMBLER__ */
#endif
