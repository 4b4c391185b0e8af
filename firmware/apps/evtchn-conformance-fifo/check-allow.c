// SPDX-License-Identifier: MIT
/* The same deliberate probes of Xen's error answers as the 2-level build: the same allowances. */
#include "../evtchn-conformance/check-allow.c"

/*
 * And the FIFO twins of its hand-written bits: between sections it resets
 * event words and head[] with plain stores (interrupts off, to observe what
 * Xen writes next), and unmasks a pending port locally (the lost event).
 */
XENVM_CHECK_ALLOW(fifo_plain_store);
XENVM_CHECK_ALLOW(fifo_head);
XENVM_CHECK_ALLOW(fifo_local_unmask);
