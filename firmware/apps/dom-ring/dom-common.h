/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the multi-domain scenario apps (firmware/apps/dom-*).
 * Header-only, so that each app stays one directory the Makefile discovers
 * on its own; the other dom-* apps include it as "../dom-ring/dom-common.h".
 *
 * Rules every scenario follows, so that each domain's transcript is the
 * same whatever the scheduling (and the same under the real Xen):
 *  - domains only learn about each other through event channels and the
 *    deterministic lowest-free port allocation (no shared memory);
 *  - nothing printed depends on time, addresses or how often a loop spun;
 *  - a domain waits with the race-free irq_lock / WFI / irq_unlock loop (or,
 *    without interrupts, SCHEDOP_poll) and retries with SCHEDOP_yield;
 *  - a line carries one notification at a time: two sends before the
 *    receiver handled the first merge into one pending bit.
 */
#ifndef DOM_COMMON_H
#define DOM_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/printk.h>
#include <zephyr/kernel.h>
#include <zephyr/xen/events.h>
#include <zephyr/xenvm.h>
#include <zephyr-events-compat.h>

#define DOM_UNUSED __attribute__((unused))

/* Our domid, once dom_whoami() has run (-1 before). */
static int dom_self = -1;

/*
 * One console line. A domU writes to its vpl011; dom0 has none (under the
 * real Xen the board's UART belongs to Xen), so it uses CONSOLEIO_write,
 * which Xen prints raw on its console and our emulator shows as "d0: ".
 */
DOM_UNUSED __attribute__((format(printf, 1, 2))) static void dom_out(const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintk(line, sizeof(line), fmt, ap);

	va_end(ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	if (dom_self == 0)
		console_io_write(line, (unsigned long)n);
	else
		printk("%s", line);
}

/* Ends the run for this domain: "Test result: ..." then SCHEDOP_shutdown(poweroff). */
DOM_UNUSED __attribute__((noreturn)) static void dom_finish(const char *result)
{
	dom_out("Test result: %s\n", result);
	xenvm_poweroff();
}

/*
 * Our domid (xenvm_my_domid: the status of a port allocated for DOMID_SELF names us). It uses
 * and frees the lowest free port, so it must run before any port a peer relies on by number.
 */
DOM_UNUSED static int dom_whoami(void)
{
	dom_self = xenvm_my_domid();
	return dom_self;
}

/* Brings up GIC, shared_info and the events API, then learns our domid. */
DOM_UNUSED static int dom_init(void)
{
	if (xenvm_kernel_init() != 0 || xenvm_map_shared_info() != 0 || xen_events_init() != 0)
		return -EIO;
	return dom_whoami();
}

/*
 * notify_evtchn(port) for a transcript line: its result as "%d", or "void"
 * with a Zephyr tree whose notify_evtchn returns nothing. One line at a time.
 */
DOM_UNUSED static const char *dom_notify(evtchn_port_t port)
{
	static char text[12];

	return zc_notify_text(port, text, sizeof(text));
}

/* A callback that counts: priv points at the counter. */
#define dom_count_cb xenvm_count_cb

/* Sleeps (WFI) until *counter >= n; the event handler runs while we wait. */
#define dom_wait_count xenvm_wait_for

/*
 * After bind_interdomain_event_channel: Xen leaves the new local port
 * pending, so its callback runs once (or the event is recorded as missed if
 * it came first). Wait for that event and forget it, so that *counter then
 * counts the peer's notifications only.
 */
DOM_UNUSED static void dom_drain_bind_event(volatile unsigned int *counter, evtchn_port_t port)
{
	unsigned int key = irq_lock();

	while (*counter == 0 && get_missed_events(port) == 0) {
		k_cpu_atomic_idle(key);
		key = irq_lock();
	}
	*counter = 0;
	irq_unlock(key);
}

/* EVTCHNOP_status of one of our ports: the EVTCHNSTAT_* value, or -errno. */
DOM_UNUSED static int dom_port_state(evtchn_port_t port, evtchn_status_t *out)
{
	evtchn_status_t st = { .dom = DOMID_SELF, .port = port };
	int rc = evtchn_status(&st);

	if (out != NULL)
		*out = st;
	return rc == 0 ? (int)st.status : rc;
}

/*
 * SCHEDOP_poll on one port until Xen system time `timeout` (ns; 0: no timeout). 0 when the port
 * is pending or the time passed, else Xen's -errno.
 */
DOM_UNUSED static long dom_poll(evtchn_port_t port, uint64_t timeout)
{
	evtchn_port_t ports[1] = { port };
	struct sched_poll poll = { .nr_ports = 1, .timeout = timeout };

	set_xen_guest_handle(poll.ports, ports);
	return HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
}

/* bind_interdomain_event_channel, retried while the peer has not offered the port (-EINVAL). */
DOM_UNUSED static int dom_bind_retry(domid_t peer, evtchn_port_t rport, evtchn_cb_t cb, void *data)
{
	int port;

	while ((port = bind_interdomain_event_channel(peer, rport, cb, data)) == -EINVAL)
		k_yield();
	return port;
}

/* "unbound d2", "interdomain d1 port 3", "closed": a port's status for the transcript. */
DOM_UNUSED static const char *dom_describe(const evtchn_status_t *st, char *buf, unsigned int size)
{
	switch (st->status) {
	case EVTCHNSTAT_closed:
		snprintk(buf, size, "closed");
		break;
	case EVTCHNSTAT_unbound:
		snprintk(buf, size, "unbound d%u", st->u.unbound.dom);
		break;
	case EVTCHNSTAT_interdomain:
		snprintk(buf, size, "interdomain d%u port %u", st->u.interdomain.dom,
			 st->u.interdomain.port);
		break;
	default:
		snprintk(buf, size, "state %u", st->status);
		break;
	}
	return buf;
}

#endif
