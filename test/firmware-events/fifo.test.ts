/**
 * The FIFO event-channel ABI with real firmware (issue 15): apps/fifo-priorities (priority
 * order, arrival order within a priority, set_priority while queued, mask while queued,
 * errors, EVTCHNOP_reset back to 2-level) against the real Xen 4.17's transcripts, on both
 * GICs; and, when the oracle is installed, a live differential run of it and of
 * events-api-fifo (the events-api script on FIFO; its golden files are checked by
 * events.test.ts with the other events scenarios).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runReference } from '../../src/oracle/reference.ts';
import { golden as goldenFile, image as firmwareImage } from '../helpers/firmware.ts';
import { noOracle } from '../helpers/oracle-live.ts';
import { FIRMWARE, board, byDomain, emulate, golden, make, type Gic } from './transcript.ts';

const image = (gic: Gic, app: string): string => firmwareImage(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', app);
/** fifo-priorities runs alone, so its golden files carry no XSM policy in their names. */
const fifoGolden = (gic: Gic): string[] => goldenFile(`fifo-priorities.gicv${gic}.txt`);

beforeAll(() => {
  const targets = ([2, 3] as const).flatMap((g) => ['fifo-priorities', 'events-api-fifo'].map((a) => `build/${board(g)}/${a}.img`));
  make(targets);
  for (const t of targets) expect(existsSync(join(FIRMWARE, t)), t).toBe(true);
});

describe('fifo-priorities: emulator transcript equals the real Xen 4.17 golden file', () => {
  for (const gic of [2, 3] as const) {
    it(`on GICv${gic}`, async () => {
      const want = fifoGolden(gic);
      expect(want.at(-1)).toBe('d1: Test result: SUCCESS');
      // Guard: the golden file really shows FIFO ordering (2-level would scan by port).
      expect(want).toContain('d1: order_priorities: 8 4 6 2');
      expect(want).toContain('d1: order_same_priority: 6 2 8 4');
      const got = await emulate([image(gic, 'fifo-priorities')], gic, 'dummy');
      expect(got.lines).toEqual(want);
      expect(got.exitCode).toBe(0);
    });
  }
});

describe('FIFO apps under the real Xen 4.17, live (differential)', () => {
  it.skipIf(noOracle !== '')(`fifo-priorities: real Xen and emulator print the same lines (GICv3)${noOracle}`, async () => {
    const xen = await runReference({ images: [image(3, 'fifo-priorities')], gic: 3, xsm: 'dummy', timeoutMs: 60_000 });
    expect(xen.ok, xen.ok ? '' : xen.error).toBe(true);
    if (!xen.ok) return;
    const emu = await emulate([image(3, 'fifo-priorities')], 3, 'dummy');
    expect(emu.lines).toEqual(xen.lines);
    expect(xen.lines).toEqual(fifoGolden(3));
  });

  it.skipIf(noOracle !== '')(`events-api-fifo: real Xen and emulator print the same lines (GICv2, dummy)${noOracle}`, async () => {
    const imgs = [image(2, 'events-api-fifo'), image(2, 'events-api-fifo')];
    const xen = await runReference({ images: imgs, gic: 2, xsm: 'dummy', timeoutMs: 60_000 });
    expect(xen.ok, xen.ok ? '' : xen.error).toBe(true);
    if (!xen.ok) return;
    const emu = await emulate(imgs, 2, 'dummy');
    expect(emu.lines).toEqual(byDomain(xen.lines));
    expect(emu.lines).toEqual(golden('events-api-fifo', 2, 'dummy'));
  });
});
