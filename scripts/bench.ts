// `npm run bench`: speed figures, all measured in this one run on this machine, with the ratios
// the project's goals are stated in. Not a test: nothing here passes or fails.
//
//   hypercall round trip     bench-hypercall: 1,000,000 xen_version calls, ns per call
//   compute                  bench-compute under the emulator vs. the same image on a bare
//                            Unicorn with no hooks at all (ratio = emulator / bare speed)
//   first console line       hello: from runImages() to the guest's first line
//   start-up                 hello: a whole `xenvm-emu run` as a process, from the compiled bin
//                            (dist/cli.js), min and median of several runs; beside it, when
//                            QEMU and the cached Xen are there, the real Xen's boot-to-result
//                            time for the same image (the oracle's own timing of a reference run)
//   interdomain ping-pong    bench-pong + bench-ping: 100,000 round trips
//   event delivery, FIFO     the same ping-pong with the events library on the FIFO ABI
//                            (bench-pong-fifo + bench-ping-fifo), beside 2-level runs
//   trace cost               bench-hypercall with no trace sink vs. with a sink attached
//   grant copy               bench-gntcopy: 100,000 GNTTABOP_copy calls of a whole 4 KiB page
//                            (source a grant reference), MB/s and us per call
//   protocol checker         bench-pong + bench-ping again under `run --check` (docs/check.md)
//   schedule exploration     `xenvm-emu check --seeds 0..39` on check-race (two domains), schedules/s
//   Linux boot               Debian's arm64 cloud kernel + the test initramfs (src/linux):
//                            run start to `Run /init` and to init's last line, beside the real
//                            Xen 4.17 in QEMU on the same inputs (ratio = real Xen / emulator),
//                            on the oracle's -icount clock (the goal's ratio) and on QEMU's own
//                            clock (issue 12's setting, where Xen's 3 s warning countdown runs),
//                            each also for Linux alone (its first console line to init's last)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../src/unicorn/binding.ts';
import { UcErr, UcProt, xreg, Reg } from '../src/unicorn/constants.ts';
import { SCR_HCE, SCR_NS, SCR_RW, HCR_RW, SysReg, PSTATE_DAIF, PSTATE_EL1H } from '../src/cpu/arm64.ts';
import { REPO_ROOT, runImages, type RunOptions } from '../src/machine/run.ts';
import { TraceBus } from '../src/trace/bus.ts';

const build = join(REPO_ROOT, 'firmware', 'build', 'xenvm-gicv2');
const img = (app: string) => join(build, `${app}.img`);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);

async function timed(opts: RunOptions): Promise<{ ms: number; instructions: number; firstLineMs: number }> {
  let firstLineMs = -1;
  const t0 = performance.now();
  const r = await runImages({
    timeoutMs: 600_000,
    ...opts,
    onLine: () => {
      if (firstLineMs < 0) firstLineMs = performance.now() - t0;
    },
  });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`${opts.images.join(' ')}: exit ${r.exitCode} ${r.message ?? ''}`);
  return { ms, instructions: Number(r.instructions), firstLineMs };
}

/** Best of REPEAT runs: the least disturbed by the rest of the machine. */
async function best(opts: RunOptions) {
  let b: Awaited<ReturnType<typeof timed>> | undefined;
  for (let i = 0; i < REPEAT; i++) {
    const r = await timed(opts);
    if (!b || r.ms < b.ms) b = r;
  }
  return b!;
}

/** The same Image on a bare engine: RAM mapped, HVC made a clean trap, no hooks at all. */
function bareUnicorn(path: string): number {
  const r = Engine.open();
  if (!r.ok) throw new Error(r.error);
  const e = r.engine;
  const ram = new Uint8Array(64 << 20);
  ram.set(readFileSync(path));
  if (e.mapPtr(0x40000000, ram, UcProt.ALL) !== UcErr.OK) throw new Error('map failed');
  // The UART page as plain RAM: printk's flag-register polls read 0 ("not full").
  e.map(0x22000000, 0x1000, UcProt.ALL);
  e.writeCp(SysReg.SCR_EL3, SCR_NS | SCR_HCE | SCR_RW);
  e.writeCp(SysReg.HCR_EL2, HCR_RW);
  e.writeRegN(Reg.PSTATE, PSTATE_EL1H | PSTATE_DAIF);
  e.writeRegN(xreg(0), 0);
  const t0 = performance.now();
  // With no INTR hook the first HVC (the final shutdown) stops the engine.
  const err = e.start(0x40000000, 0, 0, 0);
  const ms = performance.now() - t0;
  e.close();
  if (err !== UcErr.EXCEPTION) throw new Error(`bare run ended with ${err}, expected the final HVC`);
  return ms;
}

