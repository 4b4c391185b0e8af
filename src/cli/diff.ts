// `xenvm-emu diff`: run the same images under our emulator and under the real Xen, and
// print, per domain, where their transcripts differ. Exit 0 only when they are equal.
import { runImages } from '../machine/run.ts';
import { runReference } from '../oracle/reference.ts';
import { diffTranscripts, formatDiff } from '../oracle/transcript-diff.ts';
import { REFERENCE_USAGE, parseReferenceArgs, referenceInputProblem } from './reference.ts';

export const DIFF_USAGE = REFERENCE_USAGE.replace('xenvm-emu reference', 'xenvm-emu diff').replace(
  /Boots the arm64[\s\S]*?lines\./,
  'Runs the images under xenvm-emu and under the real Xen 4.17 (in QEMU) and prints\n' +
    'the per-domain differences of the two transcripts ("-" real Xen, "+" xenvm-emu).\n' +
    'Exit status: 0 equal, 1 different, 2 a run failed or bad arguments.',
);

export async function diffMain(argv: string[]): Promise<number> {
  const args = parseReferenceArgs(argv);
  if (!args.ok) {
    process.stderr.write(`xenvm-emu diff: ${args.error}\n${DIFF_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(DIFF_USAGE + '\n');
    return 0;
  }
  const o = args.opts;
  if (o.cpus !== undefined) {
    // The emulator's domains have one vCPU: its side would silently run another configuration.
    process.stderr.write('xenvm-emu diff: --cpus has no emulator side yet; use reference and run\n');
    return 2;
  }
  const bad = referenceInputProblem(o);
  if (bad) {
    process.stderr.write(`xenvm-emu diff: ${bad}\n`);
    return 2;
  }
  // The real Xen run is the slow one; start it first and run the emulator meanwhile.
  const reference = runReference(o);
  const emulated = await runImages({
    images: o.images,
    dom0: o.dom0,
    gic: o.gic,
    xsm: o.xsm,
    timeoutMs: o.timeoutMs,
    memoryMiB: o.memoryMiB,
    initrd: o.initrd,
    cmdline: o.cmdline,
    enhanced: o.enhanced,
  });
  const real = await reference;
  if (args.raw) process.stderr.write(real.raw);
  let failed = false;
  if (!real.ok) {
    process.stderr.write(`xenvm-emu diff: real Xen run failed: ${real.error}\n`);
    failed = true;
  }
  if (emulated.exitCode !== 0) {
    process.stderr.write(
      `xenvm-emu diff: emulator exited with ${emulated.exitCode}${emulated.message ? `: ${emulated.message}` : ''}\n`,
    );
  }
  const d = diffTranscripts(real.lines, emulated.lines);
  process.stdout.write(formatDiff(d, 'real Xen 4.17', 'xenvm-emu') + '\n');
  if (failed) return 2;
  return d.equal ? 0 : 1;
}
