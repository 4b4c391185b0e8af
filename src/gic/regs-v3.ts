/**
 * GICv3 register offsets, fields and system-register encodings (Arm IHI0069, "GIC Architecture
 * Specification, GICv3 and GICv4", the programmers' model chapter; cited here by register name).
 * GICD offsets are from the distributor base, GICR offsets from each redistributor's RD_base or
 * SGI_base frame, ICC encodings are the MRS/MSR operands (Arm ARM, GIC system registers).
 */
import type { SysReg } from './types.ts';

// ---- Distributor (IHI0069, GICD register descriptions) ----
/** GICD_CTLR, Non-secure view with DS=0: EnableGrp1A [1], ARE_NS [4], RWP [31]. */
export const GICD_CTLR = 0x0000;
export const GICD_CTLR_ENABLE_G1A = 1 << 1;
export const GICD_CTLR_ARE_NS = 1 << 4;
/** GICD_TYPER: ITLinesNumber [4:0], CPUNumber [7:5], IDbits [23:19]. */
export const GICD_TYPER = 0x0004;
export const GICD_TYPER_IDBITS_SHIFT = 19;
/** GICD_IIDR. */
export const GICD_IIDR = 0x0008;
/** GICD_STATUSR (optional; RAZ/WI here). */
export const GICD_STATUSR = 0x0010;
/** GICD_IGROUPR<n>. */
export const GICD_IGROUPR = 0x0080;
/** GICD_ISENABLER<n>. */
export const GICD_ISENABLER = 0x0100;
/** GICD_ICENABLER<n>. */
export const GICD_ICENABLER = 0x0180;
/** GICD_ISPENDR<n>. */
export const GICD_ISPENDR = 0x0200;
/** GICD_ICPENDR<n>. */
export const GICD_ICPENDR = 0x0280;
/** GICD_ISACTIVER<n>. */
export const GICD_ISACTIVER = 0x0300;
/** GICD_ICACTIVER<n>. */
export const GICD_ICACTIVER = 0x0380;
/** GICD_IPRIORITYR<n>, byte-accessible. */
export const GICD_IPRIORITYR = 0x0400;
/** GICD_ICFGR<n>. */
export const GICD_ICFGR = 0x0c00;
/** GICD_IGRPMODR<n> (RAZ/WI: no Secure state in the guest). */
export const GICD_IGRPMODR = 0x0d00;
/** GICD_NSACR<n> (RAZ/WI). */
export const GICD_NSACR = 0x0e00;
/** GICD_IROUTER<n>, n = 32..1019, 64-bit: Aff3 [39:32], IRM [31], Aff2 [23:16],
 *  Aff1 [15:8], Aff0 [7:0]. */
export const GICD_IROUTER = 0x6000;
export const GICD_IROUTER_IRM = 0x8000_0000;
/** GICD_PIDR2: ArchRev [7:4] = 3 for GICv3. */
export const GICD_PIDR2 = 0xffe8;
export const GICD_SIZE = 0x10000;

// ---- Redistributor, RD_base frame (IHI0069, GICR RD_base registers) ----
/** GICR_CTLR: EnableLPIs [0] (RAZ/WI, no LPIs), RWP [3]. */
export const GICR_CTLR = 0x0000;
/** GICR_IIDR. */
export const GICR_IIDR = 0x0004;
/** GICR_TYPER, 64-bit: Last [4], Processor_Number [23:8], Affinity_Value [63:32]. */
export const GICR_TYPER = 0x0008;
export const GICR_TYPER_LAST = 1 << 4;
export const GICR_TYPER_PROCNUM_SHIFT = 8;
/** GICR_STATUSR (RAZ/WI). */
export const GICR_STATUSR = 0x0010;
/** GICR_WAKER (RAZ/WI under Xen); ProcessorSleep is bit 1. */
export const GICR_WAKER = 0x0014;
export const GICR_WAKER_PROCESSOR_SLEEP = 1 << 1;
/** GICR_PROPBASER / GICR_PENDBASER (RAZ/WI: no LPIs). */
export const GICR_PROPBASER = 0x0070;
export const GICR_PENDBASER = 0x0078;
/** GICR_PIDR2: ArchRev [7:4] = 3. */
export const GICR_PIDR2 = 0xffe8;

// ---- Redistributor, SGI_base frame (RD_base + 64 KiB; IHI0069, GICR SGI_base registers) ----
export const GICR_SGI_BASE = 0x10000;
/** GICR_IGROUPR0, ISENABLER0, ICENABLER0, ISPENDR0, ICPENDR0, ISACTIVER0, ICACTIVER0:
 *  same layout as the GICD word for INTIDs 0..31. */
export const GICR_IGROUPR0 = 0x0080;
export const GICR_ISENABLER0 = 0x0100;
export const GICR_ICENABLER0 = 0x0180;
export const GICR_ISPENDR0 = 0x0200;
export const GICR_ICPENDR0 = 0x0280;
export const GICR_ISACTIVER0 = 0x0300;
export const GICR_ICACTIVER0 = 0x0380;
/** GICR_IPRIORITYR0..7 (0x400..0x41f), byte-accessible. */
export const GICR_IPRIORITYR0 = 0x0400;
/** GICR_ICFGR0 (SGIs, read-only all-edge) and GICR_ICFGR1 (PPIs). */
export const GICR_ICFGR0 = 0x0c00;
export const GICR_ICFGR1 = 0x0c04;
export const GICR_IGRPMODR0 = 0x0d00;
export const GICR_NSACR = 0x0e00;
/** Each redistributor is an RD frame plus an SGI frame (IHI0069: 2 x 64 KiB without VLPIs). */
export const GICR_STRIDE = 0x20000;

