/* SPDX-License-Identifier: MIT */
/*
 * Zephyr-flavoured compiler helpers (the subset Xen drivers use).
 * Part of the minimal kernel layer that lets a Zephyr Xen driver build
 * bare-metal here; see firmware/README.md, "Zephyr events API".
 */
#ifndef ZEPHYR_SHIM_TOOLCHAIN_H
#define ZEPHYR_SHIM_TOOLCHAIN_H

#ifndef __packed
#define __packed        __attribute__((packed))
#endif
#ifndef __aligned
#define __aligned(x)    __attribute__((aligned(x)))
#endif
#ifndef __unused
#define __unused        __attribute__((unused))
#endif
#ifndef __maybe_unused
#define __maybe_unused  __attribute__((unused))
#endif
#ifndef __weak
#define __weak          __attribute__((weak))
#endif
#define ALWAYS_INLINE   inline __attribute__((always_inline))
#define likely(x)       __builtin_expect(!!(x), 1)
#define unlikely(x)     __builtin_expect(!!(x), 0)

/* Stop the compiler from moving memory accesses across this point. */
#define compiler_barrier() __asm__ volatile("" : : : "memory")

#endif
