/**
 * Property: whatever sequence of register accesses and device inputs the guest and devices
 * produce, the GIC never throws, the line last reported through onLineChange always equals
 * irqLine(), reports alternate (edges only), wakeup() agrees with irqLine(), and an acknowledge
 * returns a real INTID exactly when the line was asserted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessSize } from '../../src/gic/index.ts';
import * as V3 from '../../src/gic/regs-v3.ts';
import { CPU, DIST, RDIST, makers, type Driver } from './driver.ts';

const NV = 2;
// A small pool makes enable, priority and pulse meet on the same interrupt; the rest is noise
// (100 is past the 96 implemented lines).
const intid = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(1, 3, 27, 31, 40, 41, 95) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }) },
);
const vcpu = fc.integer({ min: 0, max: NV }); // NV itself is an invalid vCPU
const prio = fc.integer({ min: 0, max: 255 });
const size = fc.constantFrom<AccessSize>(1, 2, 4, 8);
const value = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0xff, 0xffffffff));

/** Offsets that hit real registers more often than uniform noise would. */
const regOffset = fc.oneof(
  fc.constantFrom(0x0, 0x4, 0x8, 0x80, 0x100, 0x104, 0x180, 0x200, 0x204, 0x280, 0x300, 0x380, 0x400, 0x41c, 0x800,
    0x820, 0xc00, 0xc04, 0xc08, 0xf00, 0xf10, 0xf20, 0xfe8, 0x6100, 0x6104, 0xffe8),
  fc.integer({ min: 0, max: 0xffff }).map((n) => n & ~3),
);

type Op =
  | { k: 'pulse'; v: number; id: number }
  | { k: 'level'; v: number; id: number; on: boolean }
  | { k: 'enable'; v: number; id: number; on: boolean }
  | { k: 'prio'; v: number; id: number; p: number }
  | { k: 'edge'; v: number; id: number; on: boolean }
  | { k: 'pmr'; v: number; p: number }
  | { k: 'bpr'; v: number; b: number }
  | { k: 'eoimode'; v: number; on: boolean }
  | { k: 'iar'; v: number }
  | { k: 'eoi'; v: number; id: number }
  | { k: 'dir'; v: number; id: number }
  | { k: 'route'; id: number; v: number }
  | { k: 'sgi'; from: number; to: number; id: number }
  | { k: 'mmio'; v: number; frame: number; off: number; size: AccessSize; write: boolean; val: number }
  | { k: 'sys'; v: number; crm: number; op2: number; write: boolean; val: bigint }
  | { k: 'init'; v: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('pulse' as const), v: vcpu, id: intid }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('level' as const), v: vcpu, id: intid, on: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('enable' as const), v: vcpu, id: intid, on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('prio' as const), v: vcpu, id: intid, p: prio }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('edge' as const), v: vcpu, id: intid, on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('pmr' as const), v: vcpu, p: prio }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('bpr' as const), v: vcpu, b: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('eoimode' as const), v: vcpu, on: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('iar' as const), v: vcpu }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('eoi' as const), v: vcpu, id: fc.oneof(intid, fc.constant(1023)) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('dir' as const), v: vcpu, id: intid }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('route' as const), id: fc.integer({ min: 32, max: 95 }), v: fc.integer({ min: 0, max: NV - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('sgi' as const), from: fc.integer({ min: 0, max: NV - 1 }), to: fc.integer({ min: 0, max: NV - 1 }), id: fc.integer({ min: 0, max: 15 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('mmio' as const), v: vcpu, frame: fc.integer({ min: 0, max: 4 }), off: regOffset, size, write: fc.boolean(), val: value }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('sys' as const), v: vcpu, crm: fc.constantFrom(6, 8, 9, 11, 12, 13), op2: fc.integer({ min: 0, max: 7 }), write: fc.boolean(), val: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('init' as const), v: fc.integer({ min: 0, max: NV - 1 }) }) },
);

function frameBase(d: Driver, frame: number): number {
  if (d.version === 2) return frame < 2 ? DIST : CPU + (frame === 4 ? 0x1000 : 0);
  return frame === 0 ? DIST : RDIST + ((frame - 1) >> 1) * V3.GICR_STRIDE + ((frame - 1) & 1) * V3.GICR_SGI_BASE;
}

function apply(d: Driver, o: Op): void {
  const valid = (v: number) => v >= 0 && v < NV;
  switch (o.k) {
    case 'pulse': d.gic.pulse(o.v, o.id); break;
    case 'level': d.gic.setLevel(o.v, o.id, o.on); break;
    case 'enable': if (valid(o.v)) (o.on ? d.enable : d.disable)(o.v, o.id); break;
    case 'prio': if (valid(o.v)) d.setPriority(o.v, o.id, o.p); break;
    case 'edge': if (valid(o.v)) d.setEdge(o.v, o.id, o.on); break;
    case 'pmr': if (valid(o.v)) d.setPmr(o.v, o.p); break;
    case 'bpr': if (valid(o.v)) d.setBpr(o.v, o.b); break;
    case 'eoimode': if (valid(o.v)) d.setEoiMode(o.v, o.on); break;
    case 'iar': {
      if (!valid(o.v)) break;
      const before = d.gic.irqLine(o.v);
      const got = d.iar(o.v) & 0x3ff;
      expect(got !== 1023).toBe(before);
      break;
    }
    case 'eoi': if (valid(o.v)) d.eoi(o.v, o.id); break;
    case 'dir': if (valid(o.v)) d.dir(o.v, o.id); break;
    case 'route': d.route(o.id, o.v); break;
    case 'sgi': d.sgi(o.from, [o.to], o.id); break;
    case 'mmio': {
      const addr = frameBase(d, o.frame) + o.off;
      const r = o.write ? d.gic.mmioWrite(o.v, addr, o.size, o.val) : d.gic.mmioRead(o.v, addr, o.size);
      expect(typeof r.ok).toBe('boolean');
      break;
    }
    case 'sys': {
      const reg = { op0: 3, op1: 0, crn: o.crm === 6 ? 4 : 12, crm: o.crm, op2: o.op2 };
      const r = o.write ? d.gic.sysregWrite(o.v, reg, o.val) : d.gic.sysregRead(o.v, reg);
      expect(typeof r.ok).toBe('boolean');
      break;
    }
    case 'init': d.init(o.v); break;
  }
}

function checkInvariants(d: Driver): void {
  for (let v = 0; v < NV; v++) {
    const reports = d.lineEvents.filter((e) => e.vcpu === v).map((e) => e.asserted);
    const reported = reports.length > 0 ? reports[reports.length - 1] : false;
    expect(reported).toBe(d.gic.irqLine(v));
    expect(d.gic.wakeup(v)).toBe(d.gic.irqLine(v));
    for (let i = 0; i < reports.length; i++) expect(reports[i]).toBe(i % 2 === 0); // true, false, true, ...
  }
}

describe.each(makers)('%s property', (_name, make) => {
  it('random register traffic keeps the reported line consistent and never throws', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 150, size: 'max' }), (ops) => {
        const d = make(NV);
        d.init(0);
        d.init(1);
        for (const o of ops) {
          apply(d, o);
          checkInvariants(d);
        }
      }),
      { numRuns: 200, seed: 0x6c1c },
    );
  });
});
