/* SPDX-License-Identifier: MIT */
/*
 * cpu-arch's probe: run one test routine in a chosen mode (EL0t, EL1t or
 * EL1h, through an ERET), catch the first exception it raises in a vector
 * table of our own, note what the CPU reported (vector slot, ESR_EL1,
 * FAR_EL1, ELR_EL1, SPSR_EL1, the SP the vector runs on, SP_EL0), and come
 * back to probe()'s caller as if the routine had returned the slot number.
 *
 *   uint64_t probe(void (*fn)(void), uint64_t spsr, uint64_t sp_el0, uint64_t arg)
 *
 * The routine starts with x0 = arg. Every routine ends in "svc #0xee", so a
 * routine whose instruction did not trap still comes back, visibly.
 */

	.section .text.probe_vectors, "ax", %progbits
	.balign	2048
	.globl	probe_vectors
probe_vectors:
	.irp	slot, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.balign	0x80
	mov	x9, #\slot
	b	probe_caught
	.endr

	.text
probe_caught:
	adrp	x10, probe_obs
	add	x10, x10, :lo12:probe_obs
	str	x9, [x10, #0]
	mrs	x11, esr_el1
	str	x11, [x10, #8]
	mrs	x11, far_el1
	str	x11, [x10, #16]
	mrs	x11, elr_el1
	str	x11, [x10, #24]
	mrs	x11, spsr_el1
	str	x11, [x10, #32]
	mov	x11, sp
	str	x11, [x10, #40]
	mrs	x11, sp_el0
	str	x11, [x10, #48]
	adrp	x10, probe_ctx
	add	x10, x10, :lo12:probe_ctx
	ldp	x19, x20, [x10, #0]
	ldp	x21, x22, [x10, #16]
	ldp	x23, x24, [x10, #32]
	ldp	x25, x26, [x10, #48]
	ldp	x27, x28, [x10, #64]
	ldp	x29, x30, [x10, #80]
	ldr	x11, [x10, #96]
	mov	sp, x11
	mov	x0, x9
	ret

	.globl	probe
probe:
	adrp	x10, probe_ctx
	add	x10, x10, :lo12:probe_ctx
	stp	x19, x20, [x10, #0]
	stp	x21, x22, [x10, #16]
	stp	x23, x24, [x10, #32]
	stp	x25, x26, [x10, #48]
	stp	x27, x28, [x10, #64]
	stp	x29, x30, [x10, #80]
	mov	x11, sp
	str	x11, [x10, #96]
	msr	sp_el0, x2
	msr	elr_el1, x0
	msr	spsr_el1, x1
	mov	x0, x3
	isb
	eret

/* The routines. Each one is a few instructions; ELR is printed relative to its start. */
	.macro	routine name
	.balign	64
	.globl	\name
\name:
	.endm

routine t_svc
	svc	#0x1
	svc	#0xee
routine t_brk
	brk	#0x2
	svc	#0xee
routine t_udf
	.inst	0x00000000		/* UDF #0 */
	svc	#0xee
routine t_load
	ldr	x1, [x0]
	svc	#0xee
routine t_store
	str	x1, [x0]
	svc	#0xee
routine t_jump
	br	x0
/* ERET with SPSR = x0 to the instruction after it, from EL1h. */
routine t_eret
	adr	x1, 1f
	msr	elr_el1, x1
	msr	spsr_el1, x0
	isb
	eret
1:	nop
	svc	#0xee
/* Load-exclusive from x0 (always alignment-checked). */
routine t_ldxr
	ldxr	x1, [x0]
	svc	#0xee
	.balign	64
	.globl	t_end
t_end:

	.bss
	.balign	16
	.globl	probe_obs
probe_obs:
	.space	56
	.globl	probe_ctx
probe_ctx:
	.space	104
