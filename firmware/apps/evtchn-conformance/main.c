// SPDX-License-Identifier: MIT
/*
 * evtchn-conformance: what one dom0less domU can observe of Xen's event
 * channels and the hypercalls around them, one line per observation.
 *
 * The guest never enables IRQs (PSTATE.I stays set from boot and the GIC is
 * left alone), so nothing consumes events behind our back: every pending,
 * mask, selector and upcall bit printed is exactly what the hypervisor left
 * in shared_info / vcpu_info. Ports are allocated lowest-free, so the port
 * numbers printed are part of the behaviour under test.
 *
 * Sections run in a fixed order and each leaves a known set of ports open;
 * comments say which. The transcript under the real Xen 4.17 is the golden
 * file test/golden/evtchn-conformance.<gic>.<xsm>.txt.
 */
#include <stdbool.h>
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/errno.h>
#include <xen/public/event_channel.h>
#include <xen/public/hvm/hvm_op.h>
#include <xen/public/hvm/params.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xen/public/vcpu.h>
#include <xen/public/version.h>
#include <xenvm/printk.h>

#include "probe.h"

#define PAGE_ALIGNED __attribute__((aligned(4096)))

/* Pages given away to Xen (shared_info, vcpu_info); nothing else lives there. */
static uint8_t shinfo_page[4096] PAGE_ALIGNED;
static uint8_t shinfo_page_b[4096] PAGE_ALIGNED;
static uint8_t vcpu_info_page[4096] PAGE_ALIGNED;
static uint8_t fifo_page[4096] PAGE_ALIGNED;

#ifdef CONFORMANCE_FIFO
/*
 * evtchn-conformance-fifo builds this file with CONFORMANCE_FIFO: the domain
 * switches to the FIFO ABI right after the xen_version section (and again
 * after the reset section, which takes it back to 2-level), so every later
 * observation is of FIFO event words (probe.c prints them as "bits: ... fifo").
 */
static uint8_t fifo_cb_page[4096] PAGE_ALIGNED;
static uint8_t fifo_array_page[4096] PAGE_ALIGNED;

static void fifo_switch(const char *when)
{
	struct evtchn_init_control c = { .control_gfn = (uintptr_t)fifo_cb_page >> 12, .vcpu = 0, .link_bits = 0xaa };
	struct evtchn_expand_array e = { .array_gfn = PROBE_BAD_GFN };
	long rc;

	for (unsigned int i = 0; i < sizeof(fifo_cb_page); i++)
		fifo_cb_page[i] = 0;
	/* Words start at 0 (unmasked), like the ports of a fresh 2-level domain. */
	for (unsigned int i = 0; i < sizeof(fifo_array_page); i++)
		fifo_array_page[i] = 0;
	say(HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &e), "expand_array: %s, before init_control", when);
	/*
	 * With shared_info mapped: a loopback pair whose bound end Xen leaves pending
	 * under 2-level, to see what the switch does with 2-level pending state.
	 */
	evtchn_port_t lp = 0, bp = 0;

	if (shinfo != NULL) {
		o_alloc_unbound(DOMID_SELF, DOMID_SELF, &lp);
		o_bind_interdomain(DOMID_SELF, lp, &bp);
		show_bits("2-level, before init_control");
	}
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &c);
	extra("link_bits=%u", c.link_bits);
	say(rc, "init_control: %s", when);
	if (rc != 0)
		return;
	fifo_cb = (volatile struct evtchn_fifo_control_block *)fifo_cb_page;
	show_bits("fifo, no event array yet");
	say(HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &e), "expand_array: gfn=unmapped");
	e.array_gfn = (uintptr_t)fifo_array_page >> 12;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &e);
	say(rc, "expand_array: %s", when);
	if (rc == 0)
		fifo_words = (volatile event_word_t *)fifo_array_page;
	c.link_bits = 0xaa;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &c);
	extra("link_bits=0x%x", c.link_bits);
	say(rc, "init_control: %s, again", when);
	show_bits("fifo, after expand_array");
	if (lp != 0 && bp != 0) {
		/* Closed while still LINKED: the word keeps LINKED until we consume it. */
		o_close(bp);
		o_close(lp);
		show_bits("fifo, loopback pair closed");
		clear_events();
	}
}
#endif

/* Our own domain id, learnt from the first unbound port's status. */
static domid_t me = DOMID_SELF;

/* ------------------------------------------------------------------------ */

static void print_cstr(const char *what, const char *s, unsigned int max)
{
	char buf[130];
	unsigned int i;

	for (i = 0; i < max && i < sizeof(buf) - 1 && s[i]; i++)
		buf[i] = s[i];
	buf[i] = '\0';
	printk("xen_version: %s = \"%s\"\n", what, buf);
}

