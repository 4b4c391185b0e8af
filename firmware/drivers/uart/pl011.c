// SPDX-License-Identifier: MIT
/*
 * Console output on Xen's vpl011, an SBSA generic UART (a PL011 subset):
 * transmit by writing the data register once the FIFO is not full. No
 * initialisation is needed (or allowed: the SBSA UART has no UARTCR).
 * Register offsets: Arm PL011 TRM (DDI 0183), SBSA generic UART.
 */
#include <stdint.h>

#include <board.h>
#include <xenvm/arch.h>
#include <xenvm/console.h>

#define UARTDR        0x000
#define UARTFR        0x018
#define UARTFR_TXFF   (1u << 5)   /* transmit FIFO full */

void console_putc(char c)
{
	while (mmio_read32(BOARD_UART_BASE + UARTFR) & UARTFR_TXFF)
		;
	mmio_write32(BOARD_UART_BASE + UARTDR, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		console_putc(s[i]);
}

void console_puts(const char *s)
{
	while (*s != '\0')
		console_putc(*s++);
}
