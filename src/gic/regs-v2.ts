/**
 * GICv2 register offsets and fields (Arm IHI0048B, "GIC Architecture Specification v2").
 * Distributor offsets are from the GICD base (§4.1.2 Table 4-1), CPU interface offsets from the
 * GICC base (§4.1.3 Table 4-2).
 */

// ---- Distributor (IHI0048B §4.3) ----
/** §4.3.1 Distributor Control: bit0 Enable (no Security Extensions in the guest's view). */
export const GICD_CTLR = 0x000;
/** §4.3.2 Interrupt Controller Type: ITLinesNumber [4:0], CPUNumber [7:5], SecurityExtn [10]. */
export const GICD_TYPER = 0x004;
/** §4.3.3 Distributor Implementer Identification. */
export const GICD_IIDR = 0x008;
/** §4.3.4 Interrupt Group Registers (32 interrupts per word). */
export const GICD_IGROUPR = 0x080;
/** §4.3.5 Interrupt Set-Enable Registers. */
export const GICD_ISENABLER = 0x100;
/** §4.3.6 Interrupt Clear-Enable Registers. */
export const GICD_ICENABLER = 0x180;
/** §4.3.7 Interrupt Set-Pending Registers. */
export const GICD_ISPENDR = 0x200;
/** §4.3.8 Interrupt Clear-Pending Registers. */
export const GICD_ICPENDR = 0x280;
/** §4.3.9 Interrupt Set-Active Registers (GICv2). */
export const GICD_ISACTIVER = 0x300;
/** §4.3.10 Interrupt Clear-Active Registers. */
export const GICD_ICACTIVER = 0x380;
/** §4.3.11 Interrupt Priority Registers, byte-accessible, 0x400..0x7fb. */
export const GICD_IPRIORITYR = 0x400;
/** §4.3.12 Interrupt Processor Targets Registers, byte-accessible, 0x800..0xbfb. Words 0..7
 *  (SGIs and PPIs) are read-only and read as the accessing CPU's own bit. */
export const GICD_ITARGETSR = 0x800;
/** §4.3.13 Interrupt Configuration Registers: two bits per interrupt, bit 2n+1 = edge. */
export const GICD_ICFGR = 0xc00;
/** §4.3.14 Non-secure Access Control Registers (RAZ/WI without Security Extensions). */
export const GICD_NSACR = 0xe00;
/** §4.3.15 Software Generated Interrupt Register (write-only). */
export const GICD_SGIR = 0xf00;
/** §4.3.16 SGI Clear-Pending Registers: byte per SGI, bit per requesting CPU. */
export const GICD_CPENDSGIR = 0xf10;
/** §4.3.17 SGI Set-Pending Registers. */
export const GICD_SPENDSGIR = 0xf20;
/** §4.3.18 Peripheral ID2: ArchRev in bits [7:4] (2 for GICv2). */
export const GICD_PIDR2 = 0xfe8;
export const GICD_SIZE = 0x1000;

/** GICD_SGIR fields (§4.3.15 Table 4-21). */
export const SGIR_TARGET_FILTER_SHIFT = 24; // 0 list, 1 all-but-self, 2 self, 3 reserved
export const SGIR_TARGET_LIST_SHIFT = 16;
export const SGIR_INTID_MASK = 0xf;

// ---- CPU interface (IHI0048B §4.4) ----
/** §4.4.1 CPU Interface Control: EnableGrp0 [0], EnableGrp1 [1], AckCtl [2], FIQEn [3], CBPR [4],
 *  EOImode [9] (the layout of GICC_CTLR without Security Extensions, which is the layout of the
 *  GICV_CTLR frame Xen maps at this address). */
export const GICC_CTLR = 0x00;
export const GICC_CTLR_ENABLE_GRP0 = 1 << 0;
export const GICC_CTLR_ENABLE_GRP1 = 1 << 1;
export const GICC_CTLR_EOIMODE = 1 << 9;
/** Bits of GICC_CTLR we store and read back (AckCtl, FIQEn and CBPR are kept but have no effect). */
export const GICC_CTLR_RW_MASK = 0x21f;
/** §4.4.2 Interrupt Priority Mask. */
export const GICC_PMR = 0x04;
/** §4.4.3 Binary Point (Group 0 view). */
export const GICC_BPR = 0x08;
/** §4.4.4 Interrupt Acknowledge: INTID [9:0], CPUID [12:10] for SGIs. */
export const GICC_IAR = 0x0c;
/** §4.4.5 End of Interrupt. */
export const GICC_EOIR = 0x10;
/** §4.4.6 Running Priority. */
export const GICC_RPR = 0x14;
/** §4.4.7 Highest Priority Pending Interrupt. */
export const GICC_HPPIR = 0x18;
/** §4.4.8 Aliased Binary Point (Group 1). */
export const GICC_ABPR = 0x1c;
/** §4.4.9 Aliased Interrupt Acknowledge (Group 1). */
export const GICC_AIAR = 0x20;
/** §4.4.10 Aliased End of Interrupt (Group 1). */
export const GICC_AEOIR = 0x24;
/** §4.4.11 Aliased Highest Priority Pending Interrupt (Group 1). */
export const GICC_AHPPIR = 0x28;
/** §4.4.12 Active Priorities (0xd0..0xdc). */
export const GICC_APR0 = 0xd0;
/** §4.4.13 Non-secure Active Priorities (0xe0..0xec). */
export const GICC_NSAPR0 = 0xe0;
/** §4.4.14 CPU Interface Identification. */
export const GICC_IIDR = 0xfc;
/** §4.4.15 Deactivate Interrupt (used when EOImode = 1). */
export const GICC_DIR = 0x1000;
export const GICC_SIZE = 0x2000;

export const IAR_INTID_MASK = 0x3ff;
export const IAR_CPUID_SHIFT = 10;

/** Identification values a guest sees. GICD_IIDR is what Xen's vGICv2 reports (Arm's JEP106
 *  code 0x43b); GICC_IIDR is what the GICV frame of QEMU's GICv2 (hardware, under Xen) reports. */
export const GICD_IIDR_VALUE = 0x0000043b;
export const GICC_IIDR_VALUE = 0x0002043b;
/** What a read of the write-only GICD_SGIR returns under Xen. */
export const GICD_SGIR_READ_VALUE = 0xdeadbeef;
/** GICC_ABPR of QEMU's virtual CPU interface: 3 at reset, at least 1. */
export const GICC_ABPR_RESET = 3;
export const GICC_ABPR_MIN = 1;
