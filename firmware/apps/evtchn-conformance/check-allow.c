// SPDX-License-Identifier: MIT
/*
 * evtchn-conformance compares Xen's answers to misuse with the real Xen's,
 * so it breaks these protocol-checker rules on purpose (docs/check.md):
 * bad and closed ports, binds without an offer, selector and upcall flags
 * written by hand to see what Xen does next, and a local unmask of a
 * pending port (the lost-event case itself).
 */
#include <xenvm/check.h>

XENVM_CHECK_ALLOW(bind_no_offer);
XENVM_CHECK_ALLOW(notify_unowned);
XENVM_CHECK_ALLOW(use_after_close);
XENVM_CHECK_ALLOW(guest_set);
XENVM_CHECK_ALLOW(selector_xchg);
XENVM_CHECK_ALLOW(local_unmask);
