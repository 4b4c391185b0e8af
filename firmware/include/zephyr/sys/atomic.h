/* SPDX-License-Identifier: MIT */
/*
 * Zephyr's atomic_t API over the GCC/Clang __atomic builtins. With
 * -mno-outline-atomics and no LSE in -march these become LDXR/STXR loops
 * (Armv8.0 exclusives), which work with the MMU off under both Xen-in-QEMU
 * and Unicorn (checked by apps/events-api, see firmware/README.md).
 */
#ifndef ZEPHYR_SHIM_SYS_ATOMIC_H
#define ZEPHYR_SHIM_SYS_ATOMIC_H

#include <zephyr/types.h>

typedef long atomic_t;
typedef atomic_t atomic_val_t;

#define ATOMIC_INIT(v) (v)
#define ATOMIC_BITS    (sizeof(atomic_val_t) * 8)

static inline atomic_val_t atomic_get(const atomic_t *t)
{
	return __atomic_load_n(t, __ATOMIC_SEQ_CST);
}
static inline atomic_val_t atomic_set(atomic_t *t, atomic_val_t v)
{
	return __atomic_exchange_n(t, v, __ATOMIC_SEQ_CST);
}
static inline atomic_val_t atomic_add(atomic_t *t, atomic_val_t v)
{
	return __atomic_fetch_add(t, v, __ATOMIC_SEQ_CST);
}
static inline atomic_val_t atomic_sub(atomic_t *t, atomic_val_t v)
{
	return __atomic_fetch_sub(t, v, __ATOMIC_SEQ_CST);
}
static inline atomic_val_t atomic_inc(atomic_t *t) { return atomic_add(t, 1); }
static inline atomic_val_t atomic_dec(atomic_t *t) { return atomic_sub(t, 1); }
static inline atomic_val_t atomic_or(atomic_t *t, atomic_val_t v)
{
	return __atomic_fetch_or(t, v, __ATOMIC_SEQ_CST);
}
static inline atomic_val_t atomic_and(atomic_t *t, atomic_val_t v)
{
	return __atomic_fetch_and(t, v, __ATOMIC_SEQ_CST);
}
static inline atomic_val_t atomic_clear(atomic_t *t) { return atomic_set(t, 0); }
static inline bool atomic_cas(atomic_t *t, atomic_val_t old, atomic_val_t new_value)
{
	return __atomic_compare_exchange_n(t, &old, new_value, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static inline bool atomic_test_bit(const atomic_t *t, int bit)
{
	return (atomic_get(&t[bit / ATOMIC_BITS]) >> (bit % ATOMIC_BITS)) & 1;
}
static inline void atomic_set_bit(atomic_t *t, int bit)
{
	atomic_or(&t[bit / ATOMIC_BITS], 1L << (bit % ATOMIC_BITS));
}
static inline void atomic_clear_bit(atomic_t *t, int bit)
{
	atomic_and(&t[bit / ATOMIC_BITS], ~(1L << (bit % ATOMIC_BITS)));
}
static inline bool atomic_test_and_set_bit(atomic_t *t, int bit)
{
	atomic_val_t m = 1L << (bit % ATOMIC_BITS);

	return (atomic_or(&t[bit / ATOMIC_BITS], m) & m) != 0;
}
static inline bool atomic_test_and_clear_bit(atomic_t *t, int bit)
{
	atomic_val_t m = 1L << (bit % ATOMIC_BITS);

	return (atomic_and(&t[bit / ATOMIC_BITS], ~m) & m) != 0;
}

#endif