/** Identification values as Xen 4.17's vGICv3 reports them: IIDR 0x34c, PIDR2 with ArchRev 3 only. */
export const GICD_IIDR_VALUE = 0x0000034c;
export const GICR_IIDR_VALUE = 0x0000034c;
export const PIDR2_VALUE = 0x30;
/** GICR_SYNCR (RD_base + 0xc0): bit 0 Busy; Xen's always reads 1. */
export const GICR_SYNCR = 0x00c0;
export const GICR_SYNCR_NOT_BUSY = 1;

// ---- CPU interface system registers (IHI0069, AArch64 ICC_* register descriptions; op0 = 3, op1 = 0, CRn = 12 unless noted) ----
const icc = (crn: number, crm: number, op2: number): SysReg => Object.freeze({ op0: 3, op1: 0, crn, crm, op2 });

/** ICC_PMR_EL1: priority mask [7:0]. */
export const ICC_PMR_EL1 = icc(4, 6, 0);
/** ICC_IAR0_EL1 (Group 0 acknowledge). */
export const ICC_IAR0_EL1 = icc(12, 8, 0);
/** ICC_EOIR0_EL1. */
export const ICC_EOIR0_EL1 = icc(12, 8, 1);
/** ICC_HPPIR0_EL1. */
export const ICC_HPPIR0_EL1 = icc(12, 8, 2);
/** ICC_BPR0_EL1. */
export const ICC_BPR0_EL1 = icc(12, 8, 3);
/** ICC_AP0R0_EL1. */
export const ICC_AP0R0_EL1 = icc(12, 8, 4);
/** ICC_AP1R<n>_EL1, n = 0..3 at op2 = n. */
export const ICC_AP1R0_EL1 = icc(12, 9, 0);
/** ICC_DIR_EL1: deactivate, INTID [23:0]. */
export const ICC_DIR_EL1 = icc(12, 11, 1);
/** ICC_RPR_EL1: running priority [7:0]. */
export const ICC_RPR_EL1 = icc(12, 11, 3);
/** ICC_SGI1R_EL1: TargetList [15:0], Aff1 [23:16], INTID [27:24], Aff2 [39:32], IRM [40],
 *  RS [47:44], Aff3 [55:48]. */
export const ICC_SGI1R_EL1 = icc(12, 11, 5);
/** ICC_ASGI1R_EL1 and ICC_SGI0R_EL1 (not supported: the guest has one
 *  Security state and only Group 1). */
export const ICC_ASGI1R_EL1 = icc(12, 11, 6);
export const ICC_SGI0R_EL1 = icc(12, 11, 7);
/** ICC_IAR1_EL1: INTID [23:0]. */
export const ICC_IAR1_EL1 = icc(12, 12, 0);
/** ICC_EOIR1_EL1. */
export const ICC_EOIR1_EL1 = icc(12, 12, 1);
/** ICC_HPPIR1_EL1. */
export const ICC_HPPIR1_EL1 = icc(12, 12, 2);
/** ICC_BPR1_EL1. */
export const ICC_BPR1_EL1 = icc(12, 12, 3);
/** ICC_CTLR_EL1: CBPR [0], EOImode [1], PMHE [6], PRIbits [10:8], IDbits [13:11]
 *  (0 = 16 bits), SEIS [14], A3V [15]. */
export const ICC_CTLR_EL1 = icc(12, 12, 4);
export const ICC_CTLR_EOIMODE = 1n << 1n;
/** ICC_CTLR_EL1.IDbits = 1 (24-bit INTIDs) and A3V (Aff3 supported in SGI1R), as the guest reads. */
export const ICC_CTLR_IDBITS_24 = 1 << 11;
export const ICC_CTLR_A3V = 1 << 15;
/** ICC_SRE_EL1: SRE [0], DFB [1], DIB [2]; the guest always sees 0b111. */
export const ICC_SRE_EL1 = icc(12, 12, 5);
/** ICC_IGRPEN0_EL1 / ICC_IGRPEN1_EL1: Enable [0]. */
export const ICC_IGRPEN0_EL1 = icc(12, 12, 6);
export const ICC_IGRPEN1_EL1 = icc(12, 12, 7);

/** Pack an operand into the 16-bit o0:op1:CRn:CRm:op2 number MRS/MSR carry in bits [20:5]
 *  (op0 stored as op0 with its high bit implied, as in the instruction's bits [20:19]). */
export function sysregKey(r: SysReg): number {
  return ((r.op0 & 3) << 14) | ((r.op1 & 7) << 11) | ((r.crn & 15) << 7) | ((r.crm & 15) << 3) | (r.op2 & 7);
}

export const ICC_INTID_MASK = 0xffffff;
