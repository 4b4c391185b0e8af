/* SPDX-License-Identifier: MIT */
/*
 * The Kconfig symbols a Zephyr build would put in its generated autoconf.h
 * (passed to every compile with -imacros) that are fixed for this target:
 * an AArch64 Xen guest. Zephyr code and a Zephyr tree's Xen public headers
 * test them (the public xen.h refuses any other architecture and selects
 * layouts by interface version). The switchable ones (CONFIG_XEN_EVENTS,
 * CONFIG_XEN_DOM0, CONFIG_ASSERT, CONFIG_LOG) stay on the make command line
 * (ZEPHYR_KCONFIG, EXTRA_CFLAGS).
 */
#ifndef FIRMWARE_COMPAT_ZEPHYR_AUTOCONF_H
#define FIRMWARE_COMPAT_ZEPHYR_AUTOCONF_H

#define CONFIG_ARM64 1
#define CONFIG_XEN 1

/*
 * __XEN_INTERFACE_VERSION__ of the hypervisor we run on: Xen 4.17 is
 * 0x00041100 (major << 16 | minor << 8, xen/include/public/xen-compat.h).
 * It only selects between layouts that are equal on arm64 for every
 * version since 4.6 (vcpu_time_info's flags byte, no NR_EVENT_CHANNELS).
 */
#ifndef CONFIG_XEN_INTERFACE_VERSION
#define CONFIG_XEN_INTERFACE_VERSION 0x00041100
#endif

#endif
