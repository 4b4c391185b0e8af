// SPDX-License-Identifier: MIT
/*
 * Xen event channels, Zephyr API (zephyr/xen/events.h), on the 2-level
 * event-channel ABI: port p is bit p%64 of word p/64 of shared_info's
 * evtchn_pending[] and evtchn_mask[], and vcpu_info[0].evtchn_pending_sel
 * has bit w set when word w may hold news (xen/include/public/xen.h and
 * event_channel.h of Xen 4.17) -- or, when the app asks for it, on the FIFO
 * ABI (evtchn_fifo.c): an app selects FIFO by defining
 *     const bool xen_events_use_fifo = true;
 * (XEN_EVENTS_USE_FIFO() in <zephyr/xenvm.h>). xen_events_init() then calls
 * EVTCHNOP_init_control and stays on 2-level only if Xen refuses, as Linux
 * does. Under FIFO, evtchn_set_priority() orders delivery: the ISR serves
 * priority 0 first and each priority in arrival order.
 *
 * Written from the API documentation. Where it leaves room we follow the
 * Xen public headers; each such choice is marked "Xen spec:" below.
 *
 * Concurrency model: one vCPU, so main() and the event ISR never run at
 * the same time on the guest side, and irq_lock() is enough to make a
 * table update atomic with respect to the ISR. The hypervisor, however,
 * writes shared_info at any moment (from another physical CPU under a real
 * Xen), so every read-modify-write of a shared_info word is atomic.
 */
#include <errno.h>

#include <zephyr/arch/arm64/hypercall.h>
#include <zephyr/devicetree.h>
#include <zephyr/irq.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/sys/barrier.h>
#include <zephyr/xen/events.h>
#include <zephyr/xen/public/event_channel.h>
#include <zephyr/xen/public/xen.h>

#include "evtchn_fifo.h"

#if defined(CONFIG_XEN_EVENTS) && CONFIG_XEN_EVENTS

LOG_MODULE_REGISTER(xen_events);

/* Mapped by the boot code (lib/zephyr/shared_info.c); NULL until then. */
extern shared_info_t *HYPERVISOR_shared_info;

/* The app's choice of ABI; weak, so an app that says nothing gets 2-level. */
extern const bool xen_events_use_fifo __attribute__((weak));

#define NR_PORTS        ((evtchn_port_t)EVTCHN_2L_NR_CHANNELS)
#define BITS_PER_WORD   (8 * sizeof(xen_ulong_t))
#define WORD_OF(port)   ((port) / BITS_PER_WORD)
#define BIT_OF(port)    ((xen_ulong_t)1 << ((port) % BITS_PER_WORD))

/* Callback per port; cb == NULL means "unbound: record events as missed". */
static evtchn_handle_t handlers[NR_PORTS];
/* One bit per port: an event arrived while no callback was bound. */
static xen_ulong_t missed[NR_PORTS / BITS_PER_WORD];

static bool port_ok(evtchn_port_t port)
{
	return port < NR_PORTS;
}

/*
 * Atomic bit operations on shared_info words. Xen spec: the guest and Xen
 * update the same words concurrently, so these must be single atomic RMWs.
 * Built with -mno-outline-atomics for Armv8.0 they are LDXR/STXR loops;
 * exclusives work with the MMU off under QEMU TCG (real Xen) and Unicorn.
 */
static inline void word_set(xen_ulong_t *w, xen_ulong_t bit)
{
	__atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST);
}

static inline void word_clear(xen_ulong_t *w, xen_ulong_t bit)
{
	__atomic_fetch_and(w, ~bit, __ATOMIC_SEQ_CST);
}

static inline bool word_test_and_clear(xen_ulong_t *w, xen_ulong_t bit)
{
	return (__atomic_fetch_and(w, ~bit, __ATOMIC_SEQ_CST) & bit) != 0;
}

int evtchn_status(evtchn_status_t *status)
{
	if (status == NULL)
		return -EINVAL;
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_status, status);
}

int evtchn_close(evtchn_port_t port)
{
	struct evtchn_close close = { .port = port };

	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_close, &close);
}

int evtchn_set_priority(evtchn_port_t port, uint32_t priority)
{
	struct evtchn_set_priority set = { .port = port, .priority = priority };

	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &set);
}

int notify_evtchn(evtchn_port_t port)
{
	struct evtchn_send send = { .port = port };

	/* Xen validates the port (-EINVAL for a closed or out-of-range one). */
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

static int alloc_unbound(domid_t dom, domid_t remote_dom)
{
	struct evtchn_alloc_unbound alloc = { .dom = dom, .remote_dom = remote_dom };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &alloc);

	if (rc != 0)
		return (int)rc;
	/* FIFO: the port needs an event word before its events can be seen. */
	if (dom == DOMID_SELF)
		evtchn_fifo_ensure_port(alloc.port);
	return (int)alloc.port;
}

