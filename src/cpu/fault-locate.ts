/**
 * Finds the load/store that faulted when the engine only knows the translation block, and the
 * alignment rules of an access (the address, size and direction come from decode-ls.ts).
 */
import { decodeMemAccess, type MemAccess } from './decode-ls.ts';

type ReadInsn = (addr: bigint) => number | undefined;
/** Register n (0..30); 31 means SP (the base register of a load/store is never XZR). */
type ReadReg = (n: number) => bigint;

/** Effective address of a load/store at `pc`, or undefined if `insn` is not one. */
export function loadStoreAddress(insn: number, pc: bigint, reg: ReadReg): bigint | undefined {
  return decodeMemAccess(insn, reg, pc)?.address;
}

/**
 * The alignment an access must have, and whether it is checked whatever SCTLR_EL1.A says
 * (Arm ARM B2.5 "Alignment support"; ARMv8.0, no FEAT_LSE2): exclusives, load-acquire /
 * store-release and atomics must be aligned to their whole size; other accesses only when
 * SCTLR_EL1.A is set, to their element size (one register of a pair). DC ZVA and cache
 * maintenance are never alignment-checked.
 */
export function alignmentRule(insn: number, a: MemAccess): { align: number; always: boolean } | undefined {
  // System instructions (DC ZVA and cache maintenance by VA).
  if ((insn & 0xffc00000) >>> 0 === 0xd5000000) return undefined;
  // Load/store exclusive, load-acquire/store-release: size 001000 ...
  if ((insn & 0x3f000000) >>> 0 === 0x08000000) return { align: a.size, always: true };
  // Atomic memory operations (LSE): size 111 V 00 A R 1 Rs o3 opc 00 Rn Rt.
  if ((insn & 0x3b200c00) >>> 0 === 0x38200000) return { align: a.size, always: true };
  return { align: a.pair ? a.size / 2 : a.size, always: false };
}

/** How far to scan: a translation block is at most a page of instructions. */
const MAX_SCAN = 1024;

/**
 * The first instruction at or after `start` (straight-line, up to a page of them, stopping where
 * no instruction can be read) for which `match` gives a value: its address and that value.
 */
export function scanBlock<T>(read: ReadInsn, start: bigint, match: (insn: number, pc: bigint) => T | undefined): { pc: bigint; found: T } | undefined {
  for (let i = 0; i < MAX_SCAN; i++) {
    const pc = start + BigInt(4 * i);
    const insn = read(pc);
    if (insn === undefined) return undefined;
    const found = match(insn, pc);
    if (found !== undefined) return { pc, found };
  }
  return undefined;
}

/**
 * Finds the load/store that faulted when the engine only knows the translation block (a run
 * without a per-instruction hook stopped by an access to an address with nothing behind it).
 * The block is straight-line code and the registers hold their values from just before the
 * faulting instruction (nothing after it ran), so the first load/store in the block whose
 * address, computed from the current registers, covers the fault address is the one.
 * Returns its address, or undefined (the caller then reports the PC as approximate).
 */
export function locateFaultingAccess(read: ReadInsn, blockStart: bigint, faultAddr: bigint, reg: ReadReg): bigint | undefined {
  return scanBlock(read, blockStart, (insn, pc) => {
    const ea = loadStoreAddress(insn, pc, reg);
    return ea !== undefined && faultAddr >= ea && faultAddr < ea + 64n ? true : undefined;
  })?.pc;
}
