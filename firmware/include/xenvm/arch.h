/* SPDX-License-Identifier: MIT */
/* Small AArch64 helpers: system registers, barriers, MMIO. */
#ifndef XENVM_ARCH_H
#define XENVM_ARCH_H

#include <stdint.h>

/* `reg` may be an architectural name or an S<op0>_<op1>_C<n>_C<m>_<op2> encoding. */
#define read_sysreg(reg) ({ \
	uint64_t __v; \
	__asm__ volatile("mrs %0, " #reg : "=r"(__v)); \
	__v; })
#define write_sysreg(reg, v) \
	__asm__ volatile("msr " #reg ", %0" : : "r"((uint64_t)(v)) : "memory")

#define isb()      __asm__ volatile("isb" : : : "memory")
#define dsb(opt)   __asm__ volatile("dsb " #opt : : : "memory")
#define dmb(opt)   __asm__ volatile("dmb " #opt : : : "memory")
#define barrier()  __asm__ volatile("" : : : "memory")

static inline void irq_enable(void)  { __asm__ volatile("msr daifclr, #2" : : : "memory"); }
static inline void irq_disable(void) { __asm__ volatile("msr daifset, #2" : : : "memory"); }
static inline void wfi(void)         { __asm__ volatile("wfi" : : : "memory"); }

/* Device registers: single-copy accesses of exactly the given width. */
static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}
static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}
static inline uint64_t mmio_read64(uintptr_t addr)
{
	uint64_t v;
	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}
static inline void mmio_write64(uintptr_t addr, uint64_t v)
{
	__asm__ volatile("str %0, [%1]" : : "r"(v), "r"(addr) : "memory");
}
static inline uint8_t mmio_read8(uintptr_t addr)
{
	uint8_t v;
	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}
static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

/* ESR_ELx fields (Arm ARM D17.2.37). */
#define ESR_EC(esr)      (((esr) >> 26) & 0x3f)
#define ESR_IL           (1u << 25)
#define ESR_ISS(esr)     ((esr) & 0x1ffffff)
#define ESR_EC_UNKNOWN   0x00
#define ESR_EC_HVC64     0x16
#define ESR_EC_IABT_CUR  0x21
#define ESR_EC_DABT_CUR  0x25

#endif