static void section_xen_version(void)
{
	static char big[1024];
	long rc;

	rc = HYPERVISOR_xen_version(XENVER_version, NULL);
	say(rc, "xen_version: version (0x%lx)", rc);

	rc = HYPERVISOR_xen_version(XENVER_extraversion, big);
	say(rc, "xen_version: extraversion");
	if (rc == 0)
		print_cstr("extraversion value", big, 16);

	static struct xen_compile_info ci;
	rc = HYPERVISOR_xen_version(XENVER_compile_info, &ci);
	say(rc, "xen_version: compile_info");
	if (rc == 0) {
		print_cstr("compiler", ci.compiler, 64);
		print_cstr("compile_by", ci.compile_by, 16);
		print_cstr("compile_domain", ci.compile_domain, 32);
		print_cstr("compile_date", ci.compile_date, 32);
	}

	rc = HYPERVISOR_xen_version(XENVER_capabilities, big);
	say(rc, "xen_version: capabilities");
	if (rc == 0)
		print_cstr("capabilities value", big, 128);

	rc = HYPERVISOR_xen_version(XENVER_changeset, big);
	say(rc, "xen_version: changeset");
	if (rc == 0)
		print_cstr("changeset value", big, 64);

	static uint64_t params[2];
	params[0] = 0xdeadbeefUL;
	rc = HYPERVISOR_xen_version(XENVER_platform_parameters, params);
	if (rc == 0)
		extra("virt_start=0x%lx", (unsigned long)params[0]);
	say(rc, "xen_version: platform_parameters");

	for (unsigned int idx = 0; idx < 3; idx++) {
		struct xen_feature_info fi = { .submap_idx = idx, .submap = 0xdeadbeef };

		rc = HYPERVISOR_xen_version(XENVER_get_features, &fi);
		extra("submap=0x%x", fi.submap);
		say(rc, "xen_version: get_features idx=%u", idx);
	}

	say(HYPERVISOR_xen_version(XENVER_pagesize, NULL), "xen_version: pagesize arg=NULL");
	say(HYPERVISOR_xen_version(XENVER_pagesize, big), "xen_version: pagesize arg=buffer");

	static uint8_t handle[16];
	rc = HYPERVISOR_xen_version(XENVER_guest_handle, handle);
	if (rc == 0) {
		unsigned int nz = 0;

		for (unsigned int i = 0; i < 16; i++)
			nz += handle[i] != 0;
		extra("nonzero_bytes=%u", nz);
	}
	say(rc, "xen_version: guest_handle");

	for (unsigned int i = 0; i < sizeof(big); i++)
		big[i] = 'x';
	rc = HYPERVISOR_xen_version(XENVER_commandline, big);
	say(rc, "xen_version: commandline");
	if (rc == 0)
		print_cstr("commandline value", big, 128);

	static struct { uint32_t len; uint8_t buf[64]; } bid = { .len = 64 };
	say(HYPERVISOR_xen_version(XENVER_build_id, &bid), "xen_version: build_id len=64");
	say(HYPERVISOR_xen_version(11, big), "xen_version: cmd=11");
	say(HYPERVISOR_xen_version(99, big), "xen_version: cmd=99");
	say(HYPERVISOR_xen_version(XENVER_extraversion, PROBE_BAD_PTR), "xen_version: extraversion arg=bad");
	say(HYPERVISOR_xen_version(XENVER_get_features, PROBE_BAD_PTR), "xen_version: get_features arg=bad");
}

/* ------------------------------------------------------------------------ */

static long physmap(domid_t dom, unsigned int space, uint64_t idx, uint64_t gpfn, uint16_t size)
{
	struct xen_add_to_physmap x = { .domid = dom, .size = size, .space = space, .idx = idx, .gpfn = gpfn };

	return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
}

static long unphysmap(domid_t dom, uint64_t gpfn)
{
	struct xen_remove_from_physmap x = { .domid = dom, .gpfn = gpfn };

	return HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &x);
}

/*
 * memory_op error answers, then the real map. Events raised before the map
 * must show up in the page once it is mapped (Xen's shared_info exists from
 * domain creation). Leaves no port open.
 */
static void section_memory_op(void)
{
	uint64_t pfn = (uintptr_t)shinfo_page >> 12;

	say(HYPERVISOR_memory_op(XENMEM_add_to_physmap, PROBE_BAD_PTR), "memory_op: add_to_physmap arg=bad");
	say(physmap(DOMID_SELF, 99, 0, PROBE_BAD_GFN, 0), "memory_op: add_to_physmap space=99");
	say(physmap(7, 99, 0, PROBE_BAD_GFN, 0), "memory_op: add_to_physmap space=99 dom=7");
	say(physmap(7, XENMAPSPACE_gmfn_foreign, 0, PROBE_BAD_GFN, 0),
	    "memory_op: add_to_physmap space=gmfn_foreign dom=7");
	say(physmap(DOMID_SELF, XENMAPSPACE_gmfn_foreign, 0, PROBE_BAD_GFN, 0),
	    "memory_op: add_to_physmap space=gmfn_foreign");
	say(physmap(7, XENMAPSPACE_shared_info, 0, pfn, 0), "memory_op: add_to_physmap shared_info dom=7");
	say(physmap(0, XENMAPSPACE_shared_info, 0, pfn, 0), "memory_op: add_to_physmap shared_info dom=0");
	say(physmap(DOMID_XEN, XENMAPSPACE_shared_info, 0, pfn, 0),
	    "memory_op: add_to_physmap shared_info dom=XEN");
	say(physmap(DOMID_SELF, XENMAPSPACE_shared_info, 1, pfn, 0), "memory_op: add_to_physmap shared_info idx=1");
	say(physmap(DOMID_SELF, XENMAPSPACE_gmfn, 0, PROBE_BAD_GFN, 0), "memory_op: add_to_physmap space=gmfn");
	say(physmap(DOMID_SELF, XENMAPSPACE_gmfn_range, 0, PROBE_BAD_GFN, 0),
	    "memory_op: add_to_physmap space=gmfn_range size=0");
	say(physmap(DOMID_SELF, XENMAPSPACE_gmfn_range, 0, PROBE_BAD_GFN, 1),
	    "memory_op: add_to_physmap space=gmfn_range size=1");
	say(physmap(DOMID_SELF, XENMAPSPACE_dev_mmio, 0x9000, PROBE_BAD_GFN, 0),
	    "memory_op: add_to_physmap space=dev_mmio (not permitted)");
	say(HYPERVISOR_memory_op(99, PROBE_BAD_PTR), "memory_op: cmd=99");
	say(unphysmap(7, PROBE_BAD_GFN), "memory_op: remove_from_physmap dom=7");
	say(unphysmap(DOMID_SELF, PROBE_BAD_GFN), "memory_op: remove_from_physmap unmapped gfn");
	say(HYPERVISOR_memory_op(XENMEM_remove_from_physmap, PROBE_BAD_PTR), "memory_op: remove_from_physmap arg=bad");

	/* Events before the page is mapped: a loopback pair, one send. */
	evtchn_port_t a, b;

	o_alloc_unbound(DOMID_SELF, DOMID_SELF, &a);
	o_bind_interdomain(DOMID_SELF, a, &b);
	o_send(b);

	map_shared_info(shinfo_page, "page A");
	show_bits("after map, events raised before it");
	o_close(b);
	show_bits("after close of the bound port");
	o_close(a);
	show_bits("after close of its peer");
	clear_events();

	map_shared_info(shinfo_page_b, "page B (second map)");
	map_shared_info(shinfo_page, "page A again");
	say(unphysmap(DOMID_SELF, pfn), "memory_op: remove_from_physmap shared_info page A");
	map_shared_info(shinfo_page, "page A after remove");
	show_bits("after remap");
}

