// SPDX-License-Identifier: MIT
/*
 * GICv3 driver: distributor (GICD) and redistributor (GICR) MMIO, CPU
 * interface through the ICC_* system registers. Register map and bit
 * layouts: Arm IHI0069 "GIC Architecture Specification v3/v4", chapter 12.
 * Nothing is active after reset, so ICACTIVER is left alone (Xen 4.17's
 * vGIC does not implement writes to it and logs each one).
 * Affinity routing is always on for a Xen guest (GICD_CTLR.ARE_NS reads 1).
 *
 * The ICC registers are written as S3_<op1>_C<n>_C<m>_<op2> encodings so
 * that any assembler accepts them without -march=...+gic flags.
 */
#include <board.h>

#if BOARD_GIC_VERSION == 3

#include <xenvm/arch.h>
#include <xenvm/gic.h>

/* CPU interface system registers (IHI0069 12.2). */
#define ICC_PMR_EL1     S3_0_C4_C6_0
#define ICC_IAR1_EL1    S3_0_C12_C12_0
#define ICC_EOIR1_EL1   S3_0_C12_C12_1
#define ICC_BPR1_EL1    S3_0_C12_C12_3
#define ICC_CTLR_EL1    S3_0_C12_C12_4
#define ICC_SRE_EL1     S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_SGI1R_EL1   S3_0_C12_C11_5

/* One macro level so ICC_* expands to its encoding before being stringified. */
#define read_icc(r)      read_sysreg(r)
#define write_icc(r, v)  write_sysreg(r, v)

#define GICD(off) ((uintptr_t)BOARD_GICD_BASE + (off))

/* Distributor (IHI0069 12.9). */
#define GICD_CTLR        0x0000
#define GICD_TYPER       0x0004
#define GICD_IGROUPR     0x0080
#define GICD_ISENABLER   0x0100
#define GICD_ICENABLER   0x0180
#define GICD_ISPENDR     0x0200
#define GICD_ICPENDR     0x0280
#define GICD_ICACTIVER   0x0380
#define GICD_IPRIORITYR  0x0400
#define GICD_ICFGR       0x0c00
#define GICD_IROUTER     0x6000

#define GICD_CTLR_RWP        (1u << 31)
#define GICD_CTLR_ARE_NS     (1u << 4)
#define GICD_CTLR_ENABLE_G1A (1u << 1)
#define GICD_CTLR_ENABLE_G1  (1u << 0)

/* Redistributor: RD_base frame, then SGI_base frame 64 KiB above (12.10/12.11). */
#define GICR_FRAME_STRIDE  0x20000
#define GICR_SGI_OFFSET    0x10000
#define GICR_CTLR          0x0000
#define GICR_TYPER         0x0008
#define GICR_WAKER         0x0014
#define GICR_TYPER_LAST    (1u << 4)
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)
#define GICR_IGROUPR0      0x0080
#define GICR_ISENABLER0    0x0100
#define GICR_ICENABLER0    0x0180
#define GICR_ISPENDR0      0x0200
#define GICR_ICPENDR0      0x0280
#define GICR_ICACTIVER0    0x0380
#define GICR_IPRIORITYR    0x0400
#define GICR_ICFGR0        0x0c00

/* Each CPU's RD_base, found by affinity; rd_base is this CPU's. */
static uintptr_t rd_bases[GIC_MAX_CPUS];
#define rd_base (rd_bases[gic_cpu_index() % GIC_MAX_CPUS])
static unsigned int nr_intids;

unsigned int gic_version(void) { return 3; }
unsigned int gic_nr_intids(void) { return nr_intids; }

static uintptr_t sgi_base(void) { return rd_base + GICR_SGI_OFFSET; }

/* SGIs/PPIs live in the redistributor, SPIs in the distributor. */
static uintptr_t bank_reg(unsigned int gicd_off, unsigned int gicr_off, unsigned int intid,
			  unsigned int per_word)
{
	if (intid < GIC_SPI_BASE)
		return sgi_base() + gicr_off + (intid / per_word) * 4;
	return GICD(gicd_off + (intid / per_word) * 4);
}

