import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { abortSyndrome, translateDataAccess, translateStage1, type Stage1Access, type Stage1Regs, type Stage1Result } from '../../src/cpu/mmu.ts';
import { PhysMem, TableBuilder, tcr, TG0, TG1, TABLE_NO_EL0, TABLE_PXN, TABLE_RO, TABLE_UXN } from './page-tables.ts';

const RAM = 0x4000_0000n;
const TABLES = 0x4040_0000n; // tables live above the 4 MiB the tests map as data
const M = 1n; // SCTLR.M
const WXN = 1n << 19n;

function setup(grain: 12 | 14 | 16, inputSize = 48, upper = false, extra: Parameters<typeof tcr>[0] = {}) {
  const mem = new PhysMem(RAM, 8 << 20);
  const pt = new TableBuilder(mem, grain, inputSize, TABLES);
  const pt1 = new TableBuilder(mem, grain, inputSize, TABLES + 0x20_0000n);
  const regs: Stage1Regs = {
    sctlr: M,
    tcr: tcr({ t0sz: 64 - inputSize, t1sz: 64 - inputSize, tg0: TG0[grain], tg1: TG1[grain], ...extra }),
    ttbr0: pt.root | (5n << 48n), // an ASID in TTBR0[63:48] must not disturb the walk
    ttbr1: pt1.root,
  };
  const walk = (va: bigint, kind: Stage1Access['kind'] = 'read', el: 0 | 1 = 1, pan = false) =>
    translateStage1(mem.read64, regs, { va, kind, el, pan });
  return { mem, pt: upper ? pt1 : pt, regs, walk };
}

const faultOf = (r: Stage1Result) => (r.ok ? 'ok' : `${r.fault.kind}@${r.fault.level}`);
const upperVa = (inputSize: number, off: bigint) => ((1n << 64n) - (1n << BigInt(inputSize)) + off) & ((1n << 64n) - 1n);

describe('stage-1 walker: MMU off', () => {
  it('is the identity below the PA size and an address size fault above it', () => {
    const regs: Stage1Regs = { sctlr: 0n, tcr: 0n, ttbr0: 0n, ttbr1: 0n };
    const r = translateStage1(() => undefined, regs, { va: 0x4008_1234n, kind: 'write', el: 1 });
    expect(r).toMatchObject({ ok: true, pa: 0x4008_1234n, mmuOff: true });
    expect(faultOf(translateStage1(() => undefined, regs, { va: 1n << 44n, kind: 'read', el: 1 }))).toBe('address-size@0');
    expect(faultOf(translateStage1(() => undefined, regs, { va: 1n << 44n, kind: 'read', el: 1 }, { paBits: 48 }))).toBe('ok');
  });
});

