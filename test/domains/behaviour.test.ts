/**
 * What the machine reports around the multi-domain scenarios (issue 6), beyond the guests'
 * own lines: a crashed domain while its peer runs on, the deadlock report, and SCHEDOP_poll
 * timeouts in virtual time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { buildImages, imagePath, runTraced, scenario, scenarioImages } from './scenarios.ts';

beforeAll(() => buildImages(['dom-crash', 'dom-poll', 'dom-deadlock']));

describe('a domain crashes while its peer is bound', () => {
  it('the peer keeps running and still sends; the run reports the crash and fails', async () => {
    const { outcome: r, trace } = await runTraced({ ...scenarioImages(scenario('dom-crash'), 2) });
    expect(r.status).toContain('d1 shut down (crash)');
    expect(r.status).toContain('d2 shut down (poweroff)');
    expect(r.exitCode).toBe(1);
    expect(r.domains.map((d) => [d.domid, d.end, d.ok, d.result])).toEqual([
      [1, 'shutdown: crash', false, undefined],
      [2, 'shutdown: poweroff', true, 'SUCCESS'],
    ]);
    // d2's sends happen after d1's end, and succeed (Xen keeps a shut-down domain's ports).
    const end1 = trace.findIndex((l) => / d1 end: shutdown: crash$/.test(l));
    expect(end1).toBeGreaterThan(0);
    const sendsAfter = trace.slice(end1).filter((l) => / d2v0 event_channel_op\(EVTCHNOP_send\b.*\) = 0\b/.test(l));
    expect(sendsAfter.length).toBeGreaterThanOrEqual(3);
    expect(r.lines).toContain('d2: after the crash, port 1: interdomain d1 port 1');
  });
});

describe('deadlock detection', () => {
  it('two domains waiting for events nobody sends: exit 4, each named with its wait and ports', async () => {
    const img = imagePath('dom-deadlock');
    const r = await runImages({ images: [img, img], timeoutMs: 20_000 });
    expect(r.exitCode).toBe(4);
    expect(r.end?.kind).toBe('deadlock');
    const report = r.message ?? '';
    expect(report).toMatch(/^deadlock: every domain is waiting/);
    expect(report).toMatch(/\n {2}d1: WFI at pc 0x[0-9a-f]+ \(k_cpu_atomic_idle\+0x[0-9a-f]+\) with no interrupt signalled\n {6}ports: 0=reserved, 1=unbound\(d2\)/);
    expect(report).toMatch(/\n {2}d2: SCHEDOP_block at pc 0x[0-9a-f]+ \(HYPERVISOR_sched_op\+0x[0-9a-f]+\) with no event pending\n {6}ports: 0=reserved, 1=unbound\(d1\)/);
    expect(r.lines).toEqual(['d1: dom-deadlock: I am d1; offered port 1 to d2', 'd1: waiting in WFI for an event on port 1', 'd2: dom-deadlock: I am d2; offered port 1 to d1', 'd2: waiting in SCHEDOP_block for an event on port 1']);
  });

  it('three domains, the third in SCHEDOP_poll without a timeout', async () => {
    const img = imagePath('dom-deadlock', 3);
    const r = await runImages({ images: [img, img, img], timeoutMs: 20_000 });
    expect(r.exitCode).toBe(4);
    const report = r.message ?? '';
    expect(report).toMatch(/\n {2}d1: WFI /);
    expect(report).toMatch(/\n {2}d2: SCHEDOP_block /);
    expect(report).toMatch(/\n {2}d3: SCHEDOP_poll on ports \[1\] at pc 0x[0-9a-f]+ \(HYPERVISOR_sched_op\+0x[0-9a-f]+\), no timeout\n {6}ports: 0=reserved, 1=unbound\(d1\)/);
    expect(r.lines.filter((l) => l.includes('Test result'))).toEqual([]);
  });
});

describe('SCHEDOP_poll with a timeout in virtual time', () => {
  const TIMEOUT = 100_000_000_000; // POLL_TIMEOUT_NS in firmware/apps/dom-poll
  const FAR = 1_000_000_000_000; // FAR_TIMEOUT_NS

  it('a poll on a port nobody signals returns at its timeout; idle time is fast-forwarded', async () => {
    const t0 = performance.now();
    const { outcome: r, trace } = await runTraced({ ...scenarioImages(scenario('dom-poll'), 2) });
    expect(r.exitCode, r.message).toBe(0);
    expect(r.lines).toContain('d1: poll port 1 until 100000000000 ns: 0, pending: no -> timed out');
    // Virtual time reached the timeout, but the second poll (woken by d2's event) did not wait for its own.
    expect(r.instructions).toBeGreaterThanOrEqual(TIMEOUT);
    expect(r.instructions).toBeLessThan(FAR);
    // d1 slept in the poll and woke no earlier than the deadline: 100 s of guest time, not of ours.
    const time = (l: string) => Number(/^\[\s*(\d+)\]/.exec(l)![1]);
    const polls = trace.filter((l) => / d1v0 sched_op\(SCHEDOP_poll\b/.test(l));
    expect(polls.length).toBeGreaterThanOrEqual(1);
    const wakes = trace.filter((l) => / d1v0 wake$/.test(l)).map(time);
    const firstWakeAfterPoll = wakes.find((t) => t >= time(polls[0]));
    expect(firstWakeAfterPoll).toBeGreaterThanOrEqual(TIMEOUT);
    expect(firstWakeAfterPoll).toBeLessThan(TIMEOUT + 1_000_000);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
