/**
 * Zephyr events API, firmware side (issue 5): the conformance app (firmware/apps/events-api,
 * the same image in d1 and d2) and the README demo (demo-offer in d1, demo-bind in d2) run
 * under the emulator on GICv2 and GICv3, with the dummy and the SILO XSM policy. Each
 * domain's transcript must equal, line for line, what the same binaries printed under the
 * real Xen 4.17 (test/golden/{events-api,demo}.gicv2|3.dummy|silo.txt).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE, SCENARIOS, board, emulate, golden, make, type Gic, type Xsm } from './transcript.ts';

const image = (gic: Gic, app: string): string => join(FIRMWARE, 'build', board(gic), `${app}.img`);

beforeAll(() => {
  // Only our images: someone else's broken app must not stop this test.
  const targets = ([2, 3] as const).flatMap((g) =>
    SCENARIOS.flatMap((s) => s.apps).map((a) => `build/${board(g)}/${a}.img`),
  );
  make([...new Set(targets)]);
  for (const t of targets) expect(existsSync(join(FIRMWARE, t)), t).toBe(true);
});

describe('Zephyr events API: emulator transcript equals the real Xen 4.17 golden file', () => {
  for (const s of SCENARIOS) {
    for (const gic of [2, 3] as const) {
      for (const xsm of ['dummy', 'silo'] as const satisfies readonly Xsm[]) {
        it(`${s.name} on GICv${gic}, xsm=${xsm}`, async () => {
          const want = golden(s.name, gic, xsm);
          // Guard: the golden file records two domains that both finished well.
          const results = want.filter((l) => / Test result: /.test(l));
          expect(results).toHaveLength(2);
          for (const r of results) expect(r).toMatch(/Test result: (SUCCESS|SKIPPED)/);
          const got = await emulate(s.apps.map((a) => image(gic, a)), gic, xsm);
          expect(got.lines).toEqual(want);
          expect(got.exitCode).toBe(0);
        });
      }
    }
  }

  it('the cross-domain script really ran under the dummy policy (not skipped)', () => {
    const want = golden('events-api', 2, 'dummy');
    expect(want).toContain('d1: data_cb_after_unmask: 1');
    expect(want).toContain('d1: status_data_peer_closed: unbound d2');
    expect(want.some((l) => l.includes('skipped'))).toBe(false);
  });
});
