// SPDX-License-Identifier: MIT
/*
 * gnttab-share: two dom0less domUs (d1, d2: the same image) share a page the way every Xen PV
 * driver does: d1 (the "frontend") grants two of its pages to d2 in its grant table, one of
 * them read-only, and offers an event channel; d2 (the "backend") maps the grants into its own
 * address space, reads what d1 wrote, writes a reply, copies with GNTTABOP_copy, and the two
 * take turns by sending on the channel. Around it: the grant-table set-up calls and the errors
 * Xen 4.17 gives for bad arguments, refs, domains, flags and handles, and the entry flags
 * (GTF_reading/GTF_writing) Xen sets in d1's table while d2 has the pages mapped.
 *
 * Nothing printed depends on addresses chosen by the toolchain: pages are named by what they
 * hold, frames of the grant table by the place this guest put them. Under SILO the two domUs
 * may neither share an event channel nor map each other's grants: both sides say so.
 */
#include <stdbool.h>
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/errno.h>
#include <xen/public/event_channel.h>
#include <xen/public/grant_table.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xenvm/printk.h>

#include "../evtchn-conformance/probe.h"

/* A command number past Xen 4.17's last (12, cache_flush): -ENOSYS in the golden. */
#define GNTTABOP_bogus 13

/* Where this guest puts its grant-table frame (Xen's GUEST_GNTTAB_BASE), and mapped grants. */
#define GNTTAB_GPA 0x38000000UL
#define MAP_RW_GPA 0x50000000UL
#define MAP_RO_GPA 0x50001000UL

#define REF_RW 8
#define REF_RO 9
#define REF_UNGRANTED 10

static uint8_t shinfo_page[4096] __attribute__((aligned(4096)));
static char page_rw[4096] __attribute__((aligned(4096)));
static char page_ro[4096] __attribute__((aligned(4096)));
static char local_page[4096] __attribute__((aligned(4096)));
static domid_t me, peer;
static volatile struct grant_entry_v1 *gnttab = (volatile struct grant_entry_v1 *)GNTTAB_GPA;

static void cpy(char *dst, const char *src)
{
	while ((*dst++ = *src++))
		;
}

static void cat(char *dst, const char *src)
{
	while (*dst)
		dst++;
	cpy(dst, src);
}

static long gnttab_op(unsigned long cmd, void *arg, unsigned long count)
{
	return xen_hypercall(__HYPERVISOR_grant_table_op, cmd, (unsigned long)arg, count, 0, 0);
}

static const char *gntst(int st)
{
	static const char *const names[] = { "okay", "general_error", "bad_domain", "bad_gntref", "bad_handle",
		"bad_virt_addr", "bad_dev_addr", "no_device_space", "permission_denied", "bad_page",
		"bad_copy_arg", "address_too_big", "eagain", "no_space" };
	return st <= 0 && st >= -13 ? names[-st] : "?";
}

static void setup_table(domid_t dom, uint32_t nr)
{
	uint64_t frames[2] = { 0x1111, 0x1111 };
	struct gnttab_setup_table s = { .dom = dom, .nr_frames = nr, .frame_list = (uint64_t)(unsigned long)frames };
	long rc = gnttab_op(GNTTABOP_setup_table, &s, 1);

	printk("setup_table: dom=%s nr_frames=%u = %ld status=%s frame0=%s\n", domname(dom), nr, rc, gntst(s.status),
	       frames[0] == 0x1111 ? "untouched" : frames[0] == ~0ULL ? "INVALID_GFN" :
	       frames[0] == GNTTAB_GPA >> 12 ? "where this guest put it" : "elsewhere");
}

static void query_size(domid_t dom)
{
	struct gnttab_query_size q = { .dom = dom };
	long rc = gnttab_op(GNTTABOP_query_size, &q, 1);

	printk("query_size: dom=%s = %ld status=%s nr_frames=%u max_nr_frames=%u\n", domname(dom), rc, gntst(q.status),
	       q.nr_frames, q.max_nr_frames);
}

static void get_version(domid_t dom)
{
	struct gnttab_get_version g = { .dom = dom, .version = 77 };

	say(gnttab_op(GNTTABOP_get_version, &g, 1), "get_version: dom=%s (version=%u)", domname(dom), g.version);
}

static void set_version(uint32_t v)
{
	uint32_t ver = v;

	say(gnttab_op(GNTTABOP_set_version, &ver, 1), "set_version: %u (now %u)", v, ver);
}

static long add_frame(unsigned long idx, unsigned long gpa)
{
	struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = idx, .gpfn = gpa >> 12 };

	return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
}

