/* SPDX-License-Identifier: MIT */
/*
 * EL1 exception vector table (Arm ARM D1.10.2): 16 entries of 0x80 bytes,
 * the table 2 KiB aligned, in the order
 *   current EL with SP_EL0, current EL with SP_ELx, lower EL AArch64,
 *   lower EL AArch32
 * and within each group: synchronous, IRQ, FIQ, SError.
 *
 * Each entry reserves a struct exc_frame (include/xenvm/exception.h) on the
 * stack, saves x0/x1, loads the slot number and the C handler, and jumps to
 * a common path, which saves the rest, calls handler(frame), restores
 * (including ELR_EL1/SPSR_EL1 from the frame) and ERETs.
 *
 * Synchronous exceptions and SErrors save the full register state, so their
 * handlers can inspect and change any register. IRQs and FIQs save only what
 * the C handler may clobber under the AAPCS64 (x0..x18, x30) plus ELR/SPSR,
 * as Zephyr's arm64 interrupt entry does: x19..x29 are callee-saved, so they
 * still hold the interrupted code's values when the handler returns. That
 * is 7 fewer stores and 7 fewer loads per interrupt.
 */

#define FRAME_SIZE 288
#define OFF_ELR    248
#define OFF_ESR    264
#define OFF_KIND   280

	.macro	ventry kind, handler, common=exc_common
	.balign	0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x0, #\kind
	adrp	x1, \handler
	add	x1, x1, :lo12:\handler
	b	\common
	.endm

	.section .text.vectors, "ax", %progbits
	.balign	2048
	.globl	exception_vectors
exception_vectors:
	ventry	0, sync_handler
	ventry	1, irq_handler, irq_common
	ventry	2, fiq_handler, irq_common
	ventry	3, serror_handler
	ventry	4, sync_handler
	ventry	5, irq_handler, irq_common
	ventry	6, fiq_handler, irq_common
	ventry	7, serror_handler
	ventry	8, sync_handler
	ventry	9, irq_handler, irq_common
	ventry	10, fiq_handler, irq_common
	ventry	11, serror_handler
	ventry	12, sync_handler
	ventry	13, irq_handler, irq_common
	ventry	14, fiq_handler, irq_common
	ventry	15, serror_handler

	/*
	 * The rest of the frame, the call and the return. \full = 1 (synchronous,
	 * SError): also x19..x29, ESR and FAR; 0 (IRQ, FIQ): the caller-saved
	 * registers only (see the top of this file).
	 */
	.macro	exc_body full
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	.if	\full
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	.else
	str	x18, [sp, #144]
	.endif
	str	x30, [sp, #240]
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	stp	x2, x3, [sp, #OFF_ELR]
	.if	\full
	mrs	x2, esr_el1
	mrs	x3, far_el1
	stp	x2, x3, [sp, #OFF_ESR]
	.endif
	str	x0, [sp, #OFF_KIND]

	mov	x0, sp
	blr	x1

	ldp	x2, x3, [sp, #OFF_ELR]
	msr	elr_el1, x2
	msr	spsr_el1, x3
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	.if	\full
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	.else
	ldr	x18, [sp, #144]
	.endif
	ldr	x30, [sp, #240]
	add	sp, sp, #FRAME_SIZE
	eret
	.endm

	.balign	0x80
exc_common:
	exc_body 1

	.balign	0x80
irq_common:
	exc_body 0

	.globl	exc_install_vectors
	.type	exc_install_vectors, %function
exc_install_vectors:
	adrp	x0, exception_vectors
	add	x0, x0, :lo12:exception_vectors
	msr	vbar_el1, x0
	isb
	ret
	.size	exc_install_vectors, . - exc_install_vectors
