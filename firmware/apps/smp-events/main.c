// SPDX-License-Identifier: MIT
/*
 * smp-events: a domain with two vCPUs (dom0less `cpus = <2>`, `--cpus 2`).
 * vCPU 0 brings vCPU 1 up with PSCI CPU_ON, then checks where events and
 * interrupts land:
 *  - PSCI: AFFINITY_INFO, CPU_ON's errors (absent vCPU, Thumb entry, a vCPU
 *    that is already on), the context id in x0, CPU_OFF and CPU_ON again;
 *  - VCPUOP on Arm: only register_vcpu_info (and the runstate area) are
 *    accepted; up/down/is_up are refused;
 *  - vcpu_info: vCPU 1 has none until VCPUOP_register_vcpu_info, which
 *    leaves its selector full and its upcall pending;
 *  - event channels: an interdomain loopback port notifies vCPU 0 until
 *    EVTCHNOP_bind_vcpu moves it to vCPU 1; IPI ports (bind_ipi) in both
 *    directions;
 *  - SGIs between vCPUs: by target list, "all but self", and to self.
 *
 * Only vCPU 0 prints. vCPU 1 runs commands vCPU 0 posts in shared memory
 * and writes its observations back; every wait yields (SCHEDOP_yield) and
 * is bounded. Nothing printed depends on timing or scheduling, so the
 * transcript is the same under the real Xen and under the emulator.
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xen/hypercall.h>
#include <xen/public/errno.h>
#include <xen/public/event_channel.h>
#include <xen/public/memory.h>
#include <xen/public/sched.h>
#include <xen/public/vcpu.h>
#include <xenvm/arch.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>
#include <xenvm/smccc.h>

#define WAIT_ROUNDS 200000UL
#define NR_CPUS 2
#define NR_PORTS 64

/* ---------------------------------------------------------------- PSCI (DEN0022) */

/* Xen's virtual affinity of vCPU n: Aff0 = n % 16, Aff1 = n / 16. */
static uint64_t vaff(unsigned int n)
{
	return (n & 0xf) | ((uint64_t)(n >> 4) << 8);
}

/* ---------------------------------------------------------------- secondary entry */

extern char secondary_entry[];
uint8_t secondary_stack[0x4000] __attribute__((aligned(16), used));
void secondary_main(uint64_t context);

/*
 * Where CPU_ON starts vCPU 1: EL1h, DAIF masked, MMU off, x0 = context id.
 * A stack of its own, the shared vector table, then C.
 */
__asm__(".pushsection .text.secondary, \"ax\", %progbits\n"
	".globl secondary_entry\n"
	"secondary_entry:\n"
	"	msr daifset, #0xf\n"
	"	mov x19, x0\n"
	"	adrp x1, secondary_stack + 0x4000\n"
	"	add x1, x1, :lo12:secondary_stack + 0x4000\n"
	"	mov sp, x1\n"
	"	bl exc_install_vectors\n"
	"	mov x0, x19\n"
	"	bl secondary_main\n"
	"1:	wfi\n"
	"	b 1b\n"
	".popsection\n");

/* ---------------------------------------------------------------- shared state */

static uint8_t shinfo_page[4096] __attribute__((aligned(4096)));
static uint8_t vcpu1_info_page[4096] __attribute__((aligned(4096)));
static volatile struct shared_info *const shinfo = (volatile struct shared_info *)shinfo_page;

/* Per CPU: events handled per port, upcalls taken, SGIs taken per INTID. */
static volatile unsigned int got_port[NR_CPUS][NR_PORTS];
static volatile unsigned int upcalls[NR_CPUS];
static volatile unsigned int sgi_hits[NR_CPUS][16];

/* What vCPU 1 saw when it came up. */
static volatile uint64_t cpu1_context, cpu1_mpidr, cpu1_boot_sel;
static volatile unsigned int cpu1_boot_upcall, cpu1_index, cpu1_alive;

/* Commands from vCPU 0 to vCPU 1: posted with cmd_seq, acknowledged with done_seq. */
enum { OP_NONE, OP_ENABLE_IRQ, OP_SEND, OP_SGI_TO, OP_SGI_OTHERS, OP_REGISTER_VI, OP_CPU_OFF };
static volatile unsigned int cmd_seq, cmd_op, cmd_arg, cmd_arg2, done_seq;
static volatile long cmd_ret;

