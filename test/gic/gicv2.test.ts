/** GICv2-only registers: identification, banked ITARGETSR, SGIR filters and per-source SGIs. */
import { describe, expect, it } from 'vitest';
import * as R from '../../src/gic/regs-v2.ts';
import { CPU, DIST, expectOk, makeV2 } from './driver.ts';

const rd = (d: ReturnType<typeof makeV2>, vcpu: number, addr: number, size: 1 | 4 = 4) =>
  expectOk(d.gic.mmioRead(vcpu, addr, size)).value;
const wr = (d: ReturnType<typeof makeV2>, vcpu: number, addr: number, value: number, size: 1 | 4 = 4) =>
  expectOk(d.gic.mmioWrite(vcpu, addr, size, value));

describe('GICv2 registers', () => {
  it('identifies itself: TYPER, IIDR, PIDR2, GICC_IIDR', () => {
    const d = makeV2(2);
    expect(rd(d, 0, DIST + R.GICD_TYPER)).toBe((1 << 5) | 2); // 2 CPUs, 96 lines
    expect(rd(d, 0, DIST + R.GICD_IIDR)).toBe(0x43b);
    expect(d.gic.mmioRead(0, DIST + R.GICD_PIDR2, 4).ok).toBe(false); // Xen refuses it
    expect(rd(d, 0, DIST + 0xfe0)).toBe(0);
    expect(rd(d, 0, DIST + R.GICD_SGIR)).toBe(0xdeadbeef);
    expect(rd(d, 0, CPU + R.GICC_IIDR)).toBe(0x0002043b);
    expect(d.gic.claims(CPU + R.GICC_DIR)).toBe(true);
    expect(d.gic.claims(CPU + 0x2000)).toBe(false);
  });

  it('GICD_CTLR keeps only Enable; IGROUPR is RAZ/WI', () => {
    const d = makeV2(1);
    wr(d, 0, DIST + R.GICD_CTLR, 0xffffffff);
    expect(rd(d, 0, DIST + R.GICD_CTLR)).toBe(1);
    wr(d, 0, DIST + R.GICD_IGROUPR + 4, 0xffffffff);
    expect(rd(d, 0, DIST + R.GICD_IGROUPR + 4)).toBe(0);
  });

  it('ITARGETSR0..7 read as the accessing CPU and ignore writes', () => {
    const d = makeV2(2);
    expect(rd(d, 1, DIST + R.GICD_ITARGETSR)).toBe(0x02020202);
    expect(rd(d, 0, DIST + R.GICD_ITARGETSR + 31, 1)).toBe(0x01);
    wr(d, 1, DIST + R.GICD_ITARGETSR + 4, 0x01010101);
    expect(rd(d, 1, DIST + R.GICD_ITARGETSR + 4)).toBe(0x02020202);
  });

  it('an SPI keeps a single target: the lowest CPU written; zero is ignored', () => {
    const d = makeV2(2);
    expect(rd(d, 0, DIST + R.GICD_ITARGETSR + 40, 1)).toBe(0x01); // reset: CPU 0
    wr(d, 0, DIST + R.GICD_ITARGETSR + 40, 0x02, 1);
    expect(rd(d, 0, DIST + R.GICD_ITARGETSR + 40, 1)).toBe(0x02);
    wr(d, 0, DIST + R.GICD_ITARGETSR + 40, 0x00, 1);
    expect(rd(d, 0, DIST + R.GICD_ITARGETSR + 40, 1)).toBe(0x02);
    wr(d, 0, DIST + R.GICD_ITARGETSR + 40, 0xff, 1); // CPUs beyond nrVcpus dropped, lowest kept
    expect(rd(d, 0, DIST + R.GICD_ITARGETSR + 40, 1)).toBe(0x01);
  });

  it('ICFGR0 (SGIs) and ICFGR1 (PPIs) read 0 and ignore writes, as under Xen; SPIs are configurable', () => {
    const d = makeV2(1);
    expect(rd(d, 0, DIST + R.GICD_ICFGR)).toBe(0);
    wr(d, 0, DIST + R.GICD_ICFGR, 0xffffffff);
    expect(rd(d, 0, DIST + R.GICD_ICFGR)).toBe(0);
    wr(d, 0, DIST + R.GICD_ICFGR + 4, 0x80000000);
    expect(rd(d, 0, DIST + R.GICD_ICFGR + 4)).toBe(0);
    wr(d, 0, DIST + R.GICD_ICFGR + 8, 0x2); // SPI 32 edge
    expect(rd(d, 0, DIST + R.GICD_ICFGR + 8)).toBe(0x2);
  });

  it('writes to ICACTIVER are ignored and logged, as Xen does', () => {
    const d = makeV2(1);
    const log: string[] = [];
    d.gic.log = (_v, t) => log.push(t);
    d.init(0);
    d.enable(0, 31);
    d.gic.pulse(0, 31);
    expect(rd(d, 0, CPU + R.GICC_IAR)).toBe(31);
    wr(d, 0, DIST + R.GICD_ICACTIVER, 1 << 31);
    expect(d.active(0, 31)).toBe(true);
    expect(log).toEqual(['vGICD: unhandled word write 0x00000080000000 to ICACTIVER0']);
  });

  it('SGIR target filters: list, all-but-self, self', () => {
    const d = makeV2(3);
    for (let v = 0; v < 3; v++) { d.init(v); d.enable(v, 5); }
    const pend = () => [0, 1, 2].map((v) => d.pending(v, 5));
    wr(d, 0, DIST + R.GICD_SGIR, (1 << R.SGIR_TARGET_FILTER_SHIFT) | 5);
    expect(pend()).toEqual([false, true, true]);
    for (const v of [1, 2]) d.eoi(v, d.iar(v));
    wr(d, 1, DIST + R.GICD_SGIR, (2 << R.SGIR_TARGET_FILTER_SHIFT) | 5);
    expect(pend()).toEqual([false, true, false]);
    d.eoi(1, d.iar(1));
    wr(d, 2, DIST + R.GICD_SGIR, (0b101 << R.SGIR_TARGET_LIST_SHIFT) | 5);
    expect(pend()).toEqual([true, false, true]);
    wr(d, 0, DIST + R.GICD_SGIR, (3 << R.SGIR_TARGET_FILTER_SHIFT) | 6); // reserved filter
    expect(d.pending(0, 6) || d.pending(1, 6)).toBe(false);
  });

  it('an SGI from two requesters is pending per source and taken once for each', () => {
    const d = makeV2(3);
    for (let v = 0; v < 3; v++) d.init(v);
    d.enable(2, 1);
    d.sgi(0, [2], 1);
    d.sgi(1, [2], 1);
    expect(rd(d, 2, DIST + R.GICD_SPENDSGIR + 1, 1)).toBe(0b011);
    const a = d.iar(2);
    expect(a).toBe(1 | (0 << 10));
    expect(d.gic.irqLine(2)).toBe(false); // active (and still pending from CPU 1)
    d.eoi(2, a);
    const b = d.iar(2);
    expect(b).toBe(1 | (1 << 10));
    d.eoi(2, b);
    expect(d.iar(2)).toBe(1023);
  });

  it('CPENDSGIR clears one source, SPENDSGIR sets one; ISPENDR ignores SGIs', () => {
    const d = makeV2(2);
    d.init(0);
    d.enable(0, 2);
    wr(d, 0, DIST + R.GICD_SPENDSGIR + 2, 0b10, 1);
    expect(rd(d, 0, DIST + R.GICD_SPENDSGIR)).toBe(0b10 << 16);
    expect(d.iar(0)).toBe(2 | (1 << 10));
    d.eoi(0, 2 | (1 << 10));
    wr(d, 0, DIST + R.GICD_SPENDSGIR + 2, 0b11, 1);
    wr(d, 0, DIST + R.GICD_CPENDSGIR + 2, 0b01, 1);
    expect(rd(d, 0, DIST + R.GICD_CPENDSGIR + 2, 1)).toBe(0b10);
    wr(d, 0, DIST + R.GICD_ICPENDR, 1 << 2); // WI for SGIs
    expect(d.pending(0, 2)).toBe(true);
    wr(d, 0, DIST + R.GICD_ISPENDR, 1 << 7);
    expect(d.pending(0, 7)).toBe(false);
  });

  it('AIAR/AHPPIR see Group 1 only, and nothing is Group 1', () => {
    const d = makeV2(1);
    d.init(0);
    d.enable(0, 31);
    d.gic.pulse(0, 31);
    expect(rd(d, 0, CPU + R.GICC_AHPPIR)).toBe(1023);
    expect(rd(d, 0, CPU + R.GICC_AIAR)).toBe(0); // what QEMU's virtual interface answers under Xen
    expect(rd(d, 0, CPU + R.GICC_IAR)).toBe(31);
  });

  it('BPR is clamped to the minimum for 5 priority bits; APR0 shows the active priority', () => {
    const d = makeV2(1);
    d.init(0);
    wr(d, 0, CPU + R.GICC_BPR, 0);
    expect(rd(d, 0, CPU + R.GICC_BPR)).toBe(2);
    d.setPriority(0, 31, 0x48);
    d.enable(0, 31);
    d.gic.pulse(0, 31);
    d.iar(0);
    expect(rd(d, 0, CPU + R.GICC_APR0)).toBe(1 << (0x48 >> 3));
  });

  it('has no system-register interface', () => {
    const d = makeV2(1);
    expect(d.gic.sysregRead(0, { op0: 3, op1: 0, crn: 12, crm: 12, op2: 0 }).ok).toBe(false);
    expect(d.gic.sysregWrite(0, { op0: 3, op1: 0, crn: 4, crm: 6, op2: 0 }, 0xffn).ok).toBe(false);
  });
});
