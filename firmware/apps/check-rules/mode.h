// SPDX-License-Identifier: MIT
/*
 * The check-rules apps' mode: "rule=NAME" from /chosen/bootargs (empty: use
 * the ABI correctly), and "cpu=1" for a mode broken on vCPU 1.
 */
#ifndef CHECK_RULES_MODE_H
#define CHECK_RULES_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include <xenvm/boot.h>

static char mode[32];
static char mode_cpu;

static bool is(const char *m)
{
	unsigned int i = 0;

	for (; m[i] && mode[i] == m[i]; i++)
		;
	return m[i] == 0 && mode[i] == 0;
}

/* ---- /chosen/bootargs: "rule=NAME" (devicetree spec v0.4, 5.4 structure block) */

static uint32_t be32(const volatile uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool str_eq(const volatile uint8_t *a, const char *b)
{
	unsigned int i = 0;

	for (; b[i] && a[i] == (uint8_t)b[i]; i++)
		;
	return b[i] == 0 && a[i] == 0;
}

static void read_mode(void)
{
	const volatile uint8_t *fdt = (const volatile uint8_t *)(uintptr_t)boot_dtb_addr;

	if (fdt == 0 || be32(fdt) != 0xd00dfeed)
		return;
	const volatile uint8_t *st = fdt + be32(fdt + 8);
	const volatile uint8_t *strs = fdt + be32(fdt + 12);
	uint32_t off = 0;
	int depth = 0;
	bool in_chosen = false;

	for (;;) {
		uint32_t tok = be32(st + off);

		off += 4;
		if (tok == 1) { /* FDT_BEGIN_NODE */
			const volatile uint8_t *name = st + off;
			uint32_t n = 0;

			while (name[n])
				n++;
			depth++;
			in_chosen = depth == 2 && str_eq(name, "chosen");
			off += (n + 4) & ~3u;
		} else if (tok == 2) { /* FDT_END_NODE */
			depth--;
			in_chosen = false;
		} else if (tok == 3) { /* FDT_PROP */
			uint32_t len = be32(st + off), nameoff = be32(st + off + 4);
			const volatile uint8_t *val = st + off + 8;

			if (in_chosen && str_eq(strs + nameoff, "bootargs")) {
				for (uint32_t i = 0; i + 5 <= len; i++) {
					if (val[i] == 'c' && val[i + 1] == 'p' && val[i + 2] == 'u' && val[i + 3] == '=')
						mode_cpu = (char)(val[i + 4] - '0');
					if (val[i] == 'r' && val[i + 1] == 'u' && val[i + 2] == 'l' && val[i + 3] == 'e' && val[i + 4] == '=') {
						uint32_t j = 0;

						for (i += 5; i < len && val[i] && val[i] != ' ' && j + 1 < sizeof(mode); i++)
							mode[j++] = (char)val[i];
						mode[j] = 0;
					}
				}
			}
			off += 8 + ((len + 3) & ~3u);
		} else if (tok == 4) { /* FDT_NOP */
		} else {
			return; /* FDT_END or damage */
		}
	}
}

#endif