int alloc_unbound_event_channel(domid_t remote_dom)
{
	return alloc_unbound(DOMID_SELF, remote_dom);
}

#if defined(CONFIG_XEN_DOM0) && CONFIG_XEN_DOM0
int alloc_unbound_event_channel_dom0(domid_t dom, domid_t remote_dom)
{
	/* Xen refuses another domain's `dom` unless we are privileged (-EPERM). */
	return alloc_unbound(dom, remote_dom);
}
#endif

int bind_interdomain_event_channel(domid_t remote_dom, evtchn_port_t remote_port,
				   evtchn_cb_t cb, void *data)
{
	struct evtchn_bind_interdomain bind = {
		.remote_dom = remote_dom,
		.remote_port = remote_port,
	};
	unsigned int key;
	long rc;

	if (cb == NULL)
		return -EINVAL;
	/*
	 * Xen spec (Xen 4.17 evtchn_bind_interdomain): the new local port is
	 * always left pending, because the peer may have notified its unbound
	 * port before we bound. With IRQs locked until the callback is in the
	 * table, that first event reaches the callback instead of being
	 * recorded as missed (or reaching whatever was bound to the port before).
	 */
	key = irq_lock();
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind);
	if (rc == 0 && bind.local_port < NR_PORTS) {
		handlers[bind.local_port].priv = data;
		handlers[bind.local_port].cb = cb;
		/* FIFO: Xen kept the bind's event until the word exists; it is raised now. */
		evtchn_fifo_ensure_port(bind.local_port);
	}
	irq_unlock(key);
	if (rc != 0)
		return (int)rc;
	if (bind.local_port >= NR_PORTS)
		return -EINVAL;
	return (int)bind.local_port;
}

int bind_event_channel(evtchn_port_t port, evtchn_cb_t cb, void *data)
{
	unsigned int key;

	if (!port_ok(port) || cb == NULL)
		return -EINVAL;
	if (handlers[port].cb != NULL)
		LOG_WRN("port %u: replacing its callback", port);
	/* The ISR must never see the new callback with the old pointer. */
	key = irq_lock();
	handlers[port].priv = data;
	handlers[port].cb = cb;
	irq_unlock(key);
	return 0;
}

int unbind_event_channel(evtchn_port_t port)
{
	unsigned int key;

	if (!port_ok(port))
		return -EINVAL;
	key = irq_lock();
	handlers[port].cb = NULL;
	handlers[port].priv = NULL;
	/* A new unbound period starts: only events from now on count as missed. */
	missed[WORD_OF(port)] &= ~BIT_OF(port);
	irq_unlock(key);
	return 0;
}

int get_missed_events(evtchn_port_t port)
{
	unsigned int key;
	bool was;

	if (!port_ok(port))
		return -EINVAL;
	key = irq_lock();
	was = (missed[WORD_OF(port)] & BIT_OF(port)) != 0;
	missed[WORD_OF(port)] &= ~BIT_OF(port);
	irq_unlock(key);
	return was ? 1 : 0;
}

int mask_event_channel(evtchn_port_t port)
{
	__ASSERT(HYPERVISOR_shared_info != NULL, "shared_info not mapped");
	if (!port_ok(port))
		return -EINVAL;
	if (evtchn_fifo_active())
		evtchn_fifo_set_masked(port, true);
	else
		word_set(&HYPERVISOR_shared_info->evtchn_mask[WORD_OF(port)], BIT_OF(port));
	return 0;
}

/*
 * Xen spec: a guest that unmasks must re-check the pending bit, or an
 * event that arrived while masked is never delivered (event_channel.h).
 * EVTCHNOP_unmask does exactly that inside Xen: it clears the mask bit and,
 * if the port is pending, sets the selector bit and raises the upcall.
 *
 * Clearing the bit ourselves and then calling EVTCHNOP_unmask would not
 * work: Xen only re-raises when *it* sees the mask bit go from 1 to 0. And
 * raising the upcall ourselves is not possible on Arm (the upcall is a GIC
 * PPI injected by Xen). So the hypercall is the whole operation; the only
 * errors it has are for ports that do not exist.
 */
int unmask_event_channel(evtchn_port_t port)
{
	struct evtchn_unmask unmask = { .port = port };

	if (!port_ok(port))
		return -EINVAL;
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &unmask);
}

