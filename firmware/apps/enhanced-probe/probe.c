// SPDX-License-Identifier: MIT
/* The observation helpers of evtchn-conformance (apps link only their own directory). */
#include "../evtchn-conformance/probe.c"
