// JSONL: the saved form of the trace. Writing and reading back must lose nothing a view uses.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEvent, encodeEvent, parseJsonl, parseJsonlFile } from '../../src/trace/jsonl.ts';
import { formatEvent } from '../../src/trace/text.ts';
import { runDemo, stream } from './helpers.ts';

const handMade = stream([
  [0, { kind: 'domain_start', domid: 1, name: 'a.img', entry: 0x40000000, dtb: 0x43e00000 }],
  [
    10,
    {
      kind: 'hypercall',
      domid: 1,
      vcpu: 0,
      pc: 0x40001eb0,
      name: 'event_channel_op',
      op: 'EVTCHNOP_alloc_unbound',
      args: { dom: 0x7ff0n, remote_dom: 2n, big: 0xffff_ffff_ffff_fff0n, neg: -5n, list: [1n, 'x y'], nested: { ok: true } },
      out: { port: 3 },
      result: 0,
      errno: '',
      symbol: 'HYPERVISOR_event_channel_op+0x4',
    },
  ],
  [11, { kind: 'hypercall', domid: 1, vcpu: 0, pc: 0x40000010, name: 'hypercall_63', args: { x0: 0n }, result: -38, errno: '-ENOSYS' }],
  [12, { kind: 'evtchn', domid: 2, port: 3, change: 'set_pending', fields: { from_dom: 1, from_port: 3 } }],
  [12, { kind: 'irq', domid: 2, vcpu: 0, intid: 31, change: 'raise' }],
  [13, { kind: 'console', domid: 1, text: 'quote " and \\ and \u00e9', via: 'pl011' }],
  [14, { kind: 'fault', domid: 1, vcpu: 0, pc: 0x40000100, what: 'unmapped load', address: 0x10000000 }],
  [15, { kind: 'sched', domid: 1, vcpu: 0, change: 'wfi' }],
  [15, { kind: 'irq', domid: 1, vcpu: 0, intid: -1, change: 'taken', pc: 0x400028c0 }],
  [15, { kind: 'timer', domid: 1, vcpu: 0, timer: 'virt', change: 'set', ctl: 1, cval: '18446744073709551615' }],
  [15, { kind: 'timer', domid: 1, vcpu: 0, timer: 'phys', change: 'fire', intid: 30 }],
  [16, { kind: 'domain_end', domid: 1, reason: 'shutdown: poweroff' }],
]);

describe('JSONL encoding', () => {
  it('puts seq, time and kind first and writes large bigints as hex strings', () => {
    const line = encodeEvent(handMade[1]);
    expect(line.startsWith('{"seq":1,"time":10,"kind":"hypercall",')).toBe(true);
    const o = JSON.parse(line);
    expect(o.args).toEqual({ dom: 0x7ff0, remote_dom: 2, big: '0xfffffffffffffff0', neg: -5, list: [1, 'x y'], nested: { ok: true } });
    expect(line).not.toContain('\n');
  });

  it('round-trips a hand-made stream to identical text', () => {
    const doc = handMade.map((e) => encodeEvent(e) + '\n').join('');
    const back = parseJsonl(doc);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.events.map(formatEvent)).toEqual(handMade.map(formatEvent));
    expect(back.events.map((e) => [e.seq, e.time, e.kind])).toEqual(handMade.map((e) => [e.seq, e.time, e.kind]));
  });

  it('round-trips a real two-domain run to identical text, event for event', async () => {
    const { events, outcome } = await runDemo();
    expect(outcome.exitCode).toBe(0);
    expect(events.length).toBeGreaterThan(50);
    const back = parseJsonl(events.map(encodeEvent).join('\n'));
    expect(back.ok && back.events.map(formatEvent)).toEqual(events.map(formatEvent));
    // Re-encoding the decoded events gives the same bytes: the format is a fixed point.
    expect(back.ok && back.events.map(encodeEvent)).toEqual(events.map(encodeEvent));
  });

  it.each([
    ['nope', /not JSON/],
    ['[1]', /not a JSON object/],
    ['{"seq":0,"time":0,"kind":"teleport"}', /unknown kind "teleport"/],
    ['{"seq":0,"kind":"sched","domid":1,"vcpu":0,"change":"wfi"}', /seq and time/],
    ['{"seq":0,"time":0,"kind":"hypercall","domid":1,"vcpu":0,"pc":0,"name":"x","result":0,"errno":""}', /field 'args' must be an object/],
    ['{"seq":0,"time":0,"kind":"evtchn","domid":1,"port":"3","change":"close"}', /field 'port' must be an integer/],
  ])('rejects %s', (line, why) => {
    const r = decodeEvent(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });

  it('reports the line number of the first bad line and skips blank lines', () => {
    const good = encodeEvent(handMade[0]);
    expect(parseJsonl(`${good}\n\n${good}\n`)).toMatchObject({ ok: true });
    expect(parseJsonl(`${good}\n\n{"seq":1}\n`)).toMatchObject({ ok: false, line: 3 });
  });
});

describe('JSONL round trip, any argument values', () => {
  it('renders the same text after write and read back (property)', async () => {
    const fc = (await import('fast-check')).default;
    const leaf = fc.oneof(fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }), fc.integer(), fc.string(), fc.boolean());
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('tree'), { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('tree'), { maxKeys: 3 })),
    }));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tree, { maxKeys: 5 }), fc.integer({ min: -100, max: 100 }), (args, result) => {
        const [e] = stream([[7, { kind: 'hypercall', domid: 1, vcpu: 0, pc: 0x40000000, name: 'x', args: args as never, result, errno: '' }]]);
        const back = decodeEvent(encodeEvent(e));
        return back.ok && formatEvent(back.event) === formatEvent(e);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseJsonlFile (what `xenvm-emu trace` reads)', () => {
  it('reads a file in chunks to the same events, across chunk boundaries and past 2^53', () => {
    const events = Array.from({ length: 40_000 }, (_, i) => ({
      seq: i,
      time: i < 20_000 ? i * 7 : (1n << 62n) + BigInt(i),
      kind: 'console' as const,
      domid: 1,
      text: `line ${i} ${'é✓'.repeat(i % 13)}`,
      via: 'pl011' as const,
    }));
    const text = events.map((e) => encodeEvent(e)).join('\n') + '\n';
    expect(Buffer.byteLength(text)).toBeGreaterThan(2 << 20);
    const p = join(mkdtempSync(join(tmpdir(), 'xenvm-jsonl-')), 'big.jsonl');
    writeFileSync(p, text);
    const fromFile = parseJsonlFile(p);
    const fromText = parseJsonl(text);
    expect(fromFile.ok && fromText.ok).toBe(true);
    if (!fromFile.ok || !fromText.ok) return;
    expect(fromFile.events).toEqual(fromText.events);
    expect(fromFile.events[39_999].time).toBe((1n << 62n) + 39_999n);
  });
});
