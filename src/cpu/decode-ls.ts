/**
 * The memory access an A64 instruction makes: address, size and direction, computed from the
 * instruction word and the registers as they were before it ran. The engine does not report
 * the faulting VA of a data abort, so the hypervisor recomputes it from the instruction.
 *
 * Encodings follow the Arm ARM DDI0487, C4.1 "A64 instruction set encoding", the "Loads and
 * Stores" group (op0 = x1x0), plus the DC/IC-by-VA system instructions (C5.3 "A64 system
 * instructions for cache maintenance"). ARMv8.0 with the ARMv8.1 LSE atomics and CAS/CASP;
 * RCpc LDAPR/LDAPUR/STLUR (v8.3/v8.4) decode too. Pointer-authenticated loads, MTE tag
 * stores and SVE are not decoded (they return undefined).
 *
 * Atomics and CAS both read and write memory. For such an access DDI0487 (ISS encoding for a
 * Data Abort, WnR) reports WnR = 0 when a read of the location would have taken the fault, 1
 * otherwise; `read` and `write` are both true and `translateDataAccess` in mmu.ts picks the
 * one to report.
 */

/** Reads X0..X30; n = 31 is SP (only ever asked for a base register). */
export type ReadReg = (n: number) => bigint;

export interface MemAccess {
  /** Lowest VA accessed (the base for post-indexed forms); for DC/IC the address in Xt. */
  address: bigint;
  /** Bytes accessed from `address` onwards (all registers of a pair or structure). */
  size: number;
  /** The instruction writes memory (stores, atomics, CAS, DC ZVA). */
  write: boolean;
  /** The instruction reads memory (loads, atomics, CAS, DC/IC maintenance other than ZVA). */
  read: boolean;
  /** The Rt field (for CAS/CASP the value stored; Rs holds the comparison). */
  rt: number;
  /** Second register of a pair (LDP/STP/LDNP/STNP/LDXP/STXP; Rt+1 for CASP). */
  pair?: { rt2: number };
  /** SIMD&FP register transfer. */
  simd?: boolean;
  /** LDTR/STTR: checked with EL0 permissions even at EL1. */
  unprivileged?: boolean;
  /** DC/IC by VA: a fault sets ESR.CM (and WnR). */
  cacheMaintenance?: boolean;
  /** Pre/post-indexed forms: the base register and the value written back to it. */
  writeback?: { rn: number; value: bigint };
}

const M64 = (1n << 64n) - 1n;
/** Cortex-A57 cache line and DC ZVA block size (CTR_EL0, DCZID_EL0): 64 bytes. */
export const DC_BLOCK_BYTES = 64;

function sext(v: number, bits: number): bigint {
  return BigInt.asIntN(bits, BigInt(v));
}

function wb(rn: number, value: bigint): { rn: number; value: bigint } {
  return { rn, value: value & M64 };
}

/** Extends the index register of a register-offset load/store (option field, C6.2 "extend"). */
function extendReg(v: bigint, option: number): bigint | undefined {
  switch (option) {
    case 0b010: // UXTW
      return v & 0xffff_ffffn;
    case 0b011: // LSL / UXTX
    case 0b111: // SXTX
      return v;
    case 0b110: // SXTW
      return BigInt.asIntN(32, v);
    default:
      return undefined; // unallocated
  }
}

/**
 * Single-register size and direction from size:V:opc (loads/stores with an immediate or register
 * offset). Returns log2 of the access size, or undefined for PRFM and unallocated encodings.
 */
function singleReg(size: number, v: number, opc: number): { scale: number; write: boolean } | undefined {
  if (v) {
    if (opc >= 2) return size === 0 ? { scale: 4, write: opc === 2 } : undefined; // Q registers
    return { scale: size, write: opc === 0 };
  }
  if (opc === 0) return { scale: size, write: true };
  if (opc === 1) return { scale: size, write: false };
  if (size === 3) return undefined; // PRFM / PRFUM (opc 10), unallocated (opc 11)
  if (opc === 3 && size === 2) return undefined;
  return { scale: size, write: false }; // LDRS*
}