static bool all_ok = true;

static void yield(void)
{
	HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

static volatile struct vcpu_info *my_vcpu_info(unsigned int cpu)
{
	return cpu == 0 ? &shinfo->vcpu_info[0] : (volatile struct vcpu_info *)vcpu1_info_page;
}

/* ---------------------------------------------------------------- observations */

static void expect(const char *key, long got, long want)
{
	if (got != want)
		all_ok = false;
	printk("%s: %ld\n", key, got);
}

/* Wait (yielding) until *p reaches want; false on timeout. */
static bool wait_for(volatile unsigned int *p, unsigned int want)
{
	for (unsigned long i = 0; i < WAIT_ROUNDS; i++) {
		if (*p >= want)
			return true;
		yield();
	}
	return false;
}

/* ---------------------------------------------------------------- interrupts */

/*
 * The event-channel upcall on whichever CPU takes it (2-level ABI): clear
 * evtchn_upcall_pending, take this vCPU's selector, then every pending and
 * unmasked port of the selected words, clearing each pending bit.
 */
static void evtchn_isr(void *arg)
{
	(void)arg;
	unsigned int cpu = gic_cpu_index();
	volatile struct vcpu_info *vi = my_vcpu_info(cpu);

	if (cpu >= NR_CPUS)
		return;
	upcalls[cpu]++;
	vi->evtchn_upcall_pending = 0;
	uint64_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);

	while (sel) {
		unsigned int w = __builtin_ctzll(sel);

		sel &= sel - 1;
		uint64_t bits = shinfo->evtchn_pending[w] & ~shinfo->evtchn_mask[w];

		while (bits) {
			unsigned int b = __builtin_ctzll(bits);
			unsigned int port = w * 64 + b;

			bits &= bits - 1;
			__atomic_fetch_and(&shinfo->evtchn_pending[w], ~(1ull << b), __ATOMIC_SEQ_CST);
			if (port < NR_PORTS)
				got_port[cpu][port]++;
		}
	}
}

static void sgi_isr(void *arg)
{
	unsigned int cpu = gic_cpu_index();

	if (cpu < NR_CPUS)
		sgi_hits[cpu][(uintptr_t)arg & 0xf]++;
}

/* ---------------------------------------------------------------- hypercall helpers */

static long ev_send(evtchn_port_t port)
{
	struct evtchn_send s = { .port = port };

	return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

static long ev_bind_vcpu(evtchn_port_t port, uint32_t vcpu)
{
	struct evtchn_bind_vcpu b = { .port = port, .vcpu = vcpu };

	return HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &b);
}

static long ev_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_ipi b = { .vcpu = vcpu };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b);

	*port = b.port;
	return rc;
}

/* EVTCHNOP_status of our own port: the vCPU it notifies (or -errno). */
static long ev_notify_vcpu(evtchn_port_t port)
{
	struct evtchn_status s = { .dom = DOMID_SELF, .port = port };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_status, &s);

	return rc < 0 ? rc : (long)s.vcpu;
}

static long register_vcpu1_info(void)
{
	struct vcpu_register_vcpu_info r = { .mfn = (uintptr_t)vcpu1_info_page >> 12, .offset = 0 };

	return HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 1, &r);
}

/* ---------------------------------------------------------------- vCPU 1 */

