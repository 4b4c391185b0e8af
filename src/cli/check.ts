// `xenvm-emu check --seeds A..B [run options] IMAGE...` (also `run --check --seeds A..B`):
// schedule exploration with the protocol checker on (src/check/explore.ts, docs/check.md).
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { buildMachine } from '../api/machine.ts';
import { distinctFailures, explore, parseSeedRange, type Schedule, type ScheduleResult, type ScheduleWorker } from '../check/explore.ts';
import { parseRunArgs, runConfig, RUN_USAGE, type RunCliOptions } from './run.ts';

export const CHECK_USAGE = `usage: xenvm-emu check --seeds A..B [--jobs N] [run options] IMAGE...

Runs the images as 'xenvm-emu run --check' does, once per seed from A to B, each seed a
different reproducible schedule: quantum lengths and the first domain vary with the seed (as
--seed), and the quantum ceiling cycles through 100000, 20000, 5000 and 1000 instructions
(unless --quantum fixes it), which moves preemption points, and so where interrupts for
other domains' notifications land. The schedules run in parallel worker processes.

Each distinct failure (a protocol-checker report, or a run that fails: deadlock, failing
result, fault, limit) is printed once, with how many seeds showed it, its smallest seed and a
one-line replay command. Exit status: 0 no schedule failed; 1 some did; 2 bad input.

options:
  --seeds A..B            the seeds to explore (inclusive), e.g. 0..199
  --jobs N                worker processes (default: the number of CPUs)
  and the options of 'xenvm-emu run' except --gdb and the trace outputs.

${RUN_USAGE.split('\n').slice(RUN_USAGE.split('\n').findIndex((l) => l.startsWith('options:')) + 1).join('\n')}`;

/** Options that take a value, to keep or drop them with it when building the replay line. */
const DROP_WITH_VALUE = new Set(['--seeds', '--seed', '--quantum', '--jobs']);

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The run arguments without the exploration's own options (and without --check). */
export function replayBase(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') continue;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (DROP_WITH_VALUE.has(name)) {
      if (eq < 0) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

export function replayCommand(base: string[], s: Schedule): string {
  return ['xenvm-emu', 'run', '--check', '--seed', String(s.seed), '--quantum', String(s.quantum), ...base].map(shellQuote).join(' ');
}

/** Runs one schedule in this process. */
export async function runSchedule(opts: RunCliOptions, s: Schedule): Promise<ScheduleResult> {
  const config = runConfig({ ...opts, check: undefined, seeds: undefined, seed: s.seed, quantum: s.quantum }, undefined);
  if (!config.ok) return { seed: s.seed, quantum: s.quantum, exitCode: 2, message: config.error, checks: [] };
  const built = buildMachine({ ...config.value, check: true, counted: true });
  if (!built.ok) return { seed: s.seed, quantum: s.quantum, exitCode: built.error.exitCode, message: built.error.message, checks: [] };
  const m = built.value;
  try {
    const r = await m.run();
    const checks = (r.checks ?? []).map((c) => ({ domid: c.domid, rule: c.rule, pc: c.pc, symbol: c.symbol, port: c.port, message: c.message }));
    return { seed: s.seed, quantum: s.quantum, exitCode: r.exitCode, message: r.message, checks };
  } finally {
    await m.close();
  }
}

/** A worker process: this CLI again, in `check --worker` mode, fed schedules over IPC. */
function spawnWorker(runArgv: string[]): ScheduleWorker {
  const child: ChildProcess = fork(process.argv[1], ['check', '--worker', ...runArgv], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  let pending: { resolve(r: ScheduleResult): void; reject(e: Error): void } | undefined;
  child.on('message', (m) => {
    const p = pending;
    pending = undefined;
    p?.resolve(m as ScheduleResult);
  });
  child.on('exit', (code) => pending?.reject(new Error(`a check worker exited (${code}) in the middle of a schedule`)));
  return {
    run: (s) =>
      new Promise((resolve, reject) => {
        pending = { resolve, reject };
        child.send(s);
      }),
    close: () => child.disconnect(),
  };
}

async function workerMain(runArgv: string[]): Promise<number> {
  const p = parseRunArgs(runArgv);
  if (!p.ok) return 2;
  const opts = p.opts;
  await new Promise<void>((done) => {
    process.on('message', (s: Schedule) => {
      void runSchedule(opts, s).then(
        (r) => process.send!(r),
        (e: Error) => process.send!({ seed: s.seed, quantum: s.quantum, exitCode: 70, message: `internal error: ${e.message}`, checks: [] }),
      );
    });
    process.on('disconnect', () => done());
  });
  return 0;
}

export async function checkMain(argv: string[]): Promise<number> {
  if (argv[0] === '--worker') return workerMain(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(CHECK_USAGE + '\n');
    return 0;
  }
  const bad = (e: string) => {
    process.stderr.write(`xenvm-emu check: ${e}\n\n${CHECK_USAGE}\n`);
    return 2;
  };
  const withCheck = argv.includes('--check') ? argv : ['--check', ...argv];
  const p = parseRunArgs(withCheck);
  if (!p.ok) return bad(p.error);
  const o = p.opts;
  if (o.seeds === undefined) return bad('--seeds A..B is required');
  if (o.gdb) return bad('--gdb cannot be used with --seeds');
  if (o.traceText || o.traceFile !== undefined || o.perfetto !== undefined) return bad('the trace outputs cannot be used with --seeds (replay one seed with them)');
  if (o.seed !== undefined) return bad('--seed and --seeds: give one of them');
  const range = parseSeedRange(o.seeds);
  if (!range.ok) return bad(range.error);
  const count = range.to - range.from + 1;
  const n = Math.max(1, Math.min(o.jobs ?? availableParallelism(), count));
  const runArgv = replayBase(argv);
  const t0 = performance.now();
  const workers = Array.from({ length: n }, () => spawnWorker(runArgv));
  let results: ScheduleResult[];
  try {
    results = await explore(range.from, range.to, workers, o.quantum);
  } finally {
    for (const w of workers) w.close();
  }
  const secs = (performance.now() - t0) / 1000;
  const failures = distinctFailures(results);
  const failed = results.filter((r) => r.exitCode !== 0 || r.checks.length > 0).length;
  const say = (s: string) => process.stderr.write(`xenvm-emu: check: ${s}\n`);
  say(`${count} schedules (seeds ${range.from}..${range.to}) in ${secs.toFixed(1)} s on ${n} worker${n === 1 ? '' : 's'}: ${(count / secs).toFixed(1)} schedules/s; ${failed} failed`);
  if (results.some((r) => r.exitCode === 2)) {
    const r = results.find((x) => x.exitCode === 2)!;
    say(`bad input: ${r.message}`);
    return 2;
  }
  failures.forEach((f, i) => {
    say(`failure ${i + 1} of ${failures.length} (${f.seeds} seed${f.seeds === 1 ? '' : 's'}, smallest ${f.first.seed}): ${f.summary}`);
    say(`  replay: ${replayCommand(runArgv, f.first)}`);
  });
  if (failures.length === 0) say('no schedule failed');
  return failures.length ? 1 : 0;
}
