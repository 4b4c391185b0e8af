/* SPDX-License-Identifier: MIT */
/* Small utility macros in Zephyr's spelling. */
#ifndef ZEPHYR_SHIM_SYS_UTIL_H
#define ZEPHYR_SHIM_SYS_UTIL_H

#include <zephyr/types.h>

#define ARG_UNUSED(x)     (void)(x)
#ifndef BIT
#define BIT(n)            (1UL << (n))
#endif
#define BIT64(n)          (1ULL << (n))
#define ARRAY_SIZE(a)     (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b)         (((a) < (b)) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b)         (((a) > (b)) ? (a) : (b))
#endif
#define CONTAINER_OF(ptr, type, field) \
	((type *)(((char *)(ptr)) - offsetof(type, field)))
#define IS_ENABLED(option) _SHIM_IS_ENABLED1(option)
/* 1 when `option` is defined to 1 (Kconfig's y), 0 when undefined. */
#define _SHIM_IS_ENABLED1(v)            _SHIM_IS_ENABLED2(_SHIM_XXXX##v)
#define _SHIM_XXXX1                     _SHIM_YYYY,
#define _SHIM_IS_ENABLED2(one_or_two)   _SHIM_IS_ENABLED3(one_or_two 1, 0)
#define _SHIM_IS_ENABLED3(ignore, v, ...) v

#endif
