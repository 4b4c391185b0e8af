/* SPDX-License-Identifier: MIT */
/* The guest console: the vpl011 UART at BOARD_UART_BASE (drivers/uart/pl011.c). */
#ifndef XENVM_CONSOLE_H
#define XENVM_CONSOLE_H

#include <stddef.h>

void console_putc(char c);
void console_write(const char *s, size_t len);
void console_puts(const char *s);  /* no newline added */

#endif
