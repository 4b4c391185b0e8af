/* SPDX-License-Identifier: MIT */
/*
 * xenvm additions to the Zephyr layer (lib/zephyr/xenvm.c): what an app
 * needs around the events API that a Zephyr kernel would do for it, plus
 * read-only peeks at shared_info for tests. Deliberately free of Xen public
 * types, so apps can include it next to a Zephyr tree's own Xen headers
 * (make ZEPHYR_BASE=...).
 */
#ifndef ZEPHYR_SHIM_XENVM_H
#define ZEPHYR_SHIM_XENVM_H

#include <stdbool.h>

/* Bring up the GIC and unmask IRQs at the CPU (Zephyr does this before main). */
int xenvm_kernel_init(void);

/*
 * Map Xen's shared_info page with XENMEM_add_to_physmap into a reserved
 * page of our .bss and publish it as HYPERVISOR_shared_info (what Zephyr's
 * arch code does at boot). 0 or Xen's -errno.
 */
int xenvm_map_shared_info(void);

/*
 * Select the FIFO event-channel ABI for our events library: put
 * XEN_EVENTS_USE_FIFO(); at file scope in one source of the app. Without it
 * the library uses 2-level. xen_events_init() falls back to 2-level if Xen
 * refuses EVTCHNOP_init_control.
 */
#define XEN_EVENTS_USE_FIFO() const bool xen_events_use_fifo = true

/* The port's pending / mask bit under the ABI in use, for observations in tests. */
bool xenvm_evtchn_is_pending(unsigned int port);
bool xenvm_evtchn_is_masked(unsigned int port);

/* Ports in the states the events API cannot create (for EVTCHNOP_status). */
int xenvm_evtchn_bind_ipi(unsigned int vcpu);
int xenvm_evtchn_bind_virq(unsigned int virq, unsigned int vcpu);

/* SCHEDOP_shutdown(poweroff). */
__attribute__((noreturn)) void xenvm_poweroff(void);

/*
 * Our own domid. A dom0less domU has no xenstore to ask, but the status of a port it
 * allocates for DOMID_SELF names it as the remote end. Negative errno on failure.
 */
int xenvm_my_domid(void);

/*
 * Sleeps until *counter >= n (a callback bumps it). IRQs stay locked between the check and
 * the WFI, so a notification cannot slip in after the check and leave us asleep.
 */
void xenvm_wait_for(volatile unsigned int *counter, unsigned int n);

/* An event callback that counts: `priv` points at a volatile unsigned int. */
void xenvm_count_cb(void *priv);

#endif