describe('stage-1 walker: granules, sizes and levels', () => {
  // [granule, input size, start level]
  const cases: [12 | 14 | 16, number, number][] = [
    [12, 48, 0], [12, 39, 1], [12, 30, 2], [12, 25, 2],
    [14, 48, 0], [14, 47, 1], [14, 37, 1], [14, 36, 2], [14, 26, 2], [14, 25, 3],
    [16, 48, 1], [16, 43, 1], [16, 42, 2], [16, 30, 2], [16, 29, 3], [16, 25, 3],
  ];
  for (const [grain, size, start] of cases) {
    for (const upper of [false, true]) {
      it(`${1 << (grain - 10)}K granule, ${size}-bit ${upper ? 'TTBR1' : 'TTBR0'} range starts at level ${start}`, () => {
        const { pt, walk } = setup(grain, size, upper);
        expect(pt.startLevel).toBe(start);
        const page = 1n << BigInt(grain);
        const off = ((1n << BigInt(size)) - 1n) & ~(page - 1n) & 0x7fff_ffff_ffffn; // a high VA in the range
        const va = upper ? upperVa(size, off) : off;
        pt.map(va, RAM + 3n * page, 3);
        const r = walk(va + 0x123n);
        expect(r).toMatchObject({ ok: true, pa: RAM + 3n * page + 0x123n, level: 3, mappingSize: page });
        // The neighbouring page is not mapped: the walk stops at level 3, where its entry is invalid.
        expect(faultOf(walk(va - page))).toBe('translation@3');
      });
    }
  }

  it('4K: blocks at levels 1 and 2, none at level 0', () => {
    const { pt, walk } = setup(12);
    pt.map(0x8000_0000n, 0x4000_0000n, 1); // 1 GiB block
    expect(walk(0x8123_4567n)).toMatchObject({ ok: true, pa: 0x4123_4567n, level: 1, mappingSize: 1n << 30n });
    pt.map(0x20_0000n, 0x4020_0000n, 2); // 2 MiB block
    expect(walk(0x2f_fff8n)).toMatchObject({ ok: true, pa: 0x402f_fff8n, level: 2 });
    pt.raw(0x80_0000_0000n, 0, 0x4000_0000n | 1n | (1n << 10n)); // block at level 0
    expect(faultOf(walk(0x80_0000_0000n))).toBe('translation@0');
  });

  for (const grain of [14, 16] as const) {
    it(`${1 << (grain - 10)}K: blocks at level 2 only`, () => {
      const { pt, walk } = setup(grain);
      const l2 = 1n << BigInt(grain + grain - 3);
      pt.map(2n * l2, RAM & ~(l2 - 1n), 2);
      expect(walk(2n * l2 + 0x1234n)).toMatchObject({ ok: true, level: 2, mappingSize: l2 });
      const l1va = 1n << BigInt(grain + 2 * (grain - 3) + 1);
      pt.raw(l1va, 1, 1n | (1n << 10n)); // block at level 1
      expect(faultOf(walk(l1va))).toBe('translation@1');
    });
  }

  it('0b01 at level 3 is reserved: translation fault at level 3', () => {
    const { pt, walk } = setup(12);
    pt.raw(0x1000n, 3, RAM | 1n | (1n << 10n));
    expect(faultOf(walk(0x1000n))).toBe('translation@3');
  });

  it('invalid descriptors stop the walk at their level', () => {
    const { pt, walk } = setup(12);
    expect(faultOf(walk(0x1000n))).toBe('translation@0');
    pt.map(0x1000n, RAM);
    expect(faultOf(walk(0x80_0000_0000n))).toBe('translation@0'); // other L0 entry
    expect(faultOf(walk(0x4000_0000n))).toBe('translation@1');
    expect(faultOf(walk(0x20_0000n))).toBe('translation@2');
    expect(faultOf(walk(0x2000n))).toBe('translation@3');
  });

  it('a descriptor outside RAM is a walk-not-ram fault at its level', () => {
    const { regs, mem } = setup(12);
    regs.ttbr0 = 0x1000_0000n;
    expect(faultOf(translateStage1(mem.read64, regs, { va: 0n, kind: 'read', el: 1 }))).toBe('walk-not-ram@0');
  });

  it('TxSZ out of range is clamped to the nearest legal size', () => {
    const { pt, regs, walk } = setup(12, 25);
    pt.map(0x1000n, RAM);
    regs.tcr = (regs.tcr & ~0x3fn) | 48n; // T0SZ 48 -> 39 (25-bit range)
    expect(walk(0x1000n)).toMatchObject({ ok: true, pa: RAM });
  });
});

