/**
 * firmware/apps/hcall-va against the real Xen 4.17 (issue 15: guest handles are guest-virtual).
 * The guest turns its MMU on, maps two RAM pages at a virtual address in swapped order, a
 * read-only page after them and a hole after that, and points hypercall buffers at, across and
 * beyond them. Every line is compared with the real Xen's transcript.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runImages } from '../../src/machine/run.ts';
import { golden, image } from '../helpers/firmware.ts';
import { describeLiveGolden } from '../helpers/oracle-live.ts';

const board = (gic: 2 | 3) => (gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3');

beforeAll(() => {
  execFileSync('make', ['-s', '-C', join(REPO_ROOT, 'firmware'), 'build/xenvm-gicv2/hcall-va.img', 'build/xenvm-gicv3/hcall-va.img'], {
    stdio: 'inherit',
  });
});

describe.each([2, 3] as const)('hcall-va, GICv%i', (gic) => {
  it('copies through the guest stage-1 translation, page by page, as the real Xen does', async () => {
    const r = await runImages({ images: [image(board(gic), 'hcall-va')], gic });
    expect(r.exitCode, r.message).toBe(0);
    expect(r.lines).toEqual(golden(`hcall-va.gicv${gic}.txt`));
  });
});

describe('hcall-va golden facts', () => {
  const g = golden('hcall-va.gicv2.txt');
  const line = (name: string) => g.find((l) => l.startsWith(`d1: ${name}: `)) ?? '';
  it('holds what the real Xen showed', () => {
    // Swapped pages: "xen-3.0-" at the end of the first virtual page, "aarch64 " at the start of the next.
    expect(line('capabilities across pages, page_lo start')).toContain('0, bytes: 61 61 72 63 68 36 34 20');
    // Copy-out needs EL1 write permission; the part before the read-only page is written.
    expect(line('extraversion into read-only page')).toBe('d1: extraversion into read-only page: -14, bytes: 00 00 00 00 00 00 00 00');
    expect(line('extraversion writable then read-only')).toContain('-14, bytes: 2e 37 00 00');
    // A port whose copy-out failed stays allocated.
    expect(line('next alloc_unbound')).toBe('d1: next alloc_unbound: 0, port 3');
  });
});

describeLiveGolden({ app: 'hcall-va', image: () => image(board(3), 'hcall-va'), gic: 3, golden: () => golden('hcall-va.gicv3.txt') });