/* ------------------------------------------------------------------------ */

static void section_console_io(void)
{
	static const char msg[] = "console_io text line\n";

	say(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg), "console_io: write");
	say(HYPERVISOR_console_io(CONSOLEIO_write, 0, msg), "console_io: write count=0");
	say(HYPERVISOR_console_io(CONSOLEIO_write, 4, PROBE_BAD_PTR), "console_io: write ptr=bad");
	say(HYPERVISOR_console_io(7, 0, msg), "console_io: cmd=7");
}

/* ------------------------------------------------------------------------ */

static long hvm_param(int op, domid_t dom, uint32_t index, uint64_t *value)
{
	struct xen_hvm_param p = { .domid = dom, .index = index, .value = value ? *value : 0 };
	long rc = HYPERVISOR_hvm_op(op, &p);

	if (value && op == HVMOP_get_param)
		*value = rc == 0 ? p.value : 0;
	return rc;
}

static void section_hvm_op(void)
{
	static const uint32_t idx[] = { HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN,
					HVM_PARAM_CONSOLE_PFN, HVM_PARAM_CONSOLE_EVTCHN, 3, 38, 39, 0xffffffff };
	uint64_t v, cb = 0;
	long rc;

	for (unsigned int i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		rc = hvm_param(HVMOP_get_param, DOMID_SELF, idx[i], &v);
		if (rc == 0)
			extra("value=0x%lx", (unsigned long)v);
		if (idx[i] == HVM_PARAM_CALLBACK_IRQ)
			cb = v;
		say(rc, "hvm_op: get_param index=%u", idx[i]);
	}
	say(hvm_param(HVMOP_get_param, 7, HVM_PARAM_CALLBACK_IRQ, &v), "hvm_op: get_param dom=7 index=0");
	say(hvm_param(HVMOP_get_param, 7, 39, &v), "hvm_op: get_param dom=7 index=39");
	/* Writing back the value just read changes nothing if it is allowed. */
	say(hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &cb),
	    "hvm_op: set_param index=0 (same value)");
	say(hvm_param(HVMOP_set_param, DOMID_SELF, 39, &cb), "hvm_op: set_param index=39");
	say(hvm_param(HVMOP_set_param, 7, HVM_PARAM_CALLBACK_IRQ, &cb), "hvm_op: set_param dom=7");
	say(HYPERVISOR_hvm_op(HVMOP_get_param, PROBE_BAD_PTR), "hvm_op: get_param arg=bad");
	say(HYPERVISOR_hvm_op(99, PROBE_BAD_PTR), "hvm_op: op=99");
}

/* ------------------------------------------------------------------------ */

