/* SPDX-License-Identifier: MIT */
/*
 * Exception frames and handlers (boot/vectors.S, boot/exception.c).
 *
 * Synchronous exceptions and SErrors save the full general-register state
 * plus ELR/SPSR/ESR/FAR into a struct exc_frame on the current stack, call
 * C, then restore x0..x30, ELR_EL1 and SPSR_EL1 from the frame and ERET —
 * so their handlers may change any register, the return address or PSTATE.
 *
 * IRQs and FIQs fill only x0..x18, x30, elr, spsr and kind (the registers
 * an AAPCS64 function may clobber, as Zephyr's interrupt entry saves them):
 * x19..x29, esr and far of their frame are not written, and changing them
 * has no effect. An interrupt handler may still change elr/spsr and the
 * caller-saved registers.
 */
#ifndef XENVM_EXCEPTION_H
#define XENVM_EXCEPTION_H

#include <stdbool.h>
#include <stdint.h>

/* Vector slot: (source << 2) | type, in VBAR_EL1 order. */
enum exc_type { EXC_SYNC = 0, EXC_IRQ = 1, EXC_FIQ = 2, EXC_SERROR = 3 };
enum exc_source {
	EXC_FROM_CUR_SP0 = 0,   /* current EL, SP_EL0 */
	EXC_FROM_CUR_SPX = 1,   /* current EL, SP_ELx (where we normally run) */
	EXC_FROM_LOWER64 = 2,
	EXC_FROM_LOWER32 = 3,
};

struct exc_frame {
	uint64_t x[31];   /* x0..x30 */
	uint64_t elr;     /* restored into ELR_EL1 */
	uint64_t spsr;    /* restored into SPSR_EL1 */
	uint64_t esr;     /* snapshot, not restored */
	uint64_t far;     /* snapshot, not restored */
	uint64_t kind;    /* vector slot 0..15 */
};

#define EXC_FRAME_SIZE 288
_Static_assert(sizeof(struct exc_frame) == EXC_FRAME_SIZE, "frame layout is shared with vectors.S");

/* Called from the vectors; weak, so a driver or app can replace them. */
void sync_handler(struct exc_frame *f);
void irq_handler(struct exc_frame *f);
void fiq_handler(struct exc_frame *f);
void serror_handler(struct exc_frame *f);

/*
 * A hook the default sync_handler consults first: return true if the
 * exception was handled (adjust f->elr to skip an instruction if needed),
 * false to fall through to "unhandled exception" + SHUTDOWN_crash.
 * Returns the previous hook.
 */
typedef bool (*exc_sync_hook_t)(struct exc_frame *f);
exc_sync_hook_t exc_set_sync_hook(exc_sync_hook_t hook);

/* Print the frame's ESR/ELR/FAR (only ELR for an interrupt) and shut the domain down (crash). */
__attribute__((noreturn)) void exc_fatal(const char *what, struct exc_frame *f);

/* Vector table and VBAR_EL1 control. */
extern char exception_vectors[];
void exc_install_vectors(void);

#endif
