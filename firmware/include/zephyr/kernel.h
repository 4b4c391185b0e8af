/* SPDX-License-Identifier: MIT */
/*
 * A minimal Zephyr-flavoured kernel layer for bare-metal guests: the
 * headers a Zephyr Xen driver expects <zephyr/kernel.h> to bring in, plus
 * the idle primitives the apps use. There are no threads: "the kernel" is
 * main() plus interrupt handlers.
 */
#ifndef ZEPHYR_SHIM_KERNEL_H
#define ZEPHYR_SHIM_KERNEL_H

#include <zephyr/types.h>
#include <zephyr/toolchain.h>
#include <zephyr/sys/util.h>
#include <zephyr/sys/__assert.h>
#include <zephyr/sys/atomic.h>
#include <zephyr/sys/sys_io.h>
#include <zephyr/sys/printk.h>
#include <zephyr/irq.h>

/*
 * Sleep until an interrupt, with IRQs locked by `key = irq_lock()`:
 * WFI wakes on a pending IRQ even while PSTATE.I masks it (Arm ARM D1.16.2),
 * then the key is restored and the IRQ is taken. The usual loop
 *     key = irq_lock(); while (!cond) { k_cpu_atomic_idle(key); key = irq_lock(); }
 *     irq_unlock(key);
 * cannot miss an event that arrives between the test and the sleep.
 */
void k_cpu_atomic_idle(unsigned int key);
/* WFI with IRQs unmasked afterwards (racy against a just-tested condition). */
void k_cpu_idle(void);
/* Give the physical CPU to another domain (SCHEDOP_yield). */
void k_yield(void);

#endif
