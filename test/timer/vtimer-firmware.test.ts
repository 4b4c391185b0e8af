/**
 * The generic timers end to end (issue 6): firmware/apps/vtimer probes the virtual and the
 * physical timer (counter, CTL/CVAL/TVAL, one-shot, periodic, masked, SCHEDOP_block woken by
 * the timer) and must print exactly what the same binary prints under the real Xen 4.17
 * (test/golden/vtimer.gicv2|3.txt). Run alone (the vCPU starts uncounted and switches to
 * counting at its first timer access), with a seed (counted from the start, short quanta), and
 * beside another domain (a timer wakes a WFI while the machine fast-forwards idle time).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runImages } from '../../src/machine/run.ts';
import { golden as goldenLines, image as firmwareImage } from '../helpers/firmware.ts';
import { describeLiveGolden } from '../helpers/oracle-live.ts';

const FIRMWARE = join(REPO_ROOT, 'firmware');
const board = (gic: 2 | 3) => (gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3');
const image = (gic: 2 | 3, app = 'vtimer') => firmwareImage(board(gic), app);
const golden = (gic: 2 | 3) => goldenLines(`vtimer.gicv${gic}.txt`);
const linesOf = (lines: string[], d: string) => lines.filter((l) => l.startsWith(`${d}: `)).map((l) => 'd1' + l.slice(2));

beforeAll(() => {
  const targets = [2, 3].flatMap((g) => [`build/${board(g as 2 | 3)}/vtimer.img`, `build/${board(g as 2 | 3)}/hello.img`]);
  execFileSync('make', ['-s', '-C', FIRMWARE, ...targets], { stdio: 'inherit' });
  for (const t of targets) expect(existsSync(join(FIRMWARE, t)), t).toBe(true);
});

describe('vtimer: emulator transcript equals the real Xen 4.17 golden file', () => {
  for (const gic of [2, 3] as const) {
    it(`alone on GICv${gic}`, async () => {
      const want = golden(gic);
      expect(want.at(-1)).toBe('d1: Test result: SUCCESS');
      const r = await runImages({ images: [image(gic)], gic, timeoutMs: 20_000 });
      expect(r.exitCode, r.message).toBe(0);
      expect(r.lines).toEqual(want);
    });

    it(`with --seed 3 (counted from the first instruction, short quanta) on GICv${gic}`, async () => {
      const r = await runImages({ images: [image(gic)], gic, seed: 3, timeoutMs: 20_000 });
      expect(r.exitCode, r.message).toBe(0);
      expect(r.lines).toEqual(golden(gic));
    });
  }

  it('beside another domain, twice: same transcript for d1, identical runs', async () => {
    const run = () => runImages({ images: [image(2), image(2, 'hello')], gic: 2, timeoutMs: 20_000 });
    const a = await run();
    expect(a.exitCode, a.message).toBe(0);
    expect(linesOf(a.lines, 'd1')).toEqual(golden(2));
    const b = await run();
    expect(b.lines).toEqual(a.lines);
  });

  it('two timer guests side by side each see the golden behaviour', async () => {
    const r = await runImages({ images: [image(3), image(3)], gic: 3, timeoutMs: 20_000 });
    expect(r.exitCode, r.message).toBe(0);
    expect(linesOf(r.lines, 'd1')).toEqual(golden(3));
    expect(linesOf(r.lines, 'd2')).toEqual(golden(3));
  });
});

describeLiveGolden({ app: 'vtimer', image: () => image(3), gic: 3, golden: () => golden(3) });
