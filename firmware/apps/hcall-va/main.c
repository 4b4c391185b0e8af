// SPDX-License-Identifier: MIT
/*
 * hcall-va: hypercall buffers are guest *virtual* addresses (issue 15). With the MMU on, Xen on
 * Arm translates every handle through the calling vCPU's stage-1 tables, 4 KiB page by page,
 * with EL1 read permission for what it copies in and EL1 write permission for what it copies
 * out. This guest maps two RAM pages at a virtual address far from their physical ones and in
 * the opposite order, a read-only page after them and nothing after that, then points
 * hypercall arguments at, across and beyond them. Each line prints the result and what landed
 * where (read back through the physical pages' own identity mapping).
 */
#include <stdint.h>

#include <xen/hypercall-entry.h>
#include <xen/public/errno.h>
#include <xen/public/event_channel.h>
#include <xen/public/hvm/hvm_op.h>
#include <xen/public/hvm/params.h>
#include <xen/public/sched.h>
#include <xen/public/version.h>
#include <xen/public/xen.h>
#include <xenvm/arch.h>
#include <xenvm/pagetable.h>
#include <xenvm/printk.h>

int main(void);

static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2[512] __attribute__((aligned(4096)));
static uint64_t l3[512] __attribute__((aligned(4096)));
/* page_lo backs VA page 1 and page_hi VA page 0: virtually adjacent, physically swapped. */
static uint8_t page_lo[4096] __attribute__((aligned(4096)));
static uint8_t page_hi[4096] __attribute__((aligned(4096)));
static uint8_t page_ro[4096] __attribute__((aligned(4096)));

#define VA_BASE    0x60000000UL    /* L3[0] -> page_hi, L3[1] -> page_lo */
#define VA_RO      0x60002000UL    /* L3[2] -> page_ro, EL1 read-only */
#define VA_HOLE    0x60003000UL    /* L3[3] invalid */
#define VA_TTBR1   0xffff000000001000UL /* TTBR1 walks disabled (EPD1): translation fault */

static void mmu_on(void)
{
	pt_identity_map(l1, l2, (uint64_t)main);
	l2[(VA_BASE >> 21) & 511] = (uint64_t)l3 | PT_TABLE;
	l3[0] = (uint64_t)page_hi | PT_PAGE | PT_ATTR(ATTR_NORMAL) | PT_ISH | PT_AF | PT_UXN;
	l3[1] = (uint64_t)page_lo | PT_PAGE | PT_ATTR(ATTR_NORMAL) | PT_ISH | PT_AF | PT_UXN;
	l3[2] = (uint64_t)page_ro | PT_PAGE | PT_ATTR(ATTR_NORMAL) | PT_ISH | PT_AF | PT_RO | PT_UXN;

	pt_mmu_on(l1);
}

static void fill(uint8_t *p, unsigned int n, uint8_t v)
{
	for (unsigned int i = 0; i < n; i++)
		((volatile uint8_t *)p)[i] = v;
}

static void show(const char *what, long r, const uint8_t *p, unsigned int n)
{
	printk("%s: %ld, bytes:", what, r);
	for (unsigned int i = 0; i < n; i++)
		printk(" %02x", ((volatile const uint8_t *)p)[i]);
	printk("\n");
}

