// SPDX-License-Identifier: MIT
/* Observation helpers for the event-channel conformance guests (probe.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/errno.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xenvm/printk.h>

#include "probe.h"

static char extra_buf[192];

void extra(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintk(extra_buf, sizeof(extra_buf), fmt, ap);
	va_end(ap);
}

const char *errname(long rc)
{
	switch (-rc) {
	case XEN_EPERM: return "EPERM";
	case XEN_ENOENT: return "ENOENT";
	case XEN_ESRCH: return "ESRCH";
	case XEN_EINTR: return "EINTR";
	case XEN_EIO: return "EIO";
	case 6: return "ENXIO";  /* not in errno.h yet */
	case XEN_E2BIG: return "E2BIG";
	case XEN_EBADF: return "EBADF";
	case XEN_EAGAIN: return "EAGAIN";
	case XEN_ENOMEM: return "ENOMEM";
	case XEN_EACCES: return "EACCES";
	case XEN_EFAULT: return "EFAULT";
	case XEN_EBUSY: return "EBUSY";
	case XEN_EEXIST: return "EEXIST";
	case XEN_EINVAL: return "EINVAL";
	case XEN_ENOSPC: return "ENOSPC";
	case XEN_ENOSYS: return "ENOSYS";
	case XEN_EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "E?";
	}
}

long say(long rc, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintk(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (rc < 0)
		printk("%s = %ld %s%s%s\n", detail, rc, errname(rc),
		       extra_buf[0] ? " " : "", extra_buf);
	else
		printk("%s = %ld%s%s\n", detail, rc, extra_buf[0] ? " " : "", extra_buf);
	extra_buf[0] = '\0';
	return rc;
}

const char *domname(domid_t dom)
{
	static char buf[4][8];
	static unsigned int next;

	switch (dom) {
	case DOMID_SELF: return "SELF";
	case DOMID_IO: return "IO";
	case DOMID_XEN: return "XEN";
	case DOMID_COW: return "COW";
	case DOMID_INVALID: return "INVALID";
	case DOMID_IDLE: return "IDLE";
	default: {
		char *b = buf[next++ % 4];

		snprintk(b, sizeof(buf[0]), "%u", dom);
		return b;
	}
	}
}

/* ---- raw event-channel calls ---- */

long ev_alloc_unbound(domid_t dom, domid_t remote, evtchn_port_t *port)
{
	struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote, .port = 0xdead };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);

	if (port)
		*port = rc == 0 ? a.port : 0;
	return rc;
}

long ev_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port)
{
	struct evtchn_bind_interdomain b = { .remote_dom = remote, .remote_port = rport, .local_port = 0xdead };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b);

	if (port)
		*port = rc == 0 ? b.local_port : 0;
	return rc;
}

long ev_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu, .port = 0xdead };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);

	if (port)
		*port = rc == 0 ? b.port : 0;
	return rc;
}

long ev_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_ipi b = { .vcpu = vcpu, .port = 0xdead };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b);

	if (port)
		*port = rc == 0 ? b.port : 0;
	return rc;
}

long ev_close(evtchn_port_t port)
{
	struct evtchn_close c = { .port = port };

	return HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
}

long ev_send(evtchn_port_t port)
{
	struct evtchn_send s = { .port = port };

	return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

long ev_unmask(evtchn_port_t port)
{
	struct evtchn_unmask u = { .port = port };

	return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
}

long ev_bind_vcpu(evtchn_port_t port, uint32_t vcpu)
{
	struct evtchn_bind_vcpu b = { .port = port, .vcpu = vcpu };

	return HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &b);
}

long ev_reset(domid_t dom, int cont)
{
	struct evtchn_reset r = { .dom = dom };

	return HYPERVISOR_event_channel_op(cont ? EVTCHNOP_reset_cont : EVTCHNOP_reset, &r);
}

domid_t self_domid(void)
{
	evtchn_port_t p;
	domid_t me = DOMID_INVALID;

	if (ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &p) != 0)
		return me;
	struct evtchn_status s = { .dom = DOMID_SELF, .port = p };

	if (HYPERVISOR_event_channel_op(EVTCHNOP_status, &s) == 0)
		me = s.u.unbound.dom;
	ev_close(p);
	return me;
}

/* ---- two domains taking turns ---- */

