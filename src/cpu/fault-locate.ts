/**
 * Load/store decoding for aborts: which address an A64 load or store accesses, how many bytes,
 * in which direction, and whether the architecture checks its alignment whatever SCTLR.A says.
 * Decodings follow the Arm ARM C4.1.4 "Loads and Stores" (the ARMv8.0 subset a Cortex-A57 has:
 * no LSE atomics, no LDAPR, no MTE). All addresses are 64-bit exact.
 *
 * Two users: the data-abort path (the engine says "data abort" at an exact PC but not where or
 * what: the instruction at PC tells), and `locateFaultingAccess`, for a run whose PC is only the
 * start of the translation block (see below).
 */

type ReadInsn = (addr: bigint) => number | undefined;
/** Register n (0..30); 31 means SP (the base register of a load/store is never XZR). */
type ReadReg = (n: number) => bigint;

export interface LoadStore {
  /** The first byte accessed (virtual address, 64 bits). */
  va: bigint;
  /** Bytes accessed by the whole instruction (a pair: both registers). */
  size: number;
  write: boolean;
  /** Exclusive or acquire/release: an unaligned address is an alignment fault even with SCTLR.A = 0. */
  alignmentChecked: boolean;
  /** The alignment SCTLR.A (or `alignmentChecked`) asks for: the element size, or the whole of an exclusive pair. */
  align: number;
  /** LDTR/STTR and friends: EL1 accesses checked with EL0's permissions. */
  unprivileged: boolean;
}

const M64 = (1n << 64n) - 1n;
const sext = (v: number, bits: number) => (v << (32 - bits)) >> (32 - bits);
const wrap = (v: bigint) => v & M64;

/** The effective address and shape of a load/store at `pc`, or undefined if `insn` is none. */
export function decodeLoadStore(insn: number, pc: bigint, reg: ReadReg): LoadStore | undefined {
  const rn = (insn >>> 5) & 0x1f;
  const base = () => reg(rn); // Rn = 31 is SP for loads and stores
  const simd = (insn >>> 26) & 1;
  // Load register (literal): opc 011 V 00 imm19 Rt. Always a load; PRFM (opc 11, V 0) reads nothing.
  if ((insn & 0x3b000000) >>> 0 === 0x18000000) {
    const opc = insn >>> 30;
    const size = simd ? 4 << opc : opc === 1 ? 8 : 4;
    return { va: wrap(pc + BigInt(sext((insn >>> 5) & 0x7ffff, 19) * 4)), size, write: false, alignmentChecked: false, align: size, unprivileged: false };
  }
  // Load/store exclusive and load-acquire/store-release: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt.
  if ((insn & 0x3f000000) >>> 0 === 0x08000000) {
    const one = 1 << (insn >>> 30);
    const o2 = (insn >>> 23) & 1;
    const o1 = (insn >>> 21) & 1;
    const load = ((insn >>> 22) & 1) === 1;
    const size = o2 === 0 && o1 === 1 ? 2 * one : one;
    return { va: base(), size, write: !load, alignmentChecked: true, align: size, unprivileged: false };
  }
  // Load/store pair (all indexing forms): opc 101 V 0xx L imm7 Rt2 Rn Rt.
  if ((insn & 0x3a000000) >>> 0 === 0x28000000) {
    const opc = insn >>> 30;
    const scale = simd ? 2 + opc : 2 + (opc >>> 1);
    const off = BigInt(sext((insn >>> 15) & 0x7f, 7) * (1 << scale));
    const idx = (insn >>> 23) & 3;
    const load = ((insn >>> 22) & 1) === 1;
    return { va: idx === 1 ? base() : wrap(base() + off), size: 2 << scale, write: !load, alignmentChecked: false, align: 1 << scale, unprivileged: false };
  }
  // The single-register forms share: size 111 V 0x opc ...; opc bit 0 = load for SIMD,
  // opc != 00 = load for integer registers (10/11 the sign-extending loads, or PRFM).
  if ((insn & 0x3a000000) >>> 0 !== 0x38000000) return undefined;
  const sz = insn >>> 30;
  const opc = (insn >>> 22) & 3;
  const scale = simd && opc >= 2 ? 4 : sz;
  const write = simd ? (opc & 1) === 0 : opc === 0;
  const access = (va: bigint, unprivileged = false): LoadStore => ({ va: wrap(va), size: 1 << scale, write, alignmentChecked: false, align: 1 << scale, unprivileged });
  // Unsigned immediate offset: size 111 V 01 opc imm12 Rn Rt.
  if ((insn & 0x3b000000) >>> 0 === 0x39000000) return access(base() + BigInt(((insn >>> 10) & 0xfff) << scale));
  // Register offset: size 111 V 00 opc 1 Rm option S 10 Rn Rt.
  if ((insn & 0x3b200c00) >>> 0 === 0x38200800) {
    const rm = (insn >>> 16) & 0x1f;
    const option = (insn >>> 13) & 7;
    const s = (insn >>> 12) & 1;
    let m = rm === 31 ? 0n : reg(rm);
    if (option === 2) m = BigInt.asUintN(32, m); // UXTW
    else if (option === 6) m = BigInt.asIntN(32, m); // SXTW
    return access(base() + (s ? m << BigInt(scale) : m));
  }
  // Unscaled, post-/pre-indexed, unprivileged: size 111 V 00 opc 0 imm9 xx Rn Rt.
  if ((insn & 0x3b200000) >>> 0 === 0x38000000) {
    const imm = BigInt(sext((insn >>> 12) & 0x1ff, 9));
    const form = (insn >>> 10) & 3; // 00 unscaled, 01 post-index, 10 unprivileged, 11 pre-index
    return access(form === 1 ? base() : base() + imm, form === 2 && !simd);
  }
  return undefined;
}

/** Effective address of a load/store at `pc`, or undefined if `insn` is not one we decode. */
export function loadStoreAddress(insn: number, pc: bigint, reg: ReadReg): bigint | undefined {
  return decodeLoadStore(insn, pc, reg)?.va;
}

/** How far to scan: a translation block is at most a page of instructions. */
const MAX_SCAN = 1024;

/**
 * Finds the load/store that faulted when the engine only knows the translation block (a run
 * without a per-instruction hook stopped by an access to an address with nothing behind it).
 * The block is straight-line code and the registers hold their values from just before the
 * faulting instruction (nothing after it ran), so the first load/store in the block whose
 * address, computed from the current registers, covers the fault address is the one.
 * Returns its address, or undefined (the caller then reports the PC as approximate).
 */
export function locateFaultingAccess(read: ReadInsn, blockStart: bigint, faultAddr: bigint, reg: ReadReg): bigint | undefined {
  for (let i = 0; i < MAX_SCAN; i++) {
    const pc = blockStart + BigInt(4 * i);
    const insn = read(pc);
    if (insn === undefined) return undefined;
    const ea = loadStoreAddress(insn, pc, reg);
    if (ea !== undefined && faultAddr >= ea && faultAddr < ea + 64n) return pc;
  }
  return undefined;
}