describe('stage-1 walker: VA range selection', () => {
  it('upper bits must be all 0 (TTBR0) or all 1 (TTBR1)', () => {
    const { pt, walk } = setup(12, 39);
    pt.map(0x1000n, RAM);
    expect(faultOf(walk(0x1000n))).toBe('ok');
    expect(faultOf(walk(0x1000n | (1n << 39n)))).toBe('translation@0');
    expect(faultOf(walk(0x1000n | (1n << 56n)))).toBe('translation@0');
    expect(faultOf(walk(0xffff_ff80_0000_1000n))).toBe('translation@1'); // TTBR1, empty table
    expect(faultOf(walk(0xffff_ff00_0000_1000n))).toBe('translation@0'); // bit 39 clear in the upper range
  });

  it('TBI0/TBI1 ignore the top byte of data accesses, never of fetches', () => {
    const { pt, walk, regs } = setup(12, 48, false, { tbi0: true, tbi1: true });
    pt.map(0x1000n, RAM);
    expect(walk(0x5a00_0000_0000_1000n)).toMatchObject({ ok: true, pa: RAM });
    expect(walk(0x5a00_0000_0000_1000n, 'write')).toMatchObject({ ok: true, pa: RAM });
    expect(faultOf(walk(0x5a00_0000_0000_1000n, 'fetch'))).toBe('translation@0');
    expect(faultOf(walk(0x1000n, 'fetch'))).toBe('ok');
    regs.tcr &= ~(1n << 37n);
    expect(faultOf(walk(0x5a00_0000_0000_1000n))).toBe('translation@0');
  });

  it('TBI1 applies to the upper range, selected by bit 55', () => {
    const { walk } = setup(12, 48, true, { tbi1: true });
    expect(faultOf(walk(0x00ff_8000_0000_0000n))).toBe('translation@0'); // TTBR1 table is empty
    expect(faultOf(walk(0x12ff_8000_0000_0000n))).toBe('translation@0');
  });

  it('EPD0/EPD1 disable a range: translation fault at level 0', () => {
    const { pt, walk, regs } = setup(12, 48, false, { epd0: true });
    pt.map(0x1000n, RAM);
    expect(faultOf(walk(0x1000n))).toBe('translation@0');
    regs.tcr &= ~(1n << 7n);
    expect(faultOf(walk(0x1000n))).toBe('ok');
  });

  it('TG0 and TG1 use different encodings', () => {
    const { pt, regs, mem } = setup(16, 48, true);
    const va = 0xffff_0000_0004_0000n;
    pt.map(va, RAM + 0x10000n);
    expect(translateStage1(mem.read64, regs, { va: va + 4n, kind: 'read', el: 1 })).toMatchObject({ ok: true, pa: RAM + 0x10004n });
    // TG1 = 01 means 16K, not 64K: the same table then no longer maps the address.
    const as16k = { ...regs, tcr: (regs.tcr & ~(3n << 30n)) | (1n << 30n) };
    expect(translateStage1(mem.read64, as16k, { va: va + 4n, kind: 'read', el: 1 }).ok).toBe(false);
  });
});

describe('stage-1 walker: access flag, output size', () => {
  it('AF=0 is an access flag fault at the leaf level (no hardware update)', () => {
    const { pt, walk, mem } = setup(12);
    const at = pt.map(0x1000n, RAM, 3, { af: false });
    expect(faultOf(walk(0x1000n))).toBe('access-flag@3');
    expect(mem.read64(at)! & (1n << 10n)).toBe(0n);
    pt.map(0x20_0000n, RAM, 2, { af: false });
    expect(faultOf(walk(0x20_0000n, 'write'))).toBe('access-flag@2');
  });

  it('access flag beats permission; translation beats both', () => {
    const { pt, walk } = setup(12);
    pt.map(0x1000n, RAM, 3, { af: false, ap: 2 });
    expect(faultOf(walk(0x1000n, 'write'))).toBe('access-flag@3');
  });

  it('output addresses are checked against TCR.IPS', () => {
    const { pt, walk, regs } = setup(12, 48, false, { ips: 0 }); // 32 bits
    pt.map(0x1000n, 0x1_0000_0000n);
    expect(faultOf(walk(0x1000n))).toBe('address-size@3');
    pt.map(0x2000n, 0xffff_f000n);
    expect(faultOf(walk(0x2000n))).toBe('ok');
    // A next-table address above the size faults at the level of the table descriptor.
    pt.raw(0x40_0000_0000n, 0, 0x2_0000_0000n | 3n);
    expect(faultOf(walk(0x40_0000_0000n))).toBe('address-size@0');
    // The tables themselves are at 0x4040_0000 < 4 GiB; a TTBR above it faults at level 0.
    regs.ttbr0 = 0x1_0000_0000n;
    expect(faultOf(walk(0x1000n))).toBe('address-size@0');
  });

  it('IPS above the implemented PA size is capped by it (44 bits on Cortex-A57)', () => {
    const { pt, walk } = setup(12); // IPS = 48 bits
    pt.map(0x1000n, 1n << 44n);
    expect(faultOf(walk(0x1000n))).toBe('address-size@3');
    pt.map(0x2000n, (1n << 44n) - 0x1000n);
    expect(faultOf(walk(0x2000n))).toBe('ok');
  });
});