const row = (name: string, value: string, note = '') => console.log(`${name.padEnd(34)} ${value.padStart(16)}  ${note}`);

/**
 * The same guest under the real Xen 4.17 in QEMU, when QEMU and the cached Xen are there (never
 * installed here); undefined, with a 'skipped' row, when they are not.
 */
async function realXen(opts: Omit<import('../src/oracle/reference.ts').ReferenceOptions, 'gic' | 'xsm'>) {
  const { ensureOraclePrereqs } = await import('../src/oracle/prereqs.ts');
  const pre = await ensureOraclePrereqs({ install: false });
  if (!pre.ok) {
    row('  real Xen 4.17 in QEMU', 'skipped', pre.error.split('\n')[0]);
    return undefined;
  }
  const { runReference } = await import('../src/oracle/reference.ts');
  return runReference({ gic: 2, xsm: 'dummy', ...opts });
}

console.log(`xenvm-emu bench (best of ${REPEAT}; node ${process.version}; ${new Date().toISOString()})\n`);

// Start-up: the first console line of hello.
const hello = await best({ images: [img('hello')] });
row('first console line', `${hello.firstLineMs.toFixed(1)} ms`, `target <= 100 ms; whole hello run ${hello.ms.toFixed(1)} ms`);

// Start-up: the whole command as a user runs it, process start to exit, from the compiled bin.
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 10);
const bin = join(REPO_ROOT, 'dist', 'cli.js');
function processMs(args: string[]): { min: number; median: number } {
  const t: number[] = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    t.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}`);
  }
  t.sort((a, b) => a - b);
  return { min: t[0], median: t[t.length >> 1] };
}
if (existsSync(bin)) {
  const run = processMs([bin, 'run', img('hello')]);
  const bare = processMs(['-e', '0']);
  row('start-up: xenvm-emu run hello', `${run.min.toFixed(0)} / ${run.median.toFixed(0)} ms`, `min / median of ${STARTUP_RUNS} processes, target <= 150 ms (node -e 0: ${bare.min.toFixed(0)} / ${bare.median.toFixed(0)} ms)`);
} else {
  row('start-up: xenvm-emu run hello', 'not built', 'npm run build first (npm run bench does)');
}
// The real Xen on the same image.
{
  const ref = await realXen({ images: [img('hello')] });
  if (ref) {
    if (ref.ok && ref.timing) {
      row('  real Xen 4.17 in QEMU', `${ref.timing.totalMs.toFixed(0)} ms`, `QEMU start to every result line (first guest line at ${ref.timing.firstLineMs ?? '?'} ms; polled every 50 ms)`);
    } else {
      row('  real Xen 4.17 in QEMU', 'failed', ref.ok ? 'no timing' : ref.error.split('\n')[0]);
    }
  }
}

// Hypercalls: subtract hello's whole run as the fixed cost of building and booting a domain.
const hc = await best({ images: [img('bench-hypercall')] });
const nsPerCall = ((hc.ms - hello.ms) * 1e6) / 1_000_000;
row('hypercall round trip', `${nsPerCall.toFixed(0)} ns`, 'target <= 500 ns (1,000,000 xen_version calls)');

// Trace cost: the same loop with a sink listening. With none, producers skip building events.
let events = 0;
const bus = new TraceBus();
bus.attach(() => events++);
const traced = await best({ images: [img('bench-hypercall')], trace: bus });
row('  with a trace sink attached', `${(((traced.ms - hello.ms) * 1e6) / 1e6).toFixed(0)} ns`, `per hypercall (${Math.round(events / REPEAT)} events per run; the line above has no sink)`);

// Compute: emulator vs bare engine on the same image.
// A lone domain runs uncounted; one counted run says how many instructions the loop is.
const compInstr = (await timed({ images: [img('bench-compute')], counted: true })).instructions;
// Alternate the two so that a disturbance on this shared machine hits both alike; keep the best.
let compMs = Infinity;
let bareMs = Infinity;
for (let i = 0; i < REPEAT; i++) {
  compMs = Math.min(compMs, (await timed({ images: [img('bench-compute')] })).ms);
  bareMs = Math.min(bareMs, bareUnicorn(img('bench-compute')));
}
const comp = { ms: compMs };
const emuIps = compInstr / ((comp.ms - hello.ms) / 1000);
const bareIps = compInstr / (bareMs / 1000);
row('compute (emulator)', `${(emuIps / 1e6).toFixed(0)} M instr/s`, `${compInstr} instructions (a lone domain runs uncounted)`);
row('compute (bare Unicorn, no hooks)', `${(bareIps / 1e6).toFixed(0)} M instr/s`);
row('  ratio emulator / bare', `${((emuIps / bareIps) * 100).toFixed(1)} %`, 'target >= 90 %');

// Interdomain ping-pong.
const pp = await best({ images: [img('bench-pong'), img('bench-ping')] });
const rt = 100_000;
row('interdomain ping-pong', `${Math.round(rt / ((pp.ms - hello.ms) / 1000))} rt/s`, 'target >= 50,000 round trips/s (100,000 round trips)');
row('  guest instructions per round trip', `${Math.round(pp.instructions / rt)}`);

// The same ping-pong under the protocol checker, and schedule exploration.
{
  const { createMachine } = await import('../src/api/index.ts');
  let ms = Infinity;
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    const m = createMachine({ domains: [{ image: img('bench-pong') }, { image: img('bench-ping') }], check: true, timeoutMs: 600_000 });
    const r = await m.run();
    await m.close();
    if ((r.checks ?? []).length || r.exitCode !== 0) console.error(`bench: ping-pong under --check: exit ${r.exitCode}, ${(r.checks ?? []).length} reports`);
    ms = Math.min(ms, performance.now() - t0);
  }
  row('  under run --check', `${Math.round(rt / ((ms - hello.ms) / 1000))} rt/s`, `${((ms - hello.ms) / (pp.ms - hello.ms)).toFixed(2)}x the time without the checker`);
  const cli = existsSync(join(REPO_ROOT, 'dist', 'cli.js')) ? join(REPO_ROOT, 'dist', 'cli.js') : join(REPO_ROOT, 'bin', 'xenvm-emu.mjs');
  const seeds = 40;
  const x = spawnSync(process.execPath, [cli, 'check', '--seeds', `0..${seeds - 1}`, img('check-race'), img('check-race')], { encoding: 'utf8', timeout: 600_000 });
  const m = /in ([\d.]+) s on (\d+) workers?: ([\d.]+) schedules\/s; (\d+) failed/.exec(x.stderr);
  if (m) row('schedule exploration', `${m[3]} sched/s`, `check --seeds 0..${seeds - 1} on check-race (2 domains), ${m[2]} worker processes, ${m[1]} s; ${m[4]} schedules hit its race`);
  else row('schedule exploration', 'failed', x.stderr.split('\n')[0]);
}

// Event delivery under FIFO vs 2-level: the same ping-pong with the events library on the FIFO
// ABI (bench-pong-fifo + bench-ping-fifo; issue 15). Runs alternate with fresh 2-level runs so
// that the shared machine's load hits both alike; best of each.
{
  let fifoBest: Awaited<ReturnType<typeof timed>> | undefined;
  let twoBest = pp;
  for (let i = 0; i < REPEAT; i++) {
    const f = await timed({ images: [img('bench-pong-fifo'), img('bench-ping-fifo')] });
    if (!fifoBest || f.ms < fifoBest.ms) fifoBest = f;
    const t = await timed({ images: [img('bench-pong'), img('bench-ping')] });
    if (t.ms < twoBest.ms) twoBest = t;
  }
  const perSec = (ms: number) => rt / ((ms - hello.ms) / 1000);
  const fifoRt = perSec(fifoBest!.ms);
  const twoRt = perSec(twoBest.ms);
  row('event delivery, FIFO ABI', `${Math.round(fifoRt)} rt/s`, `ping-pong on FIFO; 2-level alongside: ${Math.round(twoRt)} rt/s`);
  row('  FIFO / 2-level', `${((fifoRt / twoRt) * 100).toFixed(0)} %`, `${Math.round(fifoBest!.instructions / rt)} vs ${Math.round(twoBest.instructions / rt)} guest instructions per round trip`);
}

// Grant copies: one 4 KiB page per GNTTABOP_copy, the source a grant reference.
const gc = await best({ images: [img('bench-gntcopy')] });
const copies = 100_000;
const gcSec = (gc.ms - hello.ms) / 1000;
row('grant copy (4 KiB per call)', `${((copies * 4096) / gcSec / 1e6).toFixed(0)} MB/s`, `${((gcSec * 1e6) / copies).toFixed(2)} us per GNTTABOP_copy (100,000 calls)`);

// Linux: Debian's arm64 cloud kernel with the test's initramfs (src/linux/boot-case.ts), from
// the start of the run to `Run /init as init process` and to init's last line, beside the real
// Xen 4.17 in QEMU on the same kernel, initramfs and command line when QEMU is there.
{
  const { linuxBootOptions, prepareLinuxBoot } = await import('../src/linux/boot-case.ts');
  const assets = await prepareLinuxBoot({ fetch: false });
  if (!assets.ok) {
    row('Linux boot to init', 'skipped', `${assets.error.split('\n')[0]} (npm test fetches the kernel)`);
  } else {
    const INIT_LAST = /init: powering off/;
    const RUN_INIT = /Run \/init as init process/;
    const base = { ...linuxBootOptions(assets), timeoutMs: 300_000 };
    let emu: { firstMs?: number; runInitMs?: number; lastMs?: number; cpuMs?: number; instructions?: number; ok: boolean; why?: string } = { ok: false };
    for (let i = 0; i < Math.min(REPEAT, 3); i++) {
      const t0 = performance.now();
      // CPU time beside the wall clock: on this shared machine the wall clock also counts the
      // time other processes hold the cores; the process's own CPU time moves much less.
      const c0 = process.cpuUsage();
      const seen: { firstMs?: number; runInitMs?: number; lastMs?: number; cpuMs?: number } = {};
      const r = await runImages({
        ...base,
        onLine: (l) => {
          seen.firstMs ??= performance.now() - t0;
          if (seen.runInitMs === undefined && RUN_INIT.test(l)) seen.runInitMs = performance.now() - t0;
          if (seen.lastMs === undefined && INIT_LAST.test(l)) {
            seen.lastMs = performance.now() - t0;
            const c = process.cpuUsage(c0);
            seen.cpuMs = (c.user + c.system) / 1000;
          }
        },
      });
      if (r.exitCode !== 0 || seen.lastMs === undefined) {
        emu = { ok: false, why: `exit ${r.exitCode}: ${(r.message ?? r.status.at(-1) ?? '').split('\n')[0]}` };
        break;
      }
      if (!emu.ok || seen.lastMs < emu.lastMs!) emu = { ok: true, ...seen, instructions: Number(r.instructions) };
    }
    if (!emu.ok) {
      row('Linux boot to init (emulator)', 'fails', emu.why);
    } else {
      row('Linux boot: Run /init (emulator)', `${emu.runInitMs!.toFixed(0)} ms`, `best of ${Math.min(REPEAT, 3)}; ${assets.kernel.pkg} ${assets.kernel.version}`);
      row('Linux boot: init done (emulator)', `${emu.lastMs!.toFixed(0)} ms`, `to "init: powering off"; ${emu.cpuMs!.toFixed(0)} ms of CPU, ${emu.instructions} guest instructions in the whole run`);
      row('  Linux alone (emulator)', `${(emu.lastMs! - emu.firstMs!).toFixed(0)} ms`, "from Linux's first console line to init's last");
    }
    // The real Xen under QEMU, two ways, as many runs each as the emulator had, the best kept:
    // QEMU's wall time moves by a second or more between runs on this machine (4.2-5.5 s
    // measured), and one run would flatter either side.
    // - The oracle's instruction-counted clock (-icount shift=7,sleep=off, what `reference` and
    //   the goldens use): Xen's boot-warning countdown ("3... 2... 1...", three seconds of
    //   busy-waiting) and idle time cost nothing there, but the guest's clock runs at 128 ns an
    //   instruction, so Linux takes far more timer interrupts than on a real clock.
    // - QEMU's own clock: the way issue 12 measured "QEMU + real Xen" (Linux's own clock says
    //   `Run /init` at about 1 s there; under -icount shift=7 it says 122 s). Xen's countdown
    //   then takes its three real seconds, before Linux starts: a fixed wait, not emulation
    //   speed, so the row says when it was there, and "Linux alone" compares the guest's part.
    const clocks = [
      { fastClock: true, label: '-icount', how: '-icount shift=7,sleep=off, as the oracle runs', goal: true },
      { fastClock: false, label: 'QEMU clock', how: "QEMU's own clock", goal: false },
    ];
    for (const clock of clocks) {
      let best: { init?: number; last: number; first?: number; guestInit?: string; countdown: boolean } | undefined;
      let failure: string | undefined;
      let skipped = false;
      for (let i = 0; i < Math.min(REPEAT, 3) && failure === undefined; i++) {
        const ref = await realXen({ ...linuxBootOptions(assets), timeoutMs: 300_000, fastClock: clock.fastClock });
        if (!ref) {
          skipped = true;
          break;
        }
        if (!ref.ok || !ref.timing) {
          failure = ref.ok ? 'no line timing' : ref.error.split('\n')[0];
          break;
        }
        const timing = ref.timing;
        const index = (re: RegExp) => ref.lines.findIndex((l) => re.test(l));
        const at = (k: number) => (k < 0 ? undefined : timing.lineAtMs[k]);
        const last = at(index(INIT_LAST));
        if (last === undefined) failure = 'no "init: powering off" line';
        else if (!best || last < best.last) {
          const k = index(RUN_INIT);
          best = {
            init: at(k),
            last,
            first: at(0),
            guestInit: /\[\s*([\d.]+)\]/.exec(ref.lines[k] ?? '')?.[1],
            countdown: /3\.\.\. 2\.\.\. 1\.\.\./.test(ref.raw),
          };
        }
      }
      if (skipped) break;
      if (failure !== undefined) {
        row(`  Xen 4.17 in QEMU, ${clock.label}`, 'failed', failure);
      } else if (best) {
        const wait = best.countdown && !clock.fastClock ? "; includes Xen's 3 s boot-warning countdown" : '';
        row(`  Xen 4.17, ${clock.label}: Run /init`, `${best.init?.toFixed(0) ?? '?'} ms`, `real Xen in QEMU, best of ${Math.min(REPEAT, 3)}; ${clock.how}; QEMU start to the line (polled every 50 ms); the guest's clock says ${best.guestInit ?? '?'} s`);
        row(`  Xen 4.17, ${clock.label}: init done`, `${best.last.toFixed(0)} ms`, `${wait.slice(2)}`);
        if (best.first !== undefined) row(`  Linux alone, ${clock.label}`, `${(best.last - best.first).toFixed(0)} ms`, "from Linux's first console line to init's last");
        if (emu.ok) {
          row(
            `  ratio Xen/emulator, ${clock.label}`,
            `${(best.last / emu.lastMs!).toFixed(2)}x`,
            `best against best, to init's last line${clock.goal ? '; target >= 3x' : wait}`,
          );
          if (best.first !== undefined) {
            row(`  ratio, Linux alone, ${clock.label}`, `${((best.last - best.first) / (emu.lastMs! - emu.firstMs!)).toFixed(2)}x`, 'the guest\'s part only');
          }
        }
      }
    }
  }
}
