// SPDX-License-Identifier: MIT
/*
 * check-rules-fifo: test guests for the protocol checker's FIFO rules
 * (`xenvm-emu run --check`, docs/check.md). With no `rule=` it uses the FIFO
 * event-channel ABI correctly; with `--cmdline rule=NAME` it breaks rule NAME
 * once, as a driver bug would:
 *
 *   fifo-plain-store   masks a port with a plain load/modify/store of its word
 *   fifo-guest-set     sets PENDING in an event word, which only Xen does
 *   fifo-local-unmask  clears MASKED of a pending port itself (no EVTCHNOP_unmask)
 *   fifo-head          writes head[] of its control block
 *   fifo-ready         the handler takes `ready` and returns without consuming
 *
 * Raw hypercalls and event words, so each mode differs from the correct one in
 * one place. Facts from Xen 4.17's public/event_channel.h: one control block
 * (vCPU 0), one event-array page (ports 0..1023), a loopback channel: port 1
 * (alloc_unbound for ourselves) <-> port 2 (bind_interdomain), on queue 7.
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xen/hypercall.h>
#include <xen/public/event_channel.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>
#include <xenvm/boot.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>

#include "../check-rules/mode.h"
#include "../check-rules/common.h"

#define PORT_FREE  5
#define W(bit)     ((uint32_t)1 << (bit))

static uint8_t si_frame[4096] __attribute__((aligned(4096)));
static uint32_t control_page[1024] __attribute__((aligned(4096)));
static event_word_t words[1024] __attribute__((aligned(4096)));
static struct shared_info *si;
static struct evtchn_fifo_control_block *const cb = (struct evtchn_fifo_control_block *)control_page;

static long evtchn_op(unsigned int cmd, void *arg)
{
	return HYPERVISOR_event_channel_op(cmd, arg);
}

static long send(evtchn_port_t p)
{
	struct evtchn_send s = { .port = p };

	return evtchn_op(EVTCHNOP_send, &s);
}

/* Unlink the head of queue q (LINKED and LINK in one CAS) and handle it if pending and unmasked. */
static uint32_t consume(uint32_t port)
{
	volatile event_word_t *w = &words[port];
	event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);

	while (!__atomic_compare_exchange_n(w, &old, old & ~(W(EVTCHN_FIFO_LINKED) | EVTCHN_FIFO_LINK_MASK), false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	if (!(old & W(EVTCHN_FIFO_MASKED)) &&
	    (__atomic_fetch_and(w, ~W(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST) & W(EVTCHN_FIFO_PENDING)))
		handled[port & 7]++;
	return old & EVTCHN_FIFO_LINK_MASK;
}

static void upcall_isr(void *arg)
{
	struct vcpu_info *v = &si->vcpu_info[0];

	(void)arg;
	do {
		__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		uint32_t ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);

		if (is("fifo-ready"))
			return; /* the bug: the queues stay linked, their ready bits gone */
		while (ready) {
			unsigned int q = (unsigned int)__builtin_ctz(ready);
			uint32_t port = __atomic_load_n(&cb->head[q], __ATOMIC_SEQ_CST);

			while (port != 0 && port < 1024)
				port = consume(port);
			ready &= ~W(q);
			ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
		}
	} while (__atomic_load_n(&v->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
}

int main(void)
{
	bool ok = true;

	si = start("check-rules-fifo", si_frame);

	/* The pages start zeroed (BSS): every port unmasked, every queue empty. */
	struct evtchn_init_control init = { .control_gfn = (uintptr_t)control_page >> 12, .offset = 0, .vcpu = 0 };
	struct evtchn_expand_array expand = { .array_gfn = (uintptr_t)words >> 12 };

	ok &= evtchn_op(EVTCHNOP_init_control, &init) == 0;
	ok &= evtchn_op(EVTCHNOP_expand_array, &expand) == 0;
	irq_connect(EVT_INTID, upcall_isr, NULL);
	gic_irq_enable(EVT_INTID);
	irq_enable();

	ok &= open_loopback();
	ok &= wait_handled(PORT_B, 1) || is("fifo-ready");
	if (!is("fifo-ready")) {
		ok &= send(PORT_A) == 0;
		ok &= wait_handled(PORT_B, 2);
	}
	printk("loopback: %s\n", ok ? "ok" : "broken");

	volatile event_word_t *wb = &words[PORT_B];

	if (is("fifo-plain-store")) {
		*wb = *wb | W(EVTCHN_FIFO_MASKED);
		__atomic_fetch_and(wb, ~W(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
	} else if (is("fifo-guest-set")) {
		__atomic_fetch_or(&words[PORT_FREE], W(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST);
		__atomic_fetch_and(&words[PORT_FREE], ~W(EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST);
	} else if (is("fifo-local-unmask")) {
		__atomic_fetch_or(wb, W(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
		send(PORT_A);
		/* The bug: PENDING while masked put port 2 on no queue; clearing MASKED here links nothing. */
		__atomic_fetch_and(wb, ~W(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
	} else if (is("fifo-head")) {
		__atomic_store_n(&cb->head[3], PORT_B, __ATOMIC_SEQ_CST);
	} else if (!mode[0]) {
		/* Correct use: a port not pending may be unmasked by the guest itself (no event to lose). */
		__atomic_fetch_or(wb, W(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
		__atomic_fetch_and(wb, ~W(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
		/* Masked while an event comes: EVTCHNOP_unmask links it, and it is handled. */
		__atomic_fetch_or(wb, W(EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
		ok = unmask_delivers_then_close(ok);
	}
	finish(ok);
}
