// Live differential check: the same conformance images under the real Xen 4.17 (QEMU) and under
// our emulator, right now. Three runs only (each ~2 s under QEMU), chosen to cover both GICs,
// both XSM policies, both guests and both event-channel ABIs. Also catches a golden file that no longer matches the
// real Xen. Skipped, with the reason in the test name, when the oracle is not installed.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ensureOraclePrereqs } from '../../src/oracle/prereqs.ts';
import { runReference } from '../../src/oracle/reference.ts';
import { diffTranscripts, formatDiff } from '../../src/oracle/transcript-diff.ts';
import { GOLDEN_CASES, imagePath, readGolden, type GoldenCase } from '../../scripts/golden.ts';
import { caseName, expectedFromEmulator, runCase } from './cases.ts';

const pre = await ensureOraclePrereqs({ install: false });
const LIVE: GoldenCase[] = [
  GOLDEN_CASES.find((c) => c.app === 'evtchn-conformance' && c.gic === 3 && c.xsm === 'silo')!,
  GOLDEN_CASES.find((c) => c.app === 'evtchn-pair' && c.gic === 2 && c.xsm === 'dummy')!,
  GOLDEN_CASES.find((c) => c.app === 'evtchn-conformance-fifo' && c.gic === 2 && c.xsm === 'dummy')!,
];

function skipReason(c: GoldenCase): string {
  if (!pre.ok) return ` [skipped: real-Xen oracle not available (${pre.error.split('\n')[0]})]`;
  if (!existsSync(imagePath(c))) return ` [skipped: ${imagePath(c)} not built; make -C firmware]`;
  return '';
}

describe('emulator vs the real Xen 4.17, live', () => {
  for (const c of LIVE) {
    const skip = skipReason(c);
    it.skipIf(skip !== '')(`${caseName(c)}${skip}`, async () => {
      const images = Array.from({ length: c.domains }, () => imagePath(c));
      const [xen, emu] = await Promise.all([
        runReference({ images, gic: c.gic, xsm: c.xsm, timeoutMs: 60_000 }),
        runCase(c),
      ]);
      expect(xen.ok, xen.ok ? '' : xen.error).toBe(true);
      if (!xen.ok) return;
      // The real Xen still prints the golden transcript...
      const drift = diffTranscripts(readGolden(c), xen.lines);
      expect(drift.equal, formatDiff(drift, 'golden', 'real Xen now')).toBe(true);
      // ...and the emulator prints the same, apart from the listed known differences.
      const want = expectedFromEmulator(c, xen.lines);
      expect(want.missing).toEqual([]);
      const d = diffTranscripts(want.lines, emu.lines);
      expect(d.equal, formatDiff(d, 'real Xen', 'emulator')).toBe(true);
    });
  }
});