/**
 * The memory access made by `insn`, or undefined when it makes none (not a load/store, PRFM,
 * an unallocated encoding). `pc` is the instruction's address (literal loads).
 */
export function decodeMemAccess(insn: number, reg: ReadReg, pc = 0n): MemAccess | undefined {
  insn >>>= 0;
  const rt = insn & 0x1f;
  const rn = (insn >>> 5) & 0x1f;
  const base = () => reg(rn);
  const size = insn >>> 30;
  const v = (insn >>> 26) & 1;
  const access = (address: bigint, bytes: number, write: boolean, extra: Partial<MemAccess> = {}): MemAccess => ({
    address: address & M64,
    size: bytes,
    write,
    read: !write,
    rt,
    ...(v ? { simd: true } : {}),
    ...extra,
  });

  // DC/IC by VA: SYS #op1, C7, Cm, #op2, Xt = 1101 0101 0000 1 op1 0111 CRm op2 Rt.
  if ((insn & 0xfff8f000) >>> 0 === 0xd5087000) return cacheOp(insn, reg);

  // Loads and stores: op0 = x1x0 in bits [28:25].
  if ((insn & 0x0a000000) >>> 0 !== 0x08000000) return undefined;

  // Advanced SIMD load/store multiple structures: 0 Q 0011000 L 000000 opcode size Rn Rt,
  // post-indexed: 0 Q 0011001 L 0 Rm opcode size Rn Rt.
  if ((insn & 0xbfbf0000) >>> 0 === 0x0c000000 || (insn & 0xbfa00000) >>> 0 === 0x0c800000) {
    // opcode -> registers: 0000 LD4, 0010 LD1 x4, 0100 LD3, 0110 LD1 x3, 0111 LD1, 1000 LD2, 1010 LD1 x2.
    const opcode = (insn >>> 12) & 0xf;
    const regs = [4, 0, 4, 0, 3, 0, 3, 1, 2, 0, 2, 0, 0, 0, 0, 0][opcode];
    if (!regs) return undefined;
    // LD2/LD3/LD4 have no .1D arrangement (size 11 with Q 0).
    if ((opcode & 3) === 0 && ((insn >>> 10) & 3) === 3 && !((insn >>> 30) & 1)) return undefined;
    return simdStruct(insn, reg, regs * ((insn >>> 30) & 1 ? 16 : 8));
  }
  // Advanced SIMD load/store single structure: 0 Q 0011010 L R 00000 opcode S size Rn Rt,
  // post-indexed: 0 Q 0011011 L R Rm opcode S size Rn Rt.
  if ((insn & 0xbf9f0000) >>> 0 === 0x0d000000 || (insn & 0xbf800000) >>> 0 === 0x0d800000) {
    const load = (insn >>> 22) & 1;
    const r = (insn >>> 21) & 1;
    const opcode = (insn >>> 13) & 7;
    const s = (insn >>> 12) & 1;
    const sz = (insn >>> 10) & 3;
    const selem = (((opcode & 1) << 1) | r) + 1;
    let scale: number;
    switch (opcode >>> 1) {
      case 0: // B elements
        scale = 0;
        break;
      case 1: // H elements
        if (sz & 1) return undefined;
        scale = 1;
        break;
      case 2: // S elements (size 00) or D elements (size 01, S 0)
        if (sz & 2 || (sz === 1 && s)) return undefined;
        scale = sz === 0 ? 2 : 3;
        break;
      default: // LD1R..LD4R: one element per structure, replicated
        if (!load || s) return undefined;
        scale = sz;
    }
    return simdStruct(insn, reg, selem << scale);
  }

  // Load register (literal): opc 011 V 00 imm19 Rt.
  if ((insn & 0x3b000000) >>> 0 === 0x18000000) {
    const opc = size;
    if (opc === 3) return undefined; // PRFM (literal); unallocated for SIMD&FP
    const bytes = v ? 4 << opc : opc === 1 ? 8 : 4;
    return access(pc + sext((insn >>> 5) & 0x7ffff, 19) * 4n, bytes, false);
  }

  // Load/store exclusive, ordered, CAS, CASP: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt.
  if ((insn & 0x3f000000) >>> 0 === 0x08000000) {
    const o2 = (insn >>> 23) & 1;
    const load = (insn >>> 22) & 1;
    const o1 = (insn >>> 21) & 1;
    const rt2 = (insn >>> 10) & 0x1f;
    const bytes = 1 << size;
    if (!o2 && !o1) return access(base(), bytes, !load); // STXR/STLXR/LDXR/LDAXR
    if (!o2 && o1) {
      if (size >= 2) return access(base(), 2 * bytes, !load, { pair: { rt2 } }); // STXP/LDXP
      // CASP: 0 sz 001000 0 L 1 Rs o0 11111 Rn Rt (Rs,Rs+1 compared and loaded, Rt,Rt+1 stored).
      if (rt2 !== 31 || rt & 1 || ((insn >>> 16) & 1)) return undefined; // register pairs start even
      const each = size === 1 ? 8 : 4;
      return { ...access(base(), 2 * each, true, { pair: { rt2: rt + 1 } }), read: true };
    }
    if (o2 && !o1) return access(base(), bytes, !load); // STLR/STLLR (o0 0), LDAR/LDLAR
    if (rt2 !== 31) return undefined;
    return { ...access(base(), bytes, true), read: true }; // CAS/CASA/CASL/CASAL
  }

  // LDAPUR/STLUR (RCpc, unscaled): size 011001 opc 0 imm9 00 Rn Rt.
  if ((insn & 0x3f200c00) >>> 0 === 0x19000000) {
    const opc = (insn >>> 22) & 3;
    if (opc === 3 && size >= 2) return undefined;
    if (opc === 2 && size === 3) return undefined;
    return access(base() + sext((insn >>> 12) & 0x1ff, 9), 1 << size, opc === 0);
  }

  // Load/store pair: opc 101 V idx L imm7 Rt2 Rn Rt (idx 00 no-allocate, 01 post, 10 offset, 11 pre).
  if ((insn & 0x3a000000) >>> 0 === 0x28000000) {
    const load = (insn >>> 22) & 1;
    const idx = (insn >>> 23) & 3;
    const opc = size;
    let scale: number;
    if (v) {
      if (opc === 3) return undefined;
      scale = 2 + opc;
    } else {
      if (opc === 3) return undefined;
      if (opc === 1 && (!load || idx === 0)) return undefined; // STGP (MTE) / unallocated LDNP
      scale = opc === 1 ? 2 : 2 + (opc >>> 1);
    }
    const b = base();
    const off = sext((insn >>> 15) & 0x7f, 7) << BigInt(scale);
    const addr = idx === 1 ? b : b + off;
    const extra: Partial<MemAccess> = { pair: { rt2: (insn >>> 10) & 0x1f } };
    if (idx === 1 || idx === 3) extra.writeback = wb(rn, b + off);
    return access(addr, 2 << scale, !load, extra);
  }

  // Remaining classes: size 111 V 0x opc ... (single register).
  if ((insn & 0x3a000000) >>> 0 !== 0x38000000) return undefined;
  const opc = (insn >>> 22) & 3;

  // Unsigned immediate: size 111 V 01 opc imm12 Rn Rt.
  if ((insn >>> 24) & 1) {
    const s = singleReg(size, v, opc);
    if (!s) return undefined;
    return access(base() + (BigInt((insn >>> 10) & 0xfff) << BigInt(s.scale)), 1 << s.scale, s.write);
  }

  const bit21 = (insn >>> 21) & 1;
  const op4 = (insn >>> 10) & 3;
  if (!bit21) {
    // Unscaled (00), post-index (01), unprivileged (10), pre-index (11): ... opc 0 imm9 op4 Rn Rt.
    const s = singleReg(size, v, opc);
    if (!s) return undefined;
    if (op4 === 2 && v) return undefined; // no SIMD LDTR/STTR
    const b = base();
    const imm = sext((insn >>> 12) & 0x1ff, 9);
    const extra: Partial<MemAccess> = {};
    if (op4 === 2) extra.unprivileged = true;
    if (op4 === 1 || op4 === 3) extra.writeback = wb(rn, b + imm);
    return access(op4 === 1 ? b : b + imm, 1 << s.scale, s.write, extra);
  }

  if (op4 === 0) {
    // Atomic memory operations: size 111 V 00 A R 1 Rs o3 opc 00 Rn Rt.
    if (v) return undefined;
    const o3 = (insn >>> 15) & 1;
    const aop = (insn >>> 12) & 7;
    const a = (insn >>> 23) & 1;
    const r = (insn >>> 22) & 1;
    if (o3 && aop === 4 && a && !r) return ((insn >>> 16) & 0x1f) === 31 ? access(base(), 1 << size, false) : undefined; // LDAPR
    if (o3 && aop !== 0) return undefined;
    return { ...access(base(), 1 << size, true), read: true }; // LDADD.. LDUMIN, SWP
  }
  if (op4 === 2) {
    // Register offset: size 111 V 00 opc 1 Rm option S 10 Rn Rt.
    const s = singleReg(size, v, opc);
    if (!s) return undefined;
    const rm = (insn >>> 16) & 0x1f;
    const option = (insn >>> 13) & 7;
    const shift = (insn >>> 12) & 1 ? s.scale : 0;
    const m = extendReg(rm === 31 ? 0n : reg(rm), option);
    if (m === undefined) return undefined;
    return access(base() + (m << BigInt(shift)), 1 << s.scale, s.write);
  }
  return undefined; // LDRAA/LDRAB (pointer authentication)
}

