/* SPDX-License-Identifier: MIT */
/*
 * Zephyr's sys_bitfield_* accessors: bit `bit` of the bit array at `addr`
 * (32-bit words, little-endian bit numbering, so bit n of a 64-bit word
 * array is the same bit as here).
 *
 * Zephyr only promises plain read-modify-write. Here set/clear are atomic,
 * because the Xen drivers use them on shared_info's evtchn_mask and
 * evtchn_pending words, which the hypervisor updates concurrently from
 * another physical CPU (xen/include/public/xen.h asks for atomic updates):
 * a plain RMW could undo a bit Xen just set.
 */
#ifndef ZEPHYR_SHIM_SYS_SYS_IO_H
#define ZEPHYR_SHIM_SYS_SYS_IO_H

#include <zephyr/types.h>

static inline void sys_bitfield_set_bit(mem_addr_t addr, unsigned int bit)
{
	uint32_t *w = (uint32_t *)addr + (bit >> 5);

	__atomic_fetch_or(w, 1u << (bit & 31), __ATOMIC_SEQ_CST);
}

static inline void sys_bitfield_clear_bit(mem_addr_t addr, unsigned int bit)
{
	uint32_t *w = (uint32_t *)addr + (bit >> 5);

	__atomic_fetch_and(w, ~(1u << (bit & 31)), __ATOMIC_SEQ_CST);
}

static inline int sys_bitfield_test_bit(mem_addr_t addr, unsigned int bit)
{
	const uint32_t *w = (const uint32_t *)addr + (bit >> 5);

	return (__atomic_load_n(w, __ATOMIC_SEQ_CST) >> (bit & 31)) & 1;
}

static inline int sys_bitfield_test_and_set_bit(mem_addr_t addr, unsigned int bit)
{
	uint32_t *w = (uint32_t *)addr + (bit >> 5);
	uint32_t m = 1u << (bit & 31);

	return (__atomic_fetch_or(w, m, __ATOMIC_SEQ_CST) & m) != 0;
}

static inline int sys_bitfield_test_and_clear_bit(mem_addr_t addr, unsigned int bit)
{
	uint32_t *w = (uint32_t *)addr + (bit >> 5);
	uint32_t m = 1u << (bit & 31);

	return (__atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST) & m) != 0;
}

#endif
