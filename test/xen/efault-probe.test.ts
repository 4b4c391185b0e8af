// Issue 14, item 5: hypercall results that run off the end of RAM. Xen copies page by page,
// so the part in RAM is written before -EFAULT; the goldens are what the real Xen 4.17 left.
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { runImages } from '../../src/machine/run.ts';
import { physicalHandles } from '../../src/xen/guest-handle.ts';
import { golden, image } from '../helpers/firmware.ts';

describe.each([2, 3] as const)('efault-probe, GICv%i', (gic) => {
  it('leaves what the real Xen leaves at the end of RAM, and answers -EFAULT', async () => {
    const r = await runImages({ images: [image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'efault-probe')] });
    expect(r.lines).toEqual(golden(`efault-probe.gicv${gic}.txt`));
  });
});

describe('physicalHandles.copyTo', () => {
  const base = 0x40000000;
  it('writes page by page and stops at the first page that is not RAM', () => {
    const mem = new GuestMemory(base, 3 * 4096);
    const g = physicalHandles(mem);
    const data = new Uint8Array(8000).map((_, i) => (i % 251) + 1);
    // From the middle of the second page: 4096 + 2048 fit, the rest is past the end.
    const at = base + 4096 + 2048;
    expect(g.copyTo(BigInt(at), data)).toBe(false);
    expect(mem.read(at, 2048 + 4096)).toEqual(data.subarray(0, 2048 + 4096));
    // Wholly in RAM: all of it; wholly outside: nothing and false.
    expect(g.copyTo(BigInt(base + 10), data.subarray(0, 5000))).toBe(true);
    expect(mem.read(base + 10, 5000)).toEqual(data.subarray(0, 5000));
    expect(g.copyTo(BigInt(base + 3 * 4096), data.subarray(0, 8))).toBe(false);
    expect(g.copyTo((1n << 64n) - 1n, data.subarray(0, 8))).toBe(false);
  });
});