void secondary_main(uint64_t context)
{
	volatile struct vcpu_info *vi = my_vcpu_info(1);

	cpu1_context = context;
	cpu1_mpidr = read_sysreg(mpidr_el1);
	cpu1_index = gic_cpu_index();
	/*
	 * Registration left the selector full and the upcall pending (Xen marks
	 * events pending), and an event sent while this vCPU was down left its
	 * bits too; CPU_ON dropped the interrupt itself, and none comes again
	 * while evtchn_upcall_pending stays set. So look now, as an upcall would.
	 */
	cpu1_boot_upcall = vi->evtchn_upcall_pending;
	cpu1_boot_sel = vi->evtchn_pending_sel;
	if (vi->evtchn_upcall_pending) {
		evtchn_isr(NULL);
		upcalls[1]--;   /* not an interrupt */
	}
	gic_init_cpu();
	gic_irq_enable(BOARD_XEN_EVTCHN_INTID);
	irq_enable();
	dmb(ish);
	cpu1_alive++;

	for (;;) {
		unsigned int seq = cmd_seq;

		if (seq == done_seq) {
			yield();
			continue;
		}
		long rc = 0;

		switch (cmd_op) {
		case OP_ENABLE_IRQ:
			gic_irq_enable(cmd_arg);
			break;
		case OP_SEND:
			rc = ev_send(cmd_arg);
			break;
		case OP_SGI_TO:
			gic_send_sgi_to(cmd_arg, cmd_arg2);
			break;
		case OP_SGI_OTHERS:
			gic_send_sgi_others(cmd_arg);
			break;
		case OP_REGISTER_VI:
			rc = register_vcpu1_info();
			break;
		case OP_CPU_OFF:
			irq_disable();
			cmd_ret = 0;
			dmb(ish);
			done_seq = seq;
			psci_call(PSCI_CPU_OFF, 0, 0, 0);
			/* Not reached: CPU_OFF does not return when it succeeds. */
			cpu1_alive = 1000;
			for (;;)
				wfi();
		}
		cmd_ret = rc;
		dmb(ish);
		done_seq = seq;
	}
}

/* Runs a command on vCPU 1 and waits for it; its result, or -1000 on timeout. */
static long on_cpu1(unsigned int op, unsigned int arg, unsigned int arg2)
{
	cmd_op = op;
	cmd_arg = arg;
	cmd_arg2 = arg2;
	dmb(ish);
	cmd_seq = cmd_seq + 1;
	if (!wait_for(&done_seq, cmd_seq))
		return -1000;
	return cmd_ret;
}

/* ---------------------------------------------------------------- tests */

static void test_psci_before(void)
{
	expect("affinity_info_cpu0", psci_call(PSCI_AFFINITY_INFO64, vaff(0), 0, 0), 0);
	expect("affinity_info_cpu1_down", psci_call(PSCI_AFFINITY_INFO64, vaff(1), 0, 0), 1);
	expect("affinity_info_cpu2_absent", psci_call(PSCI_AFFINITY_INFO64, vaff(2), 0, 0), 1);
	expect("affinity_info_level1", psci_call(PSCI_AFFINITY_INFO64, 0, 1, 0), 0);
	expect("affinity_info_level4", psci_call(PSCI_AFFINITY_INFO64, 0, 4, 0), -2);
	expect("cpu_on_absent_cpu2", psci_call(PSCI_CPU_ON64, vaff(2), (uintptr_t)secondary_entry, 0), -2);
	expect("cpu_on_self_already_on", psci_call(PSCI_CPU_ON64, vaff(0), (uintptr_t)secondary_entry, 0), -4);
	expect("cpu_on_thumb_entry", psci_call(PSCI_CPU_ON64, vaff(1), (uintptr_t)secondary_entry | 1, 0), -9);
}

static void test_vcpu_op(void)
{
	expect("vcpuop_is_up_1", HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), -XEN_EINVAL);
	expect("vcpuop_up_1", HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);
	expect("vcpuop_down_1", HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), -XEN_EINVAL);
	expect("vcpuop_is_up_2_absent", HYPERVISOR_vcpu_op(VCPUOP_is_up, 2, NULL), -XEN_ENOENT);
	/* Another vCPU's vcpu_info may be registered while it is down. */
	expect("register_vcpu1_info_while_down", register_vcpu1_info(), 0);
}

static bool bring_up_cpu1(uint64_t context, unsigned int alive_before)
{
	long rc = psci_call(PSCI_CPU_ON64, vaff(1), (uintptr_t)secondary_entry, context);

	expect("cpu_on_cpu1", rc, 0);
	if (rc != 0)
		return false;
	bool up = wait_for(&cpu1_alive, alive_before + 1);

	expect("cpu1_came_up", up, 1);
	printk("cpu1_context: 0x%lx\n", (unsigned long)cpu1_context);
	if (cpu1_context != context)
		all_ok = false;
	expect("cpu1_index", cpu1_index, 1);
	expect("cpu1_mpidr_aff", (long)(cpu1_mpidr & 0xff00ffffffull), 1);
	expect("cpu1_boot_upcall_pending", cpu1_boot_upcall, 1);
	printk("cpu1_boot_pending_sel: 0x%lx\n", (unsigned long)cpu1_boot_sel);
	return up;
}

