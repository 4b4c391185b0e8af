// The CPU's side of an interrupt in the trace: `irq taken` when the vCPU enters its IRQ vector,
// `irq return` when it is back at the interrupted instruction. The engine takes IRQs without a
// callback; the vCPU's block-hook watch (native/xenvm-count.c) is what sees them.
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { TraceBus } from '../../src/trace/bus.ts';
import type { IrqEvent, TraceEvent } from '../../src/trace/events.ts';
import { image } from '../helpers/firmware.ts';
import { runDemo } from './helpers.ts';

const irqs = (events: TraceEvent[], domid: number) => events.filter((e): e is TraceEvent & IrqEvent => e.kind === 'irq' && e.domid === domid);

describe('interrupt taken / returned', () => {
  it('each event interrupt of the demo is taken before its ack and returns to where it was taken from, after its EOI', async () => {
    const { outcome, events } = await runDemo();
    expect(outcome.exitCode).toBe(0);
    for (const domid of [1, 2]) {
      const seq = irqs(events, domid).map((e) => (e.intid >= 0 ? `${e.change} ${e.intid}` : e.change));
      const taken = irqs(events, domid).filter((e) => e.change === 'taken');
      expect(taken.length).toBeGreaterThanOrEqual(5);
      // The handler's whole GIC conversation happens inside the exception.
      const pattern = /^taken,ack 31,line_down,eoi 31,deactivate 31,spurious 1023,return$/;
      const chunks: string[] = [];
      let cur: string[] = [];
      for (const s of seq) {
        if (s === 'taken') cur = [];
        cur.push(s);
        if (s === 'return') chunks.push(cur.join(','));
      }
      expect(chunks.length).toBe(taken.length);
      for (const c of chunks) expect(c).toMatch(pattern);
      // Return goes back to the interrupted instruction, later in virtual time.
      const ev = irqs(events, domid);
      for (const t of taken) {
        const ret = ev.find((e) => e.seq > t.seq && e.change === 'return')!;
        expect(ret.pc).toBe(t.pc);
        expect(ret.time).toBeGreaterThan(t.time);
      }
    }
  });

  it('nested interrupts (gic-sgi preempts a low-priority ISR) balance: depth returns to 0, reaches 2', async () => {
    const events: TraceEvent[] = [];
    const trace = new TraceBus();
    trace.attach((e) => events.push(e));
    const r = await runImages({ images: [image('xenvm-gicv2', 'gic-sgi')], trace, timeoutMs: 20_000 });
    expect(r.exitCode).toBe(0);
    let depth = 0;
    let max = 0;
    for (const e of irqs(events, 1)) {
      if (e.change === 'taken') depth++;
      if (e.change === 'return') depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
      max = Math.max(max, depth);
    }
    expect(depth).toBe(0);
    expect(max).toBe(2);
  });

  it('watching changes nothing the guests do (a seeded run prints the same with and without a trace)', async () => {
    const images = [image('xenvm-gicv3', 'events-api'), image('xenvm-gicv3', 'events-api')];
    const plain = await runImages({ images, seed: 5, quantum: 3000, timeoutMs: 20_000 });
    const trace = new TraceBus();
    let taken = 0;
    trace.attach((e) => {
      if (e.kind === 'irq' && e.change === 'taken') taken++;
    });
    const traced = await runImages({ images, seed: 5, quantum: 3000, trace, timeoutMs: 20_000 });
    expect(traced.lines).toEqual(plain.lines);
    expect(taken).toBeGreaterThan(10);
  });
});
