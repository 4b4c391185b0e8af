// SPDX-License-Identifier: MIT
/*
 * dtb-dump: print the devicetree the hypervisor passed in x0 as hex lines
 * ("dtb: <64 hex digits>"), so the board devicetrees can be checked against
 * what the real Xen generates (scripts/dtb-from-log.sh turns a transcript
 * back into a .dtb).
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/boot.h>
#include <xenvm/printk.h>

#define FDT_MAGIC 0xd00dfeedu
#define BYTES_PER_LINE 32

static uint32_t be32(const volatile uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(void)
{
	const volatile uint8_t *dtb = (const volatile uint8_t *)(uintptr_t)boot_dtb_addr;

	printk("dtb_addr: 0x%lx\n", (unsigned long)boot_dtb_addr);
	if (dtb == 0 || be32(dtb) != FDT_MAGIC) {
		printk("dtb_magic: bad\n");
		printk("Test result: FAILURE\n");
		xen_shutdown(SHUTDOWN_poweroff);
	}
	uint32_t size = be32(dtb + 4);

	printk("dtb_size: %u\n", size);
	for (uint32_t off = 0; off < size; off += BYTES_PER_LINE) {
		printk("dtb: ");
		for (uint32_t i = off; i < off + BYTES_PER_LINE && i < size; i++)
			printk("%02x", dtb[i]);
		printk("\n");
	}
	printk("Test result: SUCCESS\n");
	xen_shutdown(SHUTDOWN_poweroff);
}
