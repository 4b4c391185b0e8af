/**
 * `npm run fuzz -- --seconds N --seed S`: a long hypercall fuzz campaign (src/fuzz). Seeds S,
 * S+1, ... run in turn under both XSM policies until the time is up; the output says what was
 * covered (every hypercall and sub-op reached, the distinct results each gave) and, for a
 * failure, one command line that replays it. Every failure is added to
 * test/fuzz/regressions.json, which the test suite replays.
 *
 *   --seconds N       wall time to run (default 60)
 *   --seed S          first seed (default: from the clock, printed)
 *   --steps N         steps per seed (default 20000)
 *   --xsm P           dummy, silo or both (default both)
 *   --replay          run just --seed with --steps under --xsm and print the failure, if any
 *   --no-record       do not add failures to the regression file
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/machine/run.ts';
import { runFuzz, type Coverage, type FifoStats, type FuzzFailure } from '../src/fuzz/campaign.ts';
import type { XsmPolicy } from '../src/xen/hypervisor.ts';

const REGRESSIONS = join(REPO_ROOT, 'test', 'fuzz', 'regressions.json');

interface Regression {
  seed: number;
  xsm: XsmPolicy;
  steps: number;
  found: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

function num(name: string, dflt: number): number {
  const v = arg(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`fuzz: --${name} wants a non-negative integer, not ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

const seconds = num('seconds', 60);
const seed0 = num('seed', Date.now() % 1_000_000_000);
const steps = num('steps', 20_000);
const xsmArg = arg('xsm') ?? 'both';
if (!['dummy', 'silo', 'both'].includes(xsmArg)) {
  console.error(`fuzz: --xsm is dummy, silo or both, not ${JSON.stringify(xsmArg)}`);
  process.exit(2);
}
const policies: XsmPolicy[] = xsmArg === 'both' ? ['dummy', 'silo'] : [xsmArg as XsmPolicy];

const replayLine = (f: FuzzFailure) => `npm run fuzz -- --replay --seed ${f.seed} --xsm ${f.xsm} --steps ${f.step + 1}`;

function record(f: FuzzFailure): void {
  const list = JSON.parse(readFileSync(REGRESSIONS, 'utf8')) as Regression[];
  if (list.some((r) => r.seed === f.seed && r.xsm === f.xsm)) return;
  list.push({ seed: f.seed, xsm: f.xsm, steps: f.step + 1, found: f.message.split('\n')[0] });
  writeFileSync(REGRESSIONS, JSON.stringify(list, null, 2) + '\n');
}

function printFailure(f: FuzzFailure): void {
  console.log(`\nFAILED: seed ${f.seed}, xsm ${f.xsm}, step ${f.step}: ${f.what}`);
  console.log(`  ${f.message}`);
  console.log(`  replay: ${replayLine(f)}`);
}

if (flag('replay')) {
  const xsm = policies[0];
  const r = runFuzz({ seed: seed0, steps, xsm });
  if (r.failure) {
    printFailure(r.failure);
    process.exit(1);
  }
  console.log(`seed ${seed0}, xsm ${xsm}: ${r.steps} steps, ${r.calls} hypercalls, no invariant broken`);
  process.exit(0);
}

const total: Coverage = new Map();
const failures: FuzzFailure[] = [];
let calls = 0;
let stepsDone = 0;
let seeds = 0;
let maxCallMs = 0;
const fifo: FifoStats = { switches: 0, links: 0, heads: 0, saved: 0, reraised: 0, backTo2Level: 0 };
const start = performance.now();
console.log(`fuzz: seeds from ${seed0}, ${steps} steps each, xsm ${policies.join(' and ')}, for ${seconds} s`);
for (let seed = seed0; performance.now() - start < seconds * 1000; seed++) {
  for (const xsm of policies) {
    const r = runFuzz({ seed, steps, xsm });
    seeds++;
    calls += r.calls;
    stepsDone += r.steps;
    maxCallMs = Math.max(maxCallMs, r.maxCallMs);
    for (const k of Object.keys(fifo) as (keyof FifoStats)[]) fifo[k] += r.fifo[k];
    for (const [k, m] of r.coverage) {
      let t = total.get(k);
      if (!t) total.set(k, (t = new Map()));
      for (const [code, n] of m) t.set(code, (t.get(code) ?? 0) + n);
    }
    if (r.failure) {
      failures.push(r.failure);
      printFailure(r.failure);
      if (!flag('no-record')) record(r.failure);
    }
  }
}
const secs = (performance.now() - start) / 1000;

// Coverage: implemented sub-ops one per line with their results; the unimplemented rest summed.
const rows = [...total].sort(([a], [b]) => a.localeCompare(b));
const named = rows.filter(([k]) => k.includes('/') && !k.endsWith('/other'));
const rest = rows.filter(([k]) => !named.some(([n]) => n === k));
console.log(`\n${seeds} runs, ${stepsDone} steps, ${calls} hypercalls in ${secs.toFixed(1)} s (${((secs * 1e6) / Math.max(1, stepsDone)).toFixed(1)} us/step), longest call ${maxCallMs.toFixed(1)} ms`);
console.log(`\nsub-op: distinct results (count)`);
for (const [k, m] of named) {
  const codes = [...m].sort((a, b) => b[0] - a[0]).map(([c, n]) => `${c}(${n})`);
  console.log(`  ${k}: ${m.size}: ${codes.join(' ')}`);
}
const restCalls = rest.reduce((s, [, m]) => s + [...m.values()].reduce((a, b) => a + b, 0), 0);
const restCodes = new Set(rest.flatMap(([, m]) => [...m.keys()]));
console.log(`  other numbers and sub-ops (${rest.length} kinds): ${restCalls} calls, results ${[...restCodes].sort((a, b) => b - a).join(' ')}`);
console.log(
  `\nFIFO: ${fifo.switches} switches to FIFO, ${fifo.backTo2Level} resets back to 2-level; ${fifo.heads} ports became a queue's head, ${fifo.links} were linked behind a tail; ${fifo.saved} events saved for ports without an event word, ${fifo.reraised} raised by expand_array`,
);
const distinct = named.reduce((s, [, m]) => s + m.size, 0);
console.log(`\n${named.length} sub-ops reached, ${distinct} distinct (sub-op, result) pairs; ${failures.length} failure(s)`);
process.exit(failures.length ? 1 : 0);
