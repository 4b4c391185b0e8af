// SPDX-License-Identifier: MIT
/*
 * check-rules: test guests for the protocol checker (`xenvm-emu run --check`,
 * docs/check.md). With no `rule=` on the command line it uses the 2-level
 * event-channel ABI correctly; with `--cmdline rule=NAME` it breaks rule NAME
 * once, the way a real driver bug would:
 *
 *   local-unmask     clears a pending port's mask bit itself (no EVTCHNOP_unmask)
 *   plain-store      masks a port with a plain load/modify/store
 *   selector-xchg    the handler takes evtchn_pending_sel with plain accesses
 *   guest-set        sets a pending bit, which only Xen does
 *   upcall-order     the handler takes the selector before clearing upcall_pending
 *   upcall-eoi       acknowledges the upcall interrupt and never EOIs it
 *   eoi-twice        the handler EOIs the upcall itself; the dispatcher EOIs again
 *   handler-pending  the handler returns with the port still pending
 *   use-after-close  notifies a port after closing it
 *   notify-unowned   notifies a port it never had
 *   bind-no-offer    binds to a port nobody offered
 *
 * With `cpu=1` as well (and a domain of two vCPUs), vCPU 1 breaks the rule
 * instead (plain-store, guest-set, local-unmask; upcall-eoi with its own
 * vcpu_info and port 2 bound to it), to show reports name it.
 *
 * Everything is raw (hypercalls, shared_info, the GIC driver) so each mode
 * differs from the correct one in exactly one place. One domain, loopback
 * channel: port 1 (alloc_unbound for ourselves) <-> port 2 (bind_interdomain).
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xen/hypercall.h>
#include <xen/public/event_channel.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xen/public/vcpu.h>
#include <xenvm/arch.h>
#include <xenvm/boot.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>
#include <xenvm/smccc.h>

#include "mode.h"
#include "common.h"

#define BIT(p)     ((xen_ulong_t)1 << ((p) % 64))

static uint8_t si_frame[4096] __attribute__((aligned(4096)));
static struct shared_info *si;

/* ---- vCPU 1 (PSCI CPU_ON, DEN0022 5.6): a stack of its own, then C */

extern char check_secondary_entry[];
uint8_t check_secondary_stack[0x2000] __attribute__((aligned(16), used));
void check_secondary_main(void);
static volatile unsigned int secondary_done;

__asm__(".pushsection .text.check_secondary, \"ax\", %progbits\n"
	".globl check_secondary_entry\n"
	"check_secondary_entry:\n"
	"	msr daifset, #0xf\n"
	"	adrp x1, check_secondary_stack + 0x2000\n"
	"	add x1, x1, :lo12:check_secondary_stack + 0x2000\n"
	"	mov sp, x1\n"
	"	bl exc_install_vectors\n"
	"	bl check_secondary_main\n"
	"1:	wfi\n"
	"	b 1b\n"
	".popsection\n");

static void break_rule(void);
static long send(evtchn_port_t p);

static uint8_t vcpu1_info[4096] __attribute__((aligned(4096)));

void check_secondary_main(void)
{
	if (is("upcall-eoi")) {
		/* vCPU 1 takes the upcall for port 2 (bound to it) by polling its GIC interface, and never EOIs it. */
		struct vcpu_info *v = (struct vcpu_info *)(void *)vcpu1_info;

		gic_init_cpu();
		gic_irq_enable(EVT_INTID);
		/* Registration left the upcall flag set: clear it, so the next event raises the PPI. */
		__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		__atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		send(PORT_A);
		uint32_t iar = gic_ack();
		evtchn_port_t ports[1] = { PORT_A };
		struct sched_poll poll = { .nr_ports = 1, .timeout = 1 };

		set_xen_guest_handle(poll.ports, ports);
		if (gic_iar_intid(iar) == EVT_INTID)
			HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
	}
	break_rule();
	__atomic_store_n(&secondary_done, 1, __ATOMIC_SEQ_CST);
}

/* ---- hypercalls */

static long evtchn_op(unsigned int cmd, void *arg)
{
	return HYPERVISOR_event_channel_op(cmd, arg);
}

static long send(evtchn_port_t p)
{
	struct evtchn_send s = { .port = p };

	return evtchn_op(EVTCHNOP_send, &s);
}

/* ---- the upcall handler, run by the GIC dispatcher between its ack and EOI */

/* Handle every pending, unmasked port of the words in `sel`, clearing each pending bit first. */
static void scan(xen_ulong_t sel, bool clear)
{
	while (sel) {
		unsigned int w = (unsigned int)__builtin_ctzl(sel);

		sel &= sel - 1;
		for (;;) {
			xen_ulong_t live = __atomic_load_n(&si->evtchn_pending[w], __ATOMIC_SEQ_CST) &
					   ~__atomic_load_n(&si->evtchn_mask[w], __ATOMIC_SEQ_CST);

			if (!live)
				break;
			unsigned int b = (unsigned int)__builtin_ctzl(live);

			if (!clear) { /* handler-pending: look, count, leave it pending */
				handled[(w * 64 + b) & 7]++;
				return;
			}
			if (__atomic_fetch_and(&si->evtchn_pending[w], ~BIT(b), __ATOMIC_SEQ_CST) & BIT(b))
				handled[(w * 64 + b) & 7]++;
		}
	}
}

