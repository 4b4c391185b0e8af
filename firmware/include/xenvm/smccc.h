/* SPDX-License-Identifier: MIT */
/*
 * SMC Calling Convention (Arm DEN0028) calls through the conduit Xen gives a guest: HVC #0.
 * Function id in x0, arguments in x1..x3, results in x0..x3 (SMC64/HVC64). PSCI (Arm DEN0022)
 * is one such service; its calls answer in x0 alone, 0 or a negative PSCI error code.
 */
#ifndef XENVM_SMCCC_H
#define XENVM_SMCCC_H

#include <stdint.h>

/* PSCI function ids (DEN0022 5.1): the 64-bit forms where the arguments are addresses. */
#define PSCI_CPU_OFF         0x84000002u
#define PSCI_CPU_ON64        0xc4000003u
#define PSCI_AFFINITY_INFO64 0xc4000004u

struct smccc_res {
	uint64_t x[4];
};

static inline struct smccc_res smccc_hvc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t r0 __asm__("x0") = fid;
	register uint64_t r1 __asm__("x1") = a1;
	register uint64_t r2 __asm__("x2") = a2;
	register uint64_t r3 __asm__("x3") = a3;

	__asm__ volatile("hvc #0" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3) : : "memory");
	return (struct smccc_res){ { r0, r1, r2, r3 } };
}

/* A PSCI call: x0 of the answer, as a signed result. */
static inline long psci_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return (long)smccc_hvc(fid, a1, a2, a3).x[0];
}

#endif
