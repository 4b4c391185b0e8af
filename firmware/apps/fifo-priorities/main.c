// SPDX-License-Identifier: MIT
/*
 * fifo-priorities: what the FIFO event-channel ABI does with priorities,
 * through the Zephyr events API (evtchn_set_priority) on our FIFO driver.
 *
 * One domain, four loopback channels: port 1 -> 2, 3 -> 4, 5 -> 6, 7 -> 8
 * (alloc_unbound for ourselves, then bind_interdomain to it; Xen hands out
 * the lowest free port). Notifying the odd port raises the even one. Each
 * round locks IRQs, raises several ports, prints what Xen put in the
 * control block (ready bitmap, queue heads) and the event words, then
 * unlocks and prints the order in which the callbacks ran:
 *   1. different priorities: highest (0) first;
 *   2. one priority: arrival order, not port order (2-level would scan by port);
 *   3. set_priority on a port already queued: it stays on its old queue,
 *      its next event uses the new one;
 *   4. a queued port masked before it is consumed: skipped, still pending,
 *      delivered by unmask; a queued port closed: still LINKED, so the next
 *      allocation skips it until the handler has taken it off the queue;
 *   5. errors: priority 16, an invalid port; init_control again; expand_array
 *      on a frame that is not RAM;
 *   6. EVTCHNOP_reset: back to 2-level (set_priority -ENOSYS, expand_array
 *      -EOPNOTSUPP), and init_control works again.
 * Every line depends only on this domain, so the transcript is the same
 * under the real Xen 4.17 and the emulator.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <zephyr/arch/arm64/hypercall.h>
#include <zephyr/kernel.h>
#include <zephyr/xen/events.h>
#include <zephyr/xen/public/event_channel.h>
#include <zephyr/xenvm.h>

#include "../events-api/verdict.h"

XEN_EVENTS_USE_FIFO();

/*
 * Our events library's FIFO driver (lib/zephyr/evtchn_fifo.h), for observations. Always linked:
 * an app that selects FIFO is never built against a Zephyr tree's driver (Makefile).
 */
volatile event_word_t *evtchn_fifo_word(evtchn_port_t port);
const struct evtchn_fifo_control_block *evtchn_fifo_control_block(void);

#define NR_PAIRS 4
#define BAD_GFN  0x80000UL /* 2 GiB: no RAM of a 64 MiB domU there */

static evtchn_port_t tx[NR_PAIRS], rx[NR_PAIRS];
static volatile unsigned int log_len;
static volatile evtchn_port_t log_ports[16];
static uint32_t spare_page[1024] __attribute__((aligned(4096)));

static void record_cb(void *priv)
{
	if (log_len < sizeof(log_ports) / sizeof(log_ports[0]))
		log_ports[log_len] = (evtchn_port_t)(uintptr_t)priv;
	log_len++;
}

/* "key: 8 4 6 2", compared with `want` (same format). */
static void check_order(const char *key, const char *want)
{
	char got[64];
	int n = 0;

	got[0] = '\0';
	for (unsigned int i = 0; i < log_len && i < 16; i++)
		n += snprintk(got + n, sizeof(got) - (size_t)n, "%s%u", i ? " " : "", log_ports[i]);
	printk("%s: %s\n", key, got);
	for (unsigned int i = 0;; i++) {
		if (got[i] != want[i]) {
			fail(key, got, want);
			return;
		}
		if (got[i] == '\0')
			return;
	}
}

/* The control block as Xen left it: ready bitmap and the non-zero heads. */
static void show_control_block(const char *key)
{
	const struct evtchn_fifo_control_block *cb = evtchn_fifo_control_block();
	char buf[160];
	int n;

	if (cb == NULL) {
		printk("%s: no control block\n", key);
		return;
	}
	n = snprintk(buf, sizeof(buf), "ready=0x%x", __atomic_load_n(&cb->ready, __ATOMIC_SEQ_CST));
	for (unsigned int q = 0; q < EVTCHN_FIFO_MAX_QUEUES; q++) {
		uint32_t h = __atomic_load_n(&cb->head[q], __ATOMIC_SEQ_CST);

		if (h != 0)
			n += snprintk(buf + n, sizeof(buf) - (size_t)n, " head%u=%u", q, h);
	}
	printk("%s: %s\n", key, buf);
}