void clear_event_channel(evtchn_port_t port)
{
	__ASSERT(HYPERVISOR_shared_info != NULL, "shared_info not mapped");
	if (port_ok(port) && evtchn_fifo_active())
		evtchn_fifo_clear_pending(port);
	else if (port_ok(port))
		word_clear(&HYPERVISOR_shared_info->evtchn_pending[WORD_OF(port)],
			   BIT_OF(port));
}

static void dispatch(evtchn_port_t port)
{
	evtchn_handle_t h = handlers[port];

	if (h.cb != NULL)
		h.cb(h.priv);
	else
		missed[WORD_OF(port)] |= BIT_OF(port);
}

/* Handle every pending, unmasked port of selector word `w`, lowest first. */
static void scan_word(shared_info_t *s, unsigned int w)
{
	for (;;) {
		xen_ulong_t live = __atomic_load_n(&s->evtchn_pending[w], __ATOMIC_SEQ_CST) &
				   ~__atomic_load_n(&s->evtchn_mask[w], __ATOMIC_SEQ_CST);

		if (live == 0)
			return;
		unsigned int b = (unsigned int)__builtin_ctzl(live);
		xen_ulong_t bit = (xen_ulong_t)1 << b;

		/*
		 * Xen spec: clear the pending bit *before* running the callback,
		 * so an event that arrives while the callback runs sets it again
		 * and is seen by the next pass instead of being wiped out.
		 */
		if (word_test_and_clear(&s->evtchn_pending[w], bit))
			dispatch((evtchn_port_t)(w * BITS_PER_WORD + b));
	}
}

/*
 * The FIFO upcall: the flag protocol of the 2-level one below, then the queues by priority
 * (evtchn_fifo.c). Xen raises upcall_pending on a 0->1 edge of `ready`.
 * A handler of its own, connected instead of the 2-level one, so the
 * 2-level path costs not one instruction more.
 */
static void evtchn_fifo_upcall_isr(void *arg)
{
	vcpu_info_t *v = &HYPERVISOR_shared_info->vcpu_info[0];

	ARG_UNUSED(arg);
	do {
		__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		barrier_dmem_fence_full();
		evtchn_fifo_handle(dispatch);
	} while (__atomic_load_n(&v->evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0);
}

/*
 * The event-channel upcall (2-level ABI), run by the GIC dispatcher between
 * its acknowledge and its EOI (drivers/gic/irq.c); the FIFO one runs there too.
 */
static void evtchn_upcall_isr(void *arg)
{
	shared_info_t *s = HYPERVISOR_shared_info;
	vcpu_info_t *v = &s->vcpu_info[0];

	ARG_UNUSED(arg);
	do {
		/*
		 * Xen spec (vcpu_info in xen.h): clear evtchn_upcall_pending
		 * first, then fetch-and-zero the selector. Xen sets the pending
		 * bit, then the selector bit, then upcall_pending, so anything
		 * it posts after our clear raises upcall_pending again and is
		 * caught by the loop condition (and by a fresh interrupt).
		 */
		__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		barrier_dmem_fence_full();
		xen_ulong_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);

		while (sel != 0) {
			unsigned int w = (unsigned int)__builtin_ctzl(sel);

			sel &= sel - 1;
			scan_word(s, w);
		}
	} while (__atomic_load_n(&v->evtchn_upcall_pending, __ATOMIC_SEQ_CST) != 0);
}

int xen_events_init(void)
{
	unsigned int irq = DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, irq);
	unsigned int key;
	int rc;

	if (HYPERVISOR_shared_info == NULL) {
		LOG_ERR("shared_info is not mapped: no event channels");
		return -EINVAL;
	}
	key = irq_lock();
	for (evtchn_port_t p = 0; p < NR_PORTS; p++) {
		handlers[p].cb = NULL;
		handlers[p].priv = NULL;
	}
	for (unsigned int w = 0; w < ARRAY_SIZE(missed); w++)
		missed[w] = 0;
	irq_unlock(key);

	if (&xen_events_use_fifo != NULL && xen_events_use_fifo && !evtchn_fifo_active()) {
		rc = evtchn_fifo_init();
		if (rc != 0)
			LOG_WRN("FIFO ABI refused (%d): staying on 2-level", rc);
	}

	rc = IRQ_CONNECT(irq, DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, priority),
			 evtchn_fifo_active() ? evtchn_fifo_upcall_isr : evtchn_upcall_isr, NULL, DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, flags));
	if (rc != 0)
		return rc;
	irq_enable(irq);
	LOG_INF("event channels ready on INTID %u", irq);
	return 0;
}

#endif /* CONFIG_XEN_EVENTS */
