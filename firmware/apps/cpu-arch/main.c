// SPDX-License-Identifier: MIT
/*
 * cpu-arch: what the CPU and the hypervisor show a guest on exception entry,
 * one line per check, for the differential test against the real Xen
 * (test/cpu/cpu-arch.test.ts, test/golden/cpu-arch.*.txt).
 *
 * Each check runs a tiny routine (probe.S) at EL0t, EL1t or EL1h and prints
 * the vector it landed on, ESR_EL1, SPSR_EL1, ELR_EL1 (relative to the
 * routine when inside it), FAR_EL1 for aborts, whether the vector ran on
 * SP_EL1 and whether SP_EL0 kept its value. Covered: SVC/BRK/UDF from each
 * mode, illegal exception returns, PC alignment faults, stage-2 aborts
 * (nothing at the IPA) with the MMU off and on, and stage-1 aborts with the guest's own page tables
 * (translation faults at levels 1..3, access flag, permissions, UXN,
 * alignment) from EL1 and EL0.
 */
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>
#include <xenvm/pagetable.h>
#include <xenvm/printk.h>

struct probe_obs {
	uint64_t slot, esr, far, elr, spsr, sp, sp_el0;
};
extern struct probe_obs probe_obs;
extern uint64_t probe_ctx[13];
extern char probe_vectors[];
uint64_t probe(void (*fn)(void), uint64_t spsr, uint64_t sp_el0, uint64_t arg);
extern void t_svc(void), t_brk(void), t_udf(void), t_load(void), t_store(void), t_jump(void), t_eret(void),
	t_ldxr(void), t_end(void);

#define SPSR_EL0T 0x0UL
#define SPSR_EL1T 0x3c4UL /* DAIF masked */
#define SPSR_EL1H 0x3c5UL
#define SPSR_IL   (1UL << 20)

/* A stack for EL0/EL1t code: the routines never use it; the check is that it is left alone. */
static uint64_t sp0_stack[64] __attribute__((aligned(16)));
#define SP0 ((uint64_t)&sp0_stack[64])

static const char *routine_name(uint64_t a)
{
	static const struct { void (*fn)(void); const char *name; } r[] = {
		{ t_svc, "t_svc" }, { t_brk, "t_brk" }, { t_udf, "t_udf" }, { t_load, "t_load" },
		{ t_store, "t_store" }, { t_jump, "t_jump" }, { t_eret, "t_eret" }, { t_ldxr, "t_ldxr" },
	};
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (a >= (uint64_t)r[i].fn && a < (uint64_t)r[i].fn + 64)
			return r[i].name;
	return 0;
}

static void check(const char *what, void (*fn)(void), uint64_t spsr, uint64_t arg, int abort)
{
	char elr[48];
	uint64_t slot = probe(fn, spsr, SP0, arg);
	const struct probe_obs *o = &probe_obs;
	const char *r = routine_name(o->elr);

	if (r)
		snprintk(elr, sizeof(elr), "%s+0x%lx", r, (unsigned long)(o->elr - ((uint64_t)t_svc + ((o->elr - (uint64_t)t_svc) & ~63UL))));
	else
		snprintk(elr, sizeof(elr), "0x%lx", (unsigned long)o->elr);
	printk("%s: vector=+0x%03lx esr=0x%08lx spsr=0x%lx elr=%s", what, (unsigned long)(slot * 0x80), (unsigned long)o->esr,
	       (unsigned long)o->spsr, elr);
	if (abort)
		printk(" far=0x%lx", (unsigned long)o->far);
	printk(" sp=%s sp_el0=%s\n", o->sp == probe_ctx[12] ? "SP_EL1" : "other", o->sp_el0 == SP0 ? "kept" : "changed");
}

/* ---------------------------------------------------------------- page tables */