/** LD1..LD4/ST1..ST4 (multiple or single structure), base and post-index forms. */
function simdStruct(insn: number, reg: ReadReg, bytes: number): MemAccess {
  const rn = (insn >>> 5) & 0x1f;
  const b = reg(rn);
  const post = (insn >>> 23) & 1;
  const out: MemAccess = { address: b & M64, size: bytes, write: !((insn >>> 22) & 1), read: !!((insn >>> 22) & 1), rt: insn & 0x1f, simd: true };
  if (post) {
    const rm = (insn >>> 16) & 0x1f;
    out.writeback = wb(rn, b + (rm === 31 ? BigInt(bytes) : reg(rm)));
  }
  return out;
}

/** op1:CRm:op2 of the cache maintenance instructions by VA (CRn = 7). */
const MAINTENANCE_BY_VA = new Set([
  '0:6:1', // DC IVAC
  '3:10:1', // DC CVAC
  '3:11:1', // DC CVAU
  '3:12:1', // DC CVAP (v8.2)
  '3:14:1', // DC CIVAC
  '3:5:1', // IC IVAU
]);

/**
 * DC/IC by VA (SYS with CRn = 7). DC ZVA writes a 64-byte block (as a store: no CM); the others
 * are cache maintenance, checked for read permission and reported with CM = 1 and WnR = 1.
 * Set/way operations and AT are not memory accesses.
 */
function cacheOp(insn: number, reg: ReadReg): MemAccess | undefined {
  const op1 = (insn >>> 16) & 7;
  const crm = (insn >>> 8) & 0xf;
  const op2 = (insn >>> 5) & 7;
  const rt = insn & 0x1f;
  const key = `${op1}:${crm}:${op2}`;
  const xt = rt === 31 ? 0n : reg(rt);
  if (key === '3:4:1') return { address: xt, size: DC_BLOCK_BYTES, write: true, read: false, rt }; // DC ZVA
  if (!MAINTENANCE_BY_VA.has(key)) return undefined;
  return { address: xt, size: DC_BLOCK_BYTES, write: false, read: true, rt, cacheMaintenance: true };
}
