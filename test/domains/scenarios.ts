// The multi-domain scenarios (firmware/apps/dom-*): which images each runs as, where its
// real-Xen golden transcripts are, and how to run one under the emulator.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT, runImages, type RunOptions, type RunOutcome } from '../../src/machine/run.ts';
import { TraceBus } from '../../src/trace/bus.ts';
import { formatEvent } from '../../src/trace/text.ts';
import { byDomain } from '../firmware-events/transcript.ts';

export { byDomain };
export type Gic = 2 | 3;
export type Xsm = 'dummy' | 'silo';

export interface Scenario {
  /** App (firmware/apps/<name>) and golden file stem (test/golden/<name>.gicvN.<xsm>.txt). */
  name: string;
  /** How many domUs run the image (d1..dN). */
  domUs: number;
  /** Whether the image also runs as the privileged dom0. */
  dom0: boolean;
}

export const SCENARIOS: Scenario[] = [
  { name: 'dom-ring', domUs: 3, dom0: false },
  { name: 'dom-crash', domUs: 2, dom0: false },
  { name: 'dom-poll', domUs: 2, dom0: false },
  { name: 'dom-broker', domUs: 2, dom0: true },
];
export const scenario = (name: string): Scenario => SCENARIOS.find((s) => s.name === name)!;

const FIRMWARE = join(REPO_ROOT, 'firmware');
export const imagePath = (app: string, gic: Gic = 2): string => join(FIRMWARE, 'build', `xenvm-gicv${gic}`, `${app}.img`);

/** Builds the dom-* images (and only those: someone else's broken app must not stop us). */
export function buildImages(apps: string[] = [...SCENARIOS.map((s) => s.name), 'dom-deadlock']): void {
  const targets = ([2, 3] as const).flatMap((g) => apps.map((a) => `build/xenvm-gicv${g}/${a}.img`));
  execFileSync('make', ['-s', '-C', FIRMWARE, ...targets], { stdio: 'pipe' });
  for (const t of targets) expect(existsSync(join(FIRMWARE, t)), t).toBe(true);
}

/** The run options of a scenario (dom0 image, domU images) on one board. */
export function scenarioImages(s: Scenario, gic: Gic): Pick<RunOptions, 'images' | 'dom0'> {
  const img = imagePath(s.name, gic);
  return { images: Array.from({ length: s.domUs }, () => img), dom0: s.dom0 ? img : undefined };
}

/** test/golden/<name>.gicv<gic>.<xsm>.txt: what the real Xen 4.17 printed, in its order. */
export function goldenLines(name: string, gic: Gic, xsm: Xsm): string[] {
  return readFileSync(join(REPO_ROOT, 'test', 'golden', `${name}.gicv${gic}.${xsm}.txt`), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

export interface TracedRun {
  outcome: RunOutcome;
  /** Every trace event, formatted as the text view prints it (time and seq included). */
  trace: string[];
}

/** Runs under the emulator with a trace bus attached. */
export async function runTraced(opts: RunOptions): Promise<TracedRun> {
  const bus = new TraceBus();
  const trace: string[] = [];
  bus.attach((e) => trace.push(formatEvent(e)));
  const outcome = await runImages({ timeoutMs: 20_000, ...opts, trace: bus });
  return { outcome, trace };
}