/* Unknown commands, then every command with an unreadable argument. */
static void section_evtchn_dispatch(void)
{
	static const int unknown[] = { 15, 16, 99, 0x7fffffff, -1 };

	for (unsigned int i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		say(HYPERVISOR_event_channel_op(unknown[i], PROBE_BAD_PTR), "evtchn_op: cmd=%d arg=bad", unknown[i]);
	for (int cmd = 0; cmd <= 14; cmd++)
		say(HYPERVISOR_event_channel_op(cmd, PROBE_BAD_PTR), "evtchn_op: cmd=%d arg=bad", cmd);
	say(HYPERVISOR_event_channel_op(EVTCHNOP_status, (void *)0), "evtchn_op: status arg=NULL");
}

/* Which unused ports are valid on a fresh domain (the bucket rule). */
static void section_status_fresh(void)
{
	static const uint32_t ports[] = { 0, 1, 31, 32, 63, 64, 127, 128, 1023, 1024, 4095, 4096, 0xffffffff };

	printk("status: first invalid port = %u\n", first_invalid_port(DOMID_SELF, 0));
	for (unsigned int i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		o_status(DOMID_SELF, ports[i]);
	o_status(7, 0);
	o_status(0, 0);
	o_status(DOMID_XEN, 0);
	o_status(DOMID_IO, 0);
	o_status(DOMID_INVALID, 0);
	o_status(DOMID_IDLE, 0);
}

/*
 * alloc_unbound and bind_interdomain, loopback. Leaves 1<->4 and 2<->5
 * interdomain and 3 unbound (remote = us).
 */
static void section_alloc_bind(void)
{
	evtchn_port_t p1, p2, p3, p, l4, l5;

	o_alloc_unbound(DOMID_SELF, DOMID_SELF, &p1);
	{
		struct evtchn_status s = { .dom = DOMID_SELF, .port = p1 };

		if (HYPERVISOR_event_channel_op(EVTCHNOP_status, &s) == 0 && s.status == EVTCHNSTAT_unbound)
			me = s.u.unbound.dom;
	}
	printk("self: domid = %u\n", me);
	o_status(DOMID_SELF, p1);
	o_alloc_unbound(me, DOMID_SELF, &p2);
	o_status(me, p2);
	o_alloc_unbound(DOMID_SELF, me, &p3);
	o_status(DOMID_SELF, p3);
	o_alloc_unbound(7, DOMID_SELF, NULL);
	o_alloc_unbound(0, DOMID_SELF, NULL);
	o_alloc_unbound(DOMID_XEN, DOMID_SELF, NULL);
	o_alloc_unbound(DOMID_INVALID, DOMID_SELF, NULL);

	/* A port another (missing) domain may bind: dummy allows it, SILO asks who that is. */
	if (o_alloc_unbound(DOMID_SELF, 7, &p) == 0) {
		o_status(DOMID_SELF, p);
		o_bind_interdomain(DOMID_SELF, p, NULL);
		o_close(p);
	}
	if (o_alloc_unbound(DOMID_SELF, DOMID_XEN, &p) == 0) {
		o_status(DOMID_SELF, p);
		o_close(p);
	}

	clear_events();
	o_bind_interdomain(DOMID_SELF, p1, &l4);
	show_bits("after bind_interdomain (local port is raised)");
	o_status(DOMID_SELF, l4);
	o_status(DOMID_SELF, p1);
	clear_events();
	o_bind_interdomain(me, p2, &l5);
	o_status(DOMID_SELF, l5);
	show_bits("after second bind_interdomain");
	clear_events();

	o_bind_interdomain(7, p3, NULL);
	o_bind_interdomain(DOMID_XEN, p3, NULL);
	o_bind_interdomain(DOMID_SELF, 0, NULL);
	o_bind_interdomain(DOMID_SELF, p1, NULL);   /* already interdomain */
	o_bind_interdomain(DOMID_SELF, l4, NULL);   /* the other end */
	o_bind_interdomain(DOMID_SELF, 60, NULL);   /* free, valid */
	o_bind_interdomain(DOMID_SELF, 64, NULL);   /* not valid */
	o_bind_interdomain(DOMID_SELF, 0xffffffff, NULL);
	show_bits("after failed binds");
	clear_events();
}

/* send, mask, unmask and the 2-level delivery order. Ports from section_alloc_bind. */
static void section_send_mask(void)
{
	clear_events();
	o_send(4);
	show_bits("send 4 -> peer 1");
	clear_events();
	o_send(1);
	show_bits("send 1 -> peer 4");
	clear_events();
	o_send(5);
	show_bits("send 5 -> peer 2");
	clear_events();
	o_send(3);
	show_bits("send on unbound 3");
	o_send(0);
	o_send(60);
	o_send(64);
	o_send(0xffffffff);

	/* Already pending: nothing more happens, not even the upcall flag. */
	clear_events();
	o_send(4);
	vinfo->evtchn_upcall_pending = 0;
	o_send(4);
	show_bits("second send while pending, upcall cleared by guest");

	/* Selector already set: the pending bit lands but no new upcall. */
	clear_events();
	vinfo->evtchn_pending_sel = 1;
	o_send(5);
	show_bits("send with selector already set");

	/* Masked: pending only. */
	clear_events();
	mask_port(1);
	o_send(4);
	show_bits("send to masked 1");
	o_unmask(1);
	show_bits("unmask 1 while pending");
	clear_events();
	o_unmask(1);
	show_bits("unmask 1 again, nothing pending");

	/* Pending but not masked: unmask must not raise anything. */
	clear_events();
	o_send(4);
	vinfo->evtchn_upcall_pending = 0;
	vinfo->evtchn_pending_sel = 0;
	o_unmask(1);
	show_bits("unmask of unmasked pending 1");

	/* Masked, pending, selector already set: mask cleared, no upcall. */
	clear_events();
	mask_port(2);
	o_send(5);
	vinfo->evtchn_pending_sel = 1;
	o_unmask(2);
	show_bits("unmask 2 with selector already set");

	/* unmask on ports in other states. */
	clear_events();
	mask_port(0);
	mask_port(60);
	o_unmask(0);
	o_unmask(60);
	o_unmask(64);
	o_unmask(0xffffffff);
	show_bits("after unmask of 0, 60, 64");
	clear_events();
}

/* close and what it does to the peer. Leaves 2<->5 and 3 unbound; 1, 4, 6 free. */
static void section_close(void)
{
	evtchn_port_t p, l;

	clear_events();
	mask_port(4);
	o_send(1);
	show_bits("4 masked and pending");
	o_close(4);
	show_bits("after close 4");
	o_status(DOMID_SELF, 4);
	o_status(DOMID_SELF, 1);
	o_send(1);
	show_bits("send on 1, now unbound after peer close");
	o_close(4);
	o_close(0);
	o_close(60);
	o_close(64);
	o_close(0xffffffff);

	/* The freed port comes back first, mask bit and all. */
	o_alloc_unbound(DOMID_SELF, DOMID_SELF, &p);
	show_bits("after re-alloc of 4");
	unmask_port_locally(p);

	/* Close the unbound side of a pair: the bound side falls back to unbound. */
	o_bind_interdomain(DOMID_SELF, 1, &l);
	o_close(1);
	o_status(DOMID_SELF, l);
	o_close(l);
	o_close(p);
	o_status(DOMID_SELF, p);
	clear_events();
}

/* VIRQs. Leaves VIRQ_TIMER bound (port 1) and an IPI (port 4). */
static void section_virq_ipi(evtchn_port_t *timer_port, evtchn_port_t *ipi_port)
{
	evtchn_port_t p, t, d, c, q;
	long rc;

	for (uint32_t v = 0; v < NR_VIRQS; v++) {
		rc = ev_bind_virq(v, 0, &p);
		if (rc == 0) {
			struct evtchn_status s = { .dom = DOMID_SELF, .port = p };

			HYPERVISOR_event_channel_op(EVTCHNOP_status, &s);
			extra("port=%u status=%u vcpu=%u virq=%u close=%ld", p, s.status, s.vcpu, s.u.virq, ev_close(p));
		}
		say(rc, "bind_virq: virq=%u vcpu=0", v);
	}
	say(ev_bind_virq(NR_VIRQS, 0, NULL), "bind_virq: virq=%u vcpu=0", NR_VIRQS);
	say(ev_bind_virq(1000, 0, NULL), "bind_virq: virq=1000 vcpu=0");
	say(ev_bind_virq(0xffffffff, 0, NULL), "bind_virq: virq=0xffffffff vcpu=0");
	say(ev_bind_virq(VIRQ_CONSOLE, 1, NULL), "bind_virq: virq=CONSOLE vcpu=1");
	say(ev_bind_virq(VIRQ_CONSOLE, 0xffffffff, NULL), "bind_virq: virq=CONSOLE vcpu=0xffffffff");
	say(ev_bind_virq(VIRQ_TIMER, 1, NULL), "bind_virq: virq=TIMER vcpu=1");
	say(ev_bind_virq(VIRQ_TIMER, 0xffffffff, NULL), "bind_virq: virq=TIMER vcpu=0xffffffff");
	say(ev_bind_virq(VIRQ_DEBUG, 1, NULL), "bind_virq: virq=DEBUG vcpu=1");

	rc = ev_bind_virq(VIRQ_TIMER, 0, &t);
	extra("port=%u", t);
	say(rc, "bind_virq: virq=TIMER vcpu=0");
	say(ev_bind_virq(VIRQ_TIMER, 0, NULL), "bind_virq: virq=TIMER vcpu=0 again");
	rc = ev_bind_virq(VIRQ_DEBUG, 0, &d);
	extra("port=%u", d);
	say(rc, "bind_virq: virq=DEBUG vcpu=0");
	rc = ev_bind_virq(VIRQ_CONSOLE, 0, &c);
	extra("port=%u", c);
	say(rc, "bind_virq: virq=CONSOLE vcpu=0");
	o_status(DOMID_SELF, t);
	o_status(DOMID_SELF, c);
	o_send(t);
	o_send(c);
	say(ev_bind_vcpu(t, 0), "bind_vcpu: port=%u (TIMER) vcpu=0", t);
	say(ev_bind_vcpu(d, 0), "bind_vcpu: port=%u (DEBUG) vcpu=0", d);
	say(ev_bind_vcpu(c, 0), "bind_vcpu: port=%u (CONSOLE) vcpu=0", c);
	say(ev_bind_vcpu(c, 1), "bind_vcpu: port=%u (CONSOLE) vcpu=1", c);
	o_close(d);
	o_close(c);
	rc = ev_bind_virq(VIRQ_DEBUG, 0, &d);
	extra("port=%u", d);
	say(rc, "bind_virq: virq=DEBUG vcpu=0 after close");
	o_close(d);

	/* IPIs */
	rc = ev_bind_ipi(0, &q);
	extra("port=%u", q);
	say(rc, "bind_ipi: vcpu=0");
	o_status(DOMID_SELF, q);
	say(ev_bind_ipi(1, NULL), "bind_ipi: vcpu=1");
	say(ev_bind_ipi(0xffffffff, NULL), "bind_ipi: vcpu=0xffffffff");
	clear_events();
	o_send(q);
	show_bits("send on ipi");
	clear_events();
	say(ev_bind_vcpu(q, 0), "bind_vcpu: port=%u (ipi) vcpu=0", q);
	*timer_port = t;
	*ipi_port = q;
}

/* bind_vcpu, bind_pirq, set_priority, the FIFO calls, reset_cont. */
static void section_misc_ops(void)
{
	say(ev_bind_vcpu(3, 0), "bind_vcpu: port=3 (unbound) vcpu=0");
	say(ev_bind_vcpu(3, 1), "bind_vcpu: port=3 (unbound) vcpu=1");
	say(ev_bind_vcpu(5, 0), "bind_vcpu: port=5 (interdomain) vcpu=0");
	say(ev_bind_vcpu(64, 1), "bind_vcpu: port=64 vcpu=1");
	say(ev_bind_vcpu(64, 0), "bind_vcpu: port=64 vcpu=0");
	say(ev_bind_vcpu(0, 0), "bind_vcpu: port=0 vcpu=0");
	say(ev_bind_vcpu(60, 0), "bind_vcpu: port=60 (free) vcpu=0");
	say(ev_bind_vcpu(0xffffffff, 0), "bind_vcpu: port=0xffffffff vcpu=0");
	o_status(DOMID_SELF, 3);

	static const uint32_t pirqs[] = { 0, 1, 31, 32, 1055, 1056, 0x7fffffff, 0xffffffff };
	for (unsigned int i = 0; i < sizeof(pirqs) / sizeof(pirqs[0]); i++) {
		struct evtchn_bind_pirq b = { .pirq = pirqs[i], .flags = 0, .port = 0xdead };
		long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &b);

		if (rc == 0)
			extra("port=%u", b.port);
		say(rc, "bind_pirq: pirq=%u", pirqs[i]);
	}
	{
		/* nr_pirqs: the first pirq refused as out of range (the answers are monotonic). */
		uint32_t lo = 0, hi = 4096;

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			struct evtchn_bind_pirq b = { .pirq = mid };

			if (HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &b) == -XEN_EINVAL)
				hi = mid;
			else
				lo = mid + 1;
		}
		printk("bind_pirq: first pirq answering EINVAL = %u\n", lo);
	}
	printk("status: first invalid port after bind_pirq = %u\n", first_invalid_port(DOMID_SELF, 0));

	static const uint32_t prio_ports[] = { 0, 2, 60, 64, 0xffffffff };
	for (unsigned int i = 0; i < sizeof(prio_ports) / sizeof(prio_ports[0]); i++) {
		struct evtchn_set_priority sp = { .port = prio_ports[i], .priority = 7 };

		say(HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp), "set_priority: port=%u priority=7",
		    prio_ports[i]);
	}
	{
		struct evtchn_set_priority sp = { .port = 2, .priority = 16 };

		say(HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp), "set_priority: port=2 priority=16");
	}

	/* init_control's checks (a successful one would switch us to FIFO: not done). */
	static const struct { uint64_t gfn; uint32_t offset, vcpu; const char *what; } ic[] = {
		{ PROBE_BAD_GFN, 0, 1, "vcpu=1" },
		{ PROBE_BAD_GFN, 0, 0xffffffff, "vcpu=0xffffffff" },
		{ PROBE_BAD_GFN, 4096, 0, "offset=4096" },
		{ PROBE_BAD_GFN, 4025, 0, "offset=4025" },
		{ PROBE_BAD_GFN, 4, 0, "offset=4" },
		{ PROBE_BAD_GFN, 0, 0, "gfn=unmapped" },
		{ PROBE_BAD_GFN, 4024, 0, "gfn=unmapped offset=4024" },
	};
	for (unsigned int i = 0; i < sizeof(ic) / sizeof(ic[0]); i++) {
		struct evtchn_init_control c = { .control_gfn = ic[i].gfn, .offset = ic[i].offset,
						 .vcpu = ic[i].vcpu, .link_bits = 0xaa };
		long rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &c);

		extra("link_bits=0x%x", c.link_bits);
		say(rc, "init_control: %s", ic[i].what);
	}
	{
		struct evtchn_expand_array e = { .array_gfn = PROBE_BAD_GFN };

		say(HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &e), "expand_array: gfn=unmapped");
	}

	say(ev_reset(DOMID_SELF, 1), "reset_cont: dom=SELF (no reset in progress)");
	say(ev_reset(7, 1), "reset_cont: dom=7");
	say(ev_reset(7, 0), "reset: dom=7");
	say(ev_reset(0, 0), "reset: dom=0");
	say(ev_reset(DOMID_XEN, 0), "reset: dom=XEN");
}

