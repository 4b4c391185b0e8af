// SPDX-License-Identifier: MIT
/* The same deliberate probes of Xen's error answers as the 2-level build: the same allowances. */
#include "../evtchn-conformance/check-allow.c"
