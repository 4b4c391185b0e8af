/**
 * Schedule exploration (`xenvm-emu check --seeds A..B`): the same system run under many
 * reproducible schedules, in parallel worker processes, each distinct failure reported once
 * with the smallest seed that shows it.
 *
 * A schedule is a seed. The machine's `--seed` varies every quantum's length (and which domain
 * runs first); the explorer also picks the quantum ceiling from the seed (SCHEDULE_QUANTA), so
 * a range of seeds covers coarse and fine interleavings: where a domain is preempted, and so
 * where the interrupt for its peer's notification lands in its code. The replay command names
 * both, so a plain `run` repeats the schedule exactly.
 */
import type { CheckReport } from './checker.ts';

/** Quantum ceilings the seeds cycle through (instructions): coarse to fine interleaving. */
export const SCHEDULE_QUANTA = [100_000, 20_000, 5_000, 1_000] as const;

export interface Schedule {
  seed: number;
  quantum: number;
}

/** The schedule of `seed`; a quantum the user chose stays fixed. */
export function scheduleOf(seed: number, userQuantum?: number): Schedule {
  return { seed, quantum: userQuantum ?? SCHEDULE_QUANTA[seed % SCHEDULE_QUANTA.length] };
}

/** What a worker reports for one schedule. */
export interface ScheduleResult {
  seed: number;
  quantum: number;
  exitCode: number;
  /** The run's closing message (deadlock report, failing result, limit). */
  message?: string;
  checks: Pick<CheckReport, 'domid' | 'rule' | 'pc' | 'symbol' | 'port' | 'message'>[];
}

export interface Failure {
  /** What identifies it across schedules. */
  key: string;
  /** One line saying what went wrong. */
  summary: string;
  /** The smallest seed that shows it, and its quantum. */
  first: Schedule;
  seeds: number;
}

/** The distinct failures of one schedule (none when it passed). */
export function failuresOf(r: ScheduleResult): { key: string; summary: string }[] {
  const out: { key: string; summary: string }[] = [];
  for (const c of r.checks) {
    const where = c.symbol ?? `0x${c.pc.toString(16)}`;
    const port = c.port !== undefined ? ` port=${c.port}` : '';
    out.push({ key: `check ${c.rule} d${c.domid} ${where}${port}`, summary: `check: d${c.domid} <${where}>${port} rule=${c.rule}: ${c.message}` });
  }
  if (out.length === 0 && r.exitCode !== 0) {
    // A run failure is identified by what the message says about each domain (e.g. where each
    // waits in a deadlock), without virtual times.
    const lines = (r.message ?? `exit ${r.exitCode}`).split('\n').map((l) => l.trim());
    const key = `exit ${r.exitCode}: ${lines.filter((l) => !/^(ports|virt|phys|timer)/.test(l)).join(' | ')}`;
    out.push({ key, summary: `exit ${r.exitCode}: ${lines.filter((l) => /^d\d+:/.test(l)).join('; ') || lines[0]}` });
  }
  return out;
}

/** Folds schedule results into distinct failures, each with its smallest seed, in seed order. */
export function distinctFailures(results: readonly ScheduleResult[]): Failure[] {
  const byKey = new Map<string, Failure>();
  for (const r of [...results].sort((a, b) => a.seed - b.seed)) {
    for (const f of failuresOf(r)) {
      const known = byKey.get(f.key);
      if (known) known.seeds++;
      else byKey.set(f.key, { key: f.key, summary: f.summary, first: { seed: r.seed, quantum: r.quantum }, seeds: 1 });
    }
  }
  return [...byKey.values()];
}

/** Parses "A..B" (inclusive, 0 <= A <= B < 2^32) or a single seed. */
export function parseSeedRange(text: string): { ok: true; from: number; to: number } | { ok: false; error: string } {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (!m) return { ok: false, error: `--seeds takes A..B (e.g. 0..99), not '${text}'` };
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (to < from) return { ok: false, error: `--seeds ${text}: the range is empty (B < A)` };
  if (to > 0xffffffff) return { ok: false, error: `--seeds ${text}: seeds are 32-bit` };
  return { ok: true, from, to };
}

/** A worker that runs schedules one at a time (a child process, or in-process for tests). */
export interface ScheduleWorker {
  run(s: Schedule): Promise<ScheduleResult>;
  close(): void;
}

/**
 * Runs every seed of [from, to] on `workers` workers (each takes the next seed as soon as it is
 * free) and returns the results in seed order.
 */
export async function explore(
  from: number,
  to: number,
  workers: ScheduleWorker[],
  userQuantum: number | undefined,
  onResult?: (r: ScheduleResult) => void,
): Promise<ScheduleResult[]> {
  const results: ScheduleResult[] = [];
  let next = from;
  await Promise.all(
    workers.map(async (w) => {
      while (next <= to) {
        const seed = next++;
        const r = await w.run(scheduleOf(seed, userQuantum));
        results.push(r);
        onResult?.(r);
      }
    }),
  );
  return results.sort((a, b) => a.seed - b.seed);
}
