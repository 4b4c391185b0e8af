// SPDX-License-Identifier: MIT
/*
 * A small printf-style formatter (no libc): %d %i %u %x %X %p %s %c %%,
 * length modifiers hh h l ll z j t, flags '0' and '-', field width (digits
 * or '*'). Floating point is deliberately absent (-mgeneral-regs-only).
 */
#include <stdbool.h>
#include <stdint.h>

#include <xenvm/console.h>
#include <xenvm/printk.h>

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

struct spec {
	bool zero_pad;
	bool left;
	int width;
};

static int emit_padding(void (*out)(char, void *), void *ctx, char pad, int n)
{
	int i;

	for (i = 0; i < n; i++)
		out(pad, ctx);
	return n > 0 ? n : 0;
}

static int emit_str(void (*out)(char, void *), void *ctx, const char *s, const struct spec *sp)
{
	int len = 0, n = 0;

	while (s[len] != '\0')
		len++;
	if (!sp->left)
		n += emit_padding(out, ctx, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		out(s[i], ctx);
	n += len;
	if (sp->left)
		n += emit_padding(out, ctx, ' ', sp->width - len);
	return n;
}

/* Digits of v in `base` (10 or 16), with an optional sign and "0x" prefix. */
static int emit_number(void (*out)(char, void *), void *ctx, unsigned long long v,
		       bool negative, unsigned base, bool upper, const char *prefix,
		       const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int len = 0, extra = 0, n = 0;

	do {
		buf[len++] = digits[v % base];
		v /= base;
	} while (v != 0);

	if (negative)
		extra = 1;
	for (const char *p = prefix; *p != '\0'; p++)
		extra++;

	int pad = sp->width - len - extra;

	if (!sp->left && !sp->zero_pad)
		n += emit_padding(out, ctx, ' ', pad);
	if (negative) {
		out('-', ctx);
		n++;
	}
	for (const char *p = prefix; *p != '\0'; p++, n++)
		out(*p, ctx);
	if (!sp->left && sp->zero_pad)
		n += emit_padding(out, ctx, '0', pad);
	while (len > 0) {
		out(buf[--len], ctx);
		n++;
	}
	if (sp->left)
		n += emit_padding(out, ctx, ' ', pad);
	return n;
}

int format_out(void (*out)(char c, void *ctx), void *ctx, const char *fmt, va_list ap)
{
	int n = 0;

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			out(*fmt, ctx);
			n++;
			continue;
		}
		fmt++;

		struct spec sp = { false, false, 0 };

		for (;; fmt++) {
			if (*fmt == '0')
				sp.zero_pad = true;
			else if (*fmt == '-')
				sp.left = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				sp.width = sp.width * 10 + (*fmt++ - '0');
		}

		enum length len = LEN_INT;

		switch (*fmt) {
		case 'h':
			len = LEN_SHORT;
			if (*++fmt == 'h') {
				len = LEN_CHAR;
				fmt++;
			}
			break;
		case 'l':
			len = LEN_LONG;
			if (*++fmt == 'l') {
				len = LEN_LLONG;
				fmt++;
			}
			break;
		case 'z': case 'j': case 't':
			len = *fmt == 'z' ? LEN_SIZE : LEN_LLONG;
			fmt++;
			break;
		default:
			break;
		}

		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v;

			switch (len) {
			case LEN_LONG: v = va_arg(ap, long); break;
			case LEN_LLONG: v = va_arg(ap, long long); break;
			case LEN_SIZE: v = (long long)va_arg(ap, long); break;
			case LEN_CHAR: v = (signed char)va_arg(ap, int); break;
			case LEN_SHORT: v = (short)va_arg(ap, int); break;
			default: v = va_arg(ap, int); break;
			}
			unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v
						       : (unsigned long long)v;
			n += emit_number(out, ctx, mag, v < 0, 10, false, "", &sp);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v;

			switch (len) {
			case LEN_LONG: v = va_arg(ap, unsigned long); break;
			case LEN_LLONG: v = va_arg(ap, unsigned long long); break;
			case LEN_SIZE: v = va_arg(ap, size_t); break;
			case LEN_CHAR: v = (unsigned char)va_arg(ap, unsigned int); break;
			case LEN_SHORT: v = (unsigned short)va_arg(ap, unsigned int); break;
			default: v = va_arg(ap, unsigned int); break;
			}
			n += emit_number(out, ctx, v, false, *fmt == 'u' ? 10 : 16,
					 *fmt == 'X', "", &sp);
			break;
		}
		case 'p':
			n += emit_number(out, ctx, (uintptr_t)va_arg(ap, void *), false, 16,
					 false, "0x", &sp);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			n += emit_str(out, ctx, s != NULL ? s : "(null)", &sp);
			break;
		}
		case 'c': {
			char s[2] = { (char)va_arg(ap, int), '\0' };

			n += emit_str(out, ctx, s, &sp);
			break;
		}
		case '%':
			out('%', ctx);
			n++;
			break;
		case '\0':
			/* A lone '%' at the end: print it and stop. */
			out('%', ctx);
			return n + 1;
		default:
			/* Unknown conversion: show it verbatim so the bug is visible. */
			out('%', ctx);
			out(*fmt, ctx);
			n += 2;
			break;
		}
	}
	return n;
}

static void out_console(char c, void *ctx)
{
	(void)ctx;
	console_putc(c);
}

int vprintk(const char *fmt, va_list ap)
{
	return format_out(out_console, NULL, fmt, ap);
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

struct buf_sink {
	char *buf;
	size_t size;
	size_t pos;
};

static void out_buf(char c, void *ctx)
{
	struct buf_sink *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int vsnprintk(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_sink b = { buf, size, 0 };
	int n = format_out(out_buf, &b, fmt, ap);

	if (size > 0)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int snprintk(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintk(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