static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2[512] __attribute__((aligned(4096)));
static uint64_t l3[512] __attribute__((aligned(4096)));
static uint64_t ro_page[512] __attribute__((aligned(4096)));
static uint64_t af_page[512] __attribute__((aligned(4096)));
static uint64_t el1_page[512] __attribute__((aligned(4096)));
static uint64_t rw_buf[8] __attribute__((aligned(64)));

/* Virtual addresses of the test pages (VA 0x60000000.. is an L3 table of ours). */
#define VA_UNMAPPED_L1 0x80000000UL /* L1[2] invalid */
#define VA_UNMAPPED_L2 0x7fe00000UL /* L2[511] invalid */
#define VA_RO          0x60000000UL /* L3[0]: EL1 read-only */
#define VA_NO_AF       0x60001000UL /* L3[1]: access flag clear */
#define VA_UXN         0x60002000UL /* L3[2]: code page, UXN */
#define VA_EL1_ONLY    0x60003000UL /* L3[3]: EL1 read/write, no EL0 access */
#define VA_UNMAPPED_L3 0x60004000UL /* L3[4] invalid */
#define VA_NO_IPA      0x60005000UL /* L3[5]: -> IPA 0x10000000, nothing there */
#define IPA_NOTHING    0x10000000UL

static void mmu_on(void)
{
	pt_identity_map(l1, l2, (uint64_t)probe_vectors);
	l2[(VA_RO >> 21) & 511] = (uint64_t)l3 | PT_TABLE;
	l3[0] = (uint64_t)ro_page | PT_PAGE | PT_ATTR(ATTR_NORMAL) | PT_ISH | PT_AF | PT_RO;
	l3[1] = (uint64_t)af_page | PT_PAGE | PT_ATTR(ATTR_NORMAL) | PT_ISH;
	l3[2] = ((uint64_t)t_svc & ~0xfffUL) | PT_PAGE | PT_ATTR(ATTR_NORMAL) | PT_ISH | PT_AF | PT_RO | PT_EL0 | PT_UXN;
	l3[3] = (uint64_t)el1_page | PT_PAGE | PT_ATTR(ATTR_NORMAL) | PT_ISH | PT_AF;
	l3[5] = IPA_NOTHING | PT_PAGE | PT_ATTR(ATTR_NORMAL) | PT_ISH | PT_AF | PT_EL0 | PT_PXN | PT_UXN;

	pt_mmu_on(l1);
}

static void set_alignment_check(int on)
{
	uint64_t s = read_sysreg(sctlr_el1);
	write_sysreg(sctlr_el1, on ? s | 2UL : s & ~2UL);
	isb();
}

