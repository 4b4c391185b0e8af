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
    (insn & 0xfe000000) === 0xd6000000 || // BR, BLR, RET, ERET (unconditional branch, register)
    (insn & 0xff000000) === 0xd4000000 // SVC, HVC, SMC, BRK, HLT
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
