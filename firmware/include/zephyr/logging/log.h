/* SPDX-License-Identifier: MIT */
/*
 * Zephyr's logging macros. As in Zephyr with CONFIG_LOG=n, they print
 * nothing by default, so a driver's log lines never change a transcript.
 * Build with EXTRA_CFLAGS="-DCONFIG_LOG=1 [-DCONFIG_LOG_DEFAULT_LEVEL=4]"
 * to see them on the console as "<err> module: message" (level 1 ERR,
 * 2 WRN, 3 INF (default), 4 DBG).
 */
#ifndef ZEPHYR_SHIM_LOGGING_LOG_H
#define ZEPHYR_SHIM_LOGGING_LOG_H

#include <xenvm/printk.h>

#ifndef CONFIG_LOG_DEFAULT_LEVEL
#define CONFIG_LOG_DEFAULT_LEVEL 3
#endif

#define LOG_LEVEL_NONE 0
#define LOG_LEVEL_ERR  1
#define LOG_LEVEL_WRN  2
#define LOG_LEVEL_INF  3
#define LOG_LEVEL_DBG  4

/* Extra arguments (a level) are accepted and ignored. */
#define LOG_MODULE_REGISTER(name, ...) \
	static const char z_shim_log_module[] __attribute__((unused)) = #name
#define LOG_MODULE_DECLARE(name, ...) LOG_MODULE_REGISTER(name)

#if defined(CONFIG_LOG) && CONFIG_LOG
#define Z_SHIM_LOG(lvl, tag, fmt, ...) do { \
	if ((lvl) <= CONFIG_LOG_DEFAULT_LEVEL) \
		printk("<" tag "> %s: " fmt "\n", z_shim_log_module, ##__VA_ARGS__); \
} while (0)
#else
/* Still type-check the format and arguments. */
#define Z_SHIM_LOG(lvl, tag, fmt, ...) do { \
	if (0) \
		printk(fmt, ##__VA_ARGS__); \
} while (0)
#endif

#define LOG_ERR(...) Z_SHIM_LOG(LOG_LEVEL_ERR, "err", __VA_ARGS__)
#define LOG_WRN(...) Z_SHIM_LOG(LOG_LEVEL_WRN, "wrn", __VA_ARGS__)
#define LOG_INF(...) Z_SHIM_LOG(LOG_LEVEL_INF, "inf", __VA_ARGS__)
#define LOG_DBG(...) Z_SHIM_LOG(LOG_LEVEL_DBG, "dbg", __VA_ARGS__)

#endif
