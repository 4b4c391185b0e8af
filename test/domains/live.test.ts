/**
 * Live differential check (issue 6): two multi-domain scenarios under the real Xen 4.17 in
 * QEMU and under the emulator, now — a three-domU ring and dom0 brokering a channel between
 * two domUs under SILO. Per domain, the real Xen must still print the golden file and the
 * emulator must print what the real Xen printed. Skipped, with the reason in the test name,
 * when the oracle (QEMU + Xen) is not installed.
 */
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { ensureOraclePrereqs } from '../../src/oracle/prereqs.ts';
import { runReference } from '../../src/oracle/reference.ts';
import { buildImages, byDomain, goldenLines, scenario, scenarioImages, type Gic, type Xsm } from './scenarios.ts';

const pre = await ensureOraclePrereqs({ install: false });
const skip = pre.ok ? '' : ` [skipped: real-Xen oracle not available (${pre.error.split('\n')[0]})]`;

const LIVE: { name: string; gic: Gic; xsm: Xsm }[] = [
  { name: 'dom-ring', gic: 3, xsm: 'dummy' },
  { name: 'dom-broker', gic: 2, xsm: 'silo' },
];

describe('multi-domain scenarios: emulator vs the real Xen 4.17, live', () => {
  it.skipIf(skip !== '')(`${LIVE.map((c) => `${c.name} GICv${c.gic} ${c.xsm}`).join(', ')}${skip}`, async () => {
    buildImages(LIVE.map((c) => c.name));
    await Promise.all(
      LIVE.map(async (c) => {
        const images = scenarioImages(scenario(c.name), c.gic);
        const [xen, emu] = await Promise.all([
          runReference({ images: images.images, dom0: images.dom0, gic: c.gic, xsm: c.xsm, timeoutMs: 60_000 }),
          runImages({ ...images, gic: c.gic, xsm: c.xsm, timeoutMs: 20_000 }),
        ]);
        expect(xen.ok, xen.ok ? '' : `${c.name}: ${xen.error}`).toBe(true);
        const real = byDomain(xen.lines);
        expect(real, `${c.name}: the real Xen no longer prints the golden file`).toEqual(byDomain(goldenLines(c.name, c.gic, c.xsm)));
        expect(byDomain(emu.lines), `${c.name}: emulator vs real Xen`).toEqual(real);
      }),
    );
  }, 120_000);
});
