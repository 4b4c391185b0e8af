/* SPDX-License-Identifier: MIT */
/*
 * Scheduler operations: HYPERVISOR_sched_op(cmd, arg).
 * Numbers/layouts from Xen 4.17 xen/include/public/sched.h; wording ours.
 */
#ifndef XEN_PUBLIC_SCHED_H
#define XEN_PUBLIC_SCHED_H

/*
 * By search path, not relative to this file: in a build against a Zephyr
 * tree (make ZEPHYR_BASE=...) <xen/public/...> is that tree's copy of the
 * Xen headers, and sched_poll must use its evtchn_port_t, not a second one.
 */
#include <xen/public/event_channel.h>

#define SCHEDOP_yield           0  /* arg unused */
#define SCHEDOP_block           1  /* sleep until an event is pending */
#define SCHEDOP_shutdown        2  /* struct sched_shutdown */
#define SCHEDOP_poll            3  /* struct sched_poll */
#define SCHEDOP_remote_shutdown 4  /* struct sched_remote_shutdown */
#define SCHEDOP_shutdown_code   5  /* struct sched_shutdown */
#define SCHEDOP_watchdog        6  /* struct sched_watchdog */
#define SCHEDOP_pin_override    7  /* struct sched_pin_override */

/* Reasons for SCHEDOP_shutdown. */
#define SHUTDOWN_poweroff   0
#define SHUTDOWN_reboot     1
#define SHUTDOWN_suspend    2
#define SHUTDOWN_crash      3
#define SHUTDOWN_watchdog   4
#define SHUTDOWN_soft_reset 5

#ifndef __ASSEMBLER__
#include <stdint.h>

struct sched_shutdown {
	unsigned int reason;  /* SHUTDOWN_* */
};

/* Block until one of <ports> is pending or <timeout> (ns system time). */
struct sched_poll {
	XEN_GUEST_HANDLE_64(evtchn_port_t) ports;
	unsigned int nr_ports;
	uint64_t timeout;
};

struct sched_remote_shutdown {
	domid_t domain_id;
	unsigned int reason;
};

struct sched_watchdog {
	uint32_t id;
	uint32_t timeout;
};

struct sched_pin_override {
	int32_t pcpu;
};

#endif /* !__ASSEMBLER__ */
#endif
