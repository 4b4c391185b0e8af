/**
 * Interrupt-handling behaviour common to GICv2 and GICv3, driven through registers only.
 * PPI 31 is the event-channel interrupt Xen uses; SPIs 40.. stand for devices.
 */
import { describe, expect, it } from 'vitest';
import { DIST, expectOk, makers, type Driver } from './driver.ts';

const SPURIOUS = 1023;
const PPI = 31;
const intidOf = (iar: number) => iar & 0x3ff; // drop GICv2's CPUID field

function ready(make: (n?: number) => Driver, vcpus = 2): Driver {
  const d = make(vcpus);
  for (let v = 0; v < vcpus; v++) d.init(v);
  return d;
}

describe.each(makers)('%s', (_name, make) => {
  it('an enabled, pulsed PPI raises the line; a disabled one does not', () => {
    const d = ready(make);
    d.setPriority(0, PPI, 0xa0);
    d.gic.pulse(0, PPI);
    expect(d.gic.irqLine(0)).toBe(false); // not enabled yet
    expect(d.pending(0, PPI)).toBe(true);
    d.enable(0, PPI);
    expect(d.gic.irqLine(0)).toBe(true);
    expect(d.gic.wakeup(0)).toBe(true);
    expect(d.gic.irqLine(1)).toBe(false); // PPIs are banked
    expect(d.lineEvents).toEqual([{ vcpu: 0, asserted: true }]);
  });

  it('IAR returns the INTID, makes it active, clears pending and lowers the line', () => {
    const d = ready(make);
    d.setPriority(0, PPI, 0xa0);
    d.enable(0, PPI);
    d.gic.pulse(0, PPI);
    expect(d.hppir(0)).toBe(PPI);
    expect(d.iar(0)).toBe(PPI);
    expect(d.active(0, PPI)).toBe(true);
    expect(d.pending(0, PPI)).toBe(false);
    expect(d.rpr(0)).toBe(0xa0);
    expect(d.gic.irqLine(0)).toBe(false);
    expect(d.lineEvents).toEqual([{ vcpu: 0, asserted: true }, { vcpu: 0, asserted: false }]);
  });

  it('EOI drops the running priority and deactivates', () => {
    const d = ready(make);
    d.setPriority(0, PPI, 0xa0);
    d.enable(0, PPI);
    d.gic.pulse(0, PPI);
    const iar = d.iar(0);
    d.eoi(0, iar);
    expect(d.rpr(0)).toBe(0xff);
    expect(d.active(0, PPI)).toBe(false);
    expect(d.iar(0)).toBe(SPURIOUS);
  });

  it('PMR masks priorities at or above it', () => {
    const d = ready(make);
    d.setPriority(0, 40, 0x80);
    d.enable(0, 40);
    d.setPmr(0, 0x80);
    d.gic.pulse(0, 40);
    expect(d.gic.irqLine(0)).toBe(false);
    expect(d.gic.wakeup(0)).toBe(false);
    expect(d.iar(0)).toBe(SPURIOUS);
    expect(d.pending(0, 40)).toBe(true); // spurious IAR left it alone
    d.setPmr(0, 0x88);
    expect(d.gic.irqLine(0)).toBe(true);
    expect(d.iar(0)).toBe(40);
  });

  it('PMR keeps only the implemented priority bits (5)', () => {
    const d = ready(make);
    d.setPmr(0, 0xff);
    expect(d.pmr(0)).toBe(0xf8);
  });

  it('the higher priority (lower value) is taken first; equal priorities go to the lower INTID', () => {
    const d = ready(make);
    for (const [id, p] of [[40, 0x80], [41, 0x40], [42, 0x40]] as const) {
      d.setPriority(0, id, p);
      d.enable(0, id);
    }
    d.gic.pulse(0, 40);
    d.gic.pulse(0, 42);
    d.gic.pulse(0, 41);
    const first = d.iar(0);
    expect(first).toBe(41);
    d.eoi(0, first);
    const second = d.iar(0);
    expect(second).toBe(42);
    d.eoi(0, second);
    expect(d.iar(0)).toBe(40);
  });

  it('a higher priority preempts an active interrupt; equal and lower do not', () => {
    const d = ready(make);
    const prio: Record<number, number> = { 40: 0x80, 41: 0x40, 42: 0x80, 43: 0xa0 };
    for (const id of [40, 41, 42, 43]) { d.setPriority(0, id, prio[id]); d.enable(0, id); }
    d.gic.pulse(0, 40);
    expect(d.iar(0)).toBe(40);
    d.gic.pulse(0, 42); // equal
    d.gic.pulse(0, 43); // lower
    expect(d.gic.irqLine(0)).toBe(false);
    expect(d.iar(0)).toBe(SPURIOUS);
    expect(d.hppir(0)).toBe(42); // still the highest pending, just not signalled
    d.gic.pulse(0, 41); // higher
    expect(d.gic.irqLine(0)).toBe(true);
    expect(d.iar(0)).toBe(41);
    expect(d.rpr(0)).toBe(0x40);
    d.eoi(0, 41); // nested EOI: back to the preempted interrupt's priority
    expect(d.rpr(0)).toBe(0x80);
    expect(d.gic.irqLine(0)).toBe(false);
    d.eoi(0, 40);
    expect(d.rpr(0)).toBe(0xff);
    expect(d.iar(0)).toBe(42);
  });

  it('the binary point groups priorities: same group priority does not preempt', () => {
    const d = ready(make);
    d.setPriority(0, 40, 0x50);
    d.setPriority(0, 41, 0x40);
    d.enable(0, 40);
    d.enable(0, 41);
    // v2 GICC_BPR = 4 compares bits [7:5]; v3 ICC_BPR1_EL1 = 5 compares bits [7:5].
    d.setBpr(0, d.version === 2 ? 4 : 5);
    d.gic.pulse(0, 40);
    expect(d.iar(0)).toBe(40);
    d.gic.pulse(0, 41);
    expect(d.gic.irqLine(0)).toBe(false);
    d.setBpr(0, d.version === 2 ? 2 : 3); // finest grouping: 0x40 beats 0x50
    expect(d.gic.irqLine(0)).toBe(true);
  });

  it('an edge while active latches pending again and is taken after EOI', () => {
    const d = ready(make);
    d.setPriority(0, PPI, 0xa0);
    d.enable(0, PPI);
    d.gic.pulse(0, PPI);
    const iar = d.iar(0);
    d.gic.pulse(0, PPI);
    expect(d.pending(0, PPI)).toBe(true);
    expect(d.active(0, PPI)).toBe(true);
    expect(d.gic.irqLine(0)).toBe(false); // active+pending is not signalled
    d.eoi(0, iar);
    expect(d.gic.irqLine(0)).toBe(true);
    expect(d.iar(0)).toBe(PPI);
  });

  it('several edges before the ack are taken once', () => {
    const d = ready(make);
    d.enable(0, PPI);
    d.gic.pulse(0, PPI);
    d.gic.pulse(0, PPI);
    d.eoi(0, d.iar(0));
    expect(d.iar(0)).toBe(SPURIOUS);
  });

  it('a level interrupt stays pending while its line is high', () => {
    const d = ready(make);
    d.setEdge(0, 44, false);
    d.setPriority(0, 44, 0x40);
    d.enable(0, 44);
    d.gic.setLevel(0, 44, true);
    expect(d.iar(0)).toBe(44);
    expect(d.pending(0, 44)).toBe(true); // active and pending
    expect(d.gic.irqLine(0)).toBe(false);
    d.eoi(0, 44);
    expect(d.gic.irqLine(0)).toBe(true); // still high: taken again
    expect(d.iar(0)).toBe(44);
    d.gic.setLevel(0, 44, false);
    expect(d.pending(0, 44)).toBe(false);
    d.eoi(0, 44);
    expect(d.gic.irqLine(0)).toBe(false);
    expect(d.iar(0)).toBe(SPURIOUS);
  });

  it('ISPENDR latches an interrupt; ICPENDR cannot take it back and says so (Xen 4.17)', () => {
    const d = ready(make);
    const log: string[] = [];
    d.gic.log = (_v, t) => log.push(t);
    d.setEdge(0, 45, false);
    d.enable(0, 45);
    d.setPendingReg(0, 45);
    expect(d.pending(0, 45)).toBe(true);
    d.clearPendingReg(0, 45);
    expect(d.pending(0, 45)).toBe(true);
    expect(log).toEqual(['trying to clear pending interrupt 45.']);
    expect(d.iar(0)).toBe(45);
    // The guest sees none of it: the pending and active banks read as zero.
    expect(expectOk(d.gic.mmioRead(0, DIST + 0x204, 4)).value).toBe(0); // GICD_ISPENDR1
    expect(expectOk(d.gic.mmioRead(0, DIST + 0x304, 4)).value).toBe(0); // GICD_ISACTIVER1
    expect(d.active(0, 45)).toBe(true);
  });

  it('an edge-configured interrupt latches on a rising level only', () => {
    const d = ready(make);
    d.setEdge(0, 46, true);
    d.enable(0, 46);
    d.gic.setLevel(0, 46, true);
    d.eoi(0, d.iar(0));
    expect(d.pending(0, 46)).toBe(false); // line still high, but no new edge
    d.gic.setLevel(0, 46, false);
    d.gic.setLevel(0, 46, true);
    expect(d.iar(0)).toBe(46);
  });

  it('nothing pending, or group/distributor disabled, gives spurious 1023', () => {
    const d = ready(make);
    expect(d.iar(0)).toBe(SPURIOUS);
    expect(d.hppir(0)).toBe(SPURIOUS);
    d.enable(0, PPI);
    d.gic.pulse(0, PPI);
    d.disableCpu(0);
    expect(d.gic.irqLine(0)).toBe(false);
    expect(d.iar(0)).toBe(SPURIOUS);
    d.init(0);
    d.disableDist();
    expect(d.iar(0)).toBe(SPURIOUS);
    d.init(0);
    expect(d.iar(0)).toBe(PPI);
  });

  it('onLineChange fires exactly on edges of the line', () => {
    const d = ready(make);
    d.enable(0, PPI);
    d.enable(0, 40);
    d.setPriority(0, PPI, 0xa0);
    d.setPriority(0, 40, 0x10);
    d.gic.pulse(0, PPI);
    d.gic.pulse(0, PPI); // line already high
    d.gic.pulse(0, 40);  // still high
    expect(d.lineEvents).toEqual([{ vcpu: 0, asserted: true }]);
    const a = d.iar(0); // 40: PPI 31 still pending below it, not preempting
    expect(a).toBe(40);
    expect(d.lineEvents.at(-1)).toEqual({ vcpu: 0, asserted: false });
    d.eoi(0, a);
    expect(d.lineEvents.at(-1)).toEqual({ vcpu: 0, asserted: true });
    d.eoi(0, d.iar(0));
    expect(d.lineEvents).toEqual([
      { vcpu: 0, asserted: true }, { vcpu: 0, asserted: false },
      { vcpu: 0, asserted: true }, { vcpu: 0, asserted: false },
    ]);
    // and the reported value always matches irqLine()
    expect(d.gic.irqLine(0)).toBe(false);
  });

  it('EOImode=1 splits priority drop (EOIR) from deactivation (DIR)', () => {
    const d = ready(make);
    d.setEoiMode(0, true);
    d.setPriority(0, PPI, 0xa0);
    d.enable(0, PPI);
    d.gic.pulse(0, PPI);
    const iar = d.iar(0);
    d.eoi(0, iar);
    expect(d.rpr(0)).toBe(0xff); // priority dropped
    expect(d.active(0, PPI)).toBe(true); // still active
    d.gic.pulse(0, PPI);
    expect(d.gic.irqLine(0)).toBe(false); // active+pending: not signalled
    d.dir(0, iar);
    expect(d.active(0, PPI)).toBe(false);
    expect(d.gic.irqLine(0)).toBe(true);
  });

  it('with EOImode=1 a lower-priority interrupt is taken after the priority drop, before DIR', () => {
    const d = ready(make);
    d.setEoiMode(0, true);
    d.setPriority(0, 40, 0x40);
    d.setPriority(0, 41, 0x80);
    d.enable(0, 40);
    d.enable(0, 41);
    d.gic.pulse(0, 40);
    d.gic.pulse(0, 41);
    expect(d.iar(0)).toBe(40);
    expect(d.gic.irqLine(0)).toBe(false);
    d.eoi(0, 40);
    expect(d.iar(0)).toBe(41);
  });

  it('an SPI routed to vCPU 1 is signalled there only', () => {
    const d = ready(make);
    d.enable(0, 50);
    d.route(50, 1);
    d.gic.pulse(0, 50);
    expect(d.gic.irqLine(0)).toBe(false);
    expect(d.gic.irqLine(1)).toBe(true);
    expect(d.iar(0)).toBe(SPURIOUS);
    expect(d.iar(1)).toBe(50);
    expect(d.active(0, 50)).toBe(true); // SPI state is global
    d.eoi(1, 50);
    expect(d.active(0, 50)).toBe(false);
  });

  it('SGIs go from one vCPU to another and are banked per target', () => {
    const d = ready(make);
    d.enable(1, 3);
    d.enable(0, 3);
    d.sgi(0, [1], 3);
    expect(d.gic.irqLine(0)).toBe(false);
    expect(d.gic.irqLine(1)).toBe(true);
    const iar = d.iar(1);
    expect(intidOf(iar)).toBe(3);
    if (d.version === 2) expect(iar >> 10).toBe(0); // CPUID of the requester
    expect(d.active(1, 3)).toBe(true);
    expect(d.active(0, 3)).toBe(false);
    d.eoi(1, iar);
    d.sgi(1, [0, 1], 3);
    expect(d.gic.irqLine(0)).toBe(true);
    expect(d.gic.irqLine(1)).toBe(true);
    const iar0 = d.iar(0);
    expect(intidOf(iar0)).toBe(3);
    if (d.version === 2) expect(iar0 >> 10).toBe(1);
  });

  it('unclaimed addresses and bad widths fail without throwing', () => {
    const d = ready(make);
    expect(d.gic.claims(0x0300_0ffc)).toBe(false);
    expect(d.gic.mmioRead(0, 0x0300_0ffc, 4).ok).toBe(false);
    expect(d.gic.mmioRead(0, 0x0300_1000, 2).ok).toBe(false); // GICD_CTLR is word-only
    expect(d.gic.mmioRead(0, 0x0300_1002, 4).ok).toBe(false); // misaligned
    expect(d.gic.mmioWrite(9, 0x0300_1000, 4, 1).ok).toBe(false); // no such vCPU
    expect(d.gic.mmioRead(0, 0x0300_1000 + 0x400 + 41, 1).ok).toBe(true); // IPRIORITYR byte
  });

  it('the observer sees raise, ack, eoi and deactivate', () => {
    const d = ready(make);
    const seen: string[] = [];
    d.gic.observer = (e) => seen.push(`${e.vcpu}:${e.intid}:${e.change}`);
    d.enable(0, PPI);
    d.gic.pulse(0, PPI);
    d.eoi(0, d.iar(0));
    d.iar(0);
    expect(seen).toEqual(['0:31:raise', '0:31:ack', '0:31:eoi', '0:31:deactivate', '0:1023:spurious']);
  });
});
