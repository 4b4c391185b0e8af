// The hypercall fuzz through real guests on the CPU (issue 14): firmware/apps/hcall-fuzz issues
// random hypercalls from a seed on its command line, so the machine path is fuzzed too — HVC
// decode, handles read through the vCPU, console_io continuations, poll and yield outcomes,
// several domains scheduled together — under both XSM policies.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runImages } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';

beforeAll(() => {
  execFileSync('make', ['-s', '-C', join(REPO_ROOT, 'firmware'), 'build/xenvm-gicv2/hcall-fuzz.img', 'build/xenvm-gicv3/hcall-fuzz.img'], { stdio: 'inherit' });
});

const CALLS = 3000;

async function fuzz(gic: 2 | 3, xsm: 'dummy' | 'silo', seeds: number[]) {
  const img = image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'hcall-fuzz');
  return runImages({
    images: seeds.map(() => img),
    gic,
    xsm,
    timeoutMs: 30_000,
    domainOptions: seeds.map((s, i) => `d${i + 1},cmdline=fuzzseed=${s} fuzzcount=${CALLS}`),
  });
}

describe.each([
  [2, 'dummy'],
  [3, 'silo'],
] as const)('hcall-fuzz on GICv%i, XSM %s', (gic, xsm) => {
  it(`three domains, ${CALLS} random hypercalls each, all finish cleanly and reproducibly`, async () => {
    const t0 = performance.now();
    const a = await fuzz(gic, xsm, [11, 12, 13]);
    const ms = performance.now() - t0;
    expect(a.exitCode, [a.message, ...a.status].join('\n')).toBe(0);
    for (const d of [1, 2, 3]) {
      expect(a.lines).toContain(`d${d}: Test result: SUCCESS`);
      expect(a.status).toContain(`d${d} shut down (poweroff)`);
    }
    expect(a.status.filter((s) => /fault|exception|timeout/.test(s))).toEqual([]);
    const sums = a.lines.filter((l) => l.includes('checksum'));
    expect(sums).toHaveLength(3);
    // Different seeds, different calls; the same seeds, the same results.
    expect(new Set(sums.map((l) => l.split(' ').pop())).size).toBe(3);
    const b = await fuzz(gic, xsm, [11, 12, 13]);
    expect(b.lines).toEqual(a.lines);
    expect(ms).toBeLessThan(20_000);
  });
});
