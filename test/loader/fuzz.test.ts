/**
 * Untrusted images must never crash or hang the loader: random bytes and mutations of a
 * valid ELF / Image either load or give an error value, and never write outside RAM.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { loadImage } from '../../src/machine/loader/load.ts';
import { buildArm64Image, buildElf } from './elf-writer.ts';

const mem = new GuestMemory(0x40000000, 1 << 20);

const elfSeed = buildElf({
  entry: 0x40000000,
  segments: [
    { paddr: 0x40000000, data: new Uint8Array(32).fill(1) },
    { paddr: 0x40001000, data: new Uint8Array(8).fill(2), memsz: 64 },
  ],
  symbols: [
    { name: 'a', addr: 0x40000000, size: 4 },
    { name: 'b', addr: 0x40001000, size: 8, kind: 1 },
  ],
});
const imageSeed = buildArm64Image({ textOffset: 0x1000, imageSize: 0x2000, body: new Uint8Array(64).fill(3) });

function exercise(b: Uint8Array): void {
  const r = loadImage(b, mem);
  if (r.ok) {
    expect(r.value.start).toBeGreaterThanOrEqual(mem.base);
    expect(r.value.end).toBeLessThanOrEqual(mem.base + mem.size);
    for (const s of r.value.symbols.slice(0, 4)) r.value.symbolize(s.addr + 1);
  } else {
    expect(typeof r.error).toBe('string');
  }
}

const mutate = (seed: Uint8Array) =>
  fc
    .tuple(fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(seed.length))
    .map(([muts, cut]) => {
      const b = seed.slice(0, Math.max(cut, 1));
      for (const [at, v] of muts) if (at < b.length) b[at] = v;
      return b;
    });

describe('loader fuzz', () => {
  it('seeds load', () => {
    expect(loadImage(elfSeed, mem).ok).toBe(true);
    expect(loadImage(imageSeed, mem).ok).toBe(true);
  });
  it('random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), exercise), { numRuns: 2000 });
  });
  it('mutated ELF files never throw', () => {
    fc.assert(fc.property(mutate(elfSeed), exercise), { numRuns: 3000 });
  });
  it('mutated arm64 Images never throw', () => {
    fc.assert(fc.property(mutate(imageSeed), exercise), { numRuns: 2000 });
  });
});
