// SPDX-License-Identifier: MIT
/*
 * smccc-probe: the SMCCC and PSCI answers a plain dom0less domU gets from
 * the hypervisor through HVC #0 and SMC #0 (Arm DEN0028 "SMC Calling
 * Convention", DEN0022 "PSCI"). Every call prints "name: x0" (x1..x3 too
 * where the call returns more), so the transcript from the real Xen 4.17 is
 * the specification of what the emulator answers. The ids are the ones a
 * Linux 6.1 guest uses at boot, plus a few edges: upper bits of x0 set
 * (SMC32 ids are 32-bit), 64-bit variants, unknown owners.
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xen/hypercall.h>
#include <xen/public/sched.h>
#include <xenvm/arch.h>
#include <xenvm/exception.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>
#include <xenvm/smccc.h>

static struct smccc_res smc(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t r0 __asm__("x0") = a0;
	register uint64_t r1 __asm__("x1") = a1;
	register uint64_t r2 __asm__("x2") = a2;
	register uint64_t r3 __asm__("x3") = a3;

	__asm__ volatile("smc #0" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3) : : "memory");
	return (struct smccc_res){ { r0, r1, r2, r3 } };
}

/* "smc #1" at a known address: the hypervisor answers it with an undefined-instruction exception. */
void smc_imm1(void);
__asm__(".pushsection .text.smc_imm1, \"ax\", %progbits\n"
	".globl smc_imm1\n"
	".type smc_imm1, %function\n"
	"smc_imm1:\n"
	"	smc #1\n"
	"	ret\n"
	".size smc_imm1, . - smc_imm1\n"
	".popsection\n");

static volatile unsigned int undef_hits;
static volatile uint64_t undef_esr, undef_elr;

static bool undef_hook(struct exc_frame *f)
{
	uintptr_t insn = (uintptr_t)smc_imm1;

	if (f->elr != insn && f->elr != insn + 4)
		return false;
	undef_hits++;
	undef_esr = f->esr;
	undef_elr = f->elr;
	f->elr = insn + 4;
	return true;
}

static void show(const char *name, struct smccc_res r)
{
	printk("%s: 0x%lx\n", name, (unsigned long)r.x[0]);
}

static void show4(const char *name, struct smccc_res r)
{
	printk("%s: 0x%lx 0x%lx 0x%lx 0x%lx\n", name, (unsigned long)r.x[0], (unsigned long)r.x[1],
	       (unsigned long)r.x[2], (unsigned long)r.x[3]);
}

#define GARBAGE 0xdeadbeef00000000ull

static volatile unsigned int timer_fires;

static void timer_isr(void *arg)
{
	(void)arg;
	timer_fires++;
	write_sysreg(cntv_ctl_el0, 0);
	isb();
}

static const struct { const char *name; uint32_t fid; } features[] = {
	{ "psci_version", 0x84000000 },
	{ "cpu_suspend32", 0x84000001 },
	{ "cpu_suspend64", 0xc4000001 },
	{ "cpu_off", 0x84000002 },
	{ "cpu_on32", 0x84000003 },
	{ "cpu_on64", 0xc4000003 },
	{ "affinity_info32", 0x84000004 },
	{ "affinity_info64", 0xc4000004 },
	{ "migrate", 0x84000005 },
	{ "migrate_info_type", 0x84000006 },
	{ "migrate_info_up_cpu", 0x84000007 },
	{ "system_off", 0x84000008 },
	{ "system_reset", 0x84000009 },
	{ "psci_features", 0x8400000a },
	{ "cpu_freeze", 0x8400000b },
	{ "cpu_default_suspend64", 0xc400000c },
	{ "node_hw_state64", 0xc400000d },
	{ "system_suspend64", 0xc400000e },
	{ "set_suspend_mode", 0x8400000f },
	{ "stat_residency64", 0xc4000010 },
	{ "system_reset2", 0x84000012 },
	{ "mem_protect", 0x84000013 },
	{ "smccc_version", 0x80000000 },
	{ "smccc_arch_features", 0x80000001 },
	{ "trng_version", 0x84000050 },
};

