// The store classifier behind the "plain vs atomic" rule, on encodings produced by GNU as
// (aarch64-linux-gnu-as -march=armv8.4-a) for each instruction named.
import { describe, expect, it } from 'vitest';
import { classifyStore, isAtomicUpdate, type StoreClass } from '../../src/check/insn-class.ts';

const CASES: [string, number, StoreClass][] = [
  ['stxr w4, x3, [x1]', 0xc8047c23, 'exclusive'],
  ['stlxr w4, x3, [x1]', 0xc804fc23, 'exclusive'],
  ['stxp w4, x2, x3, [x1]', 0xc8240c22, 'exclusive'],
  ['stlxrb w4, w3, [x1]', 0x0804fc23, 'exclusive'],
  ['ldxr x3, [x1]', 0xc85f7c23, 'none'],
  ['ldaxr x3, [x1]', 0xc85ffc23, 'none'],
  ['stlr x2, [x1]', 0xc89ffc22, 'release'],
  ['stllr x2, [x1]', 0xc89f7c22, 'release'],
  ['ldar x2, [x1]', 0xc8dffc22, 'none'],
  ['cas x2, x3, [x1]', 0xc8a27c23, 'atomic'],
  ['casal w2, w3, [x1]', 0x88e2fc23, 'atomic'],
  ['casp x2, x3, x4, x5, [x1]', 0x48227c24, 'atomic'],
  ['ldset x2, x3, [x1]', 0xf8223023, 'atomic'],
  ['ldsetal x2, x3, [x1]', 0xf8e23023, 'atomic'],
  ['stset x2, [x1]', 0xf822303f, 'atomic'],
  ['ldclr x2, x3, [x1]', 0xf8221023, 'atomic'],
  ['ldeor w2, w3, [x1]', 0xb8222023, 'atomic'],
  ['swp x2, x3, [x1]', 0xf8228023, 'atomic'],
  ['ldadd x2, x3, [x1]', 0xf8220023, 'atomic'],
  ['ldapr x2, [x1]', 0xf8bfc022, 'none'],
  ['str x2, [x1]', 0xf9000022, 'plain'],
  ['strb w2, [x1, #1]', 0x39000422, 'plain'],
  ['strh w2, [x1, #2]!', 0x78002c22, 'plain'],
  ['stur x2, [x1, #-8]', 0xf81f8022, 'plain'],
  ['stp x2, x3, [x1]', 0xa9000c22, 'plain'],
  ['str x2, [x1, x5, lsl #3]', 0xf8257822, 'plain'],
  ['ldr x2, [x1]', 0xf9400022, 'none'],
  ['ldp x2, x3, [x1]', 0xa9400c22, 'none'],
  ['stlur x2, [x1, #8]', 0xd9008022, 'release'],
  ['add x1, x1, #1', 0x91000421, 'none'],
];

describe('classifyStore', () => {
  it.each(CASES)('%s', (_text, insn, want) => {
    expect(classifyStore(insn)).toBe(want);
  });

  it('only exclusive and LSE/CAS stores count as atomic updates of a shared word', () => {
    expect(['exclusive', 'atomic', 'release', 'plain', 'none'].filter((c) => isAtomicUpdate(c as StoreClass))).toEqual(['exclusive', 'atomic']);
  });
});