/*
 * Fill the domain: watch the second bucket appear, use a port in word 1,
 * run out of ports, then EVTCHNOP_reset. Leaves nothing but ports 1 (TIMER
 * virq, rebound after the reset) and 2 (unbound).
 */
static void section_exhaust_reset(evtchn_port_t timer_port)
{
	evtchn_port_t p = 0, last = 0, q, hi_a = 0, hi_b = 0;
	unsigned int count = 0;
	long rc;

	printk("exhaust: first invalid port before = %u\n", first_invalid_port(DOMID_SELF, 0));
	/* Allocate until the allocation that opens the second bucket. */
	for (;;) {
		rc = ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &p);
		if (rc != 0 || p >= 64)
			break;
		count++;
	}
	say(rc, "exhaust: alloc_unbound reaching word 1 (%u ports before it)", count);
	printk("exhaust: port = %u\n", p);
	printk("exhaust: first invalid port now = %u\n", first_invalid_port(DOMID_SELF, 0));
	hi_a = p;
	o_bind_interdomain(DOMID_SELF, hi_a, &hi_b);
	clear_events();
	o_send(hi_b);
	show_bits("send in word 1");
	clear_events();
	mask_port(hi_a);
	o_send(hi_b);
	show_bits("send in word 1, masked");
	o_unmask(hi_a);
	show_bits("unmask in word 1");
	clear_events();

	/* Now run out. */
	count = 0;
	for (;;) {
		rc = ev_alloc_unbound(DOMID_SELF, DOMID_SELF, &q);
		if (rc != 0)
			break;
		last = q;
		count++;
	}
	say(rc, "exhaust: alloc_unbound until failure (%u more, last port %u)", count, last);
	printk("exhaust: first invalid port when full = %u\n", first_invalid_port(DOMID_SELF, 0));
	o_status(DOMID_SELF, 1023);
	o_status(DOMID_SELF, 1024);
	say(ev_bind_ipi(0, NULL), "exhaust: bind_ipi vcpu=0");
	say(ev_bind_virq(VIRQ_DEBUG, 0, NULL), "exhaust: bind_virq DEBUG");
	say(ev_bind_virq(VIRQ_TIMER, 0, NULL), "exhaust: bind_virq TIMER (bound)");
	say(ev_bind_virq(NR_VIRQS, 0, NULL), "exhaust: bind_virq virq=24");
	say(ev_bind_interdomain(DOMID_SELF, 3, NULL), "exhaust: bind_interdomain to unbound 3");
	say(ev_bind_interdomain(7, 3, NULL), "exhaust: bind_interdomain dom=7");
	say(ev_alloc_unbound(7, DOMID_SELF, NULL), "exhaust: alloc_unbound dom=7");
	{
		struct evtchn_bind_pirq b = { .pirq = 0 };

		say(HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &b), "exhaust: bind_pirq pirq=0");
		b.pirq = 1056;
		say(HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &b), "exhaust: bind_pirq pirq=1056");
	}
	o_close(last);
	o_alloc_unbound(DOMID_SELF, DOMID_SELF, NULL);

	/* Leave something pending and masked for the reset to deal with. */
	clear_events();
	o_send(hi_b);
	o_send(5);
	mask_port(hi_b);
	show_bits("before reset");
	show_bit_totals("before reset");

	say(ev_reset(DOMID_SELF, 0), "reset: dom=SELF");