static void rmw(uintptr_t reg, unsigned int shift, uint32_t mask, uint32_t val)
{
	mmio_write32(reg, (mmio_read32(reg) & ~(mask << shift)) | ((val & mask) << shift));
}

static void wait_rwp(void)
{
	for (int i = 0; i < 1000000; i++) {
		if (!(mmio_read32(GICD(GICD_CTLR)) & GICD_CTLR_RWP))
			return;
	}
}

/* Aff3.Aff2.Aff1.Aff0 of this CPU, packed as in GICR_TYPER[63:32]. */
static uint32_t my_affinity(void)
{
	uint64_t mpidr = read_sysreg(mpidr_el1);

	return (uint32_t)(((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff));
}

static int find_redistributor(void)
{
	uint32_t aff = my_affinity();

	for (uintptr_t frame = BOARD_GICR_BASE;
	     frame < (uintptr_t)BOARD_GICR_BASE + BOARD_GICR_SIZE; frame += GICR_FRAME_STRIDE) {
		uint64_t typer = mmio_read64(frame + GICR_TYPER);

		if ((uint32_t)(typer >> 32) == aff) {
			rd_base = frame;
			return 0;
		}
		if (typer & GICR_TYPER_LAST)
			break;
	}
	return -1;
}

int gic_init(void)
{
	/* System-register interface on (ICC_SRE_EL1.SRE); Xen forces it anyway. */
	write_icc(ICC_SRE_EL1, read_icc(ICC_SRE_EL1) | 1);
	isb();

	mmio_write32(GICD(GICD_CTLR), 0);
	wait_rwp();
	nr_intids = 32 * ((mmio_read32(GICD(GICD_TYPER)) & 0x1f) + 1);
	if (nr_intids > 1020)
		nr_intids = 1020;

	for (unsigned int i = GIC_SPI_BASE; i < nr_intids; i += 32) {
		mmio_write32(GICD(GICD_ICENABLER + i / 8), 0xffffffffu);
		mmio_write32(GICD(GICD_ICPENDR + i / 8), 0xffffffffu);
		mmio_write32(GICD(GICD_IGROUPR + i / 8), 0xffffffffu);
	}
	for (unsigned int i = GIC_SPI_BASE; i < nr_intids; i += 4)
		mmio_write32(GICD(GICD_IPRIORITYR + i), GIC_PRIO_DEFAULT * 0x01010101u);
	/* Route every SPI to this CPU by affinity. */
	uint32_t aff = my_affinity();
	uint64_t route = ((uint64_t)(aff >> 24) << 32) | (aff & 0xffffff);

	for (unsigned int i = GIC_SPI_BASE; i < nr_intids; i++)
		mmio_write64(GICD(GICD_IROUTER + i * 8), route);
	mmio_write32(GICD(GICD_CTLR), GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1);
	wait_rwp();

	return gic_init_cpu();
}

int gic_init_cpu(void)
{
	if (find_redistributor() != 0)
		return -1;
	/* Wake the redistributor (IHI0069 12.11.42) before using its PPIs/SGIs. */
	mmio_write32(rd_base + GICR_WAKER,
		     mmio_read32(rd_base + GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
	for (int i = 0; i < 1000000; i++) {
		if (!(mmio_read32(rd_base + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP))
			break;
	}
	mmio_write32(sgi_base() + GICR_ICENABLER0, 0xffffffffu);
	mmio_write32(sgi_base() + GICR_ICPENDR0, 0xffffffffu);
	mmio_write32(sgi_base() + GICR_IGROUPR0, 0xffffffffu);
	for (unsigned int i = 0; i < GIC_SPI_BASE; i += 4)
		mmio_write32(sgi_base() + GICR_IPRIORITYR + i, GIC_PRIO_DEFAULT * 0x01010101u);

	write_icc(ICC_PMR_EL1, GIC_PMR_ALLOW_ALL);
	write_icc(ICC_BPR1_EL1, 0);
	write_icc(ICC_CTLR_EL1, 0);       /* EOImode 0: EOIR drops priority and deactivates */
	write_icc(ICC_IGRPEN1_EL1, 1);
	isb();
	return 0;
}

void gic_irq_enable(unsigned int intid)
{
	mmio_write32(bank_reg(GICD_ISENABLER, GICR_ISENABLER0, intid, 32), 1u << (intid % 32));
}

void gic_irq_disable(unsigned int intid)
{
	mmio_write32(bank_reg(GICD_ICENABLER, GICR_ICENABLER0, intid, 32), 1u << (intid % 32));
	if (intid >= GIC_SPI_BASE)
		wait_rwp();
}

bool gic_irq_is_enabled(unsigned int intid)
{
	return (mmio_read32(bank_reg(GICD_ISENABLER, GICR_ISENABLER0, intid, 32)) >> (intid % 32)) & 1;
}

bool gic_irq_is_pending(unsigned int intid)
{
	return (mmio_read32(bank_reg(GICD_ISPENDR, GICR_ISPENDR0, intid, 32)) >> (intid % 32)) & 1;
}

void gic_irq_set_priority(unsigned int intid, uint8_t prio)
{
	rmw(bank_reg(GICD_IPRIORITYR, GICR_IPRIORITYR, intid, 4), (intid % 4) * 8, 0xff, prio);
}

void gic_irq_set_edge(unsigned int intid, bool edge)
{
	if (intid >= GIC_PPI_BASE)
		rmw(bank_reg(GICD_ICFGR, GICR_ICFGR0, intid, 16), (intid % 16) * 2, 0x3, edge ? 2 : 0);
}

uint32_t gic_ack(void)
{
	uint32_t iar = (uint32_t)read_icc(ICC_IAR1_EL1);

	dsb(sy);  /* order the acknowledge before the handler's device accesses */
	return iar;
}

void gic_eoi(uint32_t iar)
{
	write_icc(ICC_EOIR1_EL1, iar);
	isb();
}

void gic_set_pmr(uint8_t pmr)
{
	write_icc(ICC_PMR_EL1, pmr);
	isb();
}

uint8_t gic_get_pmr(void)
{
	return (uint8_t)read_icc(ICC_PMR_EL1);
}

void gic_send_sgi_self(unsigned int intid)
{
	uint64_t mpidr = read_sysreg(mpidr_el1);
	/* ICC_SGI1R_EL1: Aff3[55:48] Aff2[39:32] INTID[27:24] Aff1[23:16] TargetList[15:0]. */
	uint64_t v = (((mpidr >> 32) & 0xff) << 48) | (((mpidr >> 16) & 0xff) << 32) |
		     ((uint64_t)(intid & 0xf) << 24) | (((mpidr >> 8) & 0xff) << 16) |
		     (1u << (mpidr & 0xf));

	dsb(ishst);
	write_icc(ICC_SGI1R_EL1, v);
	isb();
}

void gic_send_sgi_to(unsigned int intid, unsigned int cpu)
{
	/* The CPU with Aff1 = cpu / 16, Aff0 = cpu % 16 (Aff2 = Aff3 = 0): its TargetList bit. */
	uint64_t v = ((uint64_t)(intid & 0xf) << 24) | ((uint64_t)((cpu >> 4) & 0xff) << 16) | (1u << (cpu & 0xf));

	dsb(ishst);
	write_icc(ICC_SGI1R_EL1, v);
	isb();
}

void gic_send_sgi_others(unsigned int intid)
{
	/* ICC_SGI1R_EL1.IRM (bit 40): every PE but the requester. */
	dsb(ishst);
	write_icc(ICC_SGI1R_EL1, (1ull << 40) | ((uint64_t)(intid & 0xf) << 24));
	isb();
}

#endif /* BOARD_GIC_VERSION == 3 */
