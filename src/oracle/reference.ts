// The real-Xen oracle: boots Debian's Xen 4.17 arm64 under qemu-system-aarch64 (TCG) with
// the given images as dom0less domUs, and returns what they printed as `dN: text` lines,
// the same transcript our emulator prints.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkArm64Image, chosenFragment, layoutModules, xenBootargs } from './devicetree.ts';
import { DEFAULT_MONITOR, RunMonitor } from './monitor.ts';
import { DEFAULT_CACHE_DIR, defaultDeps, ensureOraclePrereqs } from './prereqs.ts';
import { DEFAULT_MACHINE, bootArgs, dumpDtbArgs, runToEnd, startQemu, type MachineSpec } from './qemu.ts';

export interface ReferenceOptions {
  images: string[];
  dom0?: string;
  /** The dom0 never finishes (e.g. firmware/apps/idle): the run ends when the domUs do. */
  dom0Idle?: boolean;
  gic: 2 | 3;
  xsm: 'dummy' | 'silo';
  memoryMiB?: number;
  /** A ramdisk for every domU (a `multiboot,ramdisk` module each), e.g. a Linux initramfs. */
  initrd?: string;
  /** Every domU kernel's command line (`bootargs` on its kernel module). */
  cmdline?: string;
  /** vCPUs per domU (default 1). */
  cpus?: number;
  /** Mark every domU `xen,enhanced` (Xen 4.17 then wants a dom0). */
  enhanced?: boolean;
  timeoutMs?: number;
  cacheDir?: string;
  /**
   * Instruction-counted virtual clock (QEMU -icount shift=7,sleep=off), default true:
   * fast (no 3 s countdown) and repeatable. false runs Xen on the host's real clock.
   */
  fastClock?: boolean;
}

export type ReferenceResult =
  | {
      ok: true;
      lines: string[];
      raw: string;
      ended: 'all-results' | 'all-shutdown' | 'mixed';
      /** Milliseconds from QEMU start to the first guest line and to the end of the run. */
      timing?: { firstLineMs: number | undefined; totalMs: number; lineAtMs: number[] };
    }
  | { ok: false; error: string; lines: string[]; raw: string };

const TICK_MS = 50;

function fail(error: string, lines: string[] = [], raw = ''): ReferenceResult {
  return { ok: false, error, lines, raw };
}

/** Validates the options and reads the images; nothing is started yet. */
async function loadImages(
  opts: ReferenceOptions,
): Promise<{ ok: true; bytes: Uint8Array[]; initrdSize?: number } | { ok: false; error: string }> {
  if (opts.images.length === 0) return { ok: false, error: 'no guest images given' };
  if (opts.gic !== 2 && opts.gic !== 3) return { ok: false, error: `gic must be 2 or 3, not ${String(opts.gic)}` };
  if (opts.xsm !== 'dummy' && opts.xsm !== 'silo') return { ok: false, error: `xsm must be dummy or silo, not ${String(opts.xsm)}` };
  const files = [...opts.images, ...(opts.dom0 ? [opts.dom0] : [])];
  const bytes: Uint8Array[] = [];
  for (const f of files) {
    if (!existsSync(f)) return { ok: false, error: `image not found: ${f}` };
    const b = new Uint8Array(await readFile(f));
    const check = checkArm64Image(b, f);
    if (!check.ok) return check;
    bytes.push(b);
  }
  if (opts.initrd === undefined) return { ok: true, bytes };
  if (!existsSync(opts.initrd)) return { ok: false, error: `initrd not found: ${opts.initrd}` };
  const initrdSize = (await readFile(opts.initrd)).length;
  if (initrdSize === 0) return { ok: false, error: `initrd is empty: ${opts.initrd}` };
  return { ok: true, bytes, initrdSize };
}