/* An interdomain loopback pair: send on `from`, see which vCPU takes `to`. */
static void send_and_see(const char *what, evtchn_port_t from, evtchn_port_t to, unsigned int want_cpu)
{
	unsigned int before0 = got_port[0][to], before1 = got_port[1][to];
	unsigned int other = want_cpu ^ 1;

	expect("send", ev_send(from), 0);
	bool seen = wait_for(&got_port[want_cpu][to], (want_cpu ? before1 : before0) + 1);

	printk("%s: cpu0=%u cpu1=%u\n", what, got_port[0][to] - before0, got_port[1][to] - before1);
	if (!seen || got_port[other][to] != (other ? before1 : before0))
		all_ok = false;
}

static void test_bind_vcpu(void)
{
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	struct evtchn_bind_interdomain b = { .remote_dom = DOMID_SELF };

	expect("alloc_unbound_self", HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a), 0);
	b.remote_port = a.port;
	expect("bind_interdomain_self", HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b), 0);
	printk("loopback_ports: %u %u\n", a.port, b.local_port);

	expect("notify_vcpu_initial", ev_notify_vcpu(a.port), 0);
	send_and_see("delivered_before_bind_vcpu", b.local_port, a.port, 0);

	expect("bind_vcpu_to_1", ev_bind_vcpu(a.port, 1), 0);
	expect("notify_vcpu_after_bind", ev_notify_vcpu(a.port), 1);
	send_and_see("delivered_after_bind_vcpu", b.local_port, a.port, 1);

	expect("bind_vcpu_absent_2", ev_bind_vcpu(a.port, 2), -XEN_ENOENT);
	/* The other direction of the pair is still vCPU 0's. */
	send_and_see("reverse_delivered", a.port, b.local_port, 0);

	expect("bind_vcpu_back_to_0", ev_bind_vcpu(a.port, 0), 0);
	send_and_see("delivered_after_bind_back", b.local_port, a.port, 0);
}

static void test_ipis(evtchn_port_t *to_cpu1, evtchn_port_t *to_cpu0)
{
	expect("bind_ipi_vcpu1", ev_bind_ipi(1, to_cpu1), 0);
	expect("bind_ipi_vcpu0", ev_bind_ipi(0, to_cpu0), 0);
	printk("ipi_ports: %u %u\n", *to_cpu1, *to_cpu0);
	expect("ipi_notify_vcpu", ev_notify_vcpu(*to_cpu1), 1);
	expect("bind_ipi_absent_2", ev_bind_ipi(2, &(evtchn_port_t){ 0 }), -XEN_ENOENT);
	/* IPI ports cannot move (EVTCHNOP_bind_vcpu takes unbound, interdomain and global VIRQs). */
	expect("bind_vcpu_ipi", ev_bind_vcpu(*to_cpu1, 0), -XEN_EINVAL);

	/* vCPU 0 -> vCPU 1: an IPI port is sent to itself; the event goes to the bound vCPU. */
	send_and_see("ipi_0_to_1", *to_cpu1, *to_cpu1, 1);
	/* vCPU 1 -> vCPU 0. */
	unsigned int before = got_port[0][*to_cpu0];

	expect("cpu1_send_ipi", on_cpu1(OP_SEND, *to_cpu0, 0), 0);
	bool seen = wait_for(&got_port[0][*to_cpu0], before + 1);

	printk("ipi_1_to_0: cpu0=%u cpu1=%u\n", got_port[0][*to_cpu0] - before, got_port[1][*to_cpu0]);
	if (!seen || got_port[1][*to_cpu0] != 0)
		all_ok = false;
}

/* SGIs between the two CPU interfaces: every SGI is enabled on both. */
static void sgi_round(const char *what, unsigned int sgi, unsigned int op, unsigned int target,
		      unsigned int want0, unsigned int want1)
{
	unsigned int b0 = sgi_hits[0][sgi], b1 = sgi_hits[1][sgi];

	if (op == OP_NONE)
		gic_send_sgi_to(sgi, target);
	else if (op == OP_SGI_OTHERS && target == 0)
		gic_send_sgi_others(sgi);
	else
		on_cpu1(op, sgi, target);
	if (want0)
		wait_for(&sgi_hits[0][sgi], b0 + want0);
	if (want1)
		wait_for(&sgi_hits[1][sgi], b1 + want1);
	/* A short settle: an SGI delivered where it should not be would show up here. */
	for (int i = 0; i < 50; i++)
		yield();
	unsigned int h0 = sgi_hits[0][sgi] - b0, h1 = sgi_hits[1][sgi] - b1;

	printk("%s: cpu0=%u cpu1=%u\n", what, h0, h1);
	if (h0 != want0 || h1 != want1)
		all_ok = false;
}

