// Shared helpers of the firmware-events tests: build targets, golden files, per-domain order.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runImages } from '../../src/machine/run.ts';
import { splitByDomain } from '../../src/oracle/transcript-diff.ts';

export const ROOT = join(import.meta.dirname, '../..');
export const FIRMWARE = join(ROOT, 'firmware');

export type Gic = 2 | 3;
export type Xsm = 'dummy' | 'silo';
/** A golden transcript: an app name plus the images (one per domain) it runs as. */
export interface Scenario {
  name: 'events-api' | 'events-api-fifo' | 'demo';
  apps: [string, string];
}
export const SCENARIOS: Scenario[] = [
  { name: 'events-api', apps: ['events-api', 'events-api'] },
  // The same script with the events library on the FIFO ABI (issue 15).
  { name: 'events-api-fifo', apps: ['events-api-fifo', 'events-api-fifo'] },
  { name: 'demo', apps: ['demo-offer', 'demo-bind'] },
];

export const board = (gic: Gic): string => `xenvm-gicv${gic}`;

/**
 * Domains run side by side, so how their lines interleave is scheduling, not behaviour:
 * transcripts are compared (and golden files stored) as d1's lines, then d2's, each in
 * the order that domain printed them.
 */
export function byDomain(lines: string[]): string[] {
  const groups = splitByDomain(lines);
  return [...groups.keys()].sort((a, b) => a - b).flatMap((d) => groups.get(d)!.map((t) => (d < 0 ? t : `d${d}: ${t}`)));
}

/** test/golden/<name>.gicv<gic>.<xsm>.txt, recorded with `xenvm-emu reference` (real Xen 4.17). */
export function golden(name: string, gic: Gic, xsm: Xsm): string[] {
  const file = join(ROOT, 'test', 'golden', `${name}.gicv${gic}.${xsm}.txt`);
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}

/** Runs the images under the emulator; a failed run appends one line that says why. */
export async function emulate(images: string[], gic: Gic, xsm: Xsm, timeoutMs = 20_000): Promise<{ lines: string[]; exitCode: number; message?: string }> {
  const r = await runImages({ images, gic, xsm, timeoutMs });
  const lines = byDomain(r.lines);
  if (r.exitCode !== 0) lines.push(`[run ended with exit code ${r.exitCode}: ${r.message ?? ''}]`);
  return { lines, exitCode: r.exitCode, message: r.message };
}

/** make -C firmware with extra arguments (quiet); throws with make's output on failure. */
export function make(args: string[]): void {
  execFileSync('make', ['-s', '-C', FIRMWARE, ...args], { stdio: 'pipe' });
}