static void yield(void)
{
	HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

bool wait_pending(evtchn_port_t port, const char *what)
{
	for (unsigned long i = 0; i < PROBE_WAIT_ROUNDS; i++) {
		if ((shinfo->evtchn_pending[port / 64] >> (port % 64)) & 1) {
			printk("wait: %s = seen\n", what);
			return true;
		}
		yield();
	}
	printk("wait: %s = timeout\n", what);
	return false;
}

long ev_bind_interdomain_retry(domid_t remote, evtchn_port_t rport, evtchn_port_t *port)
{
	long rc = -XEN_EINVAL;

	for (unsigned long i = 0; i < PROBE_WAIT_ROUNDS && rc == -XEN_EINVAL; i++) {
		rc = ev_bind_interdomain(remote, rport, port);
		if (rc == -XEN_EINVAL)
			yield();
	}
	return rc;
}

/* ---- observing variants ---- */

long o_alloc_unbound(domid_t dom, domid_t remote, evtchn_port_t *port)
{
	evtchn_port_t p;
	long rc = ev_alloc_unbound(dom, remote, &p);

	if (rc == 0)
		extra("port=%u", p);
	if (port)
		*port = p;
	return say(rc, "alloc_unbound: dom=%s remote=%s", domname(dom), domname(remote));
}

long o_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port)
{
	evtchn_port_t p;
	long rc = ev_bind_interdomain(remote, rport, &p);

	if (rc == 0)
		extra("local_port=%u", p);
	if (port)
		*port = p;
	return say(rc, "bind_interdomain: remote=%s port=%u", domname(remote), rport);
}

long o_close(evtchn_port_t port)
{
	return say(ev_close(port), "close: port=%u", port);
}

long o_send(evtchn_port_t port)
{
	return say(ev_send(port), "send: port=%u", port);
}

long o_unmask(evtchn_port_t port)
{
	return say(ev_unmask(port), "unmask: port=%u", port);
}

static const char *stat_name(uint32_t s)
{
	static const char *const names[] = { "closed", "unbound", "interdomain", "pirq", "virq", "ipi" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

long o_status(domid_t dom, evtchn_port_t port)
{
	struct evtchn_status s = { .dom = dom, .port = port, .status = 0xdead, .vcpu = 0xdead };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_status, &s);

	if (rc == 0) {
		switch (s.status) {
		case EVTCHNSTAT_unbound:
			extra("%s vcpu=%u dom=%u", stat_name(s.status), s.vcpu, s.u.unbound.dom);
			break;
		case EVTCHNSTAT_interdomain:
			extra("%s vcpu=%u dom=%u port=%u", stat_name(s.status), s.vcpu,
			      s.u.interdomain.dom, s.u.interdomain.port);
			break;
		case EVTCHNSTAT_virq:
			extra("%s vcpu=%u virq=%u", stat_name(s.status), s.vcpu, s.u.virq);
			break;
		case EVTCHNSTAT_pirq:
			extra("%s vcpu=%u pirq=%u", stat_name(s.status), s.vcpu, s.u.pirq);
			break;
		default:
			extra("%s vcpu=%u", stat_name(s.status), s.vcpu);
		}
	}
	return say(rc, "status: dom=%s port=%u", domname(dom), port);
}

uint32_t first_invalid_port(domid_t dom, uint32_t from)
{
	for (uint32_t p = from; p <= 4096; p++) {
		struct evtchn_status s = { .dom = dom, .port = p };

		if (HYPERVISOR_event_channel_op(EVTCHNOP_status, &s) == -XEN_EINVAL)
			return p;
	}
	return 4097;
}

/* ---- shared_info ---- */

volatile struct shared_info *shinfo;
volatile struct vcpu_info *vinfo;

long map_shared_info(void *page, const char *detail)
{
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uintptr_t)page >> 12,
	};
	long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);

	say(rc, "add_to_physmap: shared_info %s", detail);
	if (rc == 0) {
		shinfo = page;
		vinfo = &shinfo->vcpu_info[0];
	}
	return rc;
}

void use_vcpu_info(volatile struct vcpu_info *vi)
{
	vinfo = vi;
}

volatile event_word_t *fifo_words;
volatile struct evtchn_fifo_control_block *fifo_cb;

#define FIFO_WORDS 1024
#define FIFO_BIT(n) ((event_word_t)1 << (n))

/*
 * FIFO: "bits: <what> = fifo p=0xword ... ready=.. hQ=port ... upcall=..",
 * listing every non-zero event word (port order) and non-zero queue head.
 */