#ifdef CONFORMANCE_FIFO
	/* The reset took the domain back to 2-level: observe shared_info again. */
	fifo_words = NULL;
	fifo_cb = NULL;
#endif
	show_bits("after reset");
	show_bit_totals("after reset");
	printk("reset: first invalid port after = %u\n", first_invalid_port(DOMID_SELF, 0));
	o_status(DOMID_SELF, 0);
	o_status(DOMID_SELF, 1);
	o_status(DOMID_SELF, timer_port);
	o_status(DOMID_SELF, 1023);
	o_status(DOMID_SELF, 1024);
	o_send(5);
	say(ev_reset(DOMID_SELF, 1), "reset_cont: dom=SELF after reset");
	{
		evtchn_port_t t;

		rc = ev_bind_virq(VIRQ_TIMER, 0, &t);
		extra("port=%u", t);
		say(rc, "bind_virq: virq=TIMER after reset");
	}
	o_alloc_unbound(DOMID_SELF, DOMID_SELF, NULL);
	say(ev_reset(me, 0), "reset: dom=%u (self by id)", me);
	o_status(DOMID_SELF, 1);
	rc = ev_bind_virq(VIRQ_TIMER, 0, &q);
	extra("port=%u", q);
	say(rc, "bind_virq: virq=TIMER after second reset");
	o_alloc_unbound(DOMID_SELF, DOMID_SELF, NULL);
	unmask_port_locally(hi_b);
	clear_events();
	show_bit_totals("end of reset section");
}

