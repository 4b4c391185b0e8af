// SPDX-License-Identifier: MIT
/*
 * events-api probes Xen's answers to a closed port on purpose (close_closed,
 * notify_closed): the protocol checker must not count them (docs/check.md).
 */
#include <xenvm/check.h>

XENVM_CHECK_ALLOW(use_after_close);
