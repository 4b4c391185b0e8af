// Interdomain ping-pong only (the last row of `npm run bench`), for profiling and A/B runs:
//   tsx scripts/bench-pingpong.ts [repeat]      (node --cpu-prof --import tsx ... works too)
// Prints, per run: rt/s over the whole run (boot included, so a little below `npm run bench`'s
// figure), the process CPU time (steadier than wall-clock on a shared machine), the guest
// instructions per round trip, and a digest of the transcript and instruction count (same
// digest = same behaviour). BENCH_BOARD picks the board directory (default xenvm-gicv2).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT, runImages } from '../src/machine/run.ts';

const build = join(REPO_ROOT, 'firmware', 'build', process.env.BENCH_BOARD ?? 'xenvm-gicv2');
const img = (app: string) => join(build, `${app}.img`);
const repeat = Number(process.argv[2] ?? 3);
const rt = 100_000;
let best = Infinity;
for (let i = 0; i < repeat; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await runImages({ images: [img('bench-pong'), img('bench-ping')], timeoutMs: 600_000 });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode} ${r.message ?? ''}`);
  best = Math.min(best, ms);
  const digest = createHash('sha256').update(r.lines.join('\n')).update(String(r.instructions)).digest('hex').slice(0, 12);
  console.log(`run ${i}: ${ms.toFixed(0)} ms  ${Math.round(rt / (ms / 1000))} rt/s  (cpu ${cpuMs.toFixed(0)} ms)  ${(Number(r.instructions) / rt).toFixed(1)} instr/rt  digest ${digest}`);
}
console.log(`best: ${best.toFixed(0)} ms  ${Math.round(rt / (best / 1000))} rt/s  (${((best * 1000) / rt).toFixed(2)} us/rt)`);
