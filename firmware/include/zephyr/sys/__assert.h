/* SPDX-License-Identifier: MIT */
/*
 * __ASSERT in Zephyr's shape. Active when CONFIG_ASSERT is non-zero (the
 * firmware Makefile turns it on): a failed assertion prints the condition,
 * the place and the message, then shuts the domain down as crashed, so a
 * misbehaving driver shows up in the transcript instead of corrupting memory.
 */
#ifndef ZEPHYR_SHIM_SYS_ASSERT_H
#define ZEPHYR_SHIM_SYS_ASSERT_H

#include <xenvm/printk.h>

__attribute__((noreturn)) void zephyr_assert_fail(void);

#if defined(CONFIG_ASSERT) && CONFIG_ASSERT
#define __ASSERT(cond, fmt, ...) do { \
	if (!(cond)) { \
		printk("ASSERTION FAIL [%s] @ %s:%d\n", #cond, __FILE__, __LINE__); \
		printk("\t" fmt "\n", ##__VA_ARGS__); \
		zephyr_assert_fail(); \
	} \
} while (0)
#else
/* Disabled: still type-check the condition, evaluate nothing. */
#define __ASSERT(cond, fmt, ...) do { if (0) { (void)(cond); } } while (0)
#endif

#define __ASSERT_NO_MSG(cond) __ASSERT(cond, "")

#endif
