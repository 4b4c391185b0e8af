/** GICv3-only registers: ARE/CTLR, redistributor frames, WAKER, IROUTER, ICC_SGI1R_EL1, ICC_CTLR. */
import { describe, expect, it } from 'vitest';
import { createGic } from '../../src/gic/index.ts';
import * as R from '../../src/gic/regs-v3.ts';
import { DIST, RDIST, expectOk, makeV3 } from './driver.ts';

type D = ReturnType<typeof makeV3>;
const rd = (d: D, vcpu: number, addr: number, size: 1 | 4 | 8 = 4) => expectOk(d.gic.mmioRead(vcpu, addr, size)).value;
const wr = (d: D, vcpu: number, addr: number, value: number, size: 1 | 4 | 8 = 4) =>
  expectOk(d.gic.mmioWrite(vcpu, addr, size, value));
const rdBase = (n: number) => RDIST + n * R.GICR_STRIDE;
const sgiBase = (n: number) => rdBase(n) + R.GICR_SGI_BASE;

describe('GICv3 registers', () => {
  it('GICD_CTLR: ARE_NS fixed at 1, only EnableGrp1A writable and it gates delivery', () => {
    const d = makeV3(1);
    expect(rd(d, 0, DIST + R.GICD_CTLR)).toBe(R.GICD_CTLR_ARE_NS);
    wr(d, 0, DIST + R.GICD_CTLR, 0x1); // EnableGrp1 of the ARE=0 layout: no effect
    expect(rd(d, 0, DIST + R.GICD_CTLR)).toBe(R.GICD_CTLR_ARE_NS);
    d.init(0);
    wr(d, 0, DIST + R.GICD_CTLR, 0x13);
    expect(rd(d, 0, DIST + R.GICD_CTLR)).toBe(0x12);
    d.enable(0, 31);
    d.gic.pulse(0, 31);
    expect(d.gic.irqLine(0)).toBe(true);
    wr(d, 0, DIST + R.GICD_CTLR, R.GICD_CTLR_ARE_NS);
    expect(d.gic.irqLine(0)).toBe(false);
  });

  it('identifies itself: TYPER (IDbits, lines, CPUs) and PIDR2 ArchRev 3', () => {
    const d = makeV3(2);
    expect(rd(d, 0, DIST + R.GICD_TYPER)).toBe((9 << 19) | (1 << 5) | 2);
    expect((rd(d, 0, DIST + R.GICD_PIDR2) >> 4) & 0xf).toBe(3);
    expect((rd(d, 0, rdBase(1) + R.GICR_PIDR2) >> 4) & 0xf).toBe(3);
  });

  it('GICR_TYPER: processor number, Last on the final redistributor, affinity in [63:32]', () => {
    const d = makeV3(2);
    expect(rd(d, 0, rdBase(0) + R.GICR_TYPER, 8)).toBe(0); // vCPU 0, affinity 0.0.0.0, not last
    expect(rd(d, 0, rdBase(1) + R.GICR_TYPER, 8)).toBe(1 * 2 ** 32 + ((1 << 8) | R.GICR_TYPER_LAST));
    expect(rd(d, 0, rdBase(1) + R.GICR_TYPER + 4)).toBe(1);
    expect(d.gic.claims(rdBase(2))).toBe(false);
    const big = createGic({ version: 3, nrVcpus: 18 });
    expect(expectOk(big.mmioRead(0, rdBase(17) + R.GICR_TYPER + 4, 4)).value).toBe((1 << 8) | 1); // Aff1=1, Aff0=1
  });

  it('GICR_WAKER is RAZ/WI and GICR_SYNCR reads 1, as under Xen; IIDR 0x34c, PIDR2 0x30', () => {
    const d = makeV3(2);
    const waker = rdBase(1) + R.GICR_WAKER;
    expect(rd(d, 0, waker)).toBe(0);
    wr(d, 1, waker, R.GICR_WAKER_PROCESSOR_SLEEP);
    expect(rd(d, 1, waker)).toBe(0);
    expect(rd(d, 0, rdBase(0) + R.GICR_SYNCR)).toBe(1);
    expect(rd(d, 0, DIST + R.GICD_IIDR)).toBe(0x34c);
    expect(rd(d, 0, rdBase(0) + R.GICR_IIDR)).toBe(0x34c);
    expect(rd(d, 0, DIST + R.GICD_PIDR2)).toBe(0x30);
    expect(rd(d, 0, DIST + 0xc)).toBe(0); // GICD_TYPER2
  });

  it('with ARE the GICD words for INTIDs 0..31 are RAZ/WI', () => {
    const d = makeV3(1);
    d.init(0);
    wr(d, 0, DIST + R.GICD_ISENABLER, 0xffffffff);
    expect(rd(d, 0, DIST + R.GICD_ISENABLER)).toBe(0);
    wr(d, 0, DIST + R.GICD_IPRIORITYR + 31, 0x10, 1);
    expect(rd(d, 0, sgiBase(0) + R.GICR_IPRIORITYR0 + 31, 1)).toBe(0);
    d.gic.pulse(0, 31);
    expect(d.gic.irqLine(0)).toBe(false);
    wr(d, 0, sgiBase(0) + R.GICR_ISENABLER0, 1 << 31);
    expect(d.gic.irqLine(0)).toBe(true);
    expect(rd(d, 0, sgiBase(0) + R.GICR_ICFGR0)).toBe(0); // SGIs stay edge; Xen reads the word as 0
  });

  it('a vCPU may program another redistributor', () => {
    const d = makeV3(2);
    d.init(1);
    wr(d, 0, sgiBase(1) + R.GICR_ISENABLER0, 1 << 27);
    d.gic.pulse(1, 27);
    expect(d.gic.irqLine(1)).toBe(true);
    expect(d.gic.irqLine(0)).toBe(false);
  });

  it('IROUTER names one vCPU and reads back its affinity; an unknown affinity keeps the route', () => {
    const d = makeV3(2);
    d.init(0); d.init(1);
    d.enable(0, 60);
    const ir = DIST + R.GICD_IROUTER + 8 * 60;
    wr(d, 0, ir, 0x0000_0001, 8);
    expect(rd(d, 0, ir, 8)).toBe(1);
    d.gic.pulse(0, 60);
    expect([d.gic.irqLine(0), d.gic.irqLine(1)]).toEqual([false, true]);
    wr(d, 0, ir + 4, 0x01); // Aff3 = 1: nobody has it, Xen keeps vCPU 1
    expect(rd(d, 0, ir, 8)).toBe(1);
    expect([d.gic.irqLine(0), d.gic.irqLine(1)]).toEqual([false, true]);
    wr(d, 0, ir, 0);
    expect(rd(d, 0, ir + 4)).toBe(0);
    expect([d.gic.irqLine(0), d.gic.irqLine(1)]).toEqual([true, false]);
  });

  it('IROUTER.IRM=1 routes to vCPU 0 and is not kept (Xen has no 1-of-N routing)', () => {
    const d = makeV3(2);
    d.init(0); d.init(1);
    d.enable(0, 61);
    wr(d, 0, DIST + R.GICD_IROUTER + 8 * 61, 1, 8);
    wr(d, 0, DIST + R.GICD_IROUTER + 8 * 61, R.GICD_IROUTER_IRM, 8);
    expect(rd(d, 0, DIST + R.GICD_IROUTER + 8 * 61, 8)).toBe(0);
    d.gic.pulse(0, 61);
    expect([d.gic.irqLine(0), d.gic.irqLine(1)]).toEqual([true, false]);
  });

  it('ICC_SGI1R_EL1: target list with Aff1, IRM=1 to all others, Aff2/RS naming nobody', () => {
    const d = makeV3(18);
    for (let v = 0; v < 18; v++) { d.init(v); d.enable(v, 9); }
    const send = (from: number, v: bigint) => expectOk(d.gic.sysregWrite(from, R.ICC_SGI1R_EL1, v));
    const pending = () => Array.from({ length: 18 }, (_, v) => d.pending(v, 9)).flatMap((p, v) => (p ? [v] : []));
    send(0, (9n << 24n) | (1n << 16n) | 0b11n); // Aff1=1, Aff0 in {0,1} -> vCPUs 16, 17
    expect(pending()).toEqual([16, 17]);
    for (const v of [16, 17]) d.eoi(v, d.iar(v));
    send(5, (9n << 24n) | (1n << 40n));
    expect(pending()).toEqual([...Array.from({ length: 18 }, (_, i) => i)].filter((i) => i !== 5));
    for (let v = 0; v < 18; v++) if (v !== 5) d.eoi(v, d.iar(v));
    send(0, (9n << 24n) | (1n << 32n) | 1n); // Aff2 = 1
    send(0, (9n << 24n) | (1n << 44n) | 1n); // RS = 1 -> Aff0 16
    expect(pending()).toEqual([]);
    expect(d.gic.sysregRead(0, R.ICC_SGI1R_EL1).ok).toBe(false); // write-only
  });

  it('ICC_CTLR_EL1 reports PRIbits and IDbits; only EOImode is writable; ICC_SRE_EL1 reads 7', () => {
    const d = makeV3(1);
    const ctlr = () => expectOk(d.gic.sysregRead(0, R.ICC_CTLR_EL1)).value;
    expect(ctlr()).toBe(0x8c00n); // A3V, IDbits 1 (24 bits), 5 priority bits: what Xen's guest reads
    expectOk(d.gic.sysregWrite(0, R.ICC_CTLR_EL1, 0xffffn));
    expect(ctlr()).toBe(0x8c02n);
    expect(expectOk(d.gic.sysregRead(0, R.ICC_SRE_EL1)).value).toBe(7n);
    expectOk(d.gic.sysregWrite(0, R.ICC_SRE_EL1, 0n));
    expect(expectOk(d.gic.sysregRead(0, R.ICC_SRE_EL1)).value).toBe(7n);
  });

  it('Group 0 registers see nothing: ICC_IAR0_EL1 is spurious while a Group 1 IRQ pends', () => {
    const d = makeV3(1);
    d.init(0);
    d.enable(0, 31);
    d.gic.pulse(0, 31);
    expect(expectOk(d.gic.sysregRead(0, R.ICC_IAR0_EL1)).value).toBe(1023n);
    expect(expectOk(d.gic.sysregRead(0, R.ICC_HPPIR0_EL1)).value).toBe(1023n);
    expect(d.iar(0)).toBe(31);
  });

  it('ICC_AP1R0_EL1 shows the active priority; writing 0 idles the running priority', () => {
    const d = makeV3(1);
    d.init(0);
    d.setPriority(0, 31, 0x48);
    d.enable(0, 31);
    d.gic.pulse(0, 31);
    d.iar(0);
    expect(expectOk(d.gic.sysregRead(0, R.ICC_AP1R0_EL1)).value).toBe(BigInt(1 << (0x48 >> 3)));
    expectOk(d.gic.sysregWrite(0, R.ICC_AP1R0_EL1, 0n));
    expect(d.rpr(0)).toBe(0xff);
  });

  it('unknown system registers and vCPUs fail without throwing', () => {
    const d = makeV3(1);
    expect(d.gic.sysregRead(0, { op0: 3, op1: 0, crn: 12, crm: 13, op2: 0 }).ok).toBe(false);
    expect(d.gic.sysregWrite(0, R.ICC_RPR_EL1, 0n).ok).toBe(false);
    expect(d.gic.sysregRead(3, R.ICC_IAR1_EL1).ok).toBe(false);
    expect(d.gic.mmioRead(0, rdBase(0) + 0x0100, 4).ok).toBe(false);
  });
});
