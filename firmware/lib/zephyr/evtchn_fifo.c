// SPDX-License-Identifier: MIT
/*
 * The FIFO event-channel ABI, guest side, for the events library (events.c).
 * Facts from Xen 4.17's public/event_channel.h; written here from them.
 *
 *  - EVTCHNOP_init_control gives Xen this vCPU's control block (one page of
 *    ours) and switches the whole domain from 2-level to FIFO;
 *  - EVTCHNOP_expand_array gives Xen one page of 1024 event words at a time:
 *    we add pages as the ports we are handed grow (Xen keeps an event for a
 *    port without a word and raises it when the word appears);
 *  - Xen appends a pending, unmasked, not yet LINKED port to the queue of its
 *    priority (LINK of the old tail, or head[] of the control block if the
 *    queue was empty, and then the priority's `ready` bit), and raises the
 *    upcall on the 0->1 edge of `ready` (via evtchn_upcall_pending);
 *  - the guest consumes: at a head, it atomically clears LINKED and LINK
 *    (getting the next port), then handles the port if PENDING and not
 *    MASKED. The guest may only set/clear MASKED, clear PENDING and clear
 *    LINKED|LINK on a word Xen may be linking; every change here is an
 *    atomic RMW (LDXR/STXR: -mno-outline-atomics), as Xen updates the same
 *    words from another CPU under a real Xen.
 *
 * One vCPU (vCPU 0): main() and the ISR never run together on the guest side.
 */
#include <stdbool.h>
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/event_channel.h>
#include <zephyr/sys/barrier.h>

#include "evtchn_fifo.h"

#define PAGE_SHIFT      12
#define PAGE_SIZE       (1UL << PAGE_SHIFT)
#define WORDS_PER_PAGE  (PAGE_SIZE / sizeof(event_word_t))

#define BIT32(n)        ((uint32_t)1 << (n))

/* The control block page and the event array pages (MMU off: VA = guest-physical). */
static uint32_t control_page[PAGE_SIZE / sizeof(uint32_t)] __attribute__((aligned(PAGE_SIZE)));
static event_word_t array_pages[EVTCHN_FIFO_ARRAY_PAGES][WORDS_PER_PAGE] __attribute__((aligned(PAGE_SIZE)));

static struct evtchn_fifo_control_block *const cb = (struct evtchn_fifo_control_block *)control_page;
static unsigned int nr_pages;
bool evtchn_fifo_on;
/* Our place in each queue: the next port to look at, 0 = read head[] again. */
static uint32_t local_head[EVTCHN_FIFO_MAX_QUEUES];

static inline uint64_t gfn_of(const void *p)
{
	return (uintptr_t)p >> PAGE_SHIFT;
}

volatile event_word_t *evtchn_fifo_word(evtchn_port_t port)
{
	if (!evtchn_fifo_on || port >= nr_pages * WORDS_PER_PAGE)
		return 0;
	return &array_pages[port / WORDS_PER_PAGE][port % WORDS_PER_PAGE];
}

/*
 * One more event array page. Its words start at 0 (unmasked, like a fresh
 * 2-level port), so the Zephyr API behaves the same under both ABIs: a port
 * is masked only when mask_event_channel() says so.
 */
static int add_page(void)
{
	struct evtchn_expand_array expand;
	long rc;

	if (nr_pages >= EVTCHN_FIFO_ARRAY_PAGES)
		return -28; /* -ENOSPC: our pool is used up */
	for (unsigned int i = 0; i < WORDS_PER_PAGE; i++)
		array_pages[nr_pages][i] = 0;
	expand.array_gfn = gfn_of(array_pages[nr_pages]);
	/* Xen may link into this page as soon as it has it: nr_pages first. */
	nr_pages++;
	barrier_dmem_fence_full();
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &expand);
	if (rc != 0)
		nr_pages--;
	return (int)rc;
}

