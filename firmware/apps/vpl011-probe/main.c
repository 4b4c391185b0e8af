// SPDX-License-Identifier: MIT
/*
 * vpl011-probe: the registers of Xen's vpl011 (an SBSA generic UART, a
 * PL011 subset: Arm DDI 0183 and the SBSA's generic UART appendix) as a
 * dom0less domU sees them, and when its SPI (GUEST_VPL011_SPI, INTID 32)
 * is raised for transmit. Linux's sbsa-uart driver and the pl011 earlycon
 * use exactly these. Each line is "name: value"; values come from the real
 * Xen 4.17, and the emulator must print the same.
 *
 * Printing writes the data register, which itself changes RIS/FR, so every
 * value is read first and printed afterwards.
 */
#include <stdbool.h>
#include <stdint.h>

#include <board.h>
#include <xenvm/arch.h>
#include <xenvm/exception.h>
#include <xenvm/gic.h>
#include <xenvm/irq.h>
#include <xenvm/printk.h>

#define UART(off)  ((uintptr_t)BOARD_UART_BASE + (off))
#define DR    0x000
#define RSR   0x004
#define FR    0x018
#define ILPR  0x020
#define IBRD  0x024
#define FBRD  0x028
#define LCR_H 0x02c
#define CR    0x030
#define IFLS  0x034
#define IMSC  0x038
#define RIS   0x03c
#define MIS   0x040
#define ICR   0x044
#define DMACR 0x048
#define TXIM  (1u << 5)
#define RXIM  (1u << 4)
#define RTIM  (1u << 6)
#define VPL011_SPI 32

static volatile unsigned int isr_count;
static volatile uint32_t isr_mis;

static void uart_isr(void *arg)
{
	(void)arg;
	isr_count++;
	isr_mis = mmio_read32(UART(MIS));
}

/*
 * Accesses that may fault: Xen injects a data abort for a register it does
 * not emulate. One instruction each, at a known address, so the hook below
 * can tell its aborts from real ones and step over them.
 */
uint32_t probe_ldr32(uintptr_t a);
uint32_t probe_ldrb(uintptr_t a);
uint32_t probe_ldrh(uintptr_t a);
uint64_t probe_ldr64(uintptr_t a);
void probe_str32(uintptr_t a, uint32_t v);
__asm__(".pushsection .text.probe, \"ax\", %progbits\n"
	".globl probe_ldr32, probe_ldrb, probe_ldrh, probe_ldr64, probe_str32\n"
	"probe_ldr32: ldr w0, [x0]\n ret\n"
	"probe_ldrb: ldrb w0, [x0]\n ret\n"
	"probe_ldrh: ldrh w0, [x0]\n ret\n"
	"probe_ldr64: ldr x0, [x0]\n ret\n"
	"probe_str32: str w1, [x0]\n ret\n"
	".popsection\n");

static volatile unsigned int aborts;
static volatile uint64_t abort_esr, abort_far;

static bool probe_hook(struct exc_frame *f)
{
	uintptr_t p[] = { (uintptr_t)probe_ldr32, (uintptr_t)probe_ldrb, (uintptr_t)probe_ldrh,
			  (uintptr_t)probe_ldr64, (uintptr_t)probe_str32 };

	for (unsigned int i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		if (f->elr != p[i])
			continue;
		aborts++;
		abort_esr = f->esr;
		abort_far = f->far;
		f->x[0] = 0xabababab;
		f->elr += 4;
		return true;
	}
	return false;
}

/* "name: 0xVALUE", or "name: abort ESR FAR-offset" when the access faulted. */
static void show_access(const char *name, uint32_t off, uint64_t val, unsigned int aborts_before)
{
	if (aborts != aborts_before)
		printk("%s: abort esr=0x%lx far=+0x%lx\n", name, (unsigned long)abort_esr,
		       (unsigned long)(abort_far - BOARD_UART_BASE));
	else
		printk("%s: 0x%lx\n", name, (unsigned long)val);
	(void)off;
}

static void raw_putc(char c)
{
	mmio_write32(UART(DR), (uint8_t)c);
}

static void raw_puts(const char *s)
{
	while (*s)
		raw_putc(*s++);
}

/* Lets a pending interrupt be taken. */
static void window(void)
{
	irq_enable();
	for (volatile int i = 0; i < 200; i++)
		;
	irq_disable();
}