/* The calls every domain can make on its own table, and their errors. */
static void own_table(void)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };

	get_version(DOMID_SELF);
	query_size(DOMID_SELF);
	say(gnttab_op(GNTTABOP_query_size, &q, 2), "query_size: count=2");
	say(gnttab_op(GNTTABOP_query_size, PROBE_BAD_PTR, 1), "query_size: bad pointer");
	say(gnttab_op(GNTTABOP_bogus, &q, 1), "grant_table_op: cmd 13");
	query_size(77);
	query_size(peer);
	get_version(77);
	get_version(peer);
	set_version(2);
	set_version(3);
	set_version(1);
	get_version(DOMID_SELF);
	setup_table(DOMID_SELF, 1);
	setup_table(DOMID_SELF, 65);
	setup_table(peer, 1);
	say(add_frame(64, GNTTAB_GPA), "add_to_physmap grant_table: idx=64");
	say(add_frame(1UL << 31, GNTTAB_GPA), "add_to_physmap grant_table: idx=status 0");
	say(add_frame(0, GNTTAB_GPA), "add_to_physmap grant_table: idx=0 at the grant-table base");
	setup_table(DOMID_SELF, 1);
	say(add_frame(1, GNTTAB_GPA + 0x1000), "add_to_physmap grant_table: idx=1 (grows the table)");
	query_size(DOMID_SELF);
	printk("gnttab: frame 0 reads %s\n", gnttab[REF_RW].flags == 0 && gnttab[REF_RW].frame == 0 ? "zero" : "non-zero");
}

static void grant(uint32_t ref, void *page, bool readonly)
{
	gnttab[ref].frame = (uint32_t)((unsigned long)page >> 12);
	gnttab[ref].domid = peer;
	__asm__ volatile("dmb ishst" ::: "memory");
	gnttab[ref].flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
}

static const char *flagnames(uint16_t f, char *buf)
{
	buf[0] = 0;
	cat(buf, (f & 3) == GTF_permit_access ? "permit_access" : "other");
	if (f & GTF_readonly)
		cat(buf, "|readonly");
	if (f & GTF_reading)
		cat(buf, "|reading");
	if (f & GTF_writing)
		cat(buf, "|writing");
	return buf;
}

static void show_entries(const char *when)
{
	char a[64], b[64];

	printk("entries %s: rw=%s ro=%s\n", when, flagnames(gnttab[REF_RW].flags, a), flagnames(gnttab[REF_RO].flags, b));
}

static void role_d1(void)
{
	evtchn_port_t p;

	cpy(page_rw, "frontend data, writable");
	cpy(page_ro, "frontend data, read-only");
	grant(REF_RW, page_rw, false);
	grant(REF_RO, page_ro, true);
	show_entries("granted");
	if (o_alloc_unbound(DOMID_SELF, peer, &p) != 0) {
		printk("share: no channel to d%u under this policy\n", peer);
		return;
	}
	clear_events();
	/* d2 mapped both pages, wrote its reply and sent. */
	if (!wait_pending(p, "d2 mapped and replied"))
		return;
	clear_events();
	show_entries("while mapped");
	printk("d1 reads its page at 64: \"%s\"\n", page_rw + 64);
	printk("d1 reads its page at 128: \"%s\"\n", page_rw + 128);
	o_send(p);
	/* d2 unmapped. */
	if (!wait_pending(p, "d2 unmapped"))
		return;
	show_entries("after unmap");
	gnttab[REF_RW].flags = 0;
	gnttab[REF_RO].flags = 0;
	o_send(p);
}

static int map(uint32_t ref, domid_t dom, uint32_t flags, unsigned long at, uint32_t *handle, const char *what)
{
	struct gnttab_map_grant_ref m = { .host_addr = at, .flags = flags, .ref = ref, .dom = dom, .status = 77 };
	long rc = gnttab_op(GNTTABOP_map_grant_ref, &m, 1);

	printk("map_grant_ref: %s = %ld status=%s", what, rc, gntst(m.status));
	if (m.status == 0)
		printk(" handle=%u", m.handle);
	printk("\n");
	if (handle)
		*handle = m.handle;
	return m.status;
}

static int unmap(unsigned long at, uint32_t handle, const char *what)
{
	struct gnttab_unmap_grant_ref u = { .host_addr = at, .handle = handle, .status = 77 };
	long rc = gnttab_op(GNTTABOP_unmap_grant_ref, &u, 1);

	printk("unmap_grant_ref: %s = %ld status=%s\n", what, rc, gntst(u.status));
	return u.status;
}

static int copy(struct gnttab_copy *c, const char *what)
{
	long rc;

	c->status = 77;
	rc = gnttab_op(GNTTABOP_copy, c, 1);
	printk("copy: %s = %ld status=%s\n", what, rc, gntst(c->status));
	return c->status;
}