int main(void)
{
	gic_init();

	/* SMCCC itself (DEN0028: SMCCC_VERSION, SMCCC_ARCH_FEATURES). */
	show("smccc_version", smccc_hvc(0x80000000, 0, 0, 0));
	show("smccc_version_upper_bits", smccc_hvc(GARBAGE | 0x80000000, 0, 0, 0));
	show("arch_features_arch_features", smccc_hvc(0x80000001, 0x80000001, 0, 0));
	show("arch_features_soc_id", smccc_hvc(0x80000001, 0x80000002, 0, 0));
	show("arch_features_workaround_1", smccc_hvc(0x80000001, 0x80008000, 0, 0));
	show("arch_features_workaround_2", smccc_hvc(0x80000001, 0x80007fff, 0, 0));
	show("arch_features_workaround_3", smccc_hvc(0x80000001, 0x80003fff, 0, 0));
	show("arch_features_upper_bits", smccc_hvc(0x80000001, GARBAGE | 0x80008000, 0, 0));
	show("soc_id", smccc_hvc(0x80000002, 0, 0, 0));
	show4("workaround_1_call", smccc_hvc(0x80008000, 0x11, 0x22, 0x33));
	show4("workaround_2_call", smccc_hvc(0x80007fff, 1, 0x22, 0x33));
	show4("workaround_3_call", smccc_hvc(0x80003fff, 0x11, 0x22, 0x33));

	/* Service queries of each owner (DEN0028: Call Count, Call UID, Revision). */
	show4("std_call_count", smccc_hvc(0x8400ff00, 0, 0, 0));
	show4("std_call_uid", smccc_hvc(0x8400ff01, 0, 0, 0));
	show4("std_revision", smccc_hvc(0x8400ff03, 0, 0, 0));
	show4("std_hyp_call_count", smccc_hvc(0x8500ff00, 0, 0, 0));
	show4("std_hyp_call_uid", smccc_hvc(0x8500ff01, 0, 0, 0));
	show4("std_hyp_revision", smccc_hvc(0x8500ff03, 0, 0, 0));
	show4("vendor_hyp_call_count", smccc_hvc(0x8600ff00, 0, 0, 0));
	show4("vendor_hyp_call_uid", smccc_hvc(0x8600ff01, 0, 0, 0));
	show4("vendor_hyp_revision", smccc_hvc(0x8600ff03, 0, 0, 0));
	show("sip_call_uid", smccc_hvc(0x8200ff01, 0, 0, 0));
	show("oem_call_uid", smccc_hvc(0x8300ff01, 0, 0, 0));
	show("trusted_os_call_uid", smccc_hvc(0xbf00ff01, 0, 0, 0));
	show("trng_version", smccc_hvc(0x84000050, 0, 0, 0));
	show("trng_features", smccc_hvc(0x84000051, 0x84000053, 0, 0));

	/* PSCI (DEN0022). */
	show("psci_version", smccc_hvc(0x84000000, 0, 0, 0));
	show("psci_version_upper_bits", smccc_hvc(GARBAGE | 0x84000000, 0, 0, 0));
	show("psci_version64", smccc_hvc(0xc4000000, 0, 0, 0));
	for (unsigned int i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		char key[48];

		snprintk(key, sizeof(key), "features_%s", features[i].name);
		show(key, smccc_hvc(0x8400000a, features[i].fid, 0, 0));
	}
	show("features_upper_bits", smccc_hvc(0x8400000a, GARBAGE | 0x84000000, 0, 0));
	show("migrate_info_type", smccc_hvc(0x84000006, 0, 0, 0));
	show("migrate_info_up_cpu", smccc_hvc(0x84000007, 0, 0, 0));
	show("affinity_info_self", smccc_hvc(0xc4000004, 0, 0, 0));
	show("affinity_info_self32", smccc_hvc(0x84000004, 0, 0, 0));
	show("affinity_info_vcpu1", smccc_hvc(0xc4000004, 1, 0, 0));
	show("affinity_info_level1", smccc_hvc(0xc4000004, 0x100, 1, 0));
	show("affinity_info_level3", smccc_hvc(0xc4000004, 0, 3, 0));
	show("affinity_info_level4", smccc_hvc(0xc4000004, 0, 4, 0));
	show("affinity_info_mpidr_bit31", smccc_hvc(0xc4000004, 0x80000000, 0, 0));
	show("cpu_on_vcpu1", smccc_hvc(0xc4000003, 1, 0x40000000, 0));
	show("cpu_on_self", smccc_hvc(0xc4000003, 0, 0x40000000, 0));
	show("cpu_on_self32", smccc_hvc(0x84000003, 0, 0x40000000, 0));
	show("cpu_on_self_thumb", smccc_hvc(0xc4000003, 0, 0x40000001, 0));
	show("cpu_on_vcpu1_thumb", smccc_hvc(0xc4000003, 1, 0x40000001, 0));
	show("psci_0_1_cpu_on_vcpu1", smccc_hvc(2, 1, 0x40000000, 0));
	show("psci_0_1_cpu_on_self", smccc_hvc(2, 0, 0x40000000, 0));
	show("psci_0_1_migrate", smccc_hvc(3, 0, 0, 0));
	show("system_reset2", smccc_hvc(0x84000012, 0, 0, 0));
	show("system_suspend64", smccc_hvc(0xc400000e, 0x40000000, 0, 0));
	show("cpu_freeze", smccc_hvc(0x8400000b, 0, 0, 0));

	/* The same calls through SMC #0 (Xen traps SMC from guests: HCR_EL2.TSC). */
	show("smc_psci_version", smc(0x84000000, 0, 0, 0));
	show("smc_smccc_version", smc(GARBAGE | 0x80000000, 0, 0, 0));
	show("smc_features_cpu_on64", smc(0x8400000a, 0xc4000003, 0, 0));
	show("smc_trng_version", smc(0x84000050, 0, 0, 0));

	/* SMC with an immediate other than 0: not an SMCCC call. */
	exc_sync_hook_t old = exc_set_sync_hook(undef_hook);

	smc_imm1();
	exc_set_sync_hook(old);
	printk("smc_imm1_trapped: %s\n", undef_hits == 1 ? "yes" : "no");
	printk("smc_imm1_ec: 0x%02lx\n", (unsigned long)ESR_EC(undef_esr));
	printk("smc_imm1_elr_is_next: %s\n", undef_elr == (uintptr_t)smc_imm1 + 4 ? "yes" : "no");

	/*
	 * CPU_SUSPEND: the caller waits for an interrupt, then the call returns
	 * (a power-down state resumes here too, as a standby would). Armed: the
	 * virtual timer 1 ms ahead, IRQs masked so the ISR runs only afterwards.
	 */
	uint64_t freq = read_sysreg(cntfrq_el0);

	irq_connect(BOARD_TIMER_VIRT_INTID, timer_isr, 0);
	gic_irq_enable(BOARD_TIMER_VIRT_INTID);
	write_sysreg(cntv_tval_el0, freq / 1000);
	write_sysreg(cntv_ctl_el0, 1);
	isb();
	uint64_t t0 = read_sysreg(cntvct_el0);
	struct smccc_res s = smccc_hvc(0xc4000001, 0x00010000, 0x40000000, 0);
	uint64_t t1 = read_sysreg(cntvct_el0);

	show("cpu_suspend", s);
	printk("cpu_suspend_waited: %s\n", t1 - t0 >= freq / 2000 ? "yes" : "no");
	irq_enable();
	for (volatile int i = 0; i < 1000; i++)
		;
	irq_disable();
	printk("cpu_suspend_timer_fires: %u\n", timer_fires);

	/* SYSTEM_OFF ends the domain: nothing below this line is printed. */
	printk("Test result: SUCCESS\n");
	smccc_hvc(0x84000008, 0, 0, 0);
	printk("system_off_returned\n");
	return 0;
}
