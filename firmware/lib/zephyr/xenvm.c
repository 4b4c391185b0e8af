// SPDX-License-Identifier: MIT
/* xenvm additions to the Zephyr layer (include/zephyr/xenvm.h). */
#include <stddef.h>

#include <xen/hypercall.h>
#include <xen/public/event_channel.h>
#include <xen/public/sched.h>
#include <xenvm/gic.h>
#include <zephyr/irq.h>
#include <zephyr/kernel.h>
#include <zephyr/xenvm.h>

extern struct shared_info *HYPERVISOR_shared_info;

/*
 * The FIFO driver of our events library (evtchn_fifo.c). Weak: with a Zephyr
 * tree's events.c (make ZEPHYR_BASE=...) it is absent and ports are 2-level.
 */
extern volatile event_word_t *evtchn_fifo_word(evtchn_port_t port) __attribute__((weak));

/* The FIFO event word of `port`, or NULL on the 2-level ABI. */
static volatile event_word_t *fifo_word(unsigned int port)
{
	return evtchn_fifo_word != NULL ? evtchn_fifo_word(port) : NULL;
}

#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))

int xenvm_kernel_init(void)
{
	int rc = gic_init();

	if (rc != 0)
		return rc;
	irq_unlock(0);
	return 0;
}

static bool test_word_bit(const xen_ulong_t *words, unsigned int port)
{
	if (HYPERVISOR_shared_info == NULL || port >= EVTCHN_2L_NR_CHANNELS)
		return false;
	return (__atomic_load_n(&words[port / BITS_PER_WORD], __ATOMIC_SEQ_CST) >>
		(port % BITS_PER_WORD)) & 1;
}

bool xenvm_evtchn_is_pending(unsigned int port)
{
	volatile event_word_t *w = fifo_word(port);

	if (w != NULL)
		return (__atomic_load_n(w, __ATOMIC_SEQ_CST) >> EVTCHN_FIFO_PENDING) & 1;
	return HYPERVISOR_shared_info != NULL &&
	       test_word_bit(HYPERVISOR_shared_info->evtchn_pending, port);
}

bool xenvm_evtchn_is_masked(unsigned int port)
{
	volatile event_word_t *w = fifo_word(port);

	if (w != NULL)
		return (__atomic_load_n(w, __ATOMIC_SEQ_CST) >> EVTCHN_FIFO_MASKED) & 1;
	return HYPERVISOR_shared_info != NULL &&
	       test_word_bit(HYPERVISOR_shared_info->evtchn_mask, port);
}

int xenvm_evtchn_bind_ipi(unsigned int vcpu)
{
	struct evtchn_bind_ipi arg = { .vcpu = vcpu };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &arg);

	return rc == 0 ? (int)arg.port : (int)rc;
}

int xenvm_evtchn_bind_virq(unsigned int virq, unsigned int vcpu)
{
	struct evtchn_bind_virq arg = { .virq = virq, .vcpu = vcpu };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &arg);

	return rc == 0 ? (int)arg.port : (int)rc;
}

void xenvm_poweroff(void)
{
	xen_shutdown(SHUTDOWN_poweroff);
}

int xenvm_my_domid(void)
{
	struct evtchn_alloc_unbound alloc = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &alloc);

	if (rc < 0)
		return (int)rc;
	struct evtchn_status st = { .dom = DOMID_SELF, .port = alloc.port };

	rc = HYPERVISOR_event_channel_op(EVTCHNOP_status, &st);
	struct evtchn_close close = { .port = alloc.port };

	HYPERVISOR_event_channel_op(EVTCHNOP_close, &close);
	return rc < 0 ? (int)rc : (int)st.u.unbound.dom;
}

void xenvm_wait_for(volatile unsigned int *counter, unsigned int n)
{
	unsigned int key = irq_lock();

	while (*counter < n) {
		k_cpu_atomic_idle(key);
		key = irq_lock();
	}
	irq_unlock(key);
}

void xenvm_count_cb(void *priv)
{
	volatile unsigned int *counter = priv;

	(*counter)++;
}
