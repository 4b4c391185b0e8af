// The notification linker and the summary: hypercalls by result, ports, send -> ISR latency.
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.ts';
import { MomentBuffer, NotificationLinker, type Arrow, type Notification } from '../../src/trace/notify.ts';
import { formatSummary, summarize } from '../../src/trace/summary.ts';
import { runDemo, sample, send, stream } from './helpers.ts';

function link(events: TraceEvent[]): { arrows: Arrow[]; done: Notification[] } {
  const arrows: Arrow[] = [];
  const done: Notification[] = [];
  const l = new NotificationLinker({ arrow: (a) => arrows.push(a), done: (n) => done.push(n) });
  const m = new MomentBuffer((x) => l.moment(x));
  for (const e of events) m.push(e);
  m.flush();
  l.finish();
  return { arrows, done };
}

describe('notification linker', () => {
  it('follows a send through every step that exists, in causal order', () => {
    const { done, arrows } = link(sample);
    expect(done).toHaveLength(2);
    const [a, b] = done;
    expect(a.from).toEqual({ domid: 2, port: 1 });
    expect(a.to).toEqual({ domid: 1, port: 1 });
    expect(a.sends.map((s) => s.time)).toEqual([200, 250]);
    expect(a.nodes.map((n) => n.role)).toEqual(['send', 'set_pending', 'upcall', 'raise', 'line_up', 'taken', 'ack', 'line_down', 'eoi', 'deactivate', 'return']);
    // The unrelated INTID 27 is not mistaken for the event interrupt's acknowledge.
    expect(a.nodes.find((n) => n.role === 'ack')!.event.time).toBe(320);
    expect(b.nodes.map((n) => [n.role, n.event.time])).toEqual([
      ['send', 400],
      ['upcall', 400],
      ['line_up', 400],
      ['line_down', 450],
    ]);
    // One arrow per step, plus the ride-along send into the next step after it (the exception).
    expect(arrows.filter((x) => x.notification === a.id)).toHaveLength(11);
    const ride = arrows.find((x) => x.from.time === 250)!;
    expect(ride.to.kind === 'irq' && ride.to.change).toBe('taken');
    expect(arrows.filter((x) => x.notification === b.id)).toHaveLength(3);
  });

  it('links nothing for a send on an unbound port or a failed send', () => {
    const { done } = link(sample);
    expect(done.flatMap((n) => n.sends).map((s) => s.time)).not.toContain(500);
    expect(done.flatMap((n) => n.sends).map((s) => s.time)).not.toContain(510);
  });

  it('forgets a channel once it is closed', () => {
    const closed = stream([
      [1, { kind: 'evtchn', domid: 2, port: 1, change: 'bind_interdomain', fields: { remote_dom: 1, remote_port: 1 } }],
      [2, { kind: 'evtchn', domid: 2, port: 1, change: 'close' }],
      [2, { kind: 'evtchn', domid: 1, port: 1, change: 'peer_closed', fields: { remote_dom: 2 } }],
      [3, send(1, 1)],
    ]);
    expect(link(closed).done).toEqual([]);
  });
});

describe('summary', () => {
  it('counts hypercalls by result, ports, and latency on a hand-made stream', () => {
    const s = summarize(sample);
    expect(s.events).toBe(sample.length);
    expect(s.hypercalls).toEqual([
      { call: 'event_channel_op EVTCHNOP_send', total: 5, results: [['0', 4], ['-22 -EINVAL', 1]] },
      { call: 'event_channel_op EVTCHNOP_bind_interdomain', total: 1, results: [['0', 1]] },
    ]);
    expect(s.ports.map((p) => [`d${p.domid}:${p.port}`, p.sent, p.received])).toEqual([
      ['d1:1', 1, 2],
      ['d1:7', 1, 0],
      ['d2:1', 2, 1],
    ]);
    expect(s.upcalls).toEqual([
      [1, 1],
      [2, 1],
    ]);
    // Sends at 200 and 250 reach the exception entry at 310; the one at 400 the line drop at 450.
    expect(s.latency.samples).toEqual([110, 60, 50]);
    expect([s.latency.min, s.latency.median, s.latency.max]).toEqual([50, 60, 110]);
    expect(s.latency.entries).toEqual([
      ['taken', 2],
      ['line_down', 1],
    ]);
    const text = formatSummary(s);
    expect(text).toContain('3 sends in 2 notifications: min 50, median 60, max 110');
    expect(text).toContain('irq taken 2, irq line down 1');
    expect(text).toContain('event_channel_op EVTCHNOP_send');
    expect(text).toMatch(/= 0: 4, = -22 -EINVAL: 1/);
  });

  it('says so when nothing can be linked', () => {
    const text = formatSummary(summarize(stream([[5, send(1, 3)]])));
    expect(text).toContain('no sample: no EVTCHNOP_send to a bound peer port in the trace');
  });

  it('on a real run: every ping and pong is linked and has a latency', async () => {
    const { events, outcome } = await runDemo();
    // Every "sent ping/pong" line, plus d2's final "done: telling d1", is one EVTCHNOP_send.
    const pings = outcome.lines.filter((l) => /sent (ping|pong)|done: telling/.test(l)).length;
    expect(pings).toBeGreaterThan(4);
    const s = summarize(events);
    const sends = s.hypercalls.find((h) => h.call === 'event_channel_op EVTCHNOP_send')!;
    expect(sends.total).toBe(pings);
    expect(s.latency.samples).toHaveLength(pings);
    // Virtual time moves only when guests execute: each delivery costs some instructions.
    expect(s.latency.min!).toBeGreaterThan(0);
    expect(s.latency.max!).toBeLessThan(100_000);
    const d1 = s.ports.find((p) => p.domid === 1 && p.port === 1)!;
    const d2 = s.ports.find((p) => p.domid === 2 && p.port === 1)!;
    expect(d1.sent + d2.sent).toBe(pings);
    expect(d1.received).toBe(d2.sent);
    expect(d2.received).toBe(d1.sent);
  });
});
