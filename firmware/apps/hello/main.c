// SPDX-License-Identifier: MIT
/*
 * hello: the smallest end-to-end check of the guest <-> hypervisor path.
 * Every observation is printed as a stable "key: value" line so transcripts
 * from the emulator and from the real Xen can be compared line by line.
 */
#include <stdbool.h>
#include <stdint.h>

#include <xen/hypercall.h>
#include <xen/public/errno.h>
#include <xen/public/sched.h>
#include <xen/public/version.h>
#include <xenvm/arch.h>
#include <xenvm/exception.h>
#include <xenvm/printk.h>

/* A hypercall number no Xen implements (the table ends well below 63). */
#define UNKNOWN_HYPERCALL 63

/*
 * "hvc #0x1234" in a function of its own so we know its exact address.
 * Xen only treats HVC #0xEA1 as a hypercall; any other immediate is
 * answered by injecting an undefined-instruction exception (EC 0) into the
 * guest, with ELR already past the HVC.
 */
void bad_hvc(void);
__asm__(".pushsection .text.bad_hvc, \"ax\", %progbits\n"
	".globl bad_hvc\n"
	".type bad_hvc, %function\n"
	"bad_hvc:\n"
	"	hvc #0x1234\n"
	"	ret\n"
	".size bad_hvc, . - bad_hvc\n"
	".popsection\n");

static volatile unsigned int bad_hvc_hits;
static volatile uint64_t bad_hvc_esr, bad_hvc_elr;

static bool bad_hvc_hook(struct exc_frame *f)
{
	uintptr_t insn = (uintptr_t)bad_hvc;

	if (f->elr != insn && f->elr != insn + 4)
		return false;  /* not ours: let the default handler report it */
	bad_hvc_hits++;
	bad_hvc_esr = f->esr;
	bad_hvc_elr = f->elr;
	/* Resume after the HVC whichever address the exception reported. */
	f->elr = insn + 4;
	return true;
}

int main(void)
{
	bool ok = true;

	printk("hello from xenvm guest\n");

	long ver = HYPERVISOR_xen_version(XENVER_version, NULL);

	printk("xen_version: %u.%u\n", XENVER_MAJOR(ver), XENVER_MINOR(ver));
	ok &= XENVER_MAJOR(ver) == 4;

	static const char msg[] = "hello through console_io\n";
	long cio = console_io_write(msg, sizeof(msg) - 1);

	printk("console_io: %ld\n", cio);

	long unk = xen_hypercall(UNKNOWN_HYPERCALL, 0, 0, 0, 0, 0);

	printk("hypercall_%d: %ld\n", UNKNOWN_HYPERCALL, unk);
	ok &= unk == -XEN_ENOSYS;

	exc_sync_hook_t old = exc_set_sync_hook(bad_hvc_hook);

	bad_hvc();
	exc_set_sync_hook(old);

	printk("bad_hvc_trapped: %s\n", bad_hvc_hits == 1 ? "yes" : "no");
	if (bad_hvc_hits == 1) {
		printk("bad_hvc_ec: 0x%02x\n", (unsigned)ESR_EC(bad_hvc_esr));
		printk("bad_hvc_elr_is_next: %s\n",
		       bad_hvc_elr == (uintptr_t)bad_hvc + 4 ? "yes" : "no");
		ok &= ESR_EC(bad_hvc_esr) == ESR_EC_UNKNOWN;
		ok &= bad_hvc_elr == (uintptr_t)bad_hvc + 4;
	} else {
		ok = false;
	}

	printk("Test result: %s\n", ok ? "SUCCESS" : "FAILURE");
	xen_shutdown(SHUTDOWN_poweroff);
}
