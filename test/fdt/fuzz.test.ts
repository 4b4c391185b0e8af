/**
 * Untrusted input must never crash or hang the readers: random bytes and single/multi-byte
 * mutations of valid blobs either parse or give an error value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFdt } from '../../src/machine/fdt/fdt.ts';
import { describeParsedBoard } from '../../src/machine/fdt/board.ts';
import { allNodes, findByPath, interruptsOf, regOf } from '../../src/machine/fdt/props.ts';
import { cellsOf, str, writeFdt } from './fdt-writer.ts';

const seed = writeFdt(
  {
    name: '',
    props: [['#address-cells', cellsOf(2)], ['#size-cells', cellsOf(2)], ['interrupt-parent', cellsOf(1)]],
    children: [
      { name: 'cpus', props: [['#address-cells', cellsOf(1)], ['#size-cells', cellsOf(0)]], children: [{ name: 'cpu@0', props: [['device_type', str('cpu')], ['reg', cellsOf(0)]] }] },
      { name: 'memory@40000000', props: [['device_type', str('memory')], ['reg', cellsOf(0, 0x40000000, 0, 0x4000000)]] },
      {
        name: 'intc@8000000',
        props: [
          ['compatible', str('arm,gic-v3')],
          ['#interrupt-cells', cellsOf(3)],
          ['interrupt-controller', new Uint8Array(0)],
          ['reg', cellsOf(0, 0x8000000, 0, 0x10000, 0, 0x80a0000, 0, 0xf60000)],
          ['phandle', cellsOf(1)],
        ],
      },
      { name: 'hypervisor', props: [['compatible', str('xen,xen-4.17', 'xen,xen')], ['interrupts', cellsOf(1, 15, 0xf08)]] },
    ],
  },
  [[0x48000000n, 0x1000n]],
).blob;

/** Everything a consumer might do with a parsed tree. */
function exercise(blob: Uint8Array): void {
  const r = parseFdt(blob);
  if (!r.ok) {
    expect(r.error).toMatch(/^fdt: /);
    return;
  }
  describeParsedBoard(r.value);
  for (const n of allNodes(r.value.root)) {
    regOf(n);
    interruptsOf(r.value, n);
  }
  findByPath(r.value, '/cpus/cpu@0');
}

describe('FDT fuzz', () => {
  it('the seed blob describes a board', () => {
    const r = parseFdt(seed);
    expect(r.ok && describeParsedBoard(r.value).ok).toBe(true);
  });

  it('random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => exercise(b)), { numRuns: 2000 });
  });

  it('random bytes behind a valid magic never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 512 }), (b) => {
        b.set([0xd0, 0x0d, 0xfe, 0xed]);
        exercise(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid blobs never throw or hang', () => {
    const mutation = fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(mutation, fc.nat(seed.length), (muts, cut) => {
        const b = seed.slice(0, Math.max(cut, seed.length - 16) );
        for (const [at, v] of muts) if (at < b.length) b[at] = v;
        exercise(b);
      }),
      { numRuns: 3000 },
    );
  });
});
