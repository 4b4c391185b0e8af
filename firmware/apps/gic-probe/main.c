// SPDX-License-Identifier: MIT
/*
 * gic-probe: the virtual GIC registers Linux 6.1's irq-gic (GICv2, IHI0048B)
 * and irq-gic-v3 (IHI0069) drivers read and write while they bring up a
 * plain dom0less domU, as the hypervisor presents them: identification,
 * reset values, which writes stick, which accesses abort or are undefined.
 * Each line is "name: value" (or "name: abort ESR" / "name: undef"); the
 * values are what the real Xen 4.17 shows, and the emulator must match.
 * No interrupt is delivered here: delivery is gic-sgi's and gic-evtchn's.
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xenvm/arch.h>
#include <xenvm/exception.h>
#include <xenvm/printk.h>

/* ---------------------------------------------------------------- faulting accesses */

static volatile unsigned int faults;
static volatile uint64_t fault_esr;

/* Steps over a data abort (EC 0x25) or an undefined instruction (EC 0) and records it. */
static bool fault_hook(struct exc_frame *f)
{
	uint64_t ec = ESR_EC(f->esr);

	if (ec != ESR_EC_DABT_CUR && ec != ESR_EC_UNKNOWN)
		return false;
	if (faults > 1000)
		return false;
	faults++;
	fault_esr = f->esr;
	f->elr += 4;
	return true;
}

static void report(const char *name, uint64_t v, unsigned int before)
{
	if (faults == before)
		printk("%s: 0x%lx\n", name, (unsigned long)v);
	else if (ESR_EC(fault_esr) == ESR_EC_UNKNOWN)
		printk("%s: undef\n", name);
	else
		printk("%s: abort esr=0x%lx\n", name, (unsigned long)fault_esr);
}

static void rd32(const char *name, uintptr_t a)
{
	unsigned int b = faults;
	uint32_t v = 0;

	__asm__ volatile("ldr %w0, [%1]" : "+r"(v) : "r"(a) : "memory");
	report(name, v, b);
}

__attribute__((unused)) static void rd8(const char *name, uintptr_t a)
{
	unsigned int b = faults;
	uint32_t v = 0;

	__asm__ volatile("ldrb %w0, [%1]" : "+r"(v) : "r"(a) : "memory");
	report(name, v, b);
}

__attribute__((unused)) static void rd64(const char *name, uintptr_t a)
{
	unsigned int b = faults;
	uint64_t v = 0;

	__asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(a) : "memory");
	report(name, v, b);
}

/* A write; printed only when it faults ("name: written" otherwise). */
static void wr32(const char *name, uintptr_t a, uint32_t v)
{
	unsigned int b = faults;

	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(a) : "memory");
	if (faults != b)
		report(name, 0, b);
}

__attribute__((unused)) static void wr8(const char *name, uintptr_t a, uint8_t v)
{
	unsigned int b = faults;

	__asm__ volatile("strb %w0, [%1]" : : "r"(v), "r"(a) : "memory");
	if (faults != b)
		report(name, 0, b);
}

__attribute__((unused)) static void wr64(const char *name, uintptr_t a, uint64_t v)
{
	unsigned int b = faults;

	__asm__ volatile("str %0, [%1]" : : "r"(v), "r"(a) : "memory");
	if (faults != b)
		report(name, 0, b);
}

#define D(off) ((uintptr_t)BOARD_GICD_BASE + (off))

#if BOARD_GIC_VERSION == 2
#define C(off) ((uintptr_t)BOARD_GICC_BASE + (off))