/* The event words of the receiving ports, in hex (PENDING 31, MASKED 30, LINKED 29, LINK). */
static void show_words(const char *key)
{
	char buf[160];
	int n = 0;

	for (unsigned int i = 0; i < NR_PAIRS; i++) {
		volatile event_word_t *w = evtchn_fifo_word(rx[i]);

		n += snprintk(buf + n, sizeof(buf) - (size_t)n, "%s%u=0x%x", i ? " " : "", rx[i],
			      w != NULL ? __atomic_load_n(w, __ATOMIC_SEQ_CST) : 0xffffffffU);
	}
	printk("%s: %s\n", key, buf);
}

/* Runs the callbacks held back by irq_lock() and waits until `n` of them ran. */
static void release_and_wait(unsigned int key, unsigned int n)
{
	irq_unlock(key);
	key = irq_lock();
	while (log_len < n) {
		k_cpu_atomic_idle(key);
		key = irq_lock();
	}
	irq_unlock(key);
}

static void set_prios(const unsigned int *prio)
{
	for (unsigned int i = 0; i < NR_PAIRS; i++)
		evtchn_set_priority(rx[i], prio[i]);
}

static long raw_set_priority(evtchn_port_t port, uint32_t prio)
{
	struct evtchn_set_priority sp = { .port = port, .priority = prio };

	return HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp);
}

static long raw_expand(uint64_t gfn)
{
	struct evtchn_expand_array e = { .array_gfn = gfn };

	return HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &e);
}

static long raw_init_control(uint64_t gfn, uint32_t vcpu, uint8_t *link_bits)
{
	struct evtchn_init_control c = { .control_gfn = gfn, .offset = 0, .vcpu = vcpu, .link_bits = 0xaa };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &c);

	*link_bits = c.link_bits;
	return rc;
}

