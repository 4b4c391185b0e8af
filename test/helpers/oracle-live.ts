// The live real-Xen checks: whether the oracle (Xen 4.17 in QEMU) is installed, and the one
// test most firmware apps carry, "the real Xen still prints the golden transcript".
// When the oracle is missing the test is skipped with the reason in its name, never silently.
import { describe, expect, it } from 'vitest';
import { ensureOraclePrereqs } from '../../src/oracle/prereqs.ts';
import { runReference } from '../../src/oracle/reference.ts';

const pre = await ensureOraclePrereqs({ install: false });

/** '' when the real-Xen oracle is available, else a " [skipped: ...]" suffix for test names. */
export const noOracle: string = pre.ok ? '' : ` [skipped: real-Xen oracle not available (${pre.error.split('\n')[0]})]`;

export interface LiveGoldenCase {
  /** The app's name, as in the describe title ("<app> under the real Xen 4.17, live"). */
  app: string;
  /** The image's path, asked for only when the test runs (a beforeAll may build it first). */
  image: () => string;
  gic: 2 | 3;
  /** The golden transcript's lines (from helpers/firmware.ts `golden`, or the test's own reader). */
  golden: () => string[];
  /** The reference runner's timeout (default 60 s). */
  timeoutMs?: number;
  /** vitest's timeout for the test (default vitest's). */
  testTimeoutMs?: number;
}

/** Runs the image under the real Xen (dummy XSM) and expects exactly the golden transcript. */
export function describeLiveGolden(c: LiveGoldenCase): void {
  describe(`${c.app} under the real Xen 4.17, live`, () => {
    it.skipIf(noOracle !== '')(`still prints the golden transcript (GICv${c.gic})${noOracle}`, async () => {
      const xen = await runReference({ images: [c.image()], gic: c.gic, xsm: 'dummy', timeoutMs: c.timeoutMs ?? 60_000 });
      expect(xen.ok, xen.ok ? '' : xen.error).toBe(true);
      if (xen.ok) expect(xen.lines).toEqual(c.golden());
    }, c.testTimeoutMs);
  });
}

/**
 * The skip reason of a live Linux boot under the real Xen, '' when it runs: such runs are opt-in
 * (XENVM_LINUX_LIVE=1; `cost` says what they take), need the oracle, and need the kernel and
 * initramfs (`noAssets`: '' when they are there, else their own skip reason).
 */
export function linuxLiveSkip(cost: string, noAssets: string): string {
  if (process.env.XENVM_LINUX_LIVE !== '1') return ` [skipped: ${cost}; set XENVM_LINUX_LIVE=1]`;
  return noOracle !== '' ? noOracle : noAssets;
}
