// `xenvm-emu demo`: the README's main job. Two domains exchange event-channel notifications
// through the Zephyr events API (firmware/apps/demo-offer, demo-bind); their console lines and
// every hypercall they make are printed in the order they happen.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runImages } from '../machine/run.ts';
import { TraceBus } from '../trace/bus.ts';
import { formatEvent } from '../trace/text.ts';
import { parseArgs } from './args.ts';

export const DEMO_USAGE = `usage: xenvm-emu demo [--gic 2|3] [--xsm dummy|silo] [--events] [--quiet]

Runs firmware/build/xenvm-gicvN/demo-offer.img as d1 and demo-bind.img as d2: d1 offers an
unbound event channel to d2, d2 binds it, and they ping-pong notifications. Console lines
("dN: text") and one trace line per hypercall are printed in the order they happen.

options:
  --gic 2|3          board and GIC version (default 2)
  --xsm dummy|silo   XSM policy (silo forbids the domU<->domU channel: both domains skip)
  --events           trace every event (event-channel state, IRQ line, scheduling), not only hypercalls
  --quiet            console lines only
  -h, --help         this text

Build the images with 'make -C firmware' (npm run demo does it).`;

export async function demoMain(argv: string[]): Promise<number> {
  const p = parseArgs(argv, {
    '--gic': { value: true },
    '--xsm': { value: true },
    '--events': { value: false },
    '--quiet': { value: false },
    '--help': { value: false },
    '-h': { value: false },
  });
  if (!p.ok || p.positional.length) {
    process.stderr.write(`xenvm-emu demo: ${p.ok ? `unexpected argument '${p.positional[0]}'` : p.error}\n\n${DEMO_USAGE}\n`);
    return 2;
  }
  const o = p.options;
  if (o.has('--help') || o.has('-h')) {
    process.stdout.write(DEMO_USAGE + '\n');
    return 0;
  }
  const gic = o.get('--gic')?.[0] ?? '2';
  const xsm = o.get('--xsm')?.[0] ?? 'dummy';
  if (gic !== '2' && gic !== '3') return usage(`--gic takes 2 or 3, not '${gic}'`);
  if (xsm !== 'dummy' && xsm !== 'silo') return usage(`--xsm takes dummy or silo, not '${xsm}'`);
  const dir = join(REPO_ROOT, 'firmware', 'build', `xenvm-gicv${gic}`);
  const images = ['demo-offer.img', 'demo-bind.img'].map((f) => join(dir, f));
  const missing = images.find((f) => !existsSync(f));
  if (missing) {
    process.stderr.write(`xenvm-emu demo: ${missing} is not built; run 'make -C firmware' (or 'npm run demo')\n`);
    return 2;
  }
  const trace = new TraceBus();
  const all = o.has('--events');
  if (!o.has('--quiet')) {
    trace.attach((e) => {
      if (e.kind === 'hypercall' || (all && e.kind !== 'console')) process.stdout.write(`    ${formatEvent(e)}\n`);
    });
  }
  process.stdout.write(`xenvm-emu demo: d1 = demo-offer, d2 = demo-bind, GICv${gic}, XSM ${xsm}\n`);
  const r = await runImages({
    images,
    xsm,
    trace,
    timeoutMs: 60_000,
    onLine: (l) => process.stdout.write(l + '\n'),
    onStatus: (s) => process.stdout.write(`xenvm-emu: ${s}\n`),
  });
  if (r.message) process.stdout.write(`xenvm-emu: ${r.message}\n`);
  process.stdout.write(
    `xenvm-emu demo: ${r.exitCode === 0 ? 'both domains finished' : `ended with status ${r.exitCode}`} after ${r.instructions} guest instructions (${r.wallMs.toFixed(0)} ms)\n`,
  );
  return r.exitCode;
}

function usage(error: string): number {
  process.stderr.write(`xenvm-emu demo: ${error}\n\n${DEMO_USAGE}\n`);
  return 2;
}
