// SPDX-License-Identifier: MIT
/*
 * GICv2 driver: distributor (GICD) and memory-mapped CPU interface (GICC).
 * Register map: Arm IHI0048B "GIC Architecture Specification v2", 4.1.
 * Under Xen the CPU interface is the hardware's virtual CPU interface
 * (GICV), so GICC_CTLR bit 0 enables the group Xen injects into.
 * Nothing is active after reset, so ICACTIVER is left alone (Xen 4.17's
 * vGIC does not implement writes to it and logs each one).
 * All accesses are 32-bit (byte-wide registers are read-modify-written),
 * the one width every GIC implementation and emulator must accept.
 */
#include <board.h>

#if BOARD_GIC_VERSION == 2

#include <xenvm/arch.h>
#include <xenvm/gic.h>

#define GICD(off) ((uintptr_t)BOARD_GICD_BASE + (off))
#define GICC(off) ((uintptr_t)BOARD_GICC_BASE + (off))

/* Distributor (IHI0048B table 4-1). */
#define GICD_CTLR        0x000
#define GICD_TYPER       0x004
#define GICD_IGROUPR     0x080
#define GICD_ISENABLER   0x100
#define GICD_ICENABLER   0x180
#define GICD_ISPENDR     0x200
#define GICD_ICPENDR     0x280
#define GICD_ICACTIVER   0x380
#define GICD_IPRIORITYR  0x400
#define GICD_ITARGETSR   0x800
#define GICD_ICFGR       0xc00
#define GICD_SGIR        0xf00

#define GICD_CTLR_ENABLE 0x1
#define GICD_SGIR_TARGET_SELF (2u << 24)   /* TargetListFilter = requester only */

/* CPU interface (IHI0048B table 4-2). */
#define GICC_CTLR        0x00
#define GICC_PMR         0x04
#define GICC_BPR         0x08
#define GICC_IAR         0x0c
#define GICC_EOIR        0x10

#define GICC_CTLR_ENABLE 0x1

static unsigned int nr_intids;

unsigned int gic_version(void) { return 2; }
unsigned int gic_nr_intids(void) { return nr_intids; }

static void set_bit_reg(unsigned int base, unsigned int intid)
{
	mmio_write32(GICD(base + (intid / 32) * 4), 1u << (intid % 32));
}

static bool get_bit_reg(unsigned int base, unsigned int intid)
{
	return (mmio_read32(GICD(base + (intid / 32) * 4)) >> (intid % 32)) & 1;
}

/* Replace the `width`-bit field of `intid` in a packed register array. */
static void rmw_field(unsigned int base, unsigned int intid, unsigned int width, uint32_t val)
{
	unsigned int per_word = 32 / width;
	uintptr_t reg = GICD(base + (intid / per_word) * 4);
	unsigned int shift = (intid % per_word) * width;
	uint32_t mask = ((1u << width) - 1) << shift;

	mmio_write32(reg, (mmio_read32(reg) & ~mask) | ((val << shift) & mask));
}

int gic_init(void)
{
	mmio_write32(GICD(GICD_CTLR), 0);
	nr_intids = 32 * ((mmio_read32(GICD(GICD_TYPER)) & 0x1f) + 1);
	if (nr_intids > 1020)
		nr_intids = 1020;

	for (unsigned int i = GIC_SPI_BASE; i < nr_intids; i += 32) {
		mmio_write32(GICD(GICD_ICENABLER + i / 8), 0xffffffffu);
		mmio_write32(GICD(GICD_ICPENDR + i / 8), 0xffffffffu);
	}
	for (unsigned int i = GIC_SPI_BASE; i < nr_intids; i += 4)
		mmio_write32(GICD(GICD_IPRIORITYR + i), GIC_PRIO_DEFAULT * 0x01010101u);
	/* SPIs go to CPU 0 (ITARGETSR of SGIs/PPIs is read-only). */
	for (unsigned int i = GIC_SPI_BASE; i < nr_intids; i += 4)
		mmio_write32(GICD(GICD_ITARGETSR + i), 0x01010101u);
	mmio_write32(GICD(GICD_CTLR), GICD_CTLR_ENABLE);
	return gic_init_cpu();
}

int gic_init_cpu(void)
{
	/* The banked words of INTIDs 0..31 are this CPU's own (IHI0048B 4.3). */
	mmio_write32(GICD(GICD_ICENABLER), 0xffffffffu);
	mmio_write32(GICD(GICD_ICPENDR), 0xffffffffu);
	for (unsigned int i = 0; i < GIC_SPI_BASE; i += 4)
		mmio_write32(GICD(GICD_IPRIORITYR + i), GIC_PRIO_DEFAULT * 0x01010101u);

	mmio_write32(GICC(GICC_PMR), GIC_PMR_ALLOW_ALL);
	mmio_write32(GICC(GICC_BPR), 0);
	mmio_write32(GICC(GICC_CTLR), GICC_CTLR_ENABLE);
	return 0;
}

void gic_irq_enable(unsigned int intid)  { set_bit_reg(GICD_ISENABLER, intid); }
void gic_irq_disable(unsigned int intid) { set_bit_reg(GICD_ICENABLER, intid); }
bool gic_irq_is_enabled(unsigned int intid) { return get_bit_reg(GICD_ISENABLER, intid); }
bool gic_irq_is_pending(unsigned int intid) { return get_bit_reg(GICD_ISPENDR, intid); }

void gic_irq_set_priority(unsigned int intid, uint8_t prio)
{
	rmw_field(GICD_IPRIORITYR, intid, 8, prio);
}

void gic_irq_set_edge(unsigned int intid, bool edge)
{
	/* ICFGR: 2 bits per INTID, bit 1 of the field = edge-triggered. */
	if (intid >= GIC_PPI_BASE)
		rmw_field(GICD_ICFGR, intid, 2, edge ? 2 : 0);
}

uint32_t gic_ack(void)
{
	return mmio_read32(GICC(GICC_IAR));
}

void gic_eoi(uint32_t iar)
{
	mmio_write32(GICC(GICC_EOIR), iar);
}

void gic_set_pmr(uint8_t pmr)
{
	mmio_write32(GICC(GICC_PMR), pmr);
}

uint8_t gic_get_pmr(void)
{
	return (uint8_t)mmio_read32(GICC(GICC_PMR));
}

void gic_send_sgi_self(unsigned int intid)
{
	dsb(ishst);
	mmio_write32(GICD(GICD_SGIR), GICD_SGIR_TARGET_SELF | (intid & 0xf));
}

void gic_send_sgi_to(unsigned int intid, unsigned int cpu)
{
	/* TargetListFilter 0: the CPU interfaces named in CPUTargetList [23:16]. */
	dsb(ishst);
	mmio_write32(GICD(GICD_SGIR), (1u << (16 + (cpu & 7))) | (intid & 0xf));
}

void gic_send_sgi_others(unsigned int intid)
{
	/* TargetListFilter 1: every CPU interface but the requester's. */
	dsb(ishst);
	mmio_write32(GICD(GICD_SGIR), (1u << 24) | (intid & 0xf));
}

#endif /* BOARD_GIC_VERSION == 2 */
