/**
 * Finds the load/store that faulted when the engine only knows the translation block.
 *
 * Without instruction counting, Unicorn 2.0.1 leaves PC at the start of the translation block
 * when a data access hits unmapped memory. The block is straight-line code and the registers
 * hold their values from just before the faulting instruction (nothing after it ran), so the
 * first load/store in the block whose address, computed from the current registers, covers
 * the fault address is the one. Decodings follow the Arm ARM C4.1.4 "Loads and Stores".
 */

type ReadInsn = (addr: number) => number | undefined;
type ReadReg = (n: number) => number;

/** How far to scan: a translation block is at most a page of instructions. */
const MAX_SCAN = 1024;

const sext = (v: number, bits: number) => (v << (32 - bits)) >> (32 - bits);

/** Effective address of a load/store at `pc`, or undefined if `insn` is not one we decode. */
export function loadStoreAddress(insn: number, pc: number, reg: ReadReg): number | undefined {
  const rn = (insn >>> 5) & 0x1f;
  const base = () => reg(rn); // Rn = 31 is SP for loads and stores
  // Load register (literal): opc 011 V 00 imm19 Rt
  if ((insn & 0x3b000000) >>> 0 === 0x18000000) return pc + sext((insn >>> 5) & 0x7ffff, 19) * 4;
  // Load/store exclusive and ordered: size 001000 ...
  if ((insn & 0x3f000000) >>> 0 === 0x08000000) return base();
  // Load/store pair (all indexing forms): opc 101 V 0xx L imm7 Rt2 Rn Rt
  if ((insn & 0x3a000000) >>> 0 === 0x28000000) {
    const opc = insn >>> 30;
    const simd = (insn >>> 26) & 1;
    const scale = simd ? 2 + opc : 2 + (opc >>> 1);
    const off = sext((insn >>> 15) & 0x7f, 7) * (1 << scale);
    const idx = (insn >>> 23) & 3;
    return idx === 1 ? base() : base() + off; // 01 post-index: address is the base
  }
  const size = insn >>> 30;
  // Load/store register (unsigned immediate)
  if ((insn & 0x3b000000) >>> 0 === 0x39000000) {
    const simd = (insn >>> 26) & 1;
    const scale = simd && ((insn >>> 23) & 1) ? 4 : size;
    return base() + ((insn >>> 10) & 0xfff) * (1 << scale);
  }
  // Load/store register (register offset): size 111 V 00 opc 1 Rm option S 10 Rn Rt
  if ((insn & 0x3b200c00) >>> 0 === 0x38200800) {
    const rm = (insn >>> 16) & 0x1f;
    const option = (insn >>> 13) & 7;
    const s = (insn >>> 12) & 1;
    let m = rm === 31 ? 0 : reg(rm);
    if (option === 2) m = m >>> 0; // UXTW
    else if (option === 6) m = m | 0; // SXTW
    return base() + m * (s ? 1 << size : 1);
  }
  // Load/store register (unscaled, pre/post-indexed, unprivileged): size 111 V 00 opc 0 imm9 xx Rn Rt
  if ((insn & 0x3b200000) >>> 0 === 0x38000000) {
    const imm = sext((insn >>> 12) & 0x1ff, 9);
    return ((insn >>> 10) & 3) === 1 ? base() : base() + imm;
  }
  return undefined;
}

/**
 * The address of the first load/store at or after `blockStart` that accesses `faultAddr`,
 * or undefined when none is found (the caller then reports the PC as approximate).
 */
export function locateFaultingAccess(read: ReadInsn, blockStart: number, faultAddr: number, reg: ReadReg): number | undefined {
  for (let i = 0; i < MAX_SCAN; i++) {
    const pc = blockStart + 4 * i;
    const insn = read(pc);
    if (insn === undefined) return undefined;
    const ea = loadStoreAddress(insn, pc, reg);
    if (ea !== undefined && faultAddr >= ea && faultAddr < ea + 64) return pc;
  }
  return undefined;
}
