/* SPDX-License-Identifier: MIT */
/*
 * The kernel command line of this guest: the /chosen/bootargs property of the devicetree the
 * boot code was handed (boot_dtb_addr), found by walking the flattened tree's structure block
 * (Devicetree Specification v0.4, 5.4). Header-only, for the apps that take options this way
 * (check-rules "rule=NAME cpu=N", hcall-fuzz "fuzzseed=N fuzzcount=M").
 */
#ifndef XENVM_BOOTARGS_H
#define XENVM_BOOTARGS_H

#include <stdbool.h>
#include <stdint.h>

#include <xenvm/boot.h>

#define FDT_MAGIC      0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4

static inline uint32_t fdt_be32(const volatile uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline bool fdt_str_eq(const volatile uint8_t *a, const char *b)
{
	unsigned int i = 0;

	for (; b[i] && a[i] == (uint8_t)b[i]; i++)
		;
	return b[i] == 0 && a[i] == 0;
}

/* The bytes of /chosen/bootargs and their count (with the NUL), or NULL when there are none. */
static inline const volatile uint8_t *bootargs(uint32_t *len)
{
	const volatile uint8_t *fdt = (const volatile uint8_t *)(uintptr_t)boot_dtb_addr;

	if (fdt == 0 || fdt_be32(fdt) != FDT_MAGIC)
		return 0;
	const volatile uint8_t *st = fdt + fdt_be32(fdt + 8);
	const volatile uint8_t *strs = fdt + fdt_be32(fdt + 12);
	uint32_t off = 0;
	int depth = 0;
	bool in_chosen = false;

	for (;;) {
		uint32_t tok = fdt_be32(st + off);

		off += 4;
		if (tok == FDT_BEGIN_NODE) {
			const volatile uint8_t *name = st + off;
			uint32_t n = 0;

			while (name[n])
				n++;
			depth++;
			in_chosen = depth == 2 && fdt_str_eq(name, "chosen");
			off += (n + 4) & ~3u;
		} else if (tok == FDT_END_NODE) {
			depth--;
			in_chosen = false;
		} else if (tok == FDT_PROP) {
			uint32_t plen = fdt_be32(st + off), nameoff = fdt_be32(st + off + 4);

			if (in_chosen && fdt_str_eq(strs + nameoff, "bootargs")) {
				*len = plen;
				return st + off + 8;
			}
			off += 8 + ((plen + 3) & ~3u);
		} else if (tok != FDT_NOP) {
			return 0; /* FDT_END or damage */
		}
	}
}

/* The decimal number right after `key` (e.g. "fuzzseed=") in the bootargs, or `dflt`. */
static inline uint64_t bootargs_number(const char *key, uint64_t dflt)
{
	uint32_t len;
	const volatile uint8_t *args = bootargs(&len);

	for (uint32_t i = 0; args && i < len; i++) {
		uint32_t k = 0;

		while (key[k] && i + k < len && args[i + k] == (uint8_t)key[k])
			k++;
		if (key[k])
			continue;
		uint64_t v = 0;

		for (uint32_t j = i + k; j < len && args[j] >= '0' && args[j] <= '9'; j++)
			v = v * 10 + (args[j] - '0');
		return v;
	}
	return dflt;
}

#endif
