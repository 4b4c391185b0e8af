// SPDX-License-Identifier: MIT
/*
 * dom-ring: a token passed round a ring of RING_SIZE domUs (default 3),
 * d1 -> d2 -> d3 -> d1, RING_ROUNDS times. Run the same image in every
 * domain: `run dom-ring.img dom-ring.img dom-ring.img`.
 *
 * Each domain offers port 1 to the next domain (alloc_unbound; the lowest
 * free port, so every domain knows the number), binds to port 1 of the
 * previous one (bind_interdomain, retried while not offered yet: its local
 * port is 2), then tells the previous domain it is ready with one
 * notification on that port. Nobody sends a token before the next domain
 * said it is ready: a send on a port not bound yet is dropped, and one that
 * lands while the fresh binding's own pending event is still unhandled
 * merges with it and is lost when the binder forgets that event (a
 * scheduling seed found this). d1 starts each round; the others forward
 * what they receive. At the end each domain closes both ports. Under SILO
 * the offer is refused with -EPERM and every domain reports SKIPPED.
 */
#include <zephyr/xen/events.h>

#include "dom-common.h"

#ifndef RING_SIZE
#define RING_SIZE 3
#endif
#ifndef RING_ROUNDS
#define RING_ROUNDS 3
#endif
#define OFFER_PORT 1

static volatile unsigned int tokens, ready;

int main(void)
{
	char desc[48];
	evtchn_status_t st;
	int me = dom_init();

	if (me < 1 || me > RING_SIZE)
		dom_finish("FAILURE (not a domU of the ring)");
	domid_t next = (domid_t)(me % RING_SIZE + 1);
	domid_t prev = (domid_t)(me == 1 ? RING_SIZE : me - 1);

	dom_out("dom-ring: I am d%d of %d: offering to d%u, binding to d%u\n", me, RING_SIZE, next, prev);

	/* The next domain's "ready" may come as soon as the port exists. */
	bind_event_channel(OFFER_PORT, dom_count_cb, (void *)&ready);
	int out = alloc_unbound_event_channel(next);

	if (out < 0) {
		dom_out("offer to d%u refused: %d\n", next, out);
		dom_finish(out == -EPERM ? "SKIPPED (no domU<->domU channels under this policy)"
					 : "FAILURE (alloc_unbound_event_channel)");
	}
	dom_out("offered port %d to d%u\n", out, next);
	if (out != OFFER_PORT)
		dom_finish("FAILURE (offered port is not the lowest free one)");

	int in = dom_bind_retry(prev, OFFER_PORT, dom_count_cb, (void *)&tokens);

	if (in < 0) {
		dom_out("bind to d%u port %d failed: %d\n", prev, OFFER_PORT, in);
		dom_finish("FAILURE (bind_interdomain_event_channel)");
	}
	dom_out("bound to d%u port %d as local port %d\n", prev, OFFER_PORT, in);
	dom_drain_bind_event(&tokens, (evtchn_port_t)in);
	dom_out("telling d%u I am ready: %s\n", prev, dom_notify((evtchn_port_t)in));

	dom_wait_count(&ready, 1);
	dom_port_state(OFFER_PORT, &st);
	dom_out("d%u is ready\n", next);
	dom_out("port %d: %s\n", OFFER_PORT, dom_describe(&st, desc, sizeof(desc)));

	for (unsigned int r = 1; r <= RING_ROUNDS; r++) {
		if (me == 1) {
			dom_out("round %u: sent the token to d%u (%s)\n", r, next, dom_notify(OFFER_PORT));
			dom_wait_count(&tokens, r);
			dom_out("round %u: the token came back from d%u\n", r, prev);
		} else {
			dom_wait_count(&tokens, r);
			dom_out("round %u: got the token from d%u, passed it to d%u (%s)\n", r, prev, next,
				dom_notify(OFFER_PORT));
		}
	}
	dom_out("closing port %d: %d\n", in, evtchn_close((evtchn_port_t)in));
	dom_out("closing port %d: %d\n", OFFER_PORT, evtchn_close(OFFER_PORT));
	dom_finish("SUCCESS");
}
