/**
 * The few instruction decodings the hypervisor needs (Arm ARM C6/C5.2).
 */

/** HVC #imm16: 1101 0100 000 imm16 000 10. */
export function hvcImmediate(insn: number): number | undefined {
  return (insn & 0xffe0001f) >>> 0 === 0xd4000002 ? (insn >>> 5) & 0xffff : undefined;
}

/** SVC #imm16: 1101 0100 000 imm16 000 01. */
export function svcImmediate(insn: number): number | undefined {
  return (insn & 0xffe0001f) >>> 0 === 0xd4000001 ? (insn >>> 5) & 0xffff : undefined;
}

/** SMC #imm16: 1101 0100 000 imm16 000 11. */
export function smcImmediate(insn: number): number | undefined {
  return (insn & 0xffe0001f) >>> 0 === 0xd4000003 ? (insn >>> 5) & 0xffff : undefined;
}

/** BRK #imm16: 1101 0100 001 imm16 000 00. */
export function brkImmediate(insn: number): number | undefined {
  return (insn & 0xffe0001f) >>> 0 === 0xd4200000 ? (insn >>> 5) & 0xffff : undefined;
}

export interface SysregAccess {
  read: boolean;
  rt: number;
  /** For a write (MSR): the value written, when the trap knows it already. */
  value?: bigint;
  op0: number;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
}

/**
 * MRS/MSR (register) with op0 = 2 or 3: 1101 0101 00 L 1 o0 op1 CRn CRm op2 Rt.
 * (insn & 0xffd00000) === 0xd5100000 picks both directions (DESIGN §3).
 */
export function decodeSysregAccess(insn: number): SysregAccess | undefined {
  if ((insn & 0xffd00000) >>> 0 !== 0xd5100000) return undefined;
  return {
    read: ((insn >>> 21) & 1) === 1,
    op0: 2 + ((insn >>> 19) & 1),
    op1: (insn >>> 16) & 7,
    crn: (insn >>> 12) & 0xf,
    crm: (insn >>> 8) & 0xf,
    op2: (insn >>> 5) & 7,
    rt: insn & 0x1f,
  };
}

export function sysregName(a: Pick<SysregAccess, 'op0' | 'op1' | 'crn' | 'crm' | 'op2'>): string {
  return `S${a.op0}_${a.op1}_C${a.crn}_C${a.crm}_${a.op2}`;
}