int main(void)
{
	/* Before the first character: the reset state. */
	uint32_t fr0 = mmio_read32(UART(FR));
	uint32_t ris0 = mmio_read32(UART(RIS));
	uint32_t imsc0 = mmio_read32(UART(IMSC));

	raw_puts("vpl011-probe\n");
	uint32_t fr1 = mmio_read32(UART(FR));
	uint32_t ris1 = mmio_read32(UART(RIS));

	printk("fr_at_boot: 0x%x\n", fr0);
	printk("ris_at_boot: 0x%x\n", ris0);
	printk("imsc_at_boot: 0x%x\n", imsc0);
	printk("fr_after_tx: 0x%x\n", fr1);
	printk("ris_after_tx: 0x%x\n", ris1);

	/* Registers outside what Xen implements. */
	static const struct { const char *name; uint32_t off; } others[] = {
		{ "rsr", RSR }, { "ilpr", ILPR }, { "ibrd", IBRD }, { "fbrd", FBRD },
		{ "lcr_h", LCR_H }, { "cr", CR }, { "ifls", IFLS }, { "dmacr", DMACR },
		{ "periphid0", 0xfe0 }, { "periphid1", 0xfe4 }, { "periphid2", 0xfe8 },
		{ "periphid3", 0xfec }, { "pcellid0", 0xff0 }, { "pcellid1", 0xff4 },
		{ "pcellid2", 0xff8 }, { "pcellid3", 0xffc },
	};
	exc_set_sync_hook(probe_hook);
	for (unsigned int i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		unsigned int a = aborts;
		uint32_t v = probe_ldr32(UART(others[i].off));

		show_access(others[i].name, others[i].off, v, a);
	}

	/* Writes to them. */
	unsigned int a = aborts;

	probe_str32(UART(CR), 0x301);
	show_access("cr_write", CR, 0, a);
	a = aborts;
	probe_str32(UART(IBRD), 13);
	show_access("ibrd_write", IBRD, 0, a);
	a = aborts;
	probe_str32(UART(RSR), 0xff);
	show_access("rsr_write", RSR, 0, a);

	/* Narrow and wide accesses (the pl011 earlycon writes DR with strb). */
	a = aborts;
	uint32_t fr8 = probe_ldrb(UART(FR));
	show_access("fr_byte", FR, fr8, a);
	a = aborts;
	uint32_t fr16 = probe_ldrh(UART(FR));
	show_access("fr_half", FR, fr16, a);
	a = aborts;
	uint32_t fr8_1 = probe_ldrb(UART(FR + 1));
	show_access("fr_byte_at_1", FR + 1, fr8_1, a);
	a = aborts;
	uint64_t fr64 = probe_ldr64(UART(FR));
	show_access("fr_dword", FR, fr64, a);
	a = aborts;
	uint32_t icr = probe_ldr32(UART(ICR));
	show_access("icr_read", ICR, icr, a);
	mmio_write8(UART(DR), 'b');
	mmio_write8(UART(DR), '\n');

	/* IMSC is read/write; RIS, MIS and FR ignore writes. */
	mmio_write32(UART(IMSC), 0xffffffff);
	uint32_t imsc_all = mmio_read32(UART(IMSC));

	mmio_write32(UART(IMSC), 0);
	mmio_write32(UART(RIS), 0xffffffff);
	mmio_write32(UART(MIS), 0xffffffff);
	mmio_write32(UART(FR), 0xffffffff);
	uint32_t ris_w = mmio_read32(UART(RIS)), fr_w = mmio_read32(UART(FR));

	printk("imsc_all_ones: 0x%x\n", imsc_all);
	printk("ris_after_write: 0x%x\n", ris_w);
	printk("fr_after_write: 0x%x\n", fr_w);

	/* ICR clears RIS bits; MIS = RIS & IMSC. */
	mmio_write32(UART(ICR), 0x7ff);
	uint32_t ris_c = mmio_read32(UART(RIS));

	mmio_write32(UART(IMSC), TXIM | RXIM);
	uint32_t mis_c = mmio_read32(UART(MIS));

	mmio_write32(UART(IMSC), 0);
	raw_putc('x');
	uint32_t ris_x = mmio_read32(UART(RIS));

	mmio_write32(UART(IMSC), TXIM | RXIM);
	uint32_t mis_x = mmio_read32(UART(MIS));

	mmio_write32(UART(IMSC), 0);
	raw_putc('\n');
	printk("ris_after_icr: 0x%x\n", ris_c);
	printk("mis_after_icr: 0x%x\n", mis_c);
	printk("ris_after_char: 0x%x\n", ris_x);
	printk("mis_after_char: 0x%x\n", mis_x);

	/* Receive with nothing to read: RXFE stays set, DR reads 0. */
	uint32_t dr = mmio_read32(UART(DR));
	uint32_t fr_rx = mmio_read32(UART(FR));

	printk("dr_empty: 0x%x\n", dr);
	printk("fr_after_dr_read: 0x%x\n", fr_rx);

	/* The transmit interrupt, on the vpl011's SPI. */
	gic_init();
	irq_connect(VPL011_SPI, uart_isr, 0);
	gic_irq_enable(VPL011_SPI);

	/* Unmasking TXIM while RIS.TX is set raises the SPI once. */
	mmio_write32(UART(IMSC), TXIM);
	window();
	unsigned int n_unmask = isr_count;
	uint32_t mis_unmask = isr_mis;

	/* More characters while TXIM stays set: RIS.TX was already set. */
	raw_puts("tx\n");
	window();
	unsigned int n_more = isr_count;

	/* Clearing RIS.TX, then one character: a new TX edge. */
	mmio_write32(UART(ICR), TXIM);
	window();
	unsigned int n_icr = isr_count;

	raw_puts("y\n");
	window();
	unsigned int n_after_icr = isr_count;

	/* Masking and unmasking again, with RIS.TX still set. */
	mmio_write32(UART(IMSC), 0);
	mmio_write32(UART(IMSC), TXIM);
	window();
	unsigned int n_remask = isr_count;

	/* RXIM / RTIM with nothing received: no interrupt. */
	mmio_write32(UART(IMSC), RXIM | RTIM);
	window();
	unsigned int n_rx = isr_count;

	mmio_write32(UART(IMSC), 0);
	printk("irq_on_unmask: %u\n", n_unmask);
	printk("irq_mis_in_isr: 0x%x\n", mis_unmask);
	printk("irq_after_more_tx: %u\n", n_more);
	printk("irq_after_icr: %u\n", n_icr);
	printk("irq_after_icr_then_tx: %u\n", n_after_icr);
	printk("irq_after_remask: %u\n", n_remask);
	printk("irq_after_rx_unmask: %u\n", n_rx);

	/* A line longer than Xen's 128-byte buffer. */
	for (int i = 0; i < 150; i++)
		raw_putc('0' + i % 10);
	raw_putc('\n');

	printk("Test result: SUCCESS\n");
	return 0;
}