static void probe(void)
{
	/* Distributor identification and reset state (what gic_init_bases / gic_dist_init read). */
	rd32("gicd_ctlr", D(0x000));
	rd32("gicd_typer", D(0x004));
	rd32("gicd_iidr", D(0x008));
	rd32("gicd_reserved_00c", D(0x00c));
	rd32("gicd_igroupr0", D(0x080));
	rd32("gicd_igroupr1", D(0x084));
	rd32("gicd_isenabler0", D(0x100));
	rd32("gicd_isenabler1", D(0x104));
	rd32("gicd_ispendr0", D(0x200));
	rd32("gicd_isactiver0", D(0x300));
	rd32("gicd_ipriorityr0", D(0x400));
	rd32("gicd_ipriorityr8", D(0x420));
	rd32("gicd_itargetsr0", D(0x800));
	rd32("gicd_itargetsr7", D(0x81c));
	rd32("gicd_itargetsr8", D(0x820));
	rd32("gicd_icfgr0", D(0xc00));
	rd32("gicd_icfgr1", D(0xc04));
	rd32("gicd_icfgr2", D(0xc08));
	rd32("gicd_nsacr0", D(0xe00));
	rd32("gicd_sgir_read", D(0xf00));
	rd32("gicd_cpendsgir0", D(0xf10));
	rd32("gicd_spendsgir0", D(0xf20));
	rd32("gicd_pidr2", D(0xfe8));
	rd32("gicd_pidr0", D(0xfe0));
	rd32("gicd_cidr0", D(0xff0));
	rd8("gicd_ipriorityr_byte", D(0x400));
	rd8("gicd_itargetsr_byte", D(0x800));
	rd8("gicd_ctlr_byte", D(0x000));

	/* What Linux's gic_dist_init / gic_cpu_init write. */
	wr32("gicd_ctlr_w0", D(0x000), 0);
	rd32("gicd_ctlr_after_0", D(0x000));
	wr32("gicd_icfgr2_w", D(0xc08), 0x2);
	rd32("gicd_icfgr2_after_edge", D(0xc08));
	wr32("gicd_icfgr2_w0", D(0xc08), 0);
	rd32("gicd_icfgr2_after_level", D(0xc08));
	wr32("gicd_icfgr1_w", D(0xc04), 0);
	rd32("gicd_icfgr1_after_0", D(0xc04));
	wr32("gicd_icfgr1_w2", D(0xc04), 0xffffffff);
	rd32("gicd_icfgr1_after_ones", D(0xc04));
	wr32("gicd_icfgr0_w", D(0xc00), 0);
	rd32("gicd_icfgr0_after_0", D(0xc00));
	wr32("gicd_ipriorityr8_w", D(0x420), 0xa0a0a0a0);
	wr8("gicd_ipriorityr33_w", D(0x421), 0x5a);
	rd32("gicd_ipriorityr8_after", D(0x420));
	wr32("gicd_ipriorityr0_w", D(0x400), 0xffffffff);
	rd32("gicd_ipriorityr0_after_ones", D(0x400));
	wr32("gicd_itargetsr8_w", D(0x820), 0x01010101);
	rd32("gicd_itargetsr8_after", D(0x820));
	wr32("gicd_itargetsr8_w3", D(0x820), 0x03030303);
	rd32("gicd_itargetsr8_after_3", D(0x820));
	wr32("gicd_itargetsr0_w", D(0x800), 0x02020202);
	rd32("gicd_itargetsr0_after", D(0x800));
	wr32("gicd_icactiver1_w", D(0x384), 0xffffffff);
	printk("gicd_icactiver1_write: done\n");
	wr32("gicd_icactiver0_w", D(0x380), 0xffffffff);
	printk("gicd_icactiver0_write: done\n");
	wr32("gicd_icenabler1_w", D(0x184), 0xffffffff);
	wr32("gicd_icenabler0_w", D(0x180), 0xffff0000);
	wr32("gicd_isenabler0_w", D(0x100), 0x0000ffff);
	rd32("gicd_isenabler0_after", D(0x100));
	wr32("gicd_isenabler1_w", D(0x104), 0x1);
	rd32("gicd_isenabler1_after", D(0x104));
	wr32("gicd_icenabler1_w2", D(0x184), 0x1);
	rd32("gicd_isenabler1_after_clear", D(0x104));
	wr32("gicd_igroupr1_w", D(0x084), 0xffffffff);
	rd32("gicd_igroupr1_after", D(0x084));
	wr32("gicd_ctlr_w1", D(0x000), 1);
	rd32("gicd_ctlr_after_1", D(0x000));
	wr32("gicd_ctlr_w3", D(0x000), 3);
	rd32("gicd_ctlr_after_3", D(0x000));
	wr32("gicd_ctlr_w1b", D(0x000), 1);

	/* CPU interface (GICV behind GICC under Xen). */
	rd32("gicc_ctlr", C(0x00));
	rd32("gicc_pmr", C(0x04));
	rd32("gicc_bpr", C(0x08));
	rd32("gicc_rpr", C(0x14));
	rd32("gicc_hppir", C(0x18));
	rd32("gicc_abpr", C(0x1c));
	rd32("gicc_apr0", C(0xd0));
	rd32("gicc_nsapr0", C(0xe0));
	rd32("gicc_iidr", C(0xfc));
	wr32("gicc_pmr_w", C(0x04), 0xff);
	rd32("gicc_pmr_after_ff", C(0x04));
	wr32("gicc_pmr_w2", C(0x04), 0xf0);
	rd32("gicc_pmr_after_f0", C(0x04));
	wr32("gicc_bpr_w", C(0x08), 0);
	rd32("gicc_bpr_after_0", C(0x08));
	wr32("gicc_abpr_w", C(0x1c), 0);
	rd32("gicc_abpr_after_0", C(0x1c));
	wr32("gicc_ctlr_w", C(0x00), 0x201);
	rd32("gicc_ctlr_after_201", C(0x00));
	wr32("gicc_ctlr_w2", C(0x00), 0x1ff);
	rd32("gicc_ctlr_after_1ff", C(0x00));
	wr32("gicc_ctlr_w3", C(0x00), 0x1);
	rd32("gicc_ctlr_after_1", C(0x00));
	rd32("gicc_iar_idle", C(0x0c));
	rd32("gicc_aiar_idle", C(0x20));
	wr32("gicc_eoir_spurious", C(0x10), 1023);
	rd32("gicc_dir_read", C(0x1000));

	/* Pending and active state of SPI 40 as the distributor shows it (IRQs stay masked). */
	wr32("gicc_pmr_w3", C(0x04), 0xf0);
	wr32("gicd_ipriorityr40_w", D(0x428), 0xa0a0a0a0);
	wr32("gicd_isenabler1_w40", D(0x104), 1u << 8);
	wr32("gicd_ispendr1_w40", D(0x204), 1u << 8);
	rd32("spi40_ispendr1", D(0x204));
	rd32("spi40_hppir", C(0x18));
	wr32("gicd_icpendr1_w40", D(0x284), 1u << 8);
	rd32("spi40_hppir_after_icpendr", C(0x18));
	rd32("spi40_iar", C(0x0c));
	rd32("spi40_isactiver1", D(0x304));
	rd32("spi40_ispendr1_active", D(0x204));
	rd32("spi40_rpr", C(0x14));
	wr32("spi40_eoir", C(0x10), 40);
	rd32("spi40_hppir_after_eoi", C(0x18));
	rd32("spi40_isactiver1_after_eoi", D(0x304));
}

