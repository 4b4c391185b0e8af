/*
 * The interrupt-promptness window the GIC apps measure with: a loop of WINDOW_LEN iterations
 * that publishes its index in window_pos, so an ISR that records window_pos says when it ran
 * (WINDOW_BEFORE: before the loop; < WINDOW_LEN: inside it; WINDOW_LEN: after it).
 * "Prompt" means taken before iteration PROMPT_ITERS starts. Include once per app.
 */
#ifndef XENVM_IRQ_WINDOW_H
#define XENVM_IRQ_WINDOW_H

#define WINDOW_LEN    100
#define WINDOW_BEFORE (-1L)
#define PROMPT_ITERS  2

static volatile long window_pos = WINDOW_LEN;

/* Spin WINDOW_LEN iterations publishing the index, then publish WINDOW_LEN. */
static inline void window_spin(void)
{
	long i;

	__asm__ volatile(
		"	mov	%[i], #0\n"
		"1:	str	%[i], [%[pos]]\n"
		"	add	%[i], %[i], #1\n"
		"	cmp	%[i], %[n]\n"
		"	b.ne	1b\n"
		"	str	%[i], [%[pos]]\n"
		: [i] "=&r"(i)
		: [pos] "r"(&window_pos), [n] "I"(WINDOW_LEN)
		: "memory", "cc");
}

/* The same, unmasking IRQs as the instruction just before the first iteration. */
static inline void window_unmask_spin(void)
{
	long i;

	__asm__ volatile(
		"	mov	%[i], #0\n"
		"	msr	daifclr, #2\n"
		"1:	str	%[i], [%[pos]]\n"
		"	add	%[i], %[i], #1\n"
		"	cmp	%[i], %[n]\n"
		"	b.ne	1b\n"
		"	str	%[i], [%[pos]]\n"
		: [i] "=&r"(i)
		: [pos] "r"(&window_pos), [n] "I"(WINDOW_LEN)
		: "memory", "cc");
}

static inline void window_open(void) { window_pos = WINDOW_BEFORE; }

#endif