describe('stage-1 walker: permissions', () => {
  // AP[2:1] -> [EL1 read, EL1 write, EL0 read, EL0 write] (D8.4 data access permissions)
  const table: Record<number, boolean[]> = {
    0: [true, true, false, false],
    1: [true, true, true, true],
    2: [true, false, false, false],
    3: [true, false, true, false],
  };
  for (const ap of [0, 1, 2, 3]) {
    it(`AP=${ap.toString(2).padStart(2, '0')}`, () => {
      const { pt, walk } = setup(12);
      pt.map(0x1000n, RAM, 3, { ap });
      const got = [walk(0x1000n, 'read', 1), walk(0x1000n, 'write', 1), walk(0x1000n, 'read', 0), walk(0x1000n, 'write', 0)].map((r) => r.ok);
      expect(got).toEqual(table[ap]);
      const r = walk(0x1000n, 'write', 0);
      if (!r.ok) expect(r.fault).toEqual({ kind: 'permission', level: 3 });
    });
  }

  it('UXN and PXN', () => {
    const { pt, walk } = setup(12);
    pt.map(0x1000n, RAM, 3, { ap: 3, uxn: true });
    pt.map(0x2000n, RAM, 3, { ap: 3, pxn: true });
    expect([walk(0x1000n, 'fetch', 0).ok, walk(0x1000n, 'fetch', 1).ok]).toEqual([false, true]);
    expect([walk(0x2000n, 'fetch', 0).ok, walk(0x2000n, 'fetch', 1).ok]).toEqual([true, false]);
    expect(faultOf(walk(0x1000n, 'fetch', 0))).toBe('permission@3');
  });

  it('EL0 may execute a page it cannot read (ARMv8.0 execute-only)', () => {
    const { pt, walk } = setup(12);
    pt.map(0x1000n, RAM, 3, { ap: 0 });
    expect(walk(0x1000n, 'fetch', 0).ok).toBe(true);
    expect(walk(0x1000n, 'read', 0).ok).toBe(false);
  });

  it('EL1 may not execute what EL0 can write', () => {
    const { pt, walk } = setup(12);
    pt.map(0x1000n, RAM, 3, { ap: 1 });
    expect(faultOf(walk(0x1000n, 'fetch', 1))).toBe('permission@3');
    expect(walk(0x1000n, 'fetch', 0).ok).toBe(true);
  });

  it('SCTLR.WXN makes writable memory execute-never', () => {
    const { pt, walk, regs } = setup(12);
    pt.map(0x1000n, RAM, 3, { ap: 0 }); // EL1 RW
    pt.map(0x2000n, RAM, 3, { ap: 3 }); // RO
    expect(walk(0x1000n, 'fetch', 1).ok).toBe(true);
    regs.sctlr |= WXN;
    expect(faultOf(walk(0x1000n, 'fetch', 1))).toBe('permission@3');
    expect(walk(0x2000n, 'fetch', 1).ok).toBe(true);
    expect(walk(0x2000n, 'fetch', 0).ok).toBe(true);
  });

  it('APTable, UXNTable and PXNTable restrict everything below them', () => {
    const cases: [bigint, boolean[]][] = [
      // [EL1 write, EL0 read, EL0 fetch, EL1 fetch] on an AP=01 (EL0 RW) executable page
      [TABLE_RO, [false, true, true, true]],
      // APTable[0] only takes EL0's data access away: EL0 still executes (UXN governs that), and
      // EL1 may execute again since EL0 no longer writes.
      [TABLE_NO_EL0, [true, false, true, true]],
      [TABLE_UXN, [true, true, false, false]],
      [TABLE_PXN, [true, true, true, false]],
    ];
    for (const [bits, want] of cases) {
      const { pt, walk } = setup(12);
      pt.map(0x1000n, RAM, 3, { ap: 1, tableBits: bits });
      const got = [walk(0x1000n, 'write', 1), walk(0x1000n, 'read', 0), walk(0x1000n, 'fetch', 0), walk(0x1000n, 'fetch', 1)].map((r) => r.ok);
      expect(got, `table bits ${bits.toString(16)}`).toEqual(want);
    }
  });

  it('PAN removes EL1 data access to EL0-readable pages, not fetches', () => {
    const { pt, walk } = setup(12);
    pt.map(0x1000n, RAM, 3, { ap: 3 });
    pt.map(0x2000n, RAM, 3, { ap: 0 });
    expect(faultOf(walk(0x1000n, 'read', 1, true))).toBe('permission@3');
    expect(walk(0x1000n, 'fetch', 1, true).ok).toBe(true);
    expect(walk(0x2000n, 'write', 1, true).ok).toBe(true);
    expect(walk(0x1000n, 'read', 1, false).ok).toBe(true);
  });
});