/* ------------------------------------------------------------------------ */

static long poll(evtchn_port_t *ports, unsigned int nr, uint64_t timeout)
{
	struct sched_poll p = { .nr_ports = nr, .timeout = timeout };

	set_xen_guest_handle(p.ports, ports);
	return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}

/* sched_op. Needs ports 1 (TIMER) and 2 (unbound); adds 3 (unbound) <-> 4. */
static void section_sched_op(void)
{
	static evtchn_port_t ports[2];
	evtchn_port_t a, b;

	say(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), "sched_op: yield");
	say(HYPERVISOR_sched_op(99, NULL), "sched_op: cmd=99");
	say(HYPERVISOR_sched_op(-1, NULL), "sched_op: cmd=-1");

	o_alloc_unbound(DOMID_SELF, DOMID_SELF, &a);
	o_bind_interdomain(DOMID_SELF, a, &b);   /* raises b */
	clear_events();
	o_send(a);   /* b pending, a not */
	show_bits("before poll");

	ports[0] = b;
	say(poll(ports, 1, 0), "sched_op: poll [pending %u] timeout=0", b);
	ports[0] = a;
	say(poll(ports, 1, 1), "sched_op: poll [idle %u] timeout=1ns (already past)", a);
	ports[0] = a;
	ports[1] = b;
	say(poll(ports, 2, 0), "sched_op: poll [idle %u, pending %u] timeout=0", a, b);
	mask_port(b);
	ports[0] = b;
	say(poll(ports, 1, 0), "sched_op: poll [pending masked %u] timeout=0", b);
	unmask_port_locally(b);
	say(poll(ports, 0, 1), "sched_op: poll [] timeout=1ns");
	ports[0] = 1024;
	say(poll(ports, 1, 1), "sched_op: poll [1024] timeout=1ns");
	ports[0] = 4096;
	say(poll(ports, 1, 1), "sched_op: poll [4096] timeout=1ns");
	ports[0] = 60;
	say(poll(ports, 1, 1), "sched_op: poll [free 60] timeout=1ns");
	say(poll(ports, 129, 1), "sched_op: poll nr_ports=129");
	say(poll(PROBE_BAD_PTR, 1, 1), "sched_op: poll ports=bad");
	say(HYPERVISOR_sched_op(SCHEDOP_poll, PROBE_BAD_PTR), "sched_op: poll arg=bad");
	show_bits("after polls");
	clear_events();

	struct sched_remote_shutdown rs = { .domain_id = 7, .reason = SHUTDOWN_poweroff };
	say(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), "sched_op: remote_shutdown dom=7");
	rs.domain_id = me;
	say(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), "sched_op: remote_shutdown dom=self");
	struct sched_pin_override po = { .pcpu = 0 };
	say(HYPERVISOR_sched_op(SCHEDOP_pin_override, &po), "sched_op: pin_override");
	say(HYPERVISOR_sched_op(SCHEDOP_shutdown, PROBE_BAD_PTR), "sched_op: shutdown arg=bad");
}

