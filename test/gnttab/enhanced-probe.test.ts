/**
 * What Xen 4.17 sets up for a dom0less domU before it runs (issue 15), as
 * firmware/apps/enhanced-probe reads it: HVM params, the ports in use, the grant table,
 * vm_assist and physdev_op. The goldens were recorded under the real Xen beside an idle dom0
 * (`reference [--enhanced] --dom0 idle.img --dom0-idle`): a plain domU sees zeros; an enhanced
 * one a xenstore channel (port 1, unbound towards dom0) and STORE_PFN = ~0, "xenstore later".
 * Without a dom0 the emulator runs an enhanced domU as later Xen's no-xenstore mode (Xen 4.17
 * panics instead): the plain domU's values.
 */
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { buildImages } from '../domains/scenarios.ts';
import { golden, image } from '../helpers/firmware.ts';

buildImages(['enhanced-probe', 'idle']);
const board = (gic: 2 | 3) => (gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3');

describe.each([2, 3] as const)('enhanced-probe, GICv%i', (gic) => {
  it.each([
    ['plain', false],
    ['enhanced', true],
  ] as const)('%s domU beside an idle dom0: what the real Xen sets', async (kind, enhanced) => {
    const want = golden(`enhanced-probe.gicv${gic}.${kind}.txt`);
    expect(want.some((l) => l.includes('STORE_EVTCHN = 0 value=0x1'))).toBe(enhanced);
    const r = await runImages({
      images: [image(board(gic), 'enhanced-probe')],
      dom0: image(board(gic), 'idle'),
      domainOptions: [`d1,enhanced=${enhanced ? 'yes' : 'no'}`],
      timeoutMs: 20_000,
    });
    expect(r.lines).toEqual(want);
    // The idle dom0 waits forever: the run ends as a deadlock naming it alone.
    expect(r.exitCode).toBe(4);
  });

  it('enhanced without a dom0: no xenstore (the plain values)', async () => {
    const r = await runImages({ images: [image(board(gic), 'enhanced-probe')], enhanced: true, timeoutMs: 20_000 });
    expect(r.lines).toEqual(golden(`enhanced-probe.gicv${gic}.plain.txt`));
    expect(r.exitCode).toBe(0);
  });
});
