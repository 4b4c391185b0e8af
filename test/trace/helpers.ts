// Shared by the trace tests: a real two-domain run captured from the bus, and a checker for
// the structural rules of the Chrome trace-event JSON that Perfetto's importer relies on.
import { image } from '../helpers/firmware.ts';
import { runImages, type RunOutcome } from '../../src/machine/run.ts';
import { TraceBus } from '../../src/trace/bus.ts';
import type { TraceEvent, TraceEventBody } from '../../src/trace/events.ts';

export interface CapturedRun {
  outcome: RunOutcome;
  events: TraceEvent[];
}

/** The demo pair: d1 offers a channel, d2 binds it, they ping-pong notifications. */
export async function runDemo(attach?: (bus: TraceBus) => void): Promise<CapturedRun> {
  const events: TraceEvent[] = [];
  const bus = new TraceBus();
  bus.attach((e) => events.push(e));
  attach?.(bus);
  const outcome = await runImages({ images: [image('xenvm-gicv2', 'demo-offer'), image('xenvm-gicv2', 'demo-bind')], trace: bus, timeoutMs: 20_000 });
  return { outcome, events };
}

/** Stamps hand-written bodies with seq and the given times, as the bus would. */
export function stream(bodies: [number, TraceEventBody][]): TraceEvent[] {
  return bodies.map(([time, b], seq) => ({ ...b, seq, time }) as TraceEvent);
}

type J = Record<string, unknown>;

/**
 * Problems in a trace-event JSON document: B/E unbalanced or crossing, X slices overlapping
 * without nesting, flow starts without their finish (or the reverse), flow points outside any
 * slice of their thread (the importer would drop the arrow), missing names for tracks.
 */
export function perfettoProblems(doc: { traceEvents: J[] }): string[] {
  const problems: string[] = [];
  const ev = doc.traceEvents;
  const threads = new Map<string, J[]>();
  const named = new Set<string>();
  const namedPids = new Set<number>();
  for (const e of ev) {
    if (e.ph === 'M') {
      if (e.name === 'thread_name') named.add(`${e.pid}/${e.tid}`);
      if (e.name === 'process_name') namedPids.add(e.pid as number);
      continue;
    }
    const k = `${e.pid}/${e.tid}`;
    if (!threads.has(k)) threads.set(k, []);
    threads.get(k)!.push(e);
  }
  for (const [k, list] of threads) {
    if (!named.has(k)) problems.push(`thread ${k} has no thread_name`);
    if (!namedPids.has(Number(k.split('/')[0]))) problems.push(`process of ${k} has no process_name`);
    // Intervals: X and matched B/E, checked for proper nesting.
    const spans: [number, number, string][] = [];
    const open: J[] = [];
    const ordered = list.map((e, i) => [e, i] as const).sort((a, b) => (a[0].ts as number) - (b[0].ts as number) || a[1] - b[1]);
    for (const [e] of ordered) {
      if (e.ph === 'X') spans.push([e.ts as number, (e.ts as number) + (e.dur as number), String(e.name)]);
      if (e.ph === 'B') open.push(e);
      if (e.ph === 'E') {
        const b = open.pop();
        if (!b) problems.push(`${k}: E at ${e.ts} without B`);
        else spans.push([b.ts as number, e.ts as number, String(b.name)]);
      }
    }
    for (const b of open) problems.push(`${k}: B ${b.name} at ${b.ts} never ends`);
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const stack: [number, number, string][] = [];
    for (const s of spans) {
      while (stack.length && stack[stack.length - 1][1] <= s[0]) stack.pop();
      const top = stack[stack.length - 1];
      if (top && s[1] > top[1]) problems.push(`${k}: ${s[2]} [${s[0]}, ${s[1]}] crosses ${top[2]} [${top[0]}, ${top[1]}]`);
      stack.push(s);
    }
    for (const e of list) {
      if (e.ph !== 's' && e.ph !== 'f') continue;
      const t = e.ts as number;
      if (!spans.some(([a, b]) => a <= t && t < b)) problems.push(`${k}: flow ${e.ph} id ${e.id} at ${t} is in no slice`);
    }
  }
  const starts = new Map<unknown, J>();
  const finishes = new Map<unknown, J>();
  for (const e of ev) {
    if (e.ph === 's') {
      if (starts.has(e.id)) problems.push(`flow id ${e.id} starts twice`);
      starts.set(e.id, e);
    }
    if (e.ph === 'f') {
      if (finishes.has(e.id)) problems.push(`flow id ${e.id} finishes twice`);
      if (e.bp !== 'e') problems.push(`flow id ${e.id} finish without bp "e"`);
      finishes.set(e.id, e);
    }
  }
  for (const [id, s] of starts) {
    const f = finishes.get(id);
    if (!f) problems.push(`flow id ${id} has no finish`);
    else if (f.name !== s.name || f.cat !== s.cat) problems.push(`flow id ${id}: start and finish differ in name/cat`);
  }
  for (const id of finishes.keys()) if (!starts.has(id)) problems.push(`flow id ${id} has no start`);
  return problems;
}