/* ------------------------------------------------------------------------ */

static long reg_vcpu_info(int vcpu, uint64_t gfn, uint32_t offset)
{
	struct vcpu_register_vcpu_info r = { .mfn = gfn, .offset = offset };

	return HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, vcpu, &r);
}

/* register_vcpu_info, last: from here on vcpu_info lives in our page. */
static void section_vcpu_op(void)
{
	uint64_t gfn = (uintptr_t)vcpu_info_page >> 12;

	say(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, PROBE_BAD_PTR), "vcpu_op: register_vcpu_info arg=bad");
	say(reg_vcpu_info(1, gfn, 64), "vcpu_op: register_vcpu_info vcpu=1");
	say(reg_vcpu_info(-1, gfn, 64), "vcpu_op: register_vcpu_info vcpu=-1");
	say(reg_vcpu_info(0, gfn, 65), "vcpu_op: register_vcpu_info offset=65");
	say(reg_vcpu_info(0, gfn, 4), "vcpu_op: register_vcpu_info offset=4");
	say(reg_vcpu_info(0, gfn, 4096 - 48 + 8), "vcpu_op: register_vcpu_info offset=4056");
	say(reg_vcpu_info(0, PROBE_BAD_GFN, 0), "vcpu_op: register_vcpu_info gfn=unmapped");
	say(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), "vcpu_op: is_up vcpu=0");
	say(HYPERVISOR_vcpu_op(VCPUOP_is_up, 5, NULL), "vcpu_op: is_up vcpu=5");
	say(HYPERVISOR_vcpu_op(99, 0, NULL), "vcpu_op: cmd=99 vcpu=0");
	say(HYPERVISOR_vcpu_op(99, 5, NULL), "vcpu_op: cmd=99 vcpu=5");

	/* Some state to carry over: port 4 pending (see section_sched_op). */
	clear_events();
	o_send(3);
	show_bits("before register_vcpu_info");

	volatile struct vcpu_info *nv = (volatile struct vcpu_info *)(vcpu_info_page + 64);
	volatile struct vcpu_info *old = &shinfo->vcpu_info[0];

	nv->evtchn_pending_sel = 0x55;
	if (say(reg_vcpu_info(0, gfn, 64), "vcpu_op: register_vcpu_info offset=64") == 0)
		use_vcpu_info(nv);
	show_bits("new vcpu_info after register");
	printk("bits: old vcpu_info slot = sel=0x%lx upcall=%u\n", (unsigned long)old->evtchn_pending_sel,
	       old->evtchn_upcall_pending);
	say(reg_vcpu_info(0, gfn, 128), "vcpu_op: register_vcpu_info again");

	clear_events();
	old->evtchn_pending_sel = 0;
	old->evtchn_upcall_pending = 0;
	o_send(3);
	show_bits("send after register (new vcpu_info)");
	printk("bits: old vcpu_info slot = sel=0x%lx upcall=%u\n", (unsigned long)old->evtchn_pending_sel,
	       old->evtchn_upcall_pending);
	clear_events();
}

/*
 * Last, because a successful call would switch the domain to the FIFO ABI: where the FIFO
 * control block's end lies, with a frame that is real RAM (offset 4024 would fit a 72-byte
 * block; these two must not).
 */
static void section_fifo_limits(void)
{
	static const uint32_t offsets[] = { 4032, 4028 };

	for (unsigned int i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		struct evtchn_init_control c = { .control_gfn = (uintptr_t)fifo_page >> 12,
						 .offset = offsets[i], .vcpu = 0, .link_bits = 0xaa };
		long rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &c);

		extra("link_bits=0x%x", c.link_bits);
		say(rc, "init_control: gfn=ram offset=%u", offsets[i]);
	}
}

int main(void)
{
	evtchn_port_t timer_port, ipi_port;

	printk("evtchn-conformance: start\n");
	section_xen_version();
#ifdef CONFORMANCE_FIFO
	fifo_switch("at start");
#endif
	section_memory_op();
	section_console_io();
	section_hvm_op();
	section_evtchn_dispatch();
	section_status_fresh();
	section_alloc_bind();
	section_send_mask();
	section_close();
	section_virq_ipi(&timer_port, &ipi_port);
	section_misc_ops();
	section_exhaust_reset(timer_port);
#ifdef CONFORMANCE_FIFO
	fifo_switch("after reset");
#endif
	section_sched_op();
	section_vcpu_op();
	section_fifo_limits();
	printk("Test result: SUCCESS\n");
	xen_shutdown(SHUTDOWN_poweroff);
}
