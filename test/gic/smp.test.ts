/**
 * The vGIC with several vCPUs, as a domain with `cpus=N` uses it: an SGI raises only its
 * targets' IRQ lines, GICv2 names the requesting CPU in the target's IAR, banked enables are
 * per vCPU, and PSCI CPU_ON's clearPendingOf drops only what was queued for that vCPU.
 */
import { describe, expect, it } from 'vitest';
import * as V2 from '../../src/gic/regs-v2.ts';
import { DIST, makeV2, makeV3, type Driver } from './driver.ts';

function ready(d: Driver, n: number, sgi: number): void {
  for (let v = 0; v < n; v++) {
    d.init(v);
    d.setPriority(v, sgi, 0x80);
    d.enable(v, sgi);
  }
  d.lineEvents.length = 0;
}

describe.each([
  ['GICv2', () => makeV2(4)],
  ['GICv3', () => makeV3(4)],
])('%s with 4 vCPUs', (_name, make) => {
  it('an SGI by target list raises only the listed vCPUs\' lines', () => {
    const d = make();
    ready(d, 4, 3);
    d.sgi(0, [1, 3], 3);
    expect(d.lineEvents).toEqual([
      { vcpu: 1, asserted: true },
      { vcpu: 3, asserted: true },
    ]);
    expect([0, 1, 2, 3].map((v) => d.gic.irqLine(v))).toEqual([false, true, false, true]);
  });

  it('SGIs and PPIs are enabled per vCPU: a target that did not enable it is not signalled', () => {
    const d = make();
    for (let v = 0; v < 4; v++) d.init(v);
    d.enable(2, 5);
    d.sgi(0, [1, 2], 5);
    expect(d.gic.irqLine(1)).toBe(false);
    expect(d.gic.irqLine(2)).toBe(true);
    expect(d.pending(1, 5)).toBe(true); // pending on vCPU 1, waiting for its enable
    d.enable(1, 5);
    expect(d.gic.irqLine(1)).toBe(true);
  });

  it('clearPendingOf (PSCI CPU_ON) drops one vCPU\'s queued SGIs and PPIs, nobody else\'s', () => {
    const d = make();
    ready(d, 4, 3);
    d.sgi(0, [1, 2], 3);
    d.gic.pulse(1, 31);
    d.gic.clearPendingOf(1);
    expect(d.pending(1, 3)).toBe(false);
    expect(d.pending(1, 31)).toBe(false);
    expect(d.gic.irqLine(1)).toBe(false);
    expect(d.pending(2, 3)).toBe(true);
    expect(d.gic.irqLine(2)).toBe(true);
  });
});

describe('GICv2 SGIs between vCPUs', () => {
  it('the target\'s IAR names the requesting CPU; EOI with that value deactivates', () => {
    const d = makeV2(2);
    ready(d, 2, 4);
    d.sgi(1, [0], 4);
    const iar = d.iar(0);
    expect(iar & 0x3ff).toBe(4);
    expect((iar >> 10) & 7).toBe(1);
    expect(d.active(0, 4)).toBe(true);
    d.eoi(0, iar);
    expect(d.active(0, 4)).toBe(false);
  });

  it('filter 1 (all but self) reaches all 7 others of 8 vCPUs', () => {
    const d = makeV2(8);
    ready(d, 8, 6);
    expect(d.gic.mmioWrite(3, DIST + V2.GICD_SGIR, 4, (1 << V2.SGIR_TARGET_FILTER_SHIFT) | 6).ok).toBe(true);
    expect([...Array(8).keys()].map((v) => d.gic.irqLine(v))).toEqual([true, true, true, false, true, true, true, true]);
    // Each one sees vCPU 3 as the source.
    for (const v of [0, 7]) expect((d.iar(v) >> 10) & 7).toBe(3);
  });
});