#else

#define R(off) ((uintptr_t)BOARD_GICR_BASE + (off))
#define S(off) ((uintptr_t)BOARD_GICR_BASE + 0x10000 + (off))

#define ICC_RD(name, reg) do { \
	unsigned int b_ = faults; uint64_t v_ = 0; \
	__asm__ volatile("mrs %0, " #reg : "+r"(v_) : : "memory"); \
	report(name, v_, b_); } while (0)
#define ICC_WR(name, reg, val) do { \
	unsigned int b_ = faults; \
	__asm__ volatile("msr " #reg ", %0\n isb" : : "r"((uint64_t)(val)) : "memory"); \
	if (faults != b_) report(name, 0, b_); } while (0)

static void probe(void)
{
	/* Distributor (gic_init_bases, gic_dist_init). */
	rd32("gicd_ctlr", D(0x0000));
	rd32("gicd_typer", D(0x0004));
	rd32("gicd_iidr", D(0x0008));
	rd32("gicd_typer2", D(0x000c));
	rd32("gicd_statusr", D(0x0010));
	rd32("gicd_setspi_nsr_read", D(0x0040));
	rd32("gicd_igroupr0", D(0x0080));
	rd32("gicd_igroupr1", D(0x0084));
	rd32("gicd_isenabler0", D(0x0100));
	rd32("gicd_isenabler1", D(0x0104));
	rd32("gicd_ipriorityr0", D(0x0400));
	rd32("gicd_ipriorityr8", D(0x0420));
	rd32("gicd_icfgr1", D(0x0c04));
	rd32("gicd_icfgr2", D(0x0c08));
	rd32("gicd_igrpmodr1", D(0x0d04));
	rd32("gicd_nsacr2", D(0x0e08));
	rd64("gicd_irouter32", D(0x6100));
	rd32("gicd_irouter32_lo", D(0x6100));
	rd32("gicd_irouter32_hi", D(0x6104));
	rd32("gicd_pidr2", D(0xffe8));
	rd32("gicd_pidr0", D(0xffe0));
	rd32("gicd_cidr0", D(0xfff0));

	wr32("gicd_ctlr_w0", D(0x0000), 0);
	rd32("gicd_ctlr_after_0", D(0x0000));
	wr32("gicd_icfgr2_w", D(0x0c08), 0x2);
	rd32("gicd_icfgr2_after_edge", D(0x0c08));
	wr32("gicd_icfgr2_w0", D(0x0c08), 0);
	wr32("gicd_ipriorityr8_w", D(0x0420), 0xa0a0a0a0);
	wr8("gicd_ipriorityr33_w", D(0x0421), 0x5a);
	rd32("gicd_ipriorityr8_after", D(0x0420));
	wr32("gicd_icactiver1_w", D(0x0384), 0xffffffff);
	printk("gicd_icactiver1_write: done\n");
	wr32("gicd_icenabler1_w", D(0x0184), 0xffffffff);
	wr32("gicd_igroupr1_w", D(0x0084), 0xffffffff);
	rd32("gicd_igroupr1_after", D(0x0084));
	wr32("gicd_isenabler1_w", D(0x0104), 0x1);
	rd32("gicd_isenabler1_after", D(0x0104));
	wr32("gicd_icenabler1_w2", D(0x0184), 0x1);
	wr64("gicd_irouter32_w", D(0x6100), 0);
	rd64("gicd_irouter32_after_0", D(0x6100));
	wr64("gicd_irouter33_w", D(0x6108), 0x80000000ull);
	rd64("gicd_irouter33_after_irm", D(0x6108));
	wr64("gicd_irouter34_w", D(0x6110), 0x100);
	rd64("gicd_irouter34_after_aff1", D(0x6110));
	wr32("gicd_ctlr_w13", D(0x0000), 0x13);
	rd32("gicd_ctlr_after_13", D(0x0000));
	wr32("gicd_ctlr_w37", D(0x0000), 0x37);
	rd32("gicd_ctlr_after_37", D(0x0000));
	wr32("gicd_ctlr_w12", D(0x0000), 0x12);

	/* Redistributor, RD frame (gic_populate_rdist, gic_enable_redist). */
	rd32("gicr_ctlr", R(0x0000));
	rd32("gicr_iidr", R(0x0004));
	rd64("gicr_typer", R(0x0008));
	rd32("gicr_typer_lo", R(0x0008));
	rd32("gicr_typer_hi", R(0x000c));
	rd32("gicr_statusr", R(0x0010));
	rd32("gicr_waker", R(0x0014));
	wr32("gicr_waker_w0", R(0x0014), 0);
	rd32("gicr_waker_after_0", R(0x0014));
	wr32("gicr_waker_w2", R(0x0014), 2);
	rd32("gicr_waker_after_2", R(0x0014));
	wr32("gicr_waker_w0b", R(0x0014), 0);
	rd64("gicr_propbaser", R(0x0070));
	rd64("gicr_pendbaser", R(0x0078));
	rd32("gicr_pidr2", R(0xffe8));
	rd32("gicr_syncr", R(0x00c0));

	/* Redistributor, SGI frame (gic_cpu_config). */
	rd32("gicr_igroupr0", S(0x0080));
	rd32("gicr_isenabler0", S(0x0100));
	rd32("gicr_ipriorityr0", S(0x0400));
	rd32("gicr_ipriorityr7", S(0x041c));
	rd32("gicr_icfgr0", S(0x0c00));
	rd32("gicr_icfgr1", S(0x0c04));
	rd32("gicr_igrpmodr0", S(0x0d00));
	rd32("gicr_nsacr", S(0x0e00));
	wr32("gicr_icactiver0_w", S(0x0380), 0xffffffff);
	printk("gicr_icactiver0_write: done\n");
	wr32("gicr_icenabler0_w", S(0x0180), 0xffff0000);
	wr32("gicr_isenabler0_w", S(0x0100), 0x0000ffff);
	rd32("gicr_isenabler0_after", S(0x0100));
	wr32("gicr_igroupr0_w", S(0x0080), 0xffffffff);
	rd32("gicr_igroupr0_after", S(0x0080));
	wr32("gicr_icfgr1_w", S(0x0c04), 0);
	rd32("gicr_icfgr1_after_0", S(0x0c04));
	wr32("gicr_icfgr1_w2", S(0x0c04), 0xffffffff);
	rd32("gicr_icfgr1_after_ones", S(0x0c04));
	wr32("gicr_ipriorityr7_w", S(0x041c), 0xa0a0a0a0);
	rd32("gicr_ipriorityr7_after", S(0x041c));

	/* CPU interface system registers (gic_cpu_sys_reg_init). */
	ICC_RD("icc_sre", S3_0_C12_C12_5);
	ICC_RD("icc_ctlr", S3_0_C12_C12_4);
	ICC_RD("icc_pmr", S3_0_C4_C6_0);
	ICC_RD("icc_bpr0", S3_0_C12_C8_3);
	ICC_RD("icc_bpr1", S3_0_C12_C12_3);
	ICC_RD("icc_igrpen0", S3_0_C12_C12_6);
	ICC_RD("icc_igrpen1", S3_0_C12_C12_7);
	ICC_RD("icc_rpr", S3_0_C12_C11_3);
	ICC_RD("icc_hppir1", S3_0_C12_C12_2);
	ICC_RD("icc_hppir0", S3_0_C12_C8_2);
	ICC_RD("icc_ap0r0", S3_0_C12_C8_4);
	ICC_RD("icc_ap1r0", S3_0_C12_C9_0);
	ICC_WR("icc_sre_w", S3_0_C12_C12_5, 0x7);
	ICC_RD("icc_sre_after_7", S3_0_C12_C12_5);
	ICC_WR("icc_pmr_w", S3_0_C4_C6_0, 0xff);
	ICC_RD("icc_pmr_after_ff", S3_0_C4_C6_0);
	ICC_WR("icc_pmr_w2", S3_0_C4_C6_0, 0xf0);
	ICC_WR("icc_bpr1_w", S3_0_C12_C12_3, 0);
	ICC_RD("icc_bpr1_after_0", S3_0_C12_C12_3);
	ICC_WR("icc_bpr0_w", S3_0_C12_C8_3, 0);
	ICC_RD("icc_bpr0_after_0", S3_0_C12_C8_3);
	ICC_WR("icc_ctlr_w", S3_0_C12_C12_4, 0x2);
	ICC_RD("icc_ctlr_after_eoimode", S3_0_C12_C12_4);
	ICC_WR("icc_ctlr_w0", S3_0_C12_C12_4, 0x0);
	ICC_RD("icc_ctlr_after_0", S3_0_C12_C12_4);
	ICC_WR("icc_ap0r0_w", S3_0_C12_C8_4, 0);
	ICC_WR("icc_ap1r0_w", S3_0_C12_C9_0, 0);
	ICC_WR("icc_igrpen1_w", S3_0_C12_C12_7, 1);
	ICC_RD("icc_igrpen1_after_1", S3_0_C12_C12_7);
	ICC_WR("icc_igrpen0_w", S3_0_C12_C12_6, 1);
	ICC_RD("icc_igrpen0_after_1", S3_0_C12_C12_6);
	ICC_WR("icc_igrpen0_w0", S3_0_C12_C12_6, 0);
	ICC_RD("icc_iar1_idle", S3_0_C12_C12_0);
	ICC_WR("icc_eoir1_spurious", S3_0_C12_C12_1, 1023);
	ICC_WR("icc_dir_w", S3_0_C12_C11_1, 1023);
	printk("icc_dir_write: done\n");

	/* Pending and active state of SPI 40 as the distributor shows it (IRQs stay masked). */
	ICC_WR("icc_pmr_w3", S3_0_C4_C6_0, 0xf0);
	wr32("gicd_ctlr_w12b", D(0x0000), 0x12);
	wr32("gicd_ipriorityr40_w", D(0x0428), 0xa0a0a0a0);
	wr32("gicd_isenabler1_w40", D(0x0104), 1u << 8);
	wr32("gicd_ispendr1_w40", D(0x0204), 1u << 8);
	rd32("spi40_ispendr1", D(0x0204));
	ICC_RD("spi40_hppir1", S3_0_C12_C12_2);
	wr32("gicd_icpendr1_w40", D(0x0284), 1u << 8);
	ICC_RD("spi40_hppir1_after_icpendr", S3_0_C12_C12_2);
	ICC_RD("spi40_iar1", S3_0_C12_C12_0);
	rd32("spi40_isactiver1", D(0x0304));
	rd32("spi40_ispendr1_active", D(0x0204));
	ICC_RD("spi40_rpr", S3_0_C12_C11_3);
	ICC_WR("spi40_eoir1", S3_0_C12_C12_1, 40);
	ICC_RD("spi40_hppir1_after_eoi", S3_0_C12_C12_2);
	rd32("spi40_isactiver1_after_eoi", D(0x0304));
}
#endif

int main(void)
{
	exc_sync_hook_t old = exc_set_sync_hook(fault_hook);

	probe();
	exc_set_sync_hook(old);
	printk("faults: %u\n", faults);
	printk("Test result: SUCCESS\n");
	return 0;
}
