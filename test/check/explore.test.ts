// Schedule exploration: seed ranges, folding results into distinct failures, the replay line,
// and the whole command on firmware/apps/check-race (a ping-pong with a lost-wakeup race that
// only some schedules hit).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distinctFailures, explore, parseSeedRange, scheduleOf, SCHEDULE_QUANTA, type ScheduleResult } from '../../src/check/explore.ts';
import { replayBase, replayCommand } from '../../src/cli/check.ts';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';

const CLI = join(REPO_ROOT, 'bin', 'xenvm-emu.mjs');

describe('seeds and schedules', () => {
  it('parses A..B and single seeds, refuses the rest', () => {
    expect(parseSeedRange('0..99')).toEqual({ ok: true, from: 0, to: 99 });
    expect(parseSeedRange('5')).toEqual({ ok: true, from: 5, to: 5 });
    expect(parseSeedRange('9..3').ok).toBe(false);
    expect(parseSeedRange('a..b').ok).toBe(false);
  });

  it('cycles the quantum ceiling with the seed unless the user fixed it', () => {
    expect([0, 1, 2, 3, 4].map((s) => scheduleOf(s).quantum)).toEqual([...SCHEDULE_QUANTA, SCHEDULE_QUANTA[0]]);
    expect(scheduleOf(3, 7000).quantum).toBe(7000);
  });

  it('reports each distinct failure once, with its smallest seed and how many seeds showed it', () => {
    const check = { domid: 1, rule: 'local-unmask' as const, pc: 0x40001000n, symbol: 'unmask+0x8', port: 2, message: 'm' };
    const dl = 'deadlock: every domain is waiting\n  d1: WFI at pc 0x4000 (main+0x4)\n      ports: 1=interdomain(d2:1) pending\n  d2: WFI at pc 0x4008 (main+0xc)';
    const results: ScheduleResult[] = [
      { seed: 9, quantum: 5000, exitCode: 1, checks: [check] },
      { seed: 4, quantum: 100000, exitCode: 0, checks: [] },
      { seed: 3, quantum: 1000, exitCode: 4, message: dl, checks: [] },
      { seed: 6, quantum: 5000, exitCode: 1, checks: [check] },
      { seed: 11, quantum: 1000, exitCode: 4, message: dl.replace('pending', ''), checks: [] },
    ];
    const f = distinctFailures(results);
    expect(f.map((x) => [x.first.seed, x.seeds])).toEqual([
      [3, 2],
      [6, 2],
    ]);
    expect(f[0].summary).toBe('exit 4: d1: WFI at pc 0x4000 (main+0x4); d2: WFI at pc 0x4008 (main+0xc)');
    expect(f[1].summary).toMatch(/^check: d1 <unmask\+0x8> port=2 rule=local-unmask/);
  });

  it('hands seeds to free workers and returns results in seed order', async () => {
    const ran: number[][] = [[], []];
    const worker = (i: number) => ({
      run: async (s: { seed: number; quantum: number }) => {
        ran[i].push(s.seed);
        await new Promise((r) => setTimeout(r, i === 0 ? 1 : 5));
        return { seed: s.seed, quantum: s.quantum, exitCode: 0, checks: [] };
      },
      close: () => {},
    });
    const r = await explore(10, 19, [worker(0), worker(1)], undefined);
    expect(r.map((x) => x.seed)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect([...ran[0], ...ran[1]].sort((a, b) => a - b)).toEqual(r.map((x) => x.seed));
    expect(ran[0].length).toBeGreaterThan(ran[1].length);
  });

  it('builds a replay line from the run options, without the exploration\'s own', () => {
    const base = replayBase(['--check', '--seeds', '0..9', '--jobs=2', '--quantum', '3000', '--xsm', 'silo', '--cmdline', 'rule=a b', 'x.img']);
    expect(base).toEqual(['--xsm', 'silo', '--cmdline', 'rule=a b', 'x.img']);
    expect(replayCommand(base, { seed: 7, quantum: 1000 })).toBe("xenvm-emu run --check --seed 7 --quantum 1000 --xsm silo --cmdline 'rule=a b' x.img");
  });
});

describe('xenvm-emu check --seeds on check-race', () => {
  it('finds the lost wakeup in some schedules, once, with a replay command that reproduces it', () => {
    const img = image('xenvm-gicv2', 'check-race');
    const r = spawnSync(process.execPath, [CLI, 'check', '--seeds', '0..39', '--jobs', '2', img, img], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^xenvm-emu: check: 40 schedules \(seeds 0\.\.39\) in [\d.]+ s on 2 workers: [\d.]+ schedules\/s; \d+ failed$/);
    const failures = lines.filter((l) => /^xenvm-emu: check: failure \d+ of \d+/.test(l));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/exit 4: d1: WFI at .* d2: WFI at/);
    const replay = lines.find((l) => l.includes('replay: '))!.split('replay: ')[1];
    const m = /^xenvm-emu run --check --seed (\d+) --quantum (\d+) /.exec(replay)!;
    expect(m).not.toBeNull();
    const again = spawnSync(process.execPath, [CLI, 'run', '--check', '--seed', m[1], '--quantum', m[2], img, img], { encoding: 'utf8', timeout: 60_000 });
    expect(again.status).toBe(4);
    // The same system without a seed (one schedule) passes: the race needs an unlucky preemption.
    const plain = spawnSync(process.execPath, [CLI, 'run', '--check', img, img], { encoding: 'utf8', timeout: 60_000 });
    expect(plain.status, plain.stderr).toBe(0);
  }, 150_000);

  it('the correct guest passes every schedule', () => {
    const img = image('xenvm-gicv2', 'check-rules');
    const r = spawnSync(process.execPath, [CLI, 'run', '--check', '--seeds', '0..7', '--jobs', '2', img], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no schedule failed/);
  }, 60_000);
});
