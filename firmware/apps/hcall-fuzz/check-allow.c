// SPDX-License-Identifier: MIT
/*
 * This app issues random hypercalls on purpose (test/fuzz): binds to ports nobody offered,
 * sends on ports it does not own and reuses closed ones are what it is for, not mistakes.
 */
#include <xenvm/check.h>

XENVM_CHECK_ALLOW(bind_no_offer);
XENVM_CHECK_ALLOW(notify_unowned);
XENVM_CHECK_ALLOW(use_after_close);
