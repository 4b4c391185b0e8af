/* SPDX-License-Identifier: MIT */
/*
 * Image header and first instructions.
 *
 * Xen (like a Linux boot loader) accepts an arm64 "Image": a 64-byte header
 * at offset 0 (Linux Documentation/arch/arm64/booting.rst) whose magic at
 * byte 56 is "ARM\x64". Xen 4.17 copies the Image to RAM bank 0 +
 * text_offset (text_offset = 0 here, so 0x40000000, our link address) and
 * enters code0 at EL1h with the MMU and caches off, DAIF masked and
 * x0 = physical address of the guest's devicetree.
 *
 * With the MMU off every data access is Device-nGnRnE, so unaligned
 * accesses fault: the C code is built with -mstrict-align.
 */
#include <xen/public/sched.h>

	.section .text.head, "ax", %progbits
	.globl	_start
_start:
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset: load at the start of RAM */
	.quad	_image_size		/* image_size: file + BSS + stack */
	/*
	 * flags: bit 0 = 0 little-endian, bits 2:1 = 1 4 KiB pages,
	 * bit 3 = 0 "2 MiB-aligned, near the start of RAM" (we are not
	 * position independent).
	 */
	.quad	0x2
	.quad	0			/* res2 */
	.quad	0			/* res3 */
	.quad	0			/* res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 (no PE/COFF header) */

primary_entry:
	mov	x19, x0			/* keep the DTB pointer across the BSS clear */
	msr	daifset, #0xf

	/* Let EL1 use FP/SIMD, in case a later library wants it (CPACR_EL1.FPEN). */
	mov	x1, #(3 << 20)
	msr	cpacr_el1, x1
	isb

	adrp	x1, __stack_top
	add	x1, x1, :lo12:__stack_top
	mov	sp, x1

	/* Zero BSS (it includes the stack; nothing lives there yet). */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	stp	xzr, xzr, [x1], #16
	b	1b
2:
	adrp	x1, boot_dtb_addr
	str	x19, [x1, :lo12:boot_dtb_addr]

	bl	exc_install_vectors
	bl	main

	/* main returned: power the domain off. */
	mov	w0, #SHUTDOWN_poweroff
	bl	xen_shutdown
3:	wfi
	b	3b

	.section .data.boot, "aw", %progbits
	.balign	8
	.globl	boot_dtb_addr
boot_dtb_addr:
	.quad	0

	.section .bss.stack, "aw", %nobits
	.balign	16
	.globl	__stack_bottom
__stack_bottom:
	.space	STACK_SIZE
	.globl	__stack_top
__stack_top:
