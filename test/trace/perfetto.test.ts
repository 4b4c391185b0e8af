// The Perfetto view: valid JSON in the trace-event Object Format, named tracks, properly nested
// slices, and every flow arrow paired and anchored in a slice.
import { describe, expect, it } from 'vitest';
import { PerfettoWriter } from '../../src/trace/perfetto.ts';
import type { TraceEvent } from '../../src/trace/events.ts';
import { perfettoProblems, runDemo, sample } from './helpers.ts';

type J = Record<string, any>;

function render(events: TraceEvent[]): { text: string; doc: { traceEvents: J[] } } {
  let text = '';
  const w = new PerfettoWriter((s) => (text += s));
  for (const e of events) w.event(e);
  w.close();
  return { text, doc: JSON.parse(text) };
}

describe('Perfetto trace-event JSON', () => {
  it('a hand-made notification: tracks, slices, ISR, flows', () => {
    const { doc } = render(sample);
    expect(perfettoProblems(doc)).toEqual([]);
    const ev = doc.traceEvents;
    const meta = ev.filter((e) => e.ph === 'M');
    expect(meta).toContainEqual({ ph: 'M', name: 'process_name', pid: 2, tid: 0, args: { name: 'd1' } });
    expect(meta).toContainEqual({ ph: 'M', name: 'thread_name', pid: 3, tid: 3000, args: { name: 'd2v0' } });
    // Hypercalls are complete slices of half an instruction (500 ns at 1 instruction = 1 µs).
    const sends = ev.filter((e) => e.ph === 'X' && e.name === 'EVTCHNOP_send');
    expect(sends.map((e) => [e.pid, e.ts, e.dur])).toEqual([
      [3, 200, 0.5],
      [3, 250, 0.5],
      [2, 400, 0.5],
      [2, 500, 0.5],
      [2, 510, 0.5],
    ]);
    expect(sends[4].args).toMatchObject({ hypercall: 'event_channel_op', result: '-22 -EINVAL', args: { port: 9 } });
    // ISR slice from the GIC acknowledge to the EOI, the exception slice around it, WFI until wake.
    const begins = ev.filter((e) => e.ph === 'B').map((e) => [e.name, Math.floor(e.ts)]);
    expect(begins).toEqual([
      ['WFI', 190],
      ['IRQ exception', 310],
      ['IRQ 27', 315],
      ['IRQ 31', 320],
    ]);
    // Arrows: 11 for the first notification, 3 for the second, each an s/f pair.
    expect(ev.filter((e) => e.ph === 's')).toHaveLength(14);
    expect(ev.filter((e) => e.ph === 'f')).toHaveLength(14);
    // The first arrow leaves d2's send and lands on d1's set_pending mark at the same instruction.
    const s0 = ev.find((e) => e.ph === 's' && e.id === 0)!;
    const f0 = ev.find((e) => e.ph === 'f' && e.id === 0)!;
    expect([s0.pid, Math.floor(s0.ts), f0.pid, Math.floor(f0.ts)]).toEqual([3, 200, 2, 200]);
    const target = ev.find((e) => e.ph === 'X' && e.pid === 2 && e.ts <= f0.ts && f0.ts < e.ts + e.dur)!;
    expect(target.name).toBe('evtchn 1 set_pending');
  });

  it('orders the marks of one instruction causally, so arrows never point back in time', () => {
    const { doc } = render(sample);
    const at = new Map<number, number>();
    for (const e of doc.traceEvents) if (e.ph === 's') at.set(e.id, e.ts);
    for (const e of doc.traceEvents) if (e.ph === 'f') expect(e.ts).toBeGreaterThanOrEqual(at.get(e.id)!);
  });

  it('closes slices still open at the end (a run that stops in WFI)', () => {
    const { doc } = render(sample.slice(0, 4));
    expect(perfettoProblems(doc)).toEqual([]);
    expect(doc.traceEvents.filter((e) => e.ph === 'E')).toHaveLength(1);
  });

  it('an empty trace is still a valid document', () => {
    expect(render([]).doc).toMatchObject({ traceEvents: [] });
  });

  it('a real two-domain run', async () => {
    let text = '';
    let writer: PerfettoWriter | undefined;
    const { outcome } = await runDemo((bus) => {
      writer = new PerfettoWriter((s) => (text += s));
      bus.attach((e) => writer!.event(e));
    });
    writer!.close();
    expect(outcome.exitCode).toBe(0);
    const doc = JSON.parse(text);
    expect(perfettoProblems(doc)).toEqual([]);
    const names = doc.traceEvents.filter((e: J) => e.name === 'process_name').map((e: J) => e.args.name);
    expect(names).toEqual(['d1 demo-offer.img', 'd2 demo-bind.img']);
    const flows = doc.traceEvents.filter((e: J) => e.ph === 's');
    // Every ping, pong and the final notice is linked from its send onwards.
    expect(flows.length).toBeGreaterThanOrEqual(3 * 11);
    expect(doc.traceEvents.some((e: J) => e.ph === 'i' && e.cat === 'console' && e.args.text === 'got ping 1')).toBe(true);
  });
});
