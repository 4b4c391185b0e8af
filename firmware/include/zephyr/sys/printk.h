/* SPDX-License-Identifier: MIT */
/* Zephyr's printk: the firmware console formatter (lib/printk.c). */
#ifndef ZEPHYR_SHIM_SYS_PRINTK_H
#define ZEPHYR_SHIM_SYS_PRINTK_H

#include <xenvm/printk.h>

#endif