static void copies(void)
{
	unsigned long own = (unsigned long)local_page >> 12;
	struct gnttab_copy c = { .source = { .u.ref = REF_RW, .domid = peer, .offset = 0 },
				 .dest = { .u.gmfn = own, .domid = DOMID_SELF, .offset = 16 },
				 .len = 9, .flags = GNTCOPY_source_gref };

	if (copy(&c, "from d1's rw grant into an own frame") == 0)
		printk("copied: \"%s\"\n", local_page + 16);
	c.source.u.ref = REF_RO;
	if (copy(&c, "from d1's ro grant into an own frame") == 0)
		printk("copied: \"%s\"\n", local_page + 16);
	cpy(local_page, "via copy");
	c = (struct gnttab_copy){ .source = { .u.gmfn = own, .domid = DOMID_SELF }, .dest = { .u.ref = REF_RW, .domid = peer, .offset = 128 },
				  .len = 9, .flags = GNTCOPY_dest_gref };
	copy(&c, "into d1's rw grant at 128");
	c.dest.u.ref = REF_RO;
	copy(&c, "into d1's ro grant");
	c.dest.u.ref = REF_UNGRANTED;
	copy(&c, "into an ungranted ref");
	c.dest.u.ref = REF_RW;
	c.dest.offset = 4090;
	copy(&c, "past the end of the page");
	c.dest.offset = 0;
	c.flags = 0;
	c.dest.u.gmfn = own;
	c.dest.domid = peer;
	copy(&c, "into a frame of d1 without a grant");
	c.dest.domid = 77;
	c.flags = GNTCOPY_dest_gref;
	copy(&c, "into dom 77");
}

static void role_d2(void)
{
	evtchn_port_t p = 0;
	uint32_t h_rw = ~0u, h_ro = ~0u;
	long rc;

	/* Under SILO d1 cannot offer a port, and no map may succeed: say so, then try. */
	if (o_alloc_unbound(DOMID_SELF, peer, &p) != 0) {
		printk("share: no channel to d%u under this policy\n", peer);
		map(REF_RW, peer, GNTMAP_host_map, MAP_RW_GPA, NULL, "d1's rw grant under this policy");
		copies();
		return;
	}
	o_close(p);
	rc = ev_bind_interdomain_retry(peer, 1, &p);
	say(rc, "bind_interdomain: d1's port 1 (retried while not offered)");
	if (rc != 0)
		return;
	/* Binding raised our own new port: forget it before waiting on it. */
	clear_events();
	/* d1 granted before it offered the port: the entries are there now. */
	map(REF_RW, peer, 0, MAP_RW_GPA, NULL, "no flags");
	map(REF_RW, peer, GNTMAP_host_map | GNTMAP_device_map, MAP_RW_GPA, NULL, "device_map");
	map(REF_RW, 77, GNTMAP_host_map, MAP_RW_GPA, NULL, "dom 77");
	map(100000, peer, GNTMAP_host_map, MAP_RW_GPA, NULL, "ref 100000");
	map(REF_UNGRANTED, peer, GNTMAP_host_map, MAP_RW_GPA, NULL, "an ungranted ref");
	map(REF_RW, DOMID_SELF, GNTMAP_host_map, MAP_RW_GPA, NULL, "own ref 8");
	map(REF_RO, peer, GNTMAP_host_map, MAP_RO_GPA, NULL, "d1's ro grant, writable");
	if (map(REF_RW, peer, GNTMAP_host_map, MAP_RW_GPA, &h_rw, "d1's rw grant") == 0) {
		printk("d2 reads the mapped rw page: \"%s\"\n", (const char *)MAP_RW_GPA);
		cpy((char *)MAP_RW_GPA + 64, "backend reply");
	}
	if (map(REF_RO, peer, GNTMAP_host_map | GNTMAP_readonly, MAP_RO_GPA, &h_ro, "d1's ro grant, read-only") == 0)
		printk("d2 reads the mapped ro page: \"%s\"\n", (const char *)MAP_RO_GPA);
	copies();
	o_send(p);
	if (!wait_pending(p, "d1 read the reply"))
		return;
	clear_events();
	unmap(MAP_RW_GPA, 4000, "handle 4000");
	unmap(MAP_RO_GPA, h_rw, "the rw handle at the ro page's address");
	unmap(MAP_RW_GPA, h_rw, "the rw page");
	unmap(MAP_RO_GPA, h_ro, "the ro page");
	unmap(MAP_RW_GPA, h_rw, "the rw page again");
	o_send(p);
	wait_pending(p, "d1 revoked");
}

int main(void)
{
	printk("gnttab-share: start\n");
	map_shared_info(shinfo_page, "page");
	clear_events();
	me = self_domid();
	peer = me == 1 ? 2 : 1;
	printk("share: domid = %u, peer = %u\n", me, peer);
	own_table();
	if (me == 1)
		role_d1();
	else
		role_d2();
	printk("Test result: SUCCESS\n");
	xen_shutdown(SHUTDOWN_poweroff);
}
