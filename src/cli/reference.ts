// `xenvm-emu reference`: run guest images under the real Xen 4.17 (in QEMU) and print the
// transcript, one `dN: text` line per guest console line.
import { checkArm64Image } from '../oracle/devicetree.ts';
import { readImageFile } from '../machine/loader/read-file.ts';
import { runReference, type ReferenceOptions } from '../oracle/reference.ts';
import { intOption, parseArgs, type OptionSpec } from './args.ts';

export const REFERENCE_USAGE = `usage: xenvm-emu reference [options] IMAGE...

Boots the arm64 Image files as dom0less domUs d1, d2, ... under Debian's Xen 4.17
(qemu-system-aarch64, TCG) and prints what each guest printed, as "dN: text" lines.

options:
  --gic 2|3            QEMU virt GIC version (default 2)
  --xsm dummy|silo     Xen's XSM policy (default dummy)
  --dom0 IMAGE         also boot IMAGE as the privileged dom0 (best effort; d0 lines)
  --dom0-idle          the dom0 never finishes (e.g. apps/idle): end when the domUs do
  --timeout S          give up after S seconds (default 60)
  --memory MiB         memory per domain (default 64)
  --initrd FILE        give every domU FILE as its ramdisk (multiboot,ramdisk)
  --cmdline TEXT       every domU kernel's command line (bootargs of its kernel module)
  --cpus N             vCPUs per domU (default 1)
  --enhanced           mark every domU xen,enhanced (hypervisor node; Xen 4.17 wants --dom0)
  --real-clock         run on the host clock instead of QEMU's instruction counter
  --raw                print Xen's whole console to stderr after the run
  -h, --help           this text`;

export type ParsedArgs =
  | { ok: true; help: true }
  | { ok: true; help: false; opts: ReferenceOptions; raw: boolean }
  | { ok: false; error: string };

const SPEC: Record<string, OptionSpec> = {
  '--gic': { value: true },
  '--xsm': { value: true },
  '--dom0': { value: true },
  '--dom0-idle': { value: false },
  '--timeout': { value: true },
  '--memory': { value: true },
  '--initrd': { value: true },
  '--cmdline': { value: true },
  '--cpus': { value: true },
  '--enhanced': { value: false },
  '--real-clock': { value: false },
  '--raw': { value: false },
  '--help': { value: false },
  '-h': { value: false },
};

/** Shared by `reference` and `diff`: the same options describe the same run. */
export function parseReferenceArgs(argv: string[]): ParsedArgs {
  const p = parseArgs(argv, SPEC);
  if (!p.ok) return p;
  const o = p.options;
  const one = (k: string) => o.get(k)?.[0];
  if (o.has('--help') || o.has('-h')) return { ok: true, help: true };
  const opts: ReferenceOptions = { images: p.positional, gic: 2, xsm: 'dummy' };
  const gic = one('--gic');
  if (gic !== undefined) {
    if (gic !== '2' && gic !== '3') return { ok: false, error: `--gic takes 2 or 3, not ${gic}` };
    opts.gic = gic === '2' ? 2 : 3;
  }
  const xsm = one('--xsm');
  if (xsm !== undefined) {
    if (xsm !== 'dummy' && xsm !== 'silo') return { ok: false, error: `--xsm takes dummy or silo, not ${xsm}` };
    opts.xsm = xsm;
  }
  const dom0 = one('--dom0');
  if (dom0 !== undefined) {
    if (!dom0) return { ok: false, error: '--dom0 needs an image' };
    opts.dom0 = dom0;
  }
  const timeout = one('--timeout');
  if (timeout !== undefined) {
    // Seconds, fractions allowed (QEMU runs are long; a test may want 2.5 s).
    const v = Number(timeout);
    if (!Number.isFinite(v) || v <= 0) return { ok: false, error: '--timeout takes a positive number of seconds' };
    opts.timeoutMs = Math.round(v * 1000);
  }
  const memory = one('--memory');
  if (memory !== undefined) {
    const v = Number(memory);
    if (!Number.isInteger(v) || v <= 0) return { ok: false, error: '--memory takes a positive whole number of MiB' };
    opts.memoryMiB = v;
  }
  const initrd = one('--initrd');
  if (initrd !== undefined) {
    if (!initrd) return { ok: false, error: '--initrd needs a file' };
    opts.initrd = initrd;
  }
  const cmdline = one('--cmdline');
  if (cmdline !== undefined) opts.cmdline = cmdline;
  const cpus = intOption(one('--cpus'), '--cpus', 1, 128);
  if (!cpus.ok) return cpus;
  if (cpus.value !== undefined) opts.cpus = cpus.value;
  if (o.has('--dom0-idle')) opts.dom0Idle = true;
  if (o.has('--enhanced')) opts.enhanced = true;
  if (o.has('--real-clock')) opts.fastClock = false;
  if (opts.images.length === 0) return { ok: false, error: 'no IMAGE given' };
  return { ok: true, help: false, opts, raw: o.has('--raw') };
}

/**
 * Why the input files of a reference run are bad input (exit 2), found before QEMU starts: each
 * is read as the emulator reads it (readImageFile: a regular, non-empty file of bounded size;
 * a device such as /dev/zero would be read for ever), and each kernel must be an arm64 Image,
 * as Xen's dom0less loader needs (the oracle checks it again).
 */
export function referenceInputProblem(o: ReferenceOptions): string | undefined {
  const inputs = [...o.images.map((p) => [p, 'image'] as const), ...(o.dom0 ? [[o.dom0, 'dom0 image'] as const] : []), ...(o.initrd ? [[o.initrd, 'initrd'] as const] : [])];
  for (const [path, what] of inputs) {
    const bytes = readImageFile(path, what);
    if (!bytes.ok) return bytes.error;
    if (what === 'initrd') continue;
    const check = checkArm64Image(bytes.value, path);
    if (!check.ok) return check.error;
  }
  return undefined;
}

export async function referenceMain(argv: string[]): Promise<number> {
  const args = parseReferenceArgs(argv);
  if (!args.ok) {
    process.stderr.write(`xenvm-emu reference: ${args.error}\n${REFERENCE_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(REFERENCE_USAGE + '\n');
    return 0;
  }
  const bad = referenceInputProblem(args.opts);
  if (bad) {
    process.stderr.write(`xenvm-emu reference: ${bad}\n`);
    return 2;
  }
  const r = await runReference(args.opts);
  for (const l of r.lines) process.stdout.write(l + '\n');
  if (args.raw) process.stderr.write(r.raw);
  if (!r.ok) {
    process.stderr.write(`xenvm-emu reference: ${r.error}\n`);
    return 1;
  }
  return 0;
}