int main(void)
{
	unsigned int key;
	uint8_t link_bits;

	printk("fifo_priorities: start\n");
	check("kernel_init", xenvm_kernel_init(), 0);
	check("map_shared_info", xenvm_map_shared_info(), 0);
	check("init", xen_events_init(), 0);
	/* Port 1 is free: FIFO answers -EACCES, 2-level would say -ENOSYS. */
	check("set_priority_free_port", evtchn_set_priority(1, EVTCHN_FIFO_PRIORITY_DEFAULT), -EACCES);

	for (unsigned int i = 0; i < NR_PAIRS; i++) {
		int a = alloc_unbound_event_channel(DOMID_SELF);
		int b = a < 0 ? a : bind_interdomain_event_channel(DOMID_SELF, (evtchn_port_t)a, record_cb,
								   (void *)(uintptr_t)(2 * i + 2));

		check("pair_tx", a, (long)(2 * i + 1));
		check("pair_rx", b, (long)(2 * i + 2));
		tx[i] = (evtchn_port_t)(2 * i + 1);
		rx[i] = (evtchn_port_t)(2 * i + 2);
	}
	/* Each bind left its new port pending; those four events come first. */
	release_and_wait(irq_lock(), NR_PAIRS);
	check_order("bind_events", "2 4 6 8");
	show_control_block("cb_idle");

	/* 1. Different priorities. */
	static const unsigned int p1[NR_PAIRS] = { 9, 3, 3, 0 };
	set_prios(p1);
	log_len = 0;
	key = irq_lock();
	for (unsigned int i = 0; i < NR_PAIRS; i++)
		notify_evtchn(tx[i]);
	show_control_block("cb_priorities");
	show_words("words_priorities");
	release_and_wait(key, NR_PAIRS);
	check_order("order_priorities", "8 4 6 2");
	show_words("words_consumed");

	/* 2. One priority: arrival order. */
	static const unsigned int p2[NR_PAIRS] = { 7, 7, 7, 7 };
	static const unsigned int arrival[NR_PAIRS] = { 2, 0, 3, 1 };
	set_prios(p2);
	log_len = 0;
	key = irq_lock();
	for (unsigned int i = 0; i < NR_PAIRS; i++)
		notify_evtchn(tx[arrival[i]]);
	show_control_block("cb_same_priority");
	show_words("words_same_priority");
	release_and_wait(key, NR_PAIRS);
	check_order("order_same_priority", "6 2 8 4");

	/* 3. set_priority while queued. */
	log_len = 0;
	key = irq_lock();
	notify_evtchn(tx[0]);                         /* port 2 on queue 7 */
	check("set_priority_linked", evtchn_set_priority(rx[0], 0), 0);
	notify_evtchn(tx[1]);                         /* port 4 behind it */
	check("set_priority_8", evtchn_set_priority(rx[3], 1), 0);
	notify_evtchn(tx[3]);                         /* port 8 on queue 1 */
	show_control_block("cb_linked_moved");
	release_and_wait(key, 3);
	check_order("order_linked_moved", "8 2 4");
	log_len = 0;
	key = irq_lock();
	notify_evtchn(tx[1]);                         /* port 4, queue 7 */
	notify_evtchn(tx[0]);                         /* port 2, now queue 0 */
	show_control_block("cb_after_move");
	release_and_wait(key, 2);
	check_order("order_after_move", "2 4");

	/* 4. Masked while queued. */
	set_prios(p2);
	log_len = 0;
	key = irq_lock();
	notify_evtchn(tx[2]);                         /* port 6 queued */
	notify_evtchn(tx[1]);                         /* port 4 behind it */
	check("mask_linked", mask_event_channel(rx[2]), 0);
	release_and_wait(key, 1);
	check_order("order_masked", "4");
	check("pending_masked", xenvm_evtchn_is_pending(rx[2]), 1);
	show_words("words_masked");
	check("unmask", unmask_event_channel(rx[2]), 0);
	release_and_wait(irq_lock(), 2);
	check_order("order_unmasked", "4 6");

	/*
	 * 4b. Closed while queued: Xen clears PENDING but the port stays LINKED
	 * until we consume it, and a LINKED free port is not handed out again.
	 */
	key = irq_lock();
	notify_evtchn(tx[3]);                         /* port 8 queued */
	check("close_linked", evtchn_close(rx[3]), 0);
	show_words("words_closed_linked");
	check("alloc_skips_linked", alloc_unbound_event_channel(DOMID_SELF), 9);
	irq_unlock(key);                              /* the ISR takes 8 off its queue */
	show_words("words_closed_consumed");
	check("close_9", evtchn_close(9), 0);
	check("alloc_after_consume", alloc_unbound_event_channel(DOMID_SELF), 8);
	check("close_8", evtchn_close(8), 0);
	check_order("order_closed", "4 6");

	/* 5. Errors. */
	check("set_priority_16", evtchn_set_priority(rx[0], 16), -EINVAL);
	check("set_priority_15", evtchn_set_priority(rx[0], 15), 0);
	check("set_priority_bad_port", evtchn_set_priority(4096, 0), -EINVAL);
	check("set_priority_port_64", evtchn_set_priority(64, 0), -EINVAL);
	check("init_control_again", raw_init_control((uintptr_t)spare_page >> 12, 0, &link_bits), -EINVAL);
	printk("link_bits: 0x%x\n", link_bits);
	check("init_control_vcpu1", raw_init_control((uintptr_t)spare_page >> 12, 1, &link_bits), -ENOENT);
	check("expand_bad_gfn", raw_expand(BAD_GFN), -EINVAL);

	/* 6. Reset: every port closed, back to 2-level. */
	struct evtchn_reset reset = { .dom = DOMID_SELF };

	key = irq_lock();
	check("reset", HYPERVISOR_event_channel_op(EVTCHNOP_reset, &reset), 0);
	check("set_priority_after_reset", raw_set_priority(1, 7), -ENOSYS);
	check("expand_after_reset", raw_expand((uintptr_t)spare_page >> 12), -EOPNOTSUPP);
	check("init_control_after_reset", raw_init_control((uintptr_t)spare_page >> 12, 0, &link_bits), 0);
	printk("link_bits: %u\n", link_bits);
	check("set_priority_fifo_again", raw_set_priority(1, 7), -EACCES); /* port 1 is free */
	irq_unlock(key);

	verdict_print();
	xenvm_poweroff();
}
