// --trace-filter: terms of one category are alternatives, categories must all match.
import { describe, expect, it } from 'vitest';
import { matchesFilter, parseFilter, type TraceFilter } from '../../src/trace/filter.ts';
import { stream } from './helpers.ts';

const events = stream([
  [1, { kind: 'hypercall', domid: 1, vcpu: 0, pc: 0, name: 'event_channel_op', op: 'EVTCHNOP_send', args: { port: 3 }, result: 0, errno: '' }],
  [2, { kind: 'hypercall', domid: 2, vcpu: 0, pc: 0, name: 'event_channel_op', op: 'EVTCHNOP_bind_interdomain', args: { remote_dom: 1, remote_port: 3n }, out: { local_port: 5 }, result: 0, errno: '' }],
  [3, { kind: 'hypercall', domid: 2, vcpu: 0, pc: 0, name: 'sched_op', op: 'SCHEDOP_block', args: {}, result: 0, errno: '' }],
  [4, { kind: 'evtchn', domid: 2, port: 5, change: 'set_pending' }],
  [4, { kind: 'irq', domid: 2, vcpu: 0, intid: 31, change: 'raise' }],
  [5, { kind: 'console', domid: 1, text: 'hi', via: 'pl011' }],
  [6, { kind: 'sched', domid: 0, vcpu: 0, change: 'wfi' }],
]);

function pick(expr: string | string[]): number[] {
  const f = parseFilter(expr);
  if (!f.ok) throw new Error(f.error);
  return events.filter((e) => matchesFilter(f.filter as TraceFilter, e)).map((e) => e.seq);
}

describe('--trace-filter', () => {
  it('selects everything when empty', () => {
    expect(pick('')).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
  it('by domain, with dN or dom=N; d0 is dom0', () => {
    expect(pick('d1')).toEqual([0, 5]);
    expect(pick('dom=2')).toEqual([1, 2, 3, 4]);
    expect(pick('d0')).toEqual([6]);
  });
  it('by port: evtchn events and hypercall arguments or outputs naming the port', () => {
    expect(pick('port=3')).toEqual([0, 1]);
    expect(pick('port=5')).toEqual([1, 3]);
  });
  it('by hypercall name or sub-op, case-insensitively', () => {
    expect(pick('event_channel_op')).toEqual([0, 1]);
    expect(pick('EVTCHNOP_send')).toEqual([0]);
    expect(pick('hypercall=schedop_block')).toEqual([2]);
  });
  it('by kind', () => {
    expect(pick('kind=irq,kind=evtchn')).toEqual([3, 4]);
  });
  it('ORs within a category and ANDs across categories', () => {
    expect(pick('d1,d2')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pick('d2,kind=irq,kind=evtchn')).toEqual([3, 4]);
    expect(pick('d2,port=5,kind=evtchn')).toEqual([3]);
    expect(pick(['d1', 'EVTCHNOP_send,EVTCHNOP_bind_interdomain'])).toEqual([0]);
    expect(pick('kind=console,EVTCHNOP_send')).toEqual([]);
  });
  it.each([
    ['port=x', /port is a non-negative number/],
    ['kind=teleport', /kind is one of/],
    ['colour=red', /unknown key 'colour'/],
    ['d-1', /not dN/],
    ['dom=two', /a domain is a number/],
  ])('rejects %s', (expr, why) => {
    const f = parseFilter(expr);
    expect(f.ok).toBe(false);
    if (!f.ok) expect(f.error).toMatch(why);
  });
});
