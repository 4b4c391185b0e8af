import type { GuestMemory } from '../mem/guest-memory.ts';
import type { GuestHandles } from '../xen/guest-handle.ts';
import { PAGE_SIZE } from '../xen/evtchn/layout.ts';
import type { Rng } from './rng.ts';
import { FUZZ_RAM_BASE, FUZZ_RAM_SIZE } from './world.ts';

export type PageAccess = 'rw' | 'ro' | 'none';

/**
 * A guest with its MMU on, as the hypervisor sees its handles: virtual pages over the same range
 * as RAM, each mapped to some RAM page (shuffled), read-only, or not at all. Copies go page by
 * page as Xen's do (a read fails as a whole; a write stops at the first page it may not write,
 * the pages before it written), so a struct can be read and then fail to be written back, and
 * a result can land in two distant physical pages.
 */
export class ShuffledPaging implements GuestHandles {
  readonly pa: number[];
  readonly access: PageAccess[];

  /** `rng` undefined: the identity, every page writable (a guest with its MMU off). */
  constructor(
    private readonly mem: GuestMemory,
    rng?: Rng,
  ) {
    const n = FUZZ_RAM_SIZE / PAGE_SIZE;
    this.pa = Array.from({ length: n }, (_, i) => i);
    if (!rng) {
      this.access = this.pa.map((): PageAccess => 'rw');
      return;
    }
    for (let i = n - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [this.pa[i], this.pa[j]] = [this.pa[j], this.pa[i]];
    }
    this.access = this.pa.map(() => rng.weighted<PageAccess>([
      [80, 'rw'],
      [12, 'ro'],
      [8, 'none'],
    ]));
  }

  /** The guest-physical address of `va`, and its access; undefined when nothing maps it. */
  translate(va: bigint): { gpa: number; access: PageAccess } | undefined {
    if (va < BigInt(FUZZ_RAM_BASE) || va >= BigInt(FUZZ_RAM_BASE + FUZZ_RAM_SIZE)) return undefined;
    const off = Number(va) - FUZZ_RAM_BASE;
    const page = Math.floor(off / PAGE_SIZE);
    return { gpa: FUZZ_RAM_BASE + this.pa[page] * PAGE_SIZE + (off % PAGE_SIZE), access: this.access[page] };
  }

  /** Calls `f` for each page-sized piece of [va, va+len): its offset in the range and its translation. */
  pieces(va: bigint, len: number, f: (pos: number, n: number, t: { gpa: number; access: PageAccess } | undefined) => boolean | void): void {
    for (let pos = 0; pos < len; ) {
      const at = BigInt.asUintN(64, va + BigInt(pos));
      const n = Math.min(len - pos, PAGE_SIZE - Number(at % BigInt(PAGE_SIZE)));
      if (f(pos, n, this.translate(at)) === false) return;
      pos += n;
    }
  }

  copyFrom(va: bigint, len: number): Uint8Array | undefined {
    return this.readFrom(this.mem.bytes, va, len);
  }

  copyTo(va: bigint, bytes: Uint8Array): boolean {
    return this.writeTo(this.mem.bytes, va, bytes);
  }

  /** copy_from_guest through these pages out of `ram` (the RAM's bytes, or the fuzzer's shadow of them). */
  readFrom(ram: Uint8Array, va: bigint, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    let ok = true;
    this.pieces(va, len, (pos, n, t) => {
      if (!t || t.access === 'none') return (ok = false);
      out.set(ram.subarray(t.gpa - FUZZ_RAM_BASE, t.gpa - FUZZ_RAM_BASE + n), pos);
    });
    return ok ? out : undefined;
  }

  /** copy_to_guest through these pages into `ram`: stops at the first page the guest may not write. */
  writeTo(ram: Uint8Array, va: bigint, bytes: Uint8Array): boolean {
    let ok = true;
    this.pieces(va, bytes.length, (pos, n, t) => {
      if (!t || t.access !== 'rw') return (ok = false);
      ram.set(bytes.subarray(pos, pos + n), t.gpa - FUZZ_RAM_BASE);
    });
    return ok;
  }
}
