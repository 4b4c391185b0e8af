/* SPDX-License-Identifier: MIT */
/*
 * Zephyr's barrier API on AArch64 (Arm ARM B2.3.12): a full-system DMB
 * orders every earlier memory access before every later one, which is what
 * the event-channel protocol needs between clearing evtchn_upcall_pending
 * and reading evtchn_pending_sel (Xen writes them from another CPU).
 */
#ifndef ZEPHYR_SHIM_SYS_BARRIER_H
#define ZEPHYR_SHIM_SYS_BARRIER_H

static inline void barrier_dmem_fence_full(void)
{
	__asm__ volatile("dmb sy" : : : "memory");
}

static inline void barrier_dsync_fence_full(void)
{
	__asm__ volatile("dsb sy" : : : "memory");
}

static inline void barrier_isync_fence_full(void)
{
	__asm__ volatile("isb" : : : "memory");
}

#endif
