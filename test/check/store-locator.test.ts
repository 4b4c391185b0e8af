// Finding the store a memory hook reported, from the running block's start and the registers
// as they are before the store (encodings from GNU as).
import { describe, expect, it } from 'vitest';
import { blockStores, classBySize, endsBlock, StoreLocator } from '../../src/check/store-locator.ts';

const BASE = 0x40004c80n;
// strb wzr, [x0], #8 ; ldaxr x1, [x0] ; stlxr w2, xzr, [x0] ; cbnz w2, . ; stp x3, x4, [x5] ; ret
const CODE = [0xd0000080, 0x3800841f, 0xc85ffc01, 0xc802fc1f, 0x35ffffc2, 0xa90010a3, 0xd65f03c0];
const fetch = (pc: bigint) => CODE[Number((pc - BASE) / 4n)];

describe('StoreLocator', () => {
  it('names each store of a block in program order, using the registers of the moment', () => {
    const L = new StoreLocator();
    let x0 = 0x40015000n;
    const reg = (n: number) => (n === 0 ? x0 : 0n);
    expect(L.locate(BASE, 1, 0x40015000n, 1, 0n, fetch, reg)?.pc).toBe(BASE + 4n);
    x0 += 8n; // the post-index write-back has happened when the exclusive store runs
    expect(L.locate(BASE, 1, 0x40015008n, 8, 0n, fetch, reg)?.pc).toBe(BASE + 12n);
  });

  it('both halves of a pair come from the same STP; a new execution of the block starts over', () => {
    const L = new StoreLocator();
    const reg = (n: number) => (n === 5 ? 0x40015030n : n === 3 ? 7n : n === 4 ? 9n : 0n);
    const block = BASE + 20n;
    expect(L.locate(block, 5, 0x40015030n, 8, 7n, fetch, reg)?.pc).toBe(block);
    expect(L.locate(block, 5, 0x40015038n, 8, 9n, fetch, reg)?.pc).toBe(block);
    expect(L.locate(block, 9, 0x40015030n, 8, 7n, fetch, reg)?.pc).toBe(block);
  });

  it('no store of the block covers the address: undefined', () => {
    expect(new StoreLocator().locate(BASE, 1, 0x50000000n, 8, 0n, fetch, () => 0n)).toBeUndefined();
  });
});

describe('blockStores', () => {
  it('lists the stores up to the first branch with their class and unit size', () => {
    expect(blockStores(BASE, fetch)).toEqual([
      { cls: 'plain', unit: 1 },
      { cls: 'exclusive', unit: 8 },
    ]);
    expect(classBySize(blockStores(BASE, fetch), 8)).toBe('exclusive');
    expect(classBySize(blockStores(BASE, fetch), 1)).toBe('plain');
    expect(classBySize(blockStores(BASE + 20n, fetch), 8)).toBe('plain');
  });

  it('branches and exception-generating instructions end a block', () => {
    expect([0x35ffffc2, 0xd65f03c0, 0x14000001, 0x54000040, 0xd4001d42, 0xd69f03e0].every(endsBlock)).toBe(true);
    expect([0xd503201f, 0xc802fc1f, 0xd5033fdf].some(endsBlock)).toBe(false);
  });
});
