/* SPDX-License-Identifier: MIT */
/*
 * The verdict of the events apps (events-api, events-api-fifo, fifo-priorities): every check
 * prints "key: value" (the transcript the goldens hold) and remembers the first mismatch;
 * verdict_print() ends the transcript with "Test result: SUCCESS" or "FAILURE (<first>)".
 * Static definitions: include it once, from the app's main.c, after <zephyr/kernel.h>.
 */
#ifndef EVENTS_API_VERDICT_H
#define EVENTS_API_VERDICT_H

#include <stddef.h>

static const char *first_failure;
static char failure_buf[96];

/* Remember "key: got G, want W" if it is the first mismatch. */
static void fail(const char *key, const char *got, const char *want)
{
	if (first_failure == NULL) {
		snprintk(failure_buf, sizeof(failure_buf), "%s: got %s, want %s", key, got, want);
		first_failure = failure_buf;
	}
}

/* Print "key: got" and compare with the expected value. */
static void check(const char *key, long got, long want)
{
	char g[24], w[24];

	printk("%s: %ld\n", key, got);
	if (got != want) {
		snprintk(g, sizeof(g), "%ld", got);
		snprintk(w, sizeof(w), "%ld", want);
		fail(key, g, w);
	}
}

static void verdict_print(void)
{
	if (first_failure == NULL)
		printk("Test result: SUCCESS\n");
	else
		printk("Test result: FAILURE (%s)\n", first_failure);
}

#endif
