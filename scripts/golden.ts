// Regenerates the golden transcripts in test/golden/ from the real Xen 4.17 (the reference
// runner: Debian's hypervisor inside qemu-system-aarch64). Each file is exactly the `dN: text`
// transcript the reference run printed, one line each, nothing added.
//
//   npx tsx scripts/golden.ts            build the guests, run every case, write the files
//   npx tsx scripts/golden.ts --check    run every case, compare with the files, write nothing
//   npx tsx scripts/golden.ts NAME...    only the cases whose file name contains NAME
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runReference } from '../src/oracle/reference.ts';
import { REPO_ROOT } from '../src/oracle/prereqs.ts';
import { diffTranscripts } from '../src/oracle/transcript-diff.ts';

/** One golden file: an app run as `domains` identical domUs on one board and policy. */
export interface GoldenCase {
  app: string;
  domains: number;
  gic: 2 | 3;
  xsm: 'dummy' | 'silo';
}

export const GOLDEN_DIR = join(REPO_ROOT, 'test', 'golden');
export const FIRMWARE_DIR = join(REPO_ROOT, 'firmware');

const APPS: Array<{ app: string; domains: number }> = [
  { app: 'evtchn-conformance', domains: 1 },
  { app: 'evtchn-pair', domains: 2 },
  // evtchn-conformance after a switch to the FIFO ABI (issue 15).
  { app: 'evtchn-conformance-fifo', domains: 1 },
];

export const GOLDEN_CASES: GoldenCase[] = APPS.flatMap(({ app, domains }) =>
  ([2, 3] as const).flatMap((gic) => (['dummy', 'silo'] as const).map((xsm) => ({ app, domains, gic, xsm }))),
);

export function goldenFile(c: GoldenCase): string {
  return join(GOLDEN_DIR, `${c.app}.gicv${c.gic}.${c.xsm}.txt`);
}

export function imagePath(c: Pick<GoldenCase, 'app' | 'gic'>): string {
  return join(FIRMWARE_DIR, 'build', `xenvm-gicv${c.gic}`, `${c.app}.img`);
}

/** The transcript as a file: the lines, each ended by a newline. */
export function transcriptText(lines: string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

export function readGolden(c: GoldenCase): string[] {
  const text = readFileSync(goldenFile(c), 'utf8');
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const filters = argv.filter((a) => !a.startsWith('--'));
  const cases = GOLDEN_CASES.filter((c) => filters.length === 0 || filters.some((f) => goldenFile(c).includes(f)));

  // Build just our guests: other apps in firmware/apps may be mid-edit by someone else.
  const apps = [...new Set(cases.map((c) => c.app))].join(' ');
  execFileSync('make', ['-s', '-C', FIRMWARE_DIR, `APPS=${apps}`], { stdio: 'inherit' });

  let failures = 0;
  for (const c of cases) {
    const images = Array.from({ length: c.domains }, () => imagePath(c));
    const r = await runReference({ images, gic: c.gic, xsm: c.xsm, timeoutMs: 120_000 });
    const name = goldenFile(c).slice(REPO_ROOT.length + 1);
    if (!r.ok) {
      process.stderr.write(`${name}: reference run failed: ${r.error}\n`);
      failures++;
      continue;
    }
    if (r.ended !== 'all-results') {
      process.stderr.write(`${name}: not every domain printed its result line (${r.ended})\n`);
      failures++;
      continue;
    }
    if (check) {
      const d = diffTranscripts(readGolden(c), r.lines);
      process.stdout.write(`${name}: ${d.equal ? 'same' : 'DIFFERENT'}\n`);
      if (!d.equal) {
        for (const dom of d.domains.filter((x) => !x.equal)) process.stdout.write(dom.hunks.join('\n') + '\n');
        failures++;
      }
    } else {
      writeFileSync(goldenFile(c), transcriptText(r.lines));
      process.stdout.write(`${name}: ${r.lines.length} lines\n`);
    }
  }
  return failures === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
