// The event-channel conformance guests (firmware/apps/evtchn-conformance, evtchn-pair) under
// our emulator must print exactly what they printed under the real Xen 4.17 (the golden files
// in test/golden, made by scripts/golden.ts). Domains are compared one by one: how their
// lines interleave is scheduling, not behaviour.
import { describe, expect, it } from 'vitest';
import { diffTranscripts, formatDiff, splitByDomain } from '../../src/oracle/transcript-diff.ts';
import { GOLDEN_CASES, goldenFile, readGolden } from '../../scripts/golden.ts';
import { KNOWN_DIFFERENCES, caseName, expectedFromEmulator, runCase } from './cases.ts';

describe('emulator vs golden transcripts of the real Xen 4.17', () => {
  for (const c of GOLDEN_CASES) {
    const known = KNOWN_DIFFERENCES[caseName(c)];
    const label = `${caseName(c)} (${c.domains} domain${c.domains > 1 ? 's' : ''})${known ? ` with ${known.length} known differences` : ''}`;
    it(label, async () => {
      const golden = readGolden(c);
      const want = expectedFromEmulator(c, golden);
      expect(want.missing, `known differences no longer in ${goldenFile(c)}`).toEqual([]);
      const r = await runCase(c);
      const d = diffTranscripts(want.lines, r.lines);
      expect(d.equal, formatDiff(d, 'real Xen (golden)', 'emulator')).toBe(true);
      expect(r.exitCode, r.message).toBe(0);
      // Every domain ran to its result line.
      for (const [domid, text] of splitByDomain(r.lines)) expect(text.at(-1), `d${domid}`).toBe('Test result: SUCCESS');
    });
  }
});