int main(void)
{
	write_sysreg(vbar_el1, (uint64_t)probe_vectors);
	isb();
	printk("cpu-arch: exception entry, MMU off\n");

	check("svc from EL1h", t_svc, SPSR_EL1H, 0, 0);
	check("svc from EL1t", t_svc, SPSR_EL1T, 0, 0);
	check("svc from EL0", t_svc, SPSR_EL0T, 0, 0);
	check("brk from EL1t", t_brk, SPSR_EL1T, 0, 0);
	check("brk from EL0", t_brk, SPSR_EL0T, 0, 0);
	check("udf from EL1h", t_udf, SPSR_EL1H, 0, 0);
	check("udf from EL1t", t_udf, SPSR_EL1T, 0, 0);
	check("udf from EL0", t_udf, SPSR_EL0T, 0, 0);

	check("eret SPSR.IL to EL1h", t_eret, SPSR_EL1H, SPSR_EL1H | SPSR_IL, 0);
	check("eret SPSR.IL to EL1t", t_eret, SPSR_EL1H, SPSR_EL1T | SPSR_IL, 0);
	check("eret to EL2h", t_eret, SPSR_EL1H, 0x3c9UL, 0);
	check("eret to M=0b0110", t_eret, SPSR_EL1H, 0x3c6UL, 0);
	check("eret to EL0 with SP_EL1", t_eret, SPSR_EL1H, 0x3c1UL, 0);

	check("EL1 read, no IPA", t_load, SPSR_EL1H, IPA_NOTHING, 1);
	check("EL1 write, no IPA", t_store, SPSR_EL1H, IPA_NOTHING, 1);
	check("EL1 jump, no IPA", t_jump, SPSR_EL1H, IPA_NOTHING, 1);
	check("EL0 read, no IPA", t_load, SPSR_EL0T, IPA_NOTHING, 1);
	check("EL0 jump, no IPA", t_jump, SPSR_EL0T, IPA_NOTHING, 1);
	check("EL1 jump, PC unaligned", t_jump, SPSR_EL1H, (uint64_t)t_svc + 2, 1);
	check("EL0 jump, PC unaligned", t_jump, SPSR_EL0T, (uint64_t)t_svc + 2, 1);

	mmu_on();
	printk("cpu-arch: MMU on\n");
	check("svc from EL0", t_svc, SPSR_EL0T, 0, 0);
	check("EL1 read, L1 unmapped", t_load, SPSR_EL1H, VA_UNMAPPED_L1, 1);
	check("EL1t read, L1 unmapped", t_load, SPSR_EL1T, VA_UNMAPPED_L1, 1);
	check("EL1 write, L2 unmapped", t_store, SPSR_EL1H, VA_UNMAPPED_L2, 1);
	check("EL1 read, L3 unmapped", t_load, SPSR_EL1H, VA_UNMAPPED_L3, 1);
	check("EL1 jump, L1 unmapped", t_jump, SPSR_EL1H, VA_UNMAPPED_L1, 1);
	check("EL1 write, read-only", t_store, SPSR_EL1H, VA_RO, 1);
	check("EL1 read, access flag", t_load, SPSR_EL1H, VA_NO_AF, 1);
	check("EL1 read, no IPA", t_load, SPSR_EL1H, VA_NO_IPA + 8, 1);
	check("EL1 write, no IPA", t_store, SPSR_EL1H, VA_NO_IPA + 16, 1);
	check("EL0 read, L1 unmapped", t_load, SPSR_EL0T, VA_UNMAPPED_L1, 1);
	check("EL0 jump, L1 unmapped", t_jump, SPSR_EL0T, VA_UNMAPPED_L1, 1);
	check("EL0 read, EL1 only", t_load, SPSR_EL0T, VA_EL1_ONLY, 1);
	check("EL0 write, EL1 only", t_store, SPSR_EL0T, VA_EL1_ONLY, 1);
	check("EL0 jump, UXN", t_jump, SPSR_EL0T, VA_UXN + ((uint64_t)t_svc & 0xfff), 1);
	check("EL0 read, no IPA", t_load, SPSR_EL0T, VA_NO_IPA, 1);
	check("EL1 ldxr unaligned", t_ldxr, SPSR_EL1H, (uint64_t)rw_buf + 4, 1);
	/* Normal memory without SCTLR_EL1.A: a plain unaligned access is allowed (ends in the SVC). */
	check("EL1 ldr unaligned, no SCTLR.A", t_load, SPSR_EL1H, (uint64_t)rw_buf + 1, 0);
	set_alignment_check(1);
	check("EL1 ldr unaligned, SCTLR.A", t_load, SPSR_EL1H, (uint64_t)rw_buf + 1, 1);
	check("EL1 str unaligned, SCTLR.A", t_store, SPSR_EL1H, (uint64_t)rw_buf + 3, 1);
	check("EL0 ldr unaligned, SCTLR.A", t_load, SPSR_EL0T, VA_UXN + 1, 1);
	set_alignment_check(0);

	/* The routines' own pages still work after all that: a read through the L3 table. */
	printk("read-only page reads back 0x%lx\n", (unsigned long)*(volatile uint64_t *)VA_RO);
	printk("Test result: SUCCESS\n");
	return 0;
}
