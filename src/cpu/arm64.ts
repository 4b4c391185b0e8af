/**
 * AArch64 architectural constants the vCPU needs (Arm ARM DDI 0487: D1 exception model,
 * D13 system registers). Names follow the Arm ARM.
 */
import type { CpReg } from '../unicorn/binding.ts';

const sys = (op0: number, op1: number, crn: number, crm: number, op2: number): CpReg => ({ op0, op1, crn, crm, op2 });

export const SysReg = {
  /** SCR_EL3: NS (bit 0), HCE (bit 8) makes HVC a trap to EL2, RW (bit 10) = EL2 is AArch64. */
  SCR_EL3: sys(3, 6, 1, 1, 0),
  /** HCR_EL2: RW (31) EL1 is AArch64; IMO (4) routes IRQs so VI (7) is the guest's virtual IRQ line. */
  HCR_EL2: sys(3, 4, 1, 1, 0),
  SPSR_EL1: sys(3, 0, 4, 0, 0),
  ESR_EL1: sys(3, 0, 5, 2, 0),
  FAR_EL1: sys(3, 0, 6, 0, 0),
  ELR_EL1: sys(3, 0, 4, 0, 1),
  VBAR_EL1: sys(3, 0, 12, 0, 0),
  MPIDR_EL1: sys(3, 0, 0, 0, 5),
  /** VMPIDR_EL2: what an EL1 read of MPIDR_EL1 returns while EL2 is implemented (D17.2.x). */
  VMPIDR_EL2: sys(3, 4, 0, 0, 5),
  SCTLR_EL1: sys(3, 0, 1, 0, 0),
  TCR_EL1: sys(3, 0, 2, 0, 2),
  TTBR0_EL1: sys(3, 0, 2, 0, 0),
  TTBR1_EL1: sys(3, 0, 2, 0, 1),
  MAIR_EL1: sys(3, 0, 10, 2, 0),
} as const;

export const SCR_NS = 1n << 0n;
export const SCR_HCE = 1n << 8n;
export const SCR_RW = 1n << 10n;

export const HCR_IMO = 1n << 4n;
export const HCR_VI = 1n << 7n;
export const HCR_RW = 1n << 31n;

/** PSTATE / SPSR bits (D1.6). */
export const PSTATE_M_MASK = 0xf;
export const PSTATE_EL1T = 0x4;
export const PSTATE_EL1H = 0x5;
export const PSTATE_F = 1 << 6;
export const PSTATE_I = 1 << 7;
export const PSTATE_A = 1 << 8;
export const PSTATE_D = 1 << 9;
export const PSTATE_DAIF = PSTATE_D | PSTATE_A | PSTATE_I | PSTATE_F;
/** PSTATE.IL: set by an illegal exception return; the next instruction raises Illegal Execution State. */
export const PSTATE_IL = 1 << 20;

/** Vector table offsets from VBAR_EL1 (D1.10.2): which stack/EL the exception came from. */
export const VectorBase = { CUR_SP0: 0x000, CUR_SPX: 0x200, LOWER_A64: 0x400, LOWER_A32: 0x600 } as const;
export const VectorKind = { SYNC: 0x000, IRQ: 0x080, FIQ: 0x100, SERROR: 0x180 } as const;

/** ESR_ELx.EC values (D17.2.37) that we synthesise. */
export const EC = {
  UNKNOWN: 0x00,
  WFX: 0x01,
  SVC64: 0x15,
  HVC64: 0x16,
  SYS64: 0x18,
  IABT_LOW: 0x20,
  IABT_CUR: 0x21,
  ILLEGAL_STATE: 0x0e,
  PC_ALIGN: 0x22,
  DABT_LOW: 0x24,
  DABT_CUR: 0x25,
  SP_ALIGN: 0x26,
  BRK64: 0x3c,
} as const;

/** ESR value: EC in [31:26], IL (32-bit instruction) in bit 25, ISS in [24:0]. */
export function esr(ec: number, iss = 0, il = true): number {
  return ((ec << 26) | (il ? 1 << 25 : 0) | (iss & 0x1ffffff)) >>> 0;
}

export const ECNAMES: Record<number, string> = {
  [EC.UNKNOWN]: 'undefined instruction',
  [EC.SVC64]: 'SVC',
  [EC.HVC64]: 'HVC',
  [EC.ILLEGAL_STATE]: 'illegal execution state',
  [EC.IABT_LOW]: 'instruction abort from EL0',
  [EC.IABT_CUR]: 'instruction abort',
  [EC.DABT_LOW]: 'data abort from EL0',
  [EC.DABT_CUR]: 'data abort',
  [EC.PC_ALIGN]: 'PC alignment fault',
  [EC.SP_ALIGN]: 'SP alignment fault',
  [EC.BRK64]: 'BRK',
};

export const INSN_WFI = 0xd503207f;