static void upcall_isr(void *arg)
{
	struct vcpu_info *v = &si->vcpu_info[0];

	(void)arg;
	do {
		xen_ulong_t sel;

		if (is("upcall-order")) {
			sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		} else if (is("selector-xchg")) {
			__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
			volatile xen_ulong_t *s = &v->evtchn_pending_sel;

			sel = *s;
			*s = 0;
		} else {
			__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		}
		scan(sel, !is("handler-pending"));
		if (is("handler-pending"))
			break;
	} while (__atomic_load_n(&v->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
	if (is("eoi-twice"))
		gic_eoi(EVT_INTID);
}

/* The store-level breaks, on whichever vCPU runs this. */
static void break_rule(void)
{
	if (is("local-unmask")) {
		__atomic_fetch_or(&si->evtchn_mask[0], BIT(PORT_B), __ATOMIC_SEQ_CST);
		send(PORT_A);
		/* The bug: clearing the mask bit locally never re-raises the pending event. */
		__atomic_fetch_and(&si->evtchn_mask[0], ~BIT(PORT_B), __ATOMIC_SEQ_CST);
	} else if (is("plain-store")) {
		volatile xen_ulong_t *m = &si->evtchn_mask[0];

		*m = *m | BIT(PORT_B);
		__atomic_fetch_and(&si->evtchn_mask[0], ~BIT(PORT_B), __ATOMIC_SEQ_CST);
	} else if (is("guest-set")) {
		__atomic_fetch_or(&si->evtchn_pending[0], BIT(5), __ATOMIC_SEQ_CST);
		__atomic_fetch_and(&si->evtchn_pending[0], ~BIT(5), __ATOMIC_SEQ_CST);
	}
}

int main(void)
{
	bool ok = true;

	si = start("check-rules", si_frame);
	irq_connect(EVT_INTID, upcall_isr, NULL);
	gic_irq_enable(EVT_INTID);
	irq_enable();

	ok &= open_loopback();
	ok &= wait_handled(PORT_B, 1) || is("handler-pending");
	ok &= send(PORT_A) == 0;
	ok &= wait_handled(PORT_B, 2) || is("handler-pending");
	printk("loopback: %s\n", ok ? "ok" : "broken");

	if (mode_cpu == 1 && (is("local-unmask") || is("plain-store") || is("guest-set") || is("upcall-eoi"))) {
		/* The same break on vCPU 1 (Xen's virtual MPIDR of vCPU 1: Aff0 = 1). */
		if (is("upcall-eoi")) {
			struct vcpu_register_vcpu_info r = { .mfn = (uintptr_t)vcpu1_info >> 12, .offset = 0 };
			struct evtchn_bind_vcpu b = { .port = PORT_B, .vcpu = 1 };

			ok &= HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 1, &r) == 0;
			ok &= evtchn_op(EVTCHNOP_bind_vcpu, &b) == 0;
		}
		ok &= psci_call(PSCI_CPU_ON64, 1, (uintptr_t)check_secondary_entry, 0) == 0;
		for (unsigned long i = 0; i < SPIN_LIMIT && !secondary_done; i++)
			HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
		ok &= secondary_done == 1;
	} else if (is("local-unmask") || is("plain-store") || is("guest-set")) {
		break_rule();
	} else if (is("upcall-eoi")) {
		/* Take the upcall by polling the GIC with IRQs masked, and never EOI it. */
		irq_disable();
		send(PORT_A);
		uint32_t iar = gic_ack();

		printk("acked: %u\n", gic_iar_intid(iar));
		evtchn_port_t ports[1] = { PORT_A };
		struct sched_poll poll = { .nr_ports = 1, .timeout = 1 };

		set_xen_guest_handle(poll.ports, ports);
		HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
	} else if (is("use-after-close")) {
		struct evtchn_close c = { .port = PORT_A };

		evtchn_op(EVTCHNOP_close, &c);
		send(PORT_A);
	} else if (is("notify-unowned")) {
		send(7);
	} else if (is("bind-no-offer")) {
		struct evtchn_bind_interdomain b = { .remote_dom = DOMID_SELF, .remote_port = 9 };

		evtchn_op(EVTCHNOP_bind_interdomain, &b);
	} else if (!mode[0]) {
		/* Correct use: mask atomically, post while masked, EVTCHNOP_unmask re-raises it. */
		__atomic_fetch_or(&si->evtchn_mask[0], BIT(PORT_B), __ATOMIC_SEQ_CST);
		ok = unmask_delivers_then_close(ok);
	}
	finish(ok);
}