int evtchn_fifo_init(void)
{
	struct evtchn_init_control init = {
		.control_gfn = gfn_of(control_page),
		.offset = 0,
		.vcpu = 0,
	};
	long rc;

	for (unsigned int i = 0; i < sizeof(control_page) / sizeof(control_page[0]); i++)
		((volatile uint32_t *)control_page)[i] = 0;
	for (unsigned int q = 0; q < EVTCHN_FIFO_MAX_QUEUES; q++)
		local_head[q] = 0;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &init);
	if (rc != 0)
		return (int)rc; /* Xen refused: the domain stays on 2-level */
	evtchn_fifo_on = true;
	nr_pages = 0;
	return add_page();
}

int evtchn_fifo_ensure_port(evtchn_port_t port)
{
	while (evtchn_fifo_on && port >= nr_pages * WORDS_PER_PAGE) {
		int rc = add_page();

		if (rc != 0)
			return rc;
	}
	return 0;
}

void evtchn_fifo_set_masked(evtchn_port_t port, bool masked)
{
	volatile event_word_t *w = evtchn_fifo_word(port);

	if (w == 0)
		return;
	if (masked)
		__atomic_fetch_or(w, BIT32(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(w, ~BIT32(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
}

void evtchn_fifo_clear_pending(evtchn_port_t port)
{
	volatile event_word_t *w = evtchn_fifo_word(port);

	if (w != 0)
		__atomic_fetch_and(w, ~BIT32(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST);
}

/*
 * Take `w` off its queue: clear LINKED and LINK in one compare-and-swap (Xen
 * may be writing LINK at the same moment) and return the LINK it had.
 */
static uint32_t clear_linked(volatile event_word_t *w)
{
	event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);
	event_word_t new;

	do {
		new = old & ~(BIT32(EVTCHN_FIFO_LINKED) | EVTCHN_FIFO_LINK_MASK);
	} while (!__atomic_compare_exchange_n(w, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	return old & EVTCHN_FIFO_LINK_MASK;
}

/* One event from queue `q`; clears q's bit in *ready when the queue ran dry. */
static void consume_one(unsigned int q, uint32_t *ready, void (*dispatch)(evtchn_port_t))
{
	uint32_t port = local_head[q];

	if (port == 0) {
		/* Xen wrote head[] before it set the ready bit we saw. */
		barrier_dmem_fence_full();
		port = __atomic_load_n(&cb->head[q], __ATOMIC_SEQ_CST);
	}
	volatile event_word_t *w = evtchn_fifo_word(port);

	if (w == 0) {
		/* A head we cannot see (no such word): drop the queue. */
		local_head[q] = 0;
		*ready &= ~BIT32(q);
		return;
	}
	uint32_t next = clear_linked(w);

	if (next == 0)
		*ready &= ~BIT32(q);
	local_head[q] = next;
	/*
	 * PENDING is cleared before the callback (an event arriving while it
	 * runs is linked again and seen later); a MASKED port stays pending and
	 * unlinked until EVTCHNOP_unmask links it again.
	 */
	event_word_t v = __atomic_load_n(w, __ATOMIC_SEQ_CST);

	if ((v & BIT32(EVTCHN_FIFO_PENDING)) && !(v & BIT32(EVTCHN_FIFO_MASKED)) &&
	    (__atomic_fetch_and(w, ~BIT32(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST) & BIT32(EVTCHN_FIFO_PENDING)))
		dispatch((evtchn_port_t)port);
}

/*
 * The consume loop: take the whole `ready` word, then always serve the
 * highest priority (lowest bit) that has work, one event at a time, merging
 * in whatever Xen made ready meanwhile. A higher-priority event that arrives
 * while a lower queue is being drained is therefore served next.
 */
void evtchn_fifo_handle(void (*dispatch)(evtchn_port_t))
{
	uint32_t ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);

	while (ready != 0) {
		unsigned int q = (unsigned int)__builtin_ctz(ready);

		consume_one(q, &ready, dispatch);
		ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
	}
}

const struct evtchn_fifo_control_block *evtchn_fifo_control_block(void)
{
	return evtchn_fifo_on ? cb : 0;
}
