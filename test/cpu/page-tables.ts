/**
 * Test helper: guest physical memory in a Uint8Array and a builder of VMSAv8-64 stage-1 tables
 * (DDI0487 D8.3 descriptor formats) for any granule and input size.
 */

export class PhysMem {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(
    readonly base: bigint,
    size: number,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  private off(pa: bigint, len: number): number | undefined {
    const o = pa - this.base;
    return o >= 0n && o + BigInt(len) <= BigInt(this.bytes.length) ? Number(o) : undefined;
  }
  read64 = (pa: bigint): bigint | undefined => {
    const o = this.off(pa, 8);
    return o === undefined ? undefined : this.view.getBigUint64(o, true);
  };
  write64(pa: bigint, v: bigint): void {
    const o = this.off(pa, 8);
    if (o === undefined) throw new Error(`write64 outside RAM: ${pa.toString(16)}`);
    this.view.setBigUint64(o, v, true);
  }
}

export interface LeafOpts {
  /** AP[2:1]: 0 EL1 RW, 1 EL0+EL1 RW, 2 EL1 RO, 3 EL0+EL1 RO. */
  ap?: number;
  af?: boolean;
  uxn?: boolean;
  pxn?: boolean;
  attrIndx?: number;
  /** Bits OR'ed into table descriptors this call creates (APTable, UXNTable, PXNTable). */
  tableBits?: bigint;
}

export const TABLE_PXN = 1n << 59n;
export const TABLE_UXN = 1n << 60n;
export const TABLE_NO_EL0 = 1n << 61n;
export const TABLE_RO = 1n << 62n;

export class TableBuilder {
  readonly root: bigint;
  readonly stride: number;
  readonly startLevel: number;
  private next: bigint;
  constructor(
    readonly mem: PhysMem,
    readonly grain: 12 | 14 | 16,
    readonly inputSize: number,
    /** Where tables are allocated from (granule aligned). */
    allocFrom: bigint,
  ) {
    this.stride = grain - 3;
    this.startLevel = 4 - Math.ceil((inputSize - grain) / this.stride);
    this.next = allocFrom;
    this.root = this.alloc();
  }
  alloc(): bigint {
    const t = this.next;
    this.next += 1n << BigInt(this.grain);
    this.mem.bytes.fill(0, Number(t - this.mem.base), Number(this.next - this.mem.base));
    return t;
  }
  lsb(level: number): number {
    return this.grain + (3 - level) * this.stride;
  }
  /** Address of the descriptor for `va` at `level`, creating tables on the way. */
  slot(va: bigint, level: number, tableBits = 0n): bigint {
    let table = this.root;
    for (let l = this.startLevel; ; l++) {
      const lsb = this.lsb(l);
      const width = Math.min(this.inputSize, lsb + this.stride) - lsb;
      const idx = (va >> BigInt(lsb)) & ((1n << BigInt(width)) - 1n);
      const at = table + idx * 8n;
      if (l === level) return at;
      let d = this.mem.read64(at)!;
      if ((d & 3n) !== 3n) {
        const t = this.alloc();
        d = t | 3n | tableBits;
        this.mem.write64(at, d);
      }
      table = d & ((1n << 48n) - 1n) & ~((1n << BigInt(this.grain)) - 1n);
    }
  }
  /** Maps the page or block containing `va` to `oa` with a leaf at `level`. */
  map(va: bigint, oa: bigint, level = 3, o: LeafOpts = {}): bigint {
    let d = oa | (level === 3 ? 3n : 1n);
    if (o.af ?? true) d |= 1n << 10n;
    d |= BigInt(o.ap ?? 0) << 6n;
    d |= BigInt(o.attrIndx ?? 0) << 2n;
    if (o.uxn) d |= 1n << 54n;
    if (o.pxn) d |= 1n << 53n;
    const at = this.slot(va, level, o.tableBits ?? 0n);
    this.mem.write64(at, d);
    return at;
  }
  /** Writes a raw descriptor for `va` at `level`. */
  raw(va: bigint, level: number, desc: bigint): void {
    this.mem.write64(this.slot(va, level), desc);
  }
}

/** TCR_EL1 fields (D17.2.131). */
export function tcr(f: { t0sz?: number; t1sz?: number; tg0?: number; tg1?: number; ips?: number; epd0?: boolean; epd1?: boolean; tbi0?: boolean; tbi1?: boolean }): bigint {
  let v = BigInt(f.t0sz ?? 16) | (BigInt(f.t1sz ?? 16) << 16n);
  v |= BigInt(f.tg0 ?? 0) << 14n;
  v |= BigInt(f.tg1 ?? 2) << 30n;
  v |= BigInt(f.ips ?? 5) << 32n;
  if (f.epd0) v |= 1n << 7n;
  if (f.epd1) v |= 1n << 23n;
  if (f.tbi0) v |= 1n << 37n;
  if (f.tbi1) v |= 1n << 38n;
  return v;
}

/** TCR.TG0 / TCR.TG1 encodings per granule (they differ). */
export const TG0 = { 12: 0, 14: 2, 16: 1 } as const;
export const TG1 = { 12: 2, 14: 1, 16: 3 } as const;
