// `xenvm-emu reference`: run guest images under the real Xen 4.17 (in QEMU) and print the
// transcript, one `dN: text` line per guest console line.
import { readFileSync, statSync } from 'node:fs';
import { checkArm64Image } from '../oracle/devicetree.ts';
import { MAX_INPUT_BYTES } from '../machine/loader/read-file.ts';
import { runReference, type ReferenceOptions } from '../oracle/reference.ts';

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

/** Shared by `reference` and `diff`: the same options describe the same run. */
export function parseReferenceArgs(argv: string[]): ParsedArgs {
  const opts: ReferenceOptions = { images: [], gic: 2, xsm: 'dummy' };
  let raw = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (a) {
      case '-h':
      case '--help':
        return { ok: true, help: true };
      case '--gic': {
        const v = value();
        if (v !== '2' && v !== '3') return { ok: false, error: `--gic takes 2 or 3, not ${v ?? 'nothing'}` };
        opts.gic = v === '2' ? 2 : 3;
        break;
      }
      case '--xsm': {
        const v = value();
        if (v !== 'dummy' && v !== 'silo') return { ok: false, error: `--xsm takes dummy or silo, not ${v ?? 'nothing'}` };
        opts.xsm = v;
        break;
      }
      case '--dom0': {
        const v = value();
        if (!v) return { ok: false, error: '--dom0 needs an image' };
        opts.dom0 = v;
        break;
      }
      case '--timeout': {
        const v = Number(value());
        if (!Number.isFinite(v) || v <= 0) return { ok: false, error: '--timeout takes a positive number of seconds' };
        opts.timeoutMs = Math.round(v * 1000);
        break;
      }
      case '--memory': {
        const v = Number(value());
        if (!Number.isInteger(v) || v <= 0) return { ok: false, error: '--memory takes a positive whole number of MiB' };
        opts.memoryMiB = v;
        break;
      }
      case '--initrd': {
        const v = value();
        if (!v) return { ok: false, error: '--initrd needs a file' };
        opts.initrd = v;
        break;
      }
      case '--cmdline': {
        const v = value();
        if (v === undefined) return { ok: false, error: '--cmdline needs a text' };
        opts.cmdline = v;
        break;
      }
      case '--cpus': {
        const v = Number(value());
        if (!Number.isInteger(v) || v <= 0 || v > 128) return { ok: false, error: '--cpus takes a whole number from 1 to 128' };
        opts.cpus = v;
        break;
      }
      case '--dom0-idle':
        opts.dom0Idle = true;
        break;
      case '--enhanced':
        opts.enhanced = true;
        break;
      case '--real-clock':
        opts.fastClock = false;
        break;
      case '--raw':
        raw = true;
        break;
      default:
        if (a.startsWith('-')) return { ok: false, error: `unknown option ${a}` };
        opts.images.push(a);
    }
  }
  if (opts.images.length === 0) return { ok: false, error: 'no IMAGE given' };
  return { ok: true, help: false, opts, raw };
}

/**
 * Why the input files of a reference run are bad input (exit 2), found before QEMU starts: each
 * must be a regular file of bounded size (a device such as /dev/zero would be read for ever),
 * and each kernel an arm64 Image, as Xen's dom0less loader needs (the oracle checks it again).
 */
export function referenceInputProblem(o: ReferenceOptions): string | undefined {
  const inputs = [...o.images.map((p) => [p, 'image'] as const), ...(o.dom0 ? [[o.dom0, 'dom0 image'] as const] : []), ...(o.initrd ? [[o.initrd, 'initrd'] as const] : [])];
  for (const [path, what] of inputs) {
    const bad = inputFileProblem(path, what);
    if (bad) return bad;
    if (what === 'initrd') continue;
    const check = checkArm64Image(new Uint8Array(readFileSync(path)), path);
    if (!check.ok) return check.error;
  }
  return undefined;
}

/** Why `path` cannot be an input file (missing, not a regular file, too large), or undefined. */
function inputFileProblem(path: string, what: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) return `cannot read ${what} '${path}': not a regular file${st.isDirectory() ? ' (a directory)' : st.isFIFO() ? ' (a FIFO)' : st.isCharacterDevice() ? ' (a character device)' : ''}`;
    if (st.size > MAX_INPUT_BYTES) return `cannot read ${what} '${path}': too large: ${st.size} bytes, limit ${MAX_INPUT_BYTES}`;
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `cannot read ${what} '${path}': ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`;
  }
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