static void test_sgis(void)
{
	for (unsigned int s = 1; s <= 6; s++) {
		irq_connect(s, sgi_isr, (void *)(uintptr_t)s);
		gic_irq_enable(s);
		expect("cpu1_enable_sgi", on_cpu1(OP_ENABLE_IRQ, s, 0), 0);
	}
	irq_enable();
	sgi_round("sgi_0_to_1_by_list", 1, OP_NONE, 1, 0, 1);
	sgi_round("sgi_0_to_0_by_list", 2, OP_NONE, 0, 1, 0);
	sgi_round("sgi_1_to_0_by_list", 3, OP_SGI_TO, 0, 1, 0);
	sgi_round("sgi_0_to_others", 4, OP_SGI_OTHERS, 0, 0, 1);
	sgi_round("sgi_1_to_others", 5, OP_SGI_OTHERS, 1, 1, 0);
	sgi_round("sgi_1_to_1_by_list", 6, OP_SGI_TO, 1, 0, 1);
	irq_disable();
}

static void test_cpu_off_on(evtchn_port_t to_cpu1)
{
	expect("cpu1_register_again", on_cpu1(OP_REGISTER_VI, 0, 0), -XEN_EINVAL);
	expect("cpu_on_cpu1_already_on", psci_call(PSCI_CPU_ON64, vaff(1), (uintptr_t)secondary_entry, 0), -4);
	expect("cpu1_cpu_off", on_cpu1(OP_CPU_OFF, 0, 0), 0);

	long aff = 0;

	for (unsigned long i = 0; i < WAIT_ROUNDS && aff == 0; i++) {
		aff = psci_call(PSCI_AFFINITY_INFO64, vaff(1), 0, 0);
		if (aff == 0)
			yield();
	}
	expect("affinity_info_cpu1_after_off", aff, 1);
	/* An event for a vCPU that is down waits in its vcpu_info. */
	expect("send_to_down_cpu1", ev_send(to_cpu1), 0);
	expect("cpu1_alive_count", cpu1_alive, 1);

	/* Up again with another context id: it starts over at the entry point. */
	unsigned int before = got_port[1][to_cpu1];

	if (bring_up_cpu1(0xbeef, 1)) {
		expect("event_sent_while_down_seen_at_boot", got_port[1][to_cpu1] - before, 1);
		send_and_see("ipi_after_restart", to_cpu1, to_cpu1, 1);
	}
	expect("affinity_info_cpu1_again", psci_call(PSCI_AFFINITY_INFO64, vaff(1), 0, 0), 0);
}

int main(void)
{
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0,
		.gpfn = (uintptr_t)shinfo_page >> 12,
	};

	if (gic_init() != 0) {
		printk("gic_init: failed\n");
		printk("Test result: FAILURE\n");
		xen_shutdown(SHUTDOWN_poweroff);
	}
	expect("map_shared_info", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x), 0);
	irq_connect(BOARD_XEN_EVTCHN_INTID, evtchn_isr, NULL);
	gic_irq_enable(BOARD_XEN_EVTCHN_INTID);
	irq_enable();

	test_psci_before();
	test_vcpu_op();
	if (!bring_up_cpu1(0x5eed, 0)) {
		printk("Test result: FAILURE\n");
		xen_shutdown(SHUTDOWN_poweroff);
	}
	expect("affinity_info_cpu1_up", psci_call(PSCI_AFFINITY_INFO64, vaff(1), 0, 0), 0);

	evtchn_port_t to_cpu1, to_cpu0;

	test_bind_vcpu();
	test_ipis(&to_cpu1, &to_cpu0);
	test_sgis();
	irq_enable();
	test_cpu_off_on(to_cpu1);

	printk("upcalls_taken: cpu0=%s cpu1=%s\n", upcalls[0] ? "yes" : "no", upcalls[1] ? "yes" : "no");
	printk("Test result: %s\n", all_ok ? "SUCCESS" : "FAILURE");
	xen_shutdown(SHUTDOWN_poweroff);
}
