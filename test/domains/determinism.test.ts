/**
 * Deterministic scheduling (issue 6): the same images and options give the identical
 * transcript AND the identical trace (every event with its virtual time) on every run;
 * `seed` varies quantum lengths reproducibly — the same seed replays the same schedule,
 * other seeds interleave the domains differently, and deterministic guests still print the
 * same per-domain transcript (the real Xen's, test/golden/).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { buildImages, byDomain, goldenLines, runTraced, scenario, scenarioImages } from './scenarios.ts';

beforeAll(() => buildImages(['dom-ring', 'dom-broker']));

const ring = scenarioImages(scenario('dom-ring'), 2);
const broker = scenarioImages(scenario('dom-broker'), 3);
/** Short quanta so that quantum boundaries fall inside the guests' work, not only at their waits. */
const SHORT_QUANTUM = 2_000;

describe('determinism: two runs, identical transcript and trace', () => {
  it.each([
    ['three domUs (dom-ring)', ring],
    ['dom0 + two domUs (dom-broker)', broker],
  ])('%s', async (_name, images) => {
    const a = await runTraced({ ...images });
    const b = await runTraced({ ...images });
    expect(a.outcome.exitCode, a.outcome.message).toBe(0);
    expect(a.trace.length).toBeGreaterThan(100);
    // The trace covers scheduling, not just hypercalls: switches and blocks are in it.
    expect(a.trace.some((l) => / d2v0 switch$/.test(l))).toBe(true);
    expect(b.outcome.lines).toEqual(a.outcome.lines);
    expect(b.trace).toEqual(a.trace);
    expect(b.outcome.instructions).toBe(a.outcome.instructions);
  });
});

describe('scheduling seed', () => {
  it('the same seed replays the same schedule exactly', async () => {
    const a = await runTraced({ ...ring, seed: 1234, quantum: SHORT_QUANTUM });
    const b = await runTraced({ ...ring, seed: 1234, quantum: SHORT_QUANTUM });
    expect(a.outcome.exitCode, a.outcome.message).toBe(0);
    expect(b.outcome.lines).toEqual(a.outcome.lines);
    expect(b.trace).toEqual(a.trace);
  });

  it('different seeds interleave differently; every domain still prints the real Xen transcript', async () => {
    const want = byDomain(goldenLines('dom-ring', 2, 'dummy'));
    const interleavings = new Set<string>();
    const traces = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = await runTraced({ ...ring, seed, quantum: SHORT_QUANTUM });
      expect(r.outcome.exitCode, `seed ${seed}: ${r.outcome.message}`).toBe(0);
      expect(byDomain(r.outcome.lines), `seed ${seed}`).toEqual(want);
      interleavings.add(r.outcome.lines.join('\n'));
      traces.add(r.trace.join('\n'));
    }
    // The seed really changes the schedule (else this test would prove nothing).
    expect(traces.size).toBe(5);
    expect(interleavings.size).toBeGreaterThan(1);
  });

  it('the CLI prints the seed for replay and runs with it', () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'xenvm-emu.mjs'), 'run', '--seed', '7', '--quantum', String(SHORT_QUANTUM), ...ring.images], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split('\n')).toContain('xenvm-emu: scheduling seed 7');
    expect(byDomain(r.stdout.split('\n').filter((l) => l !== ''))).toEqual(byDomain(goldenLines('dom-ring', 2, 'dummy')));
  });
});
