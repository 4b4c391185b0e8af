// The library API (src/api): a machine built, run and inspected from JavaScript, no process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMachine, createMachine, XenvmError, type XenvmMachine } from '../../src/api/index.ts';
import type { TraceEvent } from '../../src/trace/events.ts';
import { runImages } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';

const hello = image('xenvm-gicv2', 'hello');
const deadlock = image('xenvm-gicv2', 'dom-deadlock');
const pair = image('xenvm-gicv2', 'evtchn-pair');

let open: XenvmMachine[] = [];
const machine = (...args: Parameters<typeof createMachine>) => {
  const m = createMachine(...args);
  open.push(m);
  return m;
};
afterEach(async () => {
  for (const m of open) await m.close();
  open = [];
});

describe('run and report', () => {
  it('runs hello to the end with the transcript, exit status and counters the CLI reports', async () => {
    const m = machine({ domains: [{ image: hello }] });
    const r = await m.run();
    const cli = await runImages({ images: [hello] });
    expect(r.exitCode).toBe(0);
    expect(r.end).toEqual({ kind: 'finished' });
    expect(r.lines).toEqual(cli.lines);
    expect(m.transcript()).toEqual(cli.lines);
    expect(r.status).toEqual(cli.status);
    const d = m.domain(1);
    expect(d).toMatchObject({ domid: 1, name: 'hello.img', privileged: false, state: 'done', result: 'SUCCESS', end: 'shutdown: poweroff', ok: true });
    expect(d.consoleLines).toBe(cli.lines.length);
    // Counted by default: the domain's virtual time is known.
    expect(d.instructions).toBeGreaterThan(1000);
    expect(r.instructions).toBeGreaterThanOrEqual(d.instructions);
  });

  it('takes an image as bytes, with per-domain options', async () => {
    const m = machine({
      domains: [{ image: new Uint8Array(readFileSync(hello)), dtb: join(hello, '..', 'board.dtb'), name: 'bytes', consolePrefix: 'H> ', memoryMiB: 32 }],
    });
    const r = await m.run();
    expect(r.exitCode).toBe(0);
    expect(r.lines[0]).toBe('H> hello from xenvm guest');
    expect(m.domain(1).name).toBe('bytes');
    expect(m.lines(1)[0]).toMatchObject({ domid: 1, text: 'hello from xenvm guest', index: 0 });
  });

  it('bad input: a typed result and an exception, with the CLI message', async () => {
    const missing = join(hello, '..', 'nope.img');
    const cli = await runImages({ images: [missing] });
    const r = buildMachine({ domains: [{ image: missing }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(XenvmError);
    expect(r.error).toMatchObject({ kind: 'bad-input', exitCode: 2, message: cli.message });
    expect(() => createMachine({ domains: [] })).toThrow('no images given');
    expect(() => createMachine({ domains: [{ image: hello, gic: 3 }] })).toThrow(/^d1: --gic 3 asked, but .* describes a GICv2/);
  });
});

describe('waitForLine', () => {
  it('resolves with the matching line and its captures, in order, including lines already printed', async () => {
    const m = machine({ domains: [{ image: hello }] });
    const a = await m.waitForLine(/xen_version: (\S+)/, { timeout: 5000 });
    expect(a).toMatchObject({ domid: 1, text: 'xen_version: 4.17', line: 'd1: xen_version: 4.17' });
    expect(a.match[1]).toBe('4.17');
    // The guest is paused right after the matching line: nothing much happened since.
    expect(m.report).toBeUndefined();
    const b = await m.waitForLine('Test result:', { timeout: 5000 });
    expect(b.index).toBeGreaterThan(a.index);
    await m.run();
    // A line before the last match is not found again: the run ended without another.
    await expect(m.waitForLine(/hello from/)).rejects.toMatchObject({ kind: 'run-ended' });
  });

  it('rejects at its timeout while the guest spins, and the run goes on', async () => {
    const m = machine({ domains: [{ image: image('xenvm-gicv2', 'spin') }] });
    await m.waitForLine(/looping forever/, { timeout: 5000 });
    const t0 = performance.now();
    const err = await m.waitForLine(/never printed/, { timeout: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XenvmError);
    expect(err).toMatchObject({ kind: 'timeout', message: 'waitForLine /never printed/: no matching line within 100 ms' });
    expect(performance.now() - t0).toBeLessThan(2000);
    const before = m.now();
    await new Promise((r) => setTimeout(r, 30));
    expect(m.now()).toBeGreaterThan(before);
    await m.close();
    expect(m.report?.end).toEqual({ kind: 'stopped' });
    expect(m.report?.exitCode).toBe(3);
  });

  it('rejects when the run ends first, naming how it ended', async () => {
    const m = machine({ domains: [{ image: hello }] });
    await expect(m.waitForLine(/not in hello/)).rejects.toThrow(/run ended \(finished\) without a matching line/);
  });

  it('filters by domain', async () => {
    const m = machine({ domains: [{ image: pair }, { image: pair }] });
    const l = await m.waitForLine(/pair: domid = (\d+)/, { domid: 2, timeout: 5000 });
    expect(l.domid).toBe(2);
    expect(l.match[1]).toBe('2');
    expect(m.transcript(2).every((t) => t.startsWith('d2: '))).toBe(true);
    expect(m.transcript(2)).toContain('d2: pair: domid = 2, peer = 1');
  });
});

describe('event channels from the host', () => {
  it('lists a domain’s ports and wakes a waiting guest with an injected event', async () => {
    const m = machine({ domains: [{ image: deadlock }, { image: deadlock }], timeoutMs: 10_000 });
    const w1 = await m.waitForLine(/waiting in WFI for an event on port (\d+)/, { domid: 1, timeout: 5000 });
    const port = Number(w1.match[1]);
    await m.waitForLine(/waiting in SCHEDOP_block/, { domid: 2, timeout: 5000 });
    expect(m.eventChannels(1)).toEqual([
      { port: 0, state: 'reserved', notifyVcpu: 0, pending: false, masked: false },
      { port, state: 'unbound', notifyVcpu: 0, pending: false, masked: false, remoteDomid: 2 },
    ]);
    // Without the host, this run is a deadlock (the CLI exits 4); with a waiter, it waits.
    m.injectEvent(1, port);
    const r1 = await m.waitForLine(/^Test result: (.*)/, { domid: 1, timeout: 5000 });
    // The guest's own words: an event nobody sent (in the guest's world) arrived.
    expect(r1.match[1]).toBe('FAILURE (an event nobody sent arrived)');
    m.injectEvent(2, 1);
    await m.waitForLine(/^Test result:/, { domid: 2, timeout: 5000 });
    const r = await m.run();
    expect(r.end.kind).toBe('finished');
    expect(r.exitCode).toBe(1);
    expect(m.domains().map((d) => d.result)).toEqual(['FAILURE (an event nobody sent arrived)', 'FAILURE (an event nobody sent arrived)']);
  });

  it('ends as a deadlock when nobody on the host waits', async () => {
    const m = machine({ domains: [{ image: deadlock }, { image: deadlock }] });
    const r = await m.run();
    expect(r.exitCode).toBe(4);
    expect(r.message).toMatch(/^deadlock: every domain is waiting/);
  });

  it('refuses a port that is not in use, and an unknown domain', async () => {
    const m = machine({ domains: [{ image: hello }] });
    await m.run();
    expect(() => m.injectEvent(1, 7)).toThrow(new XenvmError('bad-request', 'injectEvent: d1 port 7 is not in use (free; -EINVAL)'));
    expect(() => m.injectEvent(1, 0)).toThrow(/port 0 is not in use \(reserved/);
    expect(() => m.eventChannels(9)).toThrow('no domain d9 in this machine (domains: d1)');
  });

  it('traces the injection as a set_pending from the host', async () => {
    const events: TraceEvent[] = [];
    const m = machine({ domains: [{ image: deadlock }, { image: deadlock }], trace: (e) => events.push(e) });
    const w = await m.waitForLine(/waiting in WFI for an event on port (\d+)/, { domid: 1, timeout: 5000 });
    const consoles: string[] = [];
    const off = m.onTrace((e) => e.kind === 'console' && consoles.push(e.text));
    m.injectEvent(1, Number(w.match[1]));
    await m.waitForLine(/^Test result:/, { domid: 1, timeout: 5000 });
    off();
    const set = events.find((e) => e.kind === 'evtchn' && e.change === 'set_pending');
    expect(set).toMatchObject({ kind: 'evtchn', domid: 1, port: Number(w.match[1]), fields: { from_host: true, was_pending: false } });
    expect(events.some((e) => e.kind === 'hypercall')).toBe(true);
    expect(consoles).toContain('Test result: FAILURE (an event nobody sent arrived)');
  });

  it('onTrace needs a machine built with trace', () => {
    const m = machine({ domains: [{ image: hello }] });
    expect(() => m.onTrace(() => {})).toThrow(/trace: true/);
  });
});