static void show_fifo(const char *what)
{
	char buf[400];
	int n = 0;

	for (unsigned int p = 0; p < FIFO_WORDS && n < (int)sizeof(buf) - 24; p++)
		if (fifo_words[p] != 0)
			n += snprintk(buf + n, sizeof(buf) - (size_t)n, " %u=0x%x", p, fifo_words[p]);
	n += snprintk(buf + n, sizeof(buf) - (size_t)n, " ready=0x%x", fifo_cb->ready);
	for (unsigned int q = 0; q < EVTCHN_FIFO_MAX_QUEUES; q++)
		if (fifo_cb->head[q] != 0)
			n += snprintk(buf + n, sizeof(buf) - (size_t)n, " h%u=%u", q, fifo_cb->head[q]);
	printk("bits: %s = fifo%s upcall=%u\n", what, buf, vinfo ? vinfo->evtchn_upcall_pending : 0xff);
}

void show_bits(const char *what)
{
	if (fifo_words) {
		show_fifo(what);
		return;
	}
	if (!shinfo) {
		printk("bits: %s = no shared_info\n", what);
		return;
	}
	printk("bits: %s = pend0=0x%lx pend1=0x%lx mask0=0x%lx mask1=0x%lx sel=0x%lx upcall=%u\n",
	       what, (unsigned long)shinfo->evtchn_pending[0], (unsigned long)shinfo->evtchn_pending[1],
	       (unsigned long)shinfo->evtchn_mask[0], (unsigned long)shinfo->evtchn_mask[1],
	       (unsigned long)vinfo->evtchn_pending_sel, vinfo->evtchn_upcall_pending);
}

static unsigned int popcount64(uint64_t v)
{
	unsigned int n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

void show_bit_totals(const char *what)
{
	unsigned int pend = 0, mask = 0;

	if (fifo_words) {
		unsigned int linked = 0;

		for (unsigned int p = 0; p < FIFO_WORDS; p++) {
			pend += (fifo_words[p] & FIFO_BIT(EVTCHN_FIFO_PENDING)) != 0;
			mask += (fifo_words[p] & FIFO_BIT(EVTCHN_FIFO_MASKED)) != 0;
			linked += (fifo_words[p] & FIFO_BIT(EVTCHN_FIFO_LINKED)) != 0;
		}
		printk("bits: %s = fifo pending_total=%u mask_total=%u linked_total=%u ready=0x%x upcall=%u\n",
		       what, pend, mask, linked, fifo_cb->ready, vinfo ? vinfo->evtchn_upcall_pending : 0xff);
		return;
	}

	for (unsigned int w = 0; w < 64; w++) {
		pend += popcount64(shinfo->evtchn_pending[w]);
		mask += popcount64(shinfo->evtchn_mask[w]);
	}
	printk("bits: %s = pending_total=%u mask_total=%u sel=0x%lx upcall=%u\n", what, pend, mask,
	       (unsigned long)vinfo->evtchn_pending_sel, vinfo->evtchn_upcall_pending);
}

void clear_events(void)
{
	if (fifo_words) {
		/* FIFO: the flag, the ready bits, then every queue taken apart; masks stay. */
		if (vinfo)
			vinfo->evtchn_upcall_pending = 0;
		fifo_cb->ready = 0;
		for (unsigned int q = 0; q < EVTCHN_FIFO_MAX_QUEUES; q++)
			fifo_cb->head[q] = 0;
		for (unsigned int p = 0; p < FIFO_WORDS; p++)
			fifo_words[p] &= FIFO_BIT(EVTCHN_FIFO_MASKED);
		return;
	}
	/*
	 * The order an upcall handler uses: the flag, the selector, then the
	 * words. Xen may set bits in these words at any moment, so each word
	 * is taken with an atomic exchange (`run --check`, docs/check.md).
	 */
	vinfo->evtchn_upcall_pending = 0;
	__atomic_exchange_n(&vinfo->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	for (unsigned int w = 0; w < 64; w++)
		__atomic_exchange_n(&shinfo->evtchn_pending[w], 0, __ATOMIC_SEQ_CST);
}

void mask_port(evtchn_port_t port)
{
	if (fifo_words) {
		if (port < FIFO_WORDS)
			fifo_words[port] |= FIFO_BIT(EVTCHN_FIFO_MASKED);
		return;
	}
	__atomic_fetch_or(&shinfo->evtchn_mask[port / 64], 1UL << (port % 64), __ATOMIC_SEQ_CST);
}

void unmask_port_locally(evtchn_port_t port)
{
	if (fifo_words) {
		if (port < FIFO_WORDS)
			fifo_words[port] &= ~FIFO_BIT(EVTCHN_FIFO_MASKED);
		return;
	}
	__atomic_fetch_and(&shinfo->evtchn_mask[port / 64], ~(1UL << (port % 64)), __ATOMIC_SEQ_CST);
}