int main(void)
{
	long r;

	mmu_on();
	printk("mmu on: VA 0x%lx -> page_hi, VA 0x%lx -> page_lo\n", VA_BASE, VA_BASE + 0x1000);

	/* A result wholly in one remapped page lands in that physical page. */
	fill(page_hi, 4096, 0xaa);
	r = HYPERVISOR_xen_version(XENVER_extraversion, (void *)(VA_BASE + 0x10));
	show("extraversion at VA page 0", r, page_hi + 0x10, 8);

	/* Straddling the two virtual pages: the first part in page_hi's end, the rest at page_lo's start. */
	fill(page_hi, 4096, 0xaa);
	fill(page_lo, 4096, 0xbb);
	r = HYPERVISOR_xen_version(XENVER_capabilities, (void *)(VA_BASE + 0x1000 - 8));
	show("capabilities across pages, page_hi end", r, page_hi + 4096 - 8, 8);
	show("capabilities across pages, page_lo start", r, page_lo, 16);

	/* A struct copied in and out across the page boundary. */
	{
		struct evtchn_alloc_unbound *a = (void *)(VA_BASE + 0x1000 - 4);

		a->dom = DOMID_SELF;
		a->remote_dom = DOMID_SELF;
		a->port = 0xdeadbeef;
		r = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, a);
		printk("alloc_unbound across pages: %ld, port %u\n", r, a->port);
	}

	/* console_io reads its text through the translation too. */
	{
		static const char msg[] = "console text read through the MMU\n";
		char *at = (char *)(VA_BASE + 0x1000 - 10);

		for (unsigned int i = 0; i < sizeof(msg) - 1; i++)
			at[i] = msg[i];
		r = HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, at);
		printk("console_io across pages: %ld\n", r);
	}

	/* hvm_op get_param: struct in, value out, at a virtual address. */
	{
		struct xen_hvm_param *p = (void *)(VA_BASE + 0x800);

		p->domid = DOMID_SELF;
		p->index = HVM_PARAM_CALLBACK_IRQ;
		p->value = 0x1234;
		r = HYPERVISOR_hvm_op(HVMOP_get_param, p);
		printk("hvm get_param(CALLBACK_IRQ) at VA: %ld, value 0x%lx\n", r, (unsigned long)p->value);
	}

	/* A read-only page: Xen's copy out asks for write permission and fails; nothing written. */
	r = HYPERVISOR_xen_version(XENVER_extraversion, (void *)VA_RO);
	show("extraversion into read-only page", r, page_ro, 8);

	/* Running from a writable page into the read-only one: the first part is written. */
	fill(page_lo, 4096, 0xbb);
	r = HYPERVISOR_xen_version(XENVER_extraversion, (void *)(VA_RO - 4));
	show("extraversion writable then read-only", r, page_lo + 4096 - 4, 4);
	show("extraversion writable then read-only, ro page", r, page_ro, 4);

	/* Copied in from a read-only page (fine), copied back (fails): the port stays allocated. */
	{
		struct evtchn_alloc_unbound *a = (struct evtchn_alloc_unbound *)page_ro;
		struct evtchn_alloc_unbound b;

		a->dom = DOMID_SELF; /* written through the identity map, which is writable */
		a->remote_dom = DOMID_SELF;
		a->port = 0xdeadbeef;
		r = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, (void *)VA_RO);
		printk("alloc_unbound in read-only page: %ld, port field %u\n", r, a->port);
		b.dom = DOMID_SELF;
		b.remote_dom = DOMID_SELF;
		r = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &b);
		printk("next alloc_unbound: %ld, port %u\n", r, b.port);
	}

	/* Handles that do not translate at all. */
	r = HYPERVISOR_xen_version(XENVER_extraversion, (void *)VA_HOLE);
	printk("extraversion at unmapped VA: %ld\n", r);
	r = HYPERVISOR_xen_version(XENVER_extraversion, (void *)VA_TTBR1);
	printk("extraversion at a TTBR1 address: %ld\n", r);
	r = HYPERVISOR_console_io(CONSOLEIO_write, 16, (const char *)(VA_HOLE - 8));
	printk("console_io running into unmapped VA: %ld\n", r);
	{
		struct sched_poll *sp = (void *)(VA_BASE + 0x100);

		sp->ports.p = (evtchn_port_t *)VA_HOLE;
		sp->nr_ports = 1;
		sp->timeout = 0;
		r = HYPERVISOR_sched_op(SCHEDOP_poll, sp);
		printk("poll with its port list unmapped: %ld\n", r);
	}

	printk("Test result: SUCCESS\n");
	return 0;
}
