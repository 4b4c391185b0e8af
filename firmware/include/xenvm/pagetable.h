/* SPDX-License-Identifier: MIT */
/*
 * Stage-1 page tables for apps that turn their MMU on (cpu-arch, hcall-va): VMSAv8-64
 * descriptor bits for the 4 KiB granule (Arm ARM DDI0487, D8.3), the identity map both start
 * from, and one way to switch on.
 */
#ifndef XENVM_PAGETABLE_H
#define XENVM_PAGETABLE_H

#include <stdint.h>

#include <xenvm/arch.h>

#define PT_TABLE   3UL         /* next-level table (levels 0-2) */
#define PT_BLOCK   1UL         /* block (levels 1-2) */
#define PT_PAGE    3UL         /* page (level 3) */
#define PT_ATTR(i) ((uint64_t)(i) << 2) /* AttrIndx: MAIR_EL1 attribute i */
#define PT_EL0     (1UL << 6)  /* AP[1]: EL0 access */
#define PT_RO      (1UL << 7)  /* AP[2]: read-only */
#define PT_ISH     (3UL << 8)  /* inner shareable */
#define PT_AF      (1UL << 10) /* access flag */
#define PT_PXN     (1UL << 53)
#define PT_UXN     (1UL << 54)

#define ATTR_DEVICE 0 /* MAIR attr0 = 0x00, Device-nGnRnE */
#define ATTR_NORMAL 1 /* MAIR attr1 = 0x44, Normal non-cacheable */

/*
 * The identity map an app builds its own pages on: VA = PA for the first GiB (devices: one
 * Device-nGnRnE level-1 block, never executable) and for 32 MiB of RAM from the 2 MiB block
 * that holds `in_ram` (Normal memory, 2 MiB blocks in `l2`: the level-2 table of the second
 * GiB, where the guest's RAM starts at 0x40000000). The app then hangs level-3 tables of its
 * own in `l2` and calls pt_mmu_on(l1).
 */
static inline void pt_identity_map(uint64_t *l1, uint64_t *l2, uint64_t in_ram)
{
	uint64_t ram = in_ram & ~0x1fffffUL;

	l1[0] = 0x0UL | PT_BLOCK | PT_ATTR(ATTR_DEVICE) | PT_AF | PT_PXN | PT_UXN;
	l1[1] = (uint64_t)l2 | PT_TABLE;
	for (unsigned int i = 0; i < 16; i++) {
		uint64_t pa = ram + ((uint64_t)i << 21);

		l2[(pa >> 21) & 511] = pa | PT_BLOCK | PT_ATTR(ATTR_NORMAL) | PT_ISH | PT_AF;
	}
}

/*
 * Turns stage 1 on with `l1` as TTBR0_EL1's level-1 table: a 4 GiB VA space (T0SZ 32, the walk
 * starts at level 1), 4 KiB granule, non-cacheable walks, TTBR1 walks disabled (EPD1, so a high
 * address is a translation fault), 40-bit IPA. The TLB is invalidated before SCTLR_EL1.M is set.
 */
static inline void pt_mmu_on(const uint64_t *l1)
{
	write_sysreg(mair_el1, 0x4400UL);
	write_sysreg(tcr_el1, 32UL | (3UL << 12) | (1UL << 23) | (32UL << 16) | (2UL << 32));
	write_sysreg(ttbr0_el1, (uint64_t)l1);
	dsb(ish);
	isb();
	__asm__ volatile("tlbi vmalle1\n dsb ish" : : : "memory");
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | 1UL);
	isb();
}

#endif
