/* SPDX-License-Identifier: MIT */
/*
 * Formatted output to the console UART (lib/printk.c).
 * Conversions: %d %i %u %x %X %p %s %c %%, length l / ll / z, field width,
 * '0' padding and '-' left alignment. No floating point.
 * The host splits the console into lines on "\n": end every line with it.
 */
#ifndef XENVM_PRINTK_H
#define XENVM_PRINTK_H

#include <stdarg.h>
#include <stddef.h>

__attribute__((format(printf, 1, 2))) int printk(const char *fmt, ...);
int vprintk(const char *fmt, va_list ap);

/* Format into buf (always NUL-terminated when size > 0); returns the full length. */
__attribute__((format(printf, 3, 4))) int snprintk(char *buf, size_t size, const char *fmt, ...);
int vsnprintk(char *buf, size_t size, const char *fmt, va_list ap);

/* The formatter itself: emits each character through `out`. */
int format_out(void (*out)(char c, void *ctx), void *ctx, const char *fmt, va_list ap);

#endif
