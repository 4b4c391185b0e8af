// SPDX-License-Identifier: MIT
/*
 * mem-touch: writes one byte in every 4 KiB page of guest RAM from 16 MiB to
 * 208 MiB above its base, a page every few thousand instructions, as a guest that
 * fills its memory over a while (issue 14, "resource limits"): run with
 * --memory 256 or more. Each page it writes costs the host a page, so with
 * --max-host-memory below that the emulator must end this domain with one
 * report and let the others go on. Without a limit it finishes normally.
 */
#include <stdint.h>

#include <xenvm/printk.h>

#define RAM_BASE 0x40000000UL
#define FROM (RAM_BASE + (16UL << 20))
#define TO (RAM_BASE + (208UL << 20))

int main(void)
{
	unsigned long pages = 0;

	printk("touching one byte per page from 0x%lx to 0x%lx\n", FROM, TO);
	for (uintptr_t p = FROM; p < TO; p += 4096) {
		*(volatile uint8_t *)p = 1;
		pages++;
		for (volatile unsigned int i = 0; i < 500; i++)
			;
	}
	printk("touched %lu pages\n", pages);
	printk("Test result: SUCCESS\n");
	return 0;
}
