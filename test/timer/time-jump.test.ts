/**
 * Virtual time past 2^53 ns (issue 14, items 3 and 7): firmware/apps/time-jump polls with an
 * all-ones timeout (-1 as Xen's s_time_t: already past, so it times out at once), then until
 * 2^62 ns, which the emulator reaches by fast-forwarding idle time. The counter must then still
 * count in single ticks from the exact value, a CNTV_CVAL compare past 2^53 must hold, and the
 * trace written by `run` must read back with exact times.
 *
 * The real Xen 4.17 in QEMU prints the same lines (test/golden/time-jump.gicv{2,3}.txt): its
 * 2^62 ns poll returns too, because QEMU's instruction-counted clock jumps to the next timer
 * deadline while every CPU idles (on hardware the vCPU would sleep for about 146 years).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runImages } from '../../src/machine/run.ts';
import { parseJsonl, encodeEvent } from '../../src/trace/jsonl.ts';
import { formatEvent } from '../../src/trace/text.ts';
import { summarize } from '../../src/trace/summary.ts';
import { image, golden } from '../helpers/firmware.ts';
import { perfettoProblems } from '../trace/helpers.ts';
import { describeLiveGolden } from '../helpers/oracle-live.ts';

describe('time-jump: virtual time past 2^53 stays exact for the guest', () => {
  for (const gic of [2, 3] as const) {
    it(`GICv${gic}: the real Xen's transcript: the poll returns near 2^62 ns and the counter goes on`, async () => {
      const r = await runImages({ images: [image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'time-jump')] });
      expect(r.exitCode, r.message).toBe(0);
      expect(r.lines).toEqual(golden(`time-jump.gicv${gic}.txt`));
      // The machine's own clock is exact: past 2^62 ns, a bigint.
      expect(typeof r.instructions).toBe('bigint');
      expect(r.instructions as bigint).toBeGreaterThan(1n << 62n);
      expect(r.instructions as bigint).toBeLessThan((1n << 62n) + (1n << 24n));
    });
  }
});

const cli = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'xenvm-emu.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('a trace past 2^53 round-trips', () => {
  it('run --trace-file writes exact times, and `trace` reads them back to the same lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenvm-time-jump-'));
    const jsonl = join(dir, 't.jsonl');
    const perfetto = join(dir, 't.json');
    const run = cli('run', '--trace', '--trace-file', jsonl, '--perfetto', perfetto, image('xenvm-gicv2', 'time-jump'));
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    const printed = run.stderr.split('\n').filter((l) => l.startsWith('['));

    const text = readFileSync(jsonl, 'utf8');
    const parsed = parseJsonl(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const events = parsed.events;
    // Times past 2^53 are bigints, exact, and never go backwards.
    const late = events.filter((e) => typeof e.time === 'bigint');
    expect(late.length).toBeGreaterThan(5);
    for (let i = 1; i < events.length; i++) expect(events[i].time >= events[i - 1].time).toBe(true);
    expect(late[0].time as bigint).toBeGreaterThanOrEqual(1n << 62n);
    // Consecutive late events differ by small exact amounts (a double would step by 1024 ns).
    const steps = late.slice(1).map((e, i) => (e.time as bigint) - (late[i].time as bigint));
    expect(steps.some((s) => s > 0n && s % 1024n !== 0n)).toBe(true);
    // The file holds them as decimal strings; encoding the parsed events gives the file back.
    expect(text).toMatch(/"time":"46116860184273\d{5}"/);
    expect(events.map((e) => encodeEvent(e)).join('\n') + '\n').toBe(text);
    // Rendered text equals what --trace printed.
    expect(events.map(formatEvent)).toEqual(printed);
    expect(String(summarize(events).lastTime)).toBe(String(late[late.length - 1].time));

    const back = cli('trace', jsonl);
    expect(back.status, back.stderr).toBe(0);
    expect(back.stdout.split('\n\nsummary: ')[0].split('\n')).toEqual(printed);
    expect(back.stdout).toMatch(/virtual time 0\.\.46116860184\d+ guest instructions/);

    // Perfetto: valid JSON, exact times in args, the jump cut on the axis and marked.
    const doc = JSON.parse(readFileSync(perfetto, 'utf8')) as { traceEvents: { name: string; ts?: number; args?: { time?: unknown; to?: unknown } }[] };
    expect(perfettoProblems(doc as Parameters<typeof perfettoProblems>[0])).toEqual([]);
    const skip = doc.traceEvents.find((e) => e.name === 'virtual time skipped');
    expect(skip?.args?.to).toMatch(/^46116860184\d+$/);
    for (const e of doc.traceEvents) if (e.ts !== undefined) expect(e.ts).toBeLessThan(2 ** 53 / 1000);
    expect(doc.traceEvents.some((e) => typeof e.args?.time === 'string' && BigInt(e.args.time as string) > 1n << 62n)).toBe(true);
  });
});

describeLiveGolden({
  app: 'time-jump', image: () => image('xenvm-gicv3', 'time-jump'), gic: 3,
  golden: () => golden('time-jump.gicv3.txt'), timeoutMs: 300_000, testTimeoutMs: 600_000,
});