export async function runReference(opts: ReferenceOptions): Promise<ReferenceResult> {
  const memoryMiB = opts.memoryMiB ?? 64;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const cacheDir = opts.cacheDir ?? DEFAULT_CACHE_DIR;

  const images = await loadImages(opts);
  if (!images.ok) return fail(images.error);
  // Modules in order: the domU kernels, the dom0 kernel, then one ramdisk copy per domU.
  const ramdisks = images.initrdSize !== undefined ? opts.images.map(() => images.initrdSize!) : [];
  const sizes = [...images.bytes.map((b) => b.length), ...ramdisks];
  const layout = layoutModules(sizes);
  if (!layout.ok) return fail(layout.error);
  const guestTotal = memoryMiB * (opts.images.length + (opts.dom0 ? 1 : 0));
  if (!Number.isInteger(memoryMiB) || memoryMiB < 2 || guestTotal > 768) {
    return fail(`memoryMiB ${memoryMiB} x ${opts.images.length} domains does not fit the 1 GiB board`);
  }

  const pre = await ensureOraclePrereqs({ install: true }, defaultDeps(cacheDir));
  if (!pre.ok) return fail(pre.error);

  const dir = await mkdtemp(join(tmpdir(), 'xenvm-oracle-'));
  try {
    const machine: MachineSpec = {
      ...DEFAULT_MACHINE,
      gic: opts.gic,
      icount: opts.fastClock === false ? undefined : DEFAULT_MACHINE.icount,
    };

    // 1. QEMU's own devicetree for exactly this machine.
    const baseDtb = join(dir, 'virt.dtb');
    const dumped = await runToEnd(pre.qemu, dumpDtbArgs(machine, baseDtb));
    if (!existsSync(baseDtb)) return fail(`QEMU did not dump its DTB: ${dumped.stderr.trim()}`);
    const dts = await runToEnd('dtc', ['-q', '-I', 'dtb', '-O', 'dts', baseDtb]);
    if (dts.code !== 0) return fail(`dtc could not decompile QEMU's DTB: ${dts.stderr.trim()}`);

    // 2. Our /chosen: Xen's command line and one xen,domain per image.
    const modules = layout.modules;
    const firstRamdisk = images.bytes.length;
    const domUs = opts.images.map((_, i) => ({
      memoryMiB,
      cpus: opts.cpus ?? 1,
      kernel: modules[i],
      bootargs: opts.cmdline,
      ramdisk: ramdisks.length > 0 ? modules[firstRamdisk + i] : undefined,
      enhanced: opts.enhanced,
    }));
    const fragment = chosenFragment({
      bootargs: xenBootargs({ xsm: opts.xsm, dom0MemMiB: opts.dom0 ? memoryMiB : undefined }),
      domUs,
      dom0: opts.dom0 ? { kernel: modules[opts.images.length] } : undefined,
    });
    const dtsPath = join(dir, 'xen.dts');
    await writeFile(dtsPath, dts.stdout + fragment);
    const dtbPath = join(dir, 'xen.dtb');
    const compiled = await runToEnd('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', dtbPath, dtsPath]);
    if (compiled.code !== 0) return fail(`dtc could not compile the Xen DTB: ${compiled.stderr.trim()}`);

    // 3. Boot and watch the console.
    const files = [...opts.images, ...(opts.dom0 ? [opts.dom0] : []), ...ramdisks.map(() => opts.initrd!)].map((f) => resolve(f));
    const loaders = files.map((file, i) => ({ file, addr: modules[i].addr }));
    return await boot(pre.qemu, bootArgs(machine, pre.xen, dtbPath, loaders), opts, timeoutMs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function boot(qemu: string, args: string[], opts: ReferenceOptions, timeoutMs: number): Promise<ReferenceResult> {
  const monitor = new RunMonitor({ ...DEFAULT_MONITOR, domUs: opts.images.length, dom0: opts.dom0 !== undefined, dom0Idle: opts.dom0Idle });
  const started = Date.now();
  let raw = '';
  let stderr = '';
  const session = startQemu(qemu, args, (chunk, stream) => {
    if (stream === 'stderr') {
      stderr += chunk;
      return;
    }
    raw += chunk;
    monitor.feed(chunk, Date.now() - started);
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void session.exited.then((e) => (exit = e));

  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, TICK_MS));
      const now = Date.now() - started;
      if (monitor.fatal) return fail(monitor.fatal, monitor.finalLines(), raw);
      if (monitor.done(now)) {
        return {
          ok: true,
          lines: monitor.finalLines(),
          raw,
          ended: monitor.ended(),
          timing: {
            firstLineMs: monitor.firstGuestLineAt,
            totalMs: now,
            lineAtMs: [...monitor.lineAtMs],
          },
        };
      }
      if (exit) {
        const why = monitor.hwdomShutdown
          ? ` (dom0 shut down and Xen took the board with it: "${monitor.hwdomShutdown}")`
          : stderr.trim()
            ? `: ${stderr.trim()}`
            : '';
        return fail(
          `QEMU exited (code ${exit.code}, signal ${exit.signal}) before every domain finished` +
            ` (unfinished: ${monitor.unfinished().map((d) => `d${d}`).join(', ')})${why}`,
          monitor.finalLines(),
          raw,
        );
      }
      if (now >= timeoutMs) {
        return fail(
          `timeout after ${timeoutMs} ms: ${monitor.unfinished().map((d) => `d${d}`).join(', ')} neither printed ` +
            `"Test result:" nor shut down`,
          monitor.finalLines(),
          raw,
        );
      }
      const keys = monitor.tick(now);
      if (keys) session.write(keys);
    }
  } finally {
    await session.kill();
  }
}