describe('abort syndromes', () => {
  // Values the real Xen 4.17 delivered to guests (measured).
  it('match the real Xen', () => {
    const s = (kind: 'read' | 'write' | 'fetch', f: 'translation' | 'permission', level: number, fromEl: 0 | 1) =>
      abortSyndrome({ fault: { kind: f, level }, kind, fromEl, currentEl: 1 }).toString(16);
    expect(s('read', 'translation', 1, 1)).toBe('96000005');
    expect(s('write', 'translation', 2, 1)).toBe('96000046');
    expect(s('fetch', 'translation', 1, 1)).toBe('86000005');
    expect(s('write', 'permission', 3, 1)).toBe('9600004f');
    expect(s('read', 'translation', 1, 0)).toBe('92000005');
    expect(s('fetch', 'translation', 1, 0)).toBe('82000005');
    // Measured as "EL0 write to an EL1-only page": 0x9200000f has WnR=0, which is what a read
    // of that page gives (a store would set WnR, ISS encoding D17.2.37); a read-modify-write
    // faults on its read first.
    expect(s('read', 'permission', 3, 0)).toBe('9200000f');
    expect(s('fetch', 'permission', 3, 0)).toBe('8200000f');
  });

  it('encode every fault kind', () => {
    const d = (fault: Parameters<typeof abortSyndrome>[0]['fault'], kind: 'read' | 'write' | 'fetch' = 'read') =>
      abortSyndrome({ fault, kind, fromEl: 1, currentEl: 1 }) & 0x3f;
    expect(d({ kind: 'address-size', level: 0 })).toBe(0x00);
    expect(d({ kind: 'translation', level: 3 })).toBe(0x07);
    expect(d({ kind: 'access-flag', level: 2 })).toBe(0x0a);
    expect(d({ kind: 'permission', level: 1 })).toBe(0x0d);
    expect(d({ kind: 'alignment' })).toBe(0x21);
    expect(abortSyndrome({ fault: { kind: 'walk-not-ram', level: 1 }, kind: 'write', fromEl: 0, currentEl: 1 }).toString(16)).toBe('92000000');
    const cm = abortSyndrome({ fault: { kind: 'translation', level: 2 }, kind: 'read', fromEl: 1, currentEl: 1, cacheMaintenance: true });
    expect(cm.toString(16)).toBe('96000146');
  });

  it('walker faults feed the syndrome: EL0 write to a read-only page', () => {
    const { pt, walk } = setup(12);
    pt.map(0x1000n, RAM, 3, { ap: 3 });
    const r = walk(0x1000n, 'write', 0);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(abortSyndrome({ fault: r.fault, kind: 'write', fromEl: 0, currentEl: 1 }).toString(16)).toBe('9200004f');
  });
});

