/**
 * Which instruction made a store that a memory hook reported.
 *
 * Inside a memory hook the engine's PC is the start of some earlier translation block, not the
 * storing instruction (Unicorn syncs PC only for code hooks). What is exact there: the start of
 * the block running now (the instruction counter's block hook records it), and the X registers,
 * which hold the values from before the store. A block is straight-line code that ends at its
 * first branch or exception-generating instruction, so the store is one of the block's stores
 * whose address, recomputed from the registers now (src/cpu/decode-ls.ts), covers the reported
 * address. Several stores of one block can hit the watched page: they report in program
 * order, so each execution of a block keeps a cursor past the last store it matched.
 */
import { decodeMemAccess, type ReadReg } from '../cpu/decode-ls.ts';
import { classifyStore, type StoreClass } from './insn-class.ts';

/** Longest block the engine translates (QEMU's TCG_MAX_INSNS). */
const MAX_BLOCK_INSNS = 512;

/** Whether `insn` ends a translation block: branches, exception generation, ERET (C4.1.65ff). */
export function endsBlock(insn: number): boolean {
  insn >>>= 0;
  return (
    (insn & 0x7c000000) === 0x14000000 || // B, BL
    (insn & 0x7e000000) === 0x34000000 || // CBZ, CBNZ
    (insn & 0x7e000000) === 0x36000000 || // TBZ, TBNZ
    (insn & 0xff000010) === 0x54000000 || // B.cond
    (insn & 0xfe000000) >>> 0 === 0xd6000000 || // BR, BLR, RET, ERET (unconditional branch, register)
    (insn & 0xff000000) >>> 0 === 0xd4000000 // SVC, HVC, SMC, BRK, HLT
  );
}

export interface LocatedStore {
  pc: bigint;
  insn: number;
}

export class StoreLocator {
  private blockPc = -1n;
  private blockStamp = -1;
  /** Index (in instructions from the block start) of the last store matched in this execution. */
  private cursor = -1;

  /**
   * The store instruction that wrote `size` bytes of `value` at `address`, in the block that
   * started at `blockPc` (`stamp` tells one execution of it from the next: the instruction
   * count, which the block hook advances on entry). Undefined when none fits.
   */
  locate(
    blockPc: bigint,
    stamp: number,
    address: bigint,
    size: number,
    value: bigint,
    fetch: (pc: bigint) => number | undefined,
    reg: ReadReg,
  ): LocatedStore | undefined {
    if (blockPc !== this.blockPc || stamp !== this.blockStamp) {
      this.blockPc = blockPc;
      this.blockStamp = stamp;
      this.cursor = -1;
    }
    let fallback: { i: number; s: LocatedStore } | undefined;
    for (let i = this.cursor + 1; i < MAX_BLOCK_INSNS; i++) {
      const pc = blockPc + BigInt(i * 4);
      const insn = fetch(pc);
      if (insn === undefined) break;
      const a = decodeMemAccess(insn, reg, pc);
      if (a?.write && address >= a.address && address + BigInt(size) <= a.address + BigInt(a.size)) {
        // Prefer a store whose data register holds the value written (an earlier store of the
        // block can compute the same address now while it wrote elsewhere when it ran).
        if (this.valueFits(a, address, size, value, reg)) {
          // The first register of a pair reports first: its second half may still come.
          this.cursor = a.pair && address === a.address ? i - 1 : i;
          return { pc, insn };
        }
        fallback ??= { i, s: { pc, insn } };
      }
      if (endsBlock(insn)) break;
    }
    if (fallback) {
      this.cursor = fallback.i;
      return fallback.s;
    }
    return undefined;
  }

  private valueFits(a: NonNullable<ReturnType<typeof decodeMemAccess>>, address: bigint, size: number, value: bigint, reg: ReadReg): boolean {
    if (a.simd || a.cacheMaintenance) return true;
    const mask = size >= 8 ? (1n << 64n) - 1n : (1n << BigInt(size * 8)) - 1n;
    const rt = a.pair && address > a.address ? a.pair.rt2 : a.rt;
    // Atomics and exclusives compute the value they store; only plain data registers compare.
    const data = rt === 31 ? 0n : reg(rt);
    return (data & mask) === (value & mask) || a.read;
  }
}

/** A store of a translation block, known without registers. */
export interface BlockStore {
  cls: StoreClass;
  /** Bytes one hook report of it covers: the access size, or each register's for a pair. */
  unit: number;
}

/**
 * The stores of the block starting at `blockPc` (up to its first branch), with their class and
 * size: decoded once per block and cached by the caller. A hook report of `size` bytes can
 * only come from a store of that size, which usually leaves one class (an LDXR/STXR loop, a
 * plain store next to a release store of another width); only otherwise do the registers
 * have to tell (StoreLocator).
 */
export function blockStores(blockPc: bigint, fetch: (pc: bigint) => number | undefined): BlockStore[] {
  const out: BlockStore[] = [];
  for (let i = 0; i < MAX_BLOCK_INSNS; i++) {
    const insn = fetch(blockPc + BigInt(i * 4));
    if (insn === undefined) break;
    const cls = classifyStore(insn);
    // Rn is bits [9:5] in every load/store encoding; 31 is SP, and the stack is never the
    // shared_info page, so those stores (spills, frame set-up) cannot be the one reported.
    if (cls !== 'none' && ((insn >>> 5) & 31) !== 31) {
      const a = decodeMemAccess(insn, () => 0n, 0n);
      if (a) out.push({ cls, unit: a.pair ? a.size / 2 : a.size });
    }
    if (endsBlock(insn)) break;
  }
  return out;
}

/** The one class among `stores` of `size` bytes, or undefined when there is none or several. */
export function classBySize(stores: readonly BlockStore[], size: number): StoreClass | undefined {
  let found: StoreClass | undefined;
  for (const s of stores) {
    if (s.unit !== size) continue;
    if (found !== undefined && found !== s.cls) return undefined;
    found = s.cls;
  }
  return found;
}
