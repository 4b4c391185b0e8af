/* SPDX-License-Identifier: MIT */
/*
 * Generic Interrupt Controller driver (drivers/gic/), GICv2 or GICv3 as
 * selected by BOARD_GIC_VERSION from the board devicetree. gic_init() runs
 * on the boot CPU; every other CPU calls gic_init_cpu() for its own banked
 * SGIs/PPIs, redistributor (GICv3) and CPU interface. "This CPU" is the one
 * making the call.
 *
 * INTIDs (IHI0069 2.2): 0-15 SGI, 16-31 PPI, 32-1019 SPI, 1020-1023 special.
 */
#ifndef XENVM_GIC_H
#define XENVM_GIC_H

#include <stdbool.h>
#include <stdint.h>

#include <board.h>

#define GIC_SGI_BASE          0
#define GIC_PPI_BASE          16
#define GIC_SPI_BASE          32
#define GIC_SPURIOUS_INTID    1023
#define GIC_PRIO_DEFAULT      0xa0
#define GIC_PMR_ALLOW_ALL     0xf0

/* Bring up distributor (+ redistributor) and CPU interface; all INTIDs disabled. */
int gic_init(void);
/* A secondary CPU: its redistributor (GICv3), banked SGIs/PPIs (disabled) and CPU interface. */
int gic_init_cpu(void);

/* Most CPUs the driver keeps per-CPU state for. */
#define GIC_MAX_CPUS 8

/*
 * This CPU's index as Xen numbers vCPUs: MPIDR Aff0 | Aff1 << 4 (Xen gives
 * vCPU n Aff0 = n % 16 and Aff1 = n / 16).
 */
static inline unsigned int gic_cpu_index(void)
{
	uint64_t mpidr;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	return (unsigned int)((mpidr & 0xf) | (((mpidr >> 8) & 0xff) << 4));
}
unsigned int gic_version(void);
/* Number of INTIDs the distributor implements (32 * (ITLinesNumber + 1)). */
unsigned int gic_nr_intids(void);

void gic_irq_enable(unsigned int intid);
void gic_irq_disable(unsigned int intid);
bool gic_irq_is_enabled(unsigned int intid);
bool gic_irq_is_pending(unsigned int intid);
void gic_irq_set_priority(unsigned int intid, uint8_t prio);
/* Level-sensitive (false) or edge-triggered (true); not for SGIs. */
void gic_irq_set_edge(unsigned int intid, bool edge);

/*
 * Acknowledge the highest-priority pending interrupt: returns the raw IAR
 * value (pass it back to gic_eoi unchanged); the INTID is gic_iar_intid().
 */
uint32_t gic_ack(void);
void gic_eoi(uint32_t iar);
#if BOARD_GIC_VERSION == 2
/* GICC_IAR: INTID [9:0], and for an SGI the requesting CPU in [12:10] (IHI0048B 4.4.4). */
static inline unsigned int gic_iar_intid(uint32_t iar) { return iar & 0x3ffu; }
#else
static inline unsigned int gic_iar_intid(uint32_t iar) { return iar & 0xffffffu; }
#endif

void gic_set_pmr(uint8_t pmr);
uint8_t gic_get_pmr(void);

/* Raise SGI `intid` (0..15) on this CPU. */
void gic_send_sgi_self(unsigned int intid);
/* Raise SGI `intid` on CPU `cpu` (by index), through the target list. */
void gic_send_sgi_to(unsigned int intid, unsigned int cpu);
/* Raise SGI `intid` on every CPU but this one (GICv2 filter 1, GICv3 IRM). */
void gic_send_sgi_others(unsigned int intid);

#endif