export const send = (domid: number, port: number, result = 0): TraceEventBody => ({
  kind: 'hypercall',
  domid,
  vcpu: 0,
  pc: 0x40001000,
  name: 'event_channel_op',
  op: 'EVTCHNOP_send',
  args: { port },
  result,
  errno: result ? '-EINVAL' : '',
});
export const irq = (domid: number, intid: number, change: string): TraceEventBody => ({ kind: 'irq', domid, vcpu: 0, intid, change }) as TraceEventBody;

/** d2:1 <-> d1:1. The first delivery has every step the machine could emit (GIC events, the
 *  exception, a ride-along second send, an unrelated interrupt in between); the second only
 *  the IRQ line in the old encoding (raise/deactivate with intid -1). */
export const sample: TraceEvent[] = stream([
  [100, { kind: 'evtchn', domid: 1, port: 1, change: 'alloc_unbound', fields: { remote_dom: 2 } }],
  [150, { kind: 'evtchn', domid: 2, port: 1, change: 'bind_interdomain', fields: { remote_dom: 1, remote_port: 1 } }],
  [150, { kind: 'hypercall', domid: 2, vcpu: 0, pc: 0x40001000, name: 'event_channel_op', op: 'EVTCHNOP_bind_interdomain', args: { remote_dom: 1, remote_port: 1 }, out: { local_port: 1 }, result: 0, errno: '' }],
  [190, { kind: 'sched', domid: 1, vcpu: 0, change: 'wfi' }],
  [200, irq(1, 31, 'raise')],
  [200, irq(1, -1, 'line_up')],
  [200, { kind: 'evtchn', domid: 1, port: 0, change: 'upcall', fields: { vcpu: 0 } }],
  [200, { kind: 'evtchn', domid: 1, port: 1, change: 'set_pending', fields: { from_dom: 2, from_port: 1 } }],
  [200, send(2, 1)],
  [250, send(2, 1)],
  [300, { kind: 'sched', domid: 1, vcpu: 0, change: 'wake' }],
  [310, irq(1, -1, 'taken')],
  [315, irq(1, 27, 'ack')],
  [316, irq(1, 27, 'eoi')],
  [320, irq(1, 31, 'ack')],
  [320, irq(1, -1, 'line_down')],
  [325, { kind: 'console', domid: 1, text: 'got it', via: 'pl011' }],
  [330, irq(1, 31, 'eoi')],
  [330, irq(1, 31, 'deactivate')],
  [340, irq(1, -1, 'return')],
  [400, irq(2, -1, 'raise')],
  [400, { kind: 'evtchn', domid: 2, port: 0, change: 'upcall', fields: { vcpu: 0 } }],
  [400, send(1, 1)],
  [450, irq(2, -1, 'deactivate')],
  [500, send(1, 7)],
  [510, send(1, 9, -22)],
]);

