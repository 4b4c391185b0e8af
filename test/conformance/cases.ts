// Shared by the conformance tests: how a golden case runs under the emulator, and the
// differences from the real Xen that are known and not the event-channel model's to fix.
import { runImages } from '../../src/machine/run.ts';
import type { GoldenCase } from '../../scripts/golden.ts';
import { image } from '../helpers/firmware.ts';

/**
 * Differences from the real Xen that are not the event-channel model's to fix, as
 * [domid, line real Xen printed, line the emulator prints]. Each entry must still occur
 * (the test fails once it is fixed, so the entry gets removed).
 */
export const KNOWN_DIFFERENCES: Record<string, Array<[number, string, string]>> = {
  // (none today; the last one, a shut-down domain treated as dying, was fixed in the machine)
};

export function caseName(c: GoldenCase): string {
  return `${c.app}.gicv${c.gic}.${c.xsm}`;
}

/** The golden transcript with the known differences substituted: what the emulator prints today. */
export function expectedFromEmulator(c: GoldenCase, lines: string[]): { lines: string[]; missing: string[] } {
  const known = KNOWN_DIFFERENCES[caseName(c)] ?? [];
  const missing: string[] = [];
  const out = [...lines];
  for (const [domid, real, ours] of known) {
    const i = out.indexOf(`d${domid}: ${real}`);
    if (i < 0) missing.push(`d${domid}: ${real}`);
    else out[i] = `d${domid}: ${ours}`;
  }
  return { lines: out, missing };
}

export async function runCase(c: GoldenCase): Promise<{ lines: string[]; exitCode: number; message?: string }> {
  const img = image(`xenvm-gicv${c.gic}`, c.app);
  const images = Array.from({ length: c.domains }, () => img);
  return runImages({ images, gic: c.gic, xsm: c.xsm, timeoutMs: 60_000 });
}

