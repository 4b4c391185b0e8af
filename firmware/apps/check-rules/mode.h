// SPDX-License-Identifier: MIT
/*
 * The check-rules apps' mode: "rule=NAME" from /chosen/bootargs (empty: use
 * the ABI correctly), and "cpu=1" for a mode broken on vCPU 1.
 */
#ifndef CHECK_RULES_MODE_H
#define CHECK_RULES_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include <xenvm/bootargs.h>

static char mode[32];
static char mode_cpu;

static bool is(const char *m)
{
	unsigned int i = 0;

	for (; m[i] && mode[i] == m[i]; i++)
		;
	return m[i] == 0 && mode[i] == 0;
}

/* "rule=NAME" and "cpu=N" from /chosen/bootargs. */
static void read_mode(void)
{
	uint32_t len;
	const volatile uint8_t *val = bootargs(&len);

	for (uint32_t i = 0; val && i + 5 <= len; i++) {
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

#endif
