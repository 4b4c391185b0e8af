/**
 * Grant tables between two domains (issue 15): firmware/apps/gnttab-share (d1 grants two pages
 * and offers an event channel, d2 maps them, copies through grants, replies, unmaps) must
 * print, per domain, exactly what the same images printed under the real Xen 4.17
 * (test/golden/gnttab-share.*, recorded with `xenvm-emu reference --gic N --xsm X IMG IMG`),
 * on both GICs and both XSM policies. The live case reruns the real Xen now and compares the
 * two; it is skipped, with the reason in its name, when the oracle is not installed.
 */
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { runReference } from '../../src/oracle/reference.ts';
import { buildImages, byDomain } from '../domains/scenarios.ts';
import { golden, image } from '../helpers/firmware.ts';
import { noOracle } from '../helpers/oracle-live.ts';

buildImages(['gnttab-share']);
const img = (gic: 2 | 3) => image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'gnttab-share');
const goldenOf = (gic: 2 | 3, xsm: 'dummy' | 'silo') => golden(`gnttab-share.gicv${gic}.${xsm}.txt`);

/** What the golden files must show, so that a silently failing exchange cannot pass. */
const MUST: Record<'dummy' | 'silo', string[]> = {
  dummy: [
    'd2: d2 reads the mapped rw page: "frontend data, writable"',
    'd1: entries while mapped: rw=permit_access|reading|writing ro=permit_access|readonly|reading',
    'd1: d1 reads its page at 64: "backend reply"',
    'd1: entries after unmap: rw=permit_access ro=permit_access|readonly',
    'd2: map_grant_ref: d1\'s rw grant = 0 status=okay handle=3',
  ],
  silo: ['d2: map_grant_ref: d1\'s rw grant under this policy = 0 status=permission_denied', 'd2: copy: into dom 77 = 0 status=bad_domain'],
};

describe('gnttab-share: emulator vs the real Xen 4.17 goldens', () => {
  for (const gic of [2, 3] as const) {
    for (const xsm of ['dummy', 'silo'] as const) {
      it(`GICv${gic}, xsm=${xsm}`, async () => {
        const want = goldenOf(gic, xsm);
        for (const l of MUST[xsm]) expect(want).toContain(l);
        const r = await runImages({ images: [img(gic), img(gic)], xsm, timeoutMs: 20_000 });
        expect(r.exitCode, r.status.join('\n')).toBe(0);
        expect(byDomain(r.lines)).toEqual(byDomain(want));
      });
    }
  }
});

describe('gnttab-share: emulator vs the real Xen 4.17, live', () => {
  it.skipIf(noOracle !== '')(`GICv3, xsm=dummy${noOracle}`, async () => {
    const [xen, emu] = await Promise.all([
      runReference({ images: [img(3), img(3)], gic: 3, xsm: 'dummy', timeoutMs: 60_000 }),
      runImages({ images: [img(3), img(3)], gic: 3, xsm: 'dummy', timeoutMs: 20_000 }),
    ]);
    expect(xen.ok, xen.ok ? '' : xen.error).toBe(true);
    const real = byDomain(xen.lines);
    expect(real, 'the real Xen no longer prints the golden file').toEqual(byDomain(goldenOf(3, 'dummy')));
    expect(byDomain(emu.lines), 'emulator vs real Xen').toEqual(real);
    expect(emu.exitCode, emu.status.join('\n')).toBe(0);
  }, 120_000);
});
