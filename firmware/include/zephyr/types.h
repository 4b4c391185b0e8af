/* SPDX-License-Identifier: MIT */
/* Zephyr's basic types: fixed-width integers, bool, size_t and mem_addr_t. */
#ifndef ZEPHYR_SHIM_TYPES_H
#define ZEPHYR_SHIM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address that sys_* accessors take, as an integer (Zephyr: uintptr_t). */
typedef uintptr_t mem_addr_t;

#endif
