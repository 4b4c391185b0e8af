// An image with no devicetree of its own (no --dtb, no board.dtb beside it) gets the tree the
// real Xen 4.17 builds for a dom0less domU of the same configuration (plain, or enhanced). dtb-dump prints
// the blob it was given and where; the goldens are what it printed under the real Xen.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { golden, image } from '../helpers/firmware.ts';

const dir = mkdtempSync(join(tmpdir(), 'generated-dtb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The app's Image alone in a directory: nothing beside it names a board. */
function lone(gic: 2 | 3): string {
  const p = join(dir, `dtb-dump.gicv${gic}.img`);
  copyFileSync(image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'dtb-dump'), p);
  return p;
}

describe.each([
  { gic: 2, memoryMiB: undefined, enhanced: false, file: 'dtb-domu.gicv2.txt' },
  { gic: 3, memoryMiB: undefined, enhanced: false, file: 'dtb-domu.gicv3.txt' },
  { gic: 2, memoryMiB: 256, enhanced: false, file: 'dtb-domu.gicv2.256m.txt' },
  { gic: 3, memoryMiB: 256, enhanced: false, file: 'dtb-domu.gicv3.256m.txt' },
  // xen,enhanced (issue 15): the hypervisor node; recorded beside a dom0, run here without one.
  { gic: 2, memoryMiB: undefined, enhanced: true, file: 'dtb-domu.gicv2.enhanced.txt' },
  { gic: 3, memoryMiB: undefined, enhanced: true, file: 'dtb-domu.gicv3.enhanced.txt' },
] as const)('GICv$gic, $file', ({ gic, memoryMiB, enhanced, file }) => {
  it('the guest sees the blob, at the address, that the real Xen gives it', async () => {
    const r = await runImages({ images: [lone(gic)], gic, memoryMiB, domainOptions: enhanced ? ['d1,enhanced=yes'] : undefined });
    expect(r.lines).toEqual(golden(file));
    expect(r.exitCode).toBe(0);
  });
});

it('--dtb still wins over the generated tree', async () => {
  const r = await runImages({ images: [lone(2)], dtb: join(image('xenvm-gicv2', 'hello'), '..', 'board.dtb') });
  expect(r.exitCode).toBe(0);
  expect(r.lines).not.toEqual(golden('dtb-domu.gicv2.txt'));
  expect(r.lines[0]).toMatch(/^d1: dtb_addr: 0x/);
});
