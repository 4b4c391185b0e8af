/* SPDX-License-Identifier: MIT */
/*
 * Test fixture: a small events driver written against the same headers and
 * kernel macros as a Zephyr tree's drivers/xen/events.c (include lines,
 * LOG_*, __ASSERT, ARG_UNUSED, IRQ_CONNECT + DT_IRQ_BY_IDX, sys_bitfield_*,
 * barrier_dmem_fence_full, __atomic_exchange_n, __builtin_ffsl and the
 * extern HYPERVISOR_shared_info). Its events are "missed" when they beat
 * the callback, the way a driver that registers after the hypercall does.
 *
 * -DFAKE_VOID_API (see events.h) also switches to the instance-based
 * devicetree macros (DT_DRV_COMPAT + DT_INST_IRQ_BY_IDX) and relies on
 * irq.h for them, as some Zephyr trees' drivers do.
 */
#ifdef FAKE_VOID_API
#define DT_DRV_COMPAT xen_xen
#endif
#include <zephyr/arch/arm64/hypercall.h>
#include <zephyr/xen/public/xen.h>
#include <zephyr/xen/public/event_channel.h>
#include <zephyr/xen/events.h>
#include <zephyr/sys/barrier.h>

#include <errno.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/irq.h>
#ifndef FAKE_VOID_API
#include <zephyr/devicetree.h>
#endif

LOG_MODULE_REGISTER(fake_xen_events);

extern shared_info_t *HYPERVISOR_shared_info;

const char fake_zephyr_tree_marker[] = "fake zephyr tree";

static evtchn_handle_t table[EVTCHN_2L_NR_CHANNELS];
static bool missed[EVTCHN_2L_NR_CHANNELS];

static int op(int cmd, void *arg)
{
	return HYPERVISOR_event_channel_op(cmd, arg);
}

int evtchn_status(evtchn_status_t *status) { return op(EVTCHNOP_status, status); }

int evtchn_close(evtchn_port_t port)
{
	struct evtchn_close a = { .port = port };

	return op(EVTCHNOP_close, &a);
}

int evtchn_set_priority(evtchn_port_t port, uint32_t priority)
{
	struct evtchn_set_priority a = { .port = port, .priority = priority };

	return op(EVTCHNOP_set_priority, &a);
}

#ifdef FAKE_VOID_API
void notify_evtchn(evtchn_port_t port)
{
	struct evtchn_send a = { .port = port };

	__ASSERT(port < EVTCHN_2L_NR_CHANNELS, "port %u", port);
	op(EVTCHNOP_send, &a);
}
#else
int notify_evtchn(evtchn_port_t port)
{
	struct evtchn_send a = { .port = port };

	__ASSERT(port < EVTCHN_2L_NR_CHANNELS, "port %u", port);
	return op(EVTCHNOP_send, &a);
}
#endif

static int alloc(domid_t dom, domid_t remote)
{
	struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote };
	int rc = op(EVTCHNOP_alloc_unbound, &a);

	return rc == 0 ? (int)a.port : rc;
}

int alloc_unbound_event_channel(domid_t remote_dom) { return alloc(DOMID_SELF, remote_dom); }
#ifdef CONFIG_XEN_DOM0
int alloc_unbound_event_channel_dom0(domid_t dom, domid_t remote_dom) { return alloc(dom, remote_dom); }
#endif

int bind_event_channel(evtchn_port_t port, evtchn_cb_t cb, void *data)
{
	__ASSERT(port < EVTCHN_2L_NR_CHANNELS && cb != NULL, "port %u", port);
	table[port].priv = data;
	table[port].cb = cb;
	return 0;
}

int bind_interdomain_event_channel(domid_t remote_dom, evtchn_port_t remote_port,
				   evtchn_cb_t cb, void *data)
{
	struct evtchn_bind_interdomain a = { .remote_dom = remote_dom, .remote_port = remote_port };
	int rc = op(EVTCHNOP_bind_interdomain, &a);

	if (rc != 0)
		return rc;
	bind_event_channel(a.local_port, cb, data);
	return (int)a.local_port;
}

int unbind_event_channel(evtchn_port_t port)
{
	table[port].cb = NULL;
	missed[port] = false;
	return 0;
}

int get_missed_events(evtchn_port_t port)
{
	int was = missed[port];

	missed[port] = false;
	return was;
}

int mask_event_channel(evtchn_port_t port)
{
	sys_bitfield_set_bit((mem_addr_t)HYPERVISOR_shared_info->evtchn_mask, port);
	return 0;
}

int unmask_event_channel(evtchn_port_t port)
{
#ifdef FAKE_NAIVE_UNMASK
	/* Bug on purpose: a pending event stays pending, nobody is told. */
	sys_bitfield_clear_bit((mem_addr_t)HYPERVISOR_shared_info->evtchn_mask, port);
	return 0;
#else
	struct evtchn_unmask a = { .port = port };

	return op(EVTCHNOP_unmask, &a);
#endif
}

#ifdef FAKE_VOID_API
static
#endif
void clear_event_channel(evtchn_port_t port)
{
	sys_bitfield_clear_bit((mem_addr_t)HYPERVISOR_shared_info->evtchn_pending, port);
}

static void isr(void *arg)
{
	vcpu_info_t *v = &HYPERVISOR_shared_info->vcpu_info[0];

	ARG_UNUSED(arg);
	v->evtchn_upcall_pending = 0;
	barrier_dmem_fence_full();
	xen_ulong_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);

	while (sel != 0) {
		unsigned int w = __builtin_ffsl(sel) - 1;

		sel &= ~((xen_ulong_t)1 << w);
		for (;;) {
			xen_ulong_t live = HYPERVISOR_shared_info->evtchn_pending[w] &
					   ~HYPERVISOR_shared_info->evtchn_mask[w];

			if (live == 0)
				break;
			evtchn_port_t port = w * 64 + (__builtin_ffsl(live) - 1);

			clear_event_channel(port);
			if (table[port].cb != NULL)
				table[port].cb(table[port].priv);
			else
				missed[port] = true;
		}
	}
}

int xen_events_init(void)
{
	if (HYPERVISOR_shared_info == NULL) {
		LOG_ERR("%s: shared_info not mapped", __func__);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < EVTCHN_2L_NR_CHANNELS; i++) {
		table[i].cb = NULL;
		missed[i] = false;
	}
#ifdef FAKE_VOID_API
	IRQ_CONNECT(DT_INST_IRQ_BY_IDX(0, 0, irq), DT_INST_IRQ_BY_IDX(0, 0, priority), isr, NULL,
		    DT_INST_IRQ_BY_IDX(0, 0, flags));
	irq_enable(DT_INST_IRQ_BY_IDX(0, 0, irq));
#else
	IRQ_CONNECT(DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, irq),
		    DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, priority), isr, NULL,
		    DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, flags));
	irq_enable(DT_IRQ_BY_IDX(DT_INST(0, xen_xen), 0, irq));
#endif
	LOG_INF("%s: ready", __func__);
	return 0;
}