describe('atomics: which direction a fault reports', () => {
  it('WnR=0 when a read would fault, 1 when only the write does', () => {
    const { pt, mem, regs } = setup(12);
    pt.map(0x1000n, RAM, 3, { ap: 2 }); // read-only
    const rmw = (va: bigint) => translateDataAccess(mem.read64, regs, { va, read: true, write: true, el: 1 });
    const ro = rmw(0x1000n);
    expect(ro.kind).toBe('write');
    expect(faultOf(ro.result)).toBe('permission@3');
    const hole = rmw(0x2000n);
    expect(hole.kind).toBe('read');
    expect(faultOf(hole.result)).toBe('translation@3');
    if (!hole.result.ok) expect(abortSyndrome({ fault: hole.result.fault, kind: hole.kind, fromEl: 1, currentEl: 1 }).toString(16)).toBe('96000007');
    expect(translateDataAccess(mem.read64, regs, { va: 0x1000n, read: false, write: true, el: 1 }).kind).toBe('write');
    expect(translateDataAccess(mem.read64, regs, { va: 0x1000n, read: true, write: false, el: 1 }).result.ok).toBe(true);
  });
});

describe('stage-1 walker against a reference model (random tables)', () => {
  it('agrees on translation, fault level and permissions', () => {
    const grains = [12, 14, 16] as const;
    const leaf = fc.record({
      vpage: fc.integer({ min: 0, max: 63 }),
      hi: fc.integer({ min: 0, max: 3 }),
      ppage: fc.integer({ min: 0, max: 31 }),
      ap: fc.integer({ min: 0, max: 3 }),
      af: fc.boolean(),
      uxn: fc.boolean(),
      pxn: fc.boolean(),
    });
    const probe = fc.record({
      vpage: fc.integer({ min: 0, max: 63 }),
      hi: fc.integer({ min: 0, max: 3 }),
      off: fc.integer({ min: 0, max: 4095 }),
      kind: fc.constantFrom('read' as const, 'write' as const, 'fetch' as const),
      el: fc.constantFrom(0 as const, 1 as const),
      wxn: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.constantFrom(...grains), fc.array(leaf, { maxLength: 12 }), fc.array(probe, { minLength: 1, maxLength: 8 }), (grain, leaves, probes) => {
        const { pt, walk, regs } = setup(grain);
        const page = 1n << BigInt(grain);
        // Spread VAs over distinct upper-level entries: hi picks a 2^(lsb of level 1) region.
        const vaOf = (hi: number, vpage: number) => (BigInt(hi) << BigInt(pt.lsb(1))) + BigInt(vpage) * page;
        const model = new Map<bigint, (typeof leaves)[number]>();
        for (const l of leaves) {
          const va = vaOf(l.hi, l.vpage);
          pt.map(va, RAM + BigInt(l.ppage) * page, 3, l);
          model.set(va, l);
        }
        for (const p of probes) {
          regs.sctlr = p.wxn ? M | WXN : M;
          const va = vaOf(p.hi, p.vpage);
          const got = walk(va + BigInt(p.off), p.kind, p.el);
          const l = model.get(va);
          if (!l) {
            // The walk stops at the first level whose entry no mapped page shares.
            let level = pt.startLevel;
            while (level < 3 && [...model.keys()].some((m) => m >> BigInt(pt.lsb(level)) === va >> BigInt(pt.lsb(level)))) level++;
            expect(faultOf(got)).toBe(`translation@${level}`);
            continue;
          }
          if (!l.af) {
            expect(faultOf(got)).toBe('access-flag@3');
            continue;
          }
          const el0r = l.ap === 1 || l.ap === 3;
          const el0w = l.ap === 1;
          const el1w = l.ap < 2;
          const allowed =
            p.kind === 'fetch'
              ? p.el === 0
                ? !l.uxn && !(p.wxn && el0w)
                : !l.pxn && !el0w && !(p.wxn && el1w)
              : p.kind === 'write'
                ? p.el === 0 ? el0w : el1w
                : p.el === 0 ? el0r : true;
          if (allowed) expect(got).toMatchObject({ ok: true, pa: RAM + BigInt(l.ppage) * page + BigInt(p.off) });
          else expect(faultOf(got)).toBe('permission@3');
        }
      }),
      { numRuns: 150 },
    );
  });
});
