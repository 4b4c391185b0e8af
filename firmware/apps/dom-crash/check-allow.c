// SPDX-License-Identifier: MIT
/*
 * dom-crash shows that binding to a crashed peer's port fails (-EINVAL): a
 * bind without an offer, on purpose (docs/check.md).
 */
#include <xenvm/check.h>

XENVM_CHECK_ALLOW(bind_no_offer);
