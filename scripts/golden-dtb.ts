// Records the devicetree the real Xen 4.17 builds for a dom0less domU: firmware/apps/dtb-dump
// run as d1 under the reference runner prints the blob it got in x0 as `dtb: <hex>` lines.
// Each golden file is exactly the `dN: text` transcript of one run, nothing added
// (test/golden/README.md, section dtb-domu.*). test/fdt/domu.test.ts compares our generated
// devicetree with the blob in each file.
//
//   npx tsx scripts/golden-dtb.ts            build dtb-dump (and hello), run every case, write the files
//   npx tsx scripts/golden-dtb.ts --check    run every case, compare with the files, write nothing
//   npx tsx scripts/golden-dtb.ts NAME...    only the cases whose file name contains NAME
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReference } from '../src/oracle/reference.ts';
import { REPO_ROOT } from '../src/oracle/prereqs.ts';

/** One domU configuration, as given to Xen in its xen,domain node. */
export interface DtbCase {
  /** File name part: test/golden/dtb-domu.<name>.txt */
  name: string;
  gic: 2 | 3;
  memoryMiB: number;
  cpus: number;
  bootargs?: string;
  /** Size of the initrd module (RAMDISK_BYTE repeated). */
  ramdiskBytes?: number;
  /**
   * xen,enhanced: Xen 4.17 then needs a dom0, which runs `hello`. That dom0 prints nothing
   * (its console is not the vpl011 our firmware writes to) and never ends, so these runs
   * stop at a short timeout and only d1's lines count.
   */
  enhanced?: boolean;
}

export const RAMDISK_BYTE = 0x52; // 'R'

export const DTB_CASES: DtbCase[] = [
  { name: 'gicv2', gic: 2, memoryMiB: 64, cpus: 1 },
  { name: 'gicv3', gic: 3, memoryMiB: 64, cpus: 1 },
  { name: 'gicv2.256m', gic: 2, memoryMiB: 256, cpus: 1 },
  { name: 'gicv3.256m', gic: 3, memoryMiB: 256, cpus: 1 },
  { name: 'gicv2.2cpu-bootargs-initrd', gic: 2, memoryMiB: 64, cpus: 2, bootargs: 'console=ttyAMA0 earlycon', ramdiskBytes: 5000 },
  { name: 'gicv3.2cpu-bootargs-initrd', gic: 3, memoryMiB: 64, cpus: 2, bootargs: 'console=ttyAMA0 earlycon', ramdiskBytes: 5000 },
  { name: 'gicv3.17cpu', gic: 3, memoryMiB: 64, cpus: 17 },
  // 4124 bytes with current-speed: over Xen's 4096-byte buffer, and Xen drops that property.
  { name: 'gicv3.32cpu', gic: 3, memoryMiB: 64, cpus: 32 },
  // 4121 bytes: the same, reached with a long command line.
  { name: 'gicv3.31cpu-longargs', gic: 3, memoryMiB: 64, cpus: 31, bootargs: 'x'.repeat(71) },
  { name: 'gicv2.enhanced', gic: 2, memoryMiB: 64, cpus: 1, enhanced: true },
  { name: 'gicv3.enhanced', gic: 3, memoryMiB: 64, cpus: 1, enhanced: true },
];

export const GOLDEN_DIR = join(REPO_ROOT, 'test', 'golden');
const FIRMWARE_DIR = join(REPO_ROOT, 'firmware');

export function dtbGoldenFile(c: DtbCase): string {
  return join(GOLDEN_DIR, `dtb-domu.${c.name}.txt`);
}

/** The blob a dtb-dump transcript carries: d1's `dtb: <hex>` lines, concatenated. */
export function blobFromTranscript(lines: string[], domain = 1): Uint8Array {
  const prefix = `d${domain}: dtb: `;
  const hex = lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length).trim()).join('');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function image(app: string, gic: 2 | 3): string {
  return join(FIRMWARE_DIR, 'build', `xenvm-gicv${gic}`, `${app}.img`);
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const filters = argv.filter((a) => !a.startsWith('--'));
  const cases = DTB_CASES.filter((c) => filters.length === 0 || filters.some((f) => dtbGoldenFile(c).includes(f)));
  execFileSync('make', ['-s', '-C', FIRMWARE_DIR, 'APPS=dtb-dump hello'], { stdio: 'inherit' });

  const tmp = mkdtempSync(join(tmpdir(), 'golden-dtb-'));
  let failures = 0;
  try {
    for (const c of cases) {
      let ramdisk: string | undefined;
      if (c.ramdiskBytes !== undefined) {
        ramdisk = join(tmp, 'initrd.bin');
        writeFileSync(ramdisk, new Uint8Array(c.ramdiskBytes).fill(RAMDISK_BYTE));
      }
      const r = await runReference({
        images: [image('dtb-dump', c.gic)],
        dom0: c.enhanced ? image('hello', c.gic) : undefined,
        gic: c.gic,
        xsm: 'dummy',
        memoryMiB: c.memoryMiB,
        cpus: c.cpus,
        cmdline: c.bootargs,
        initrd: ramdisk,
        enhanced: c.enhanced,
        timeoutMs: c.enhanced ? 20_000 : 120_000,
      });
      const name = dtbGoldenFile(c).slice(REPO_ROOT.length + 1);
      const d1Done = r.lines.includes('d1: Test result: SUCCESS');
      if (!d1Done || (!r.ok && !c.enhanced)) {
        process.stderr.write(`${name}: reference run failed: ${r.ok ? 'no SUCCESS line from d1' : r.error}\n`);
        failures++;
        continue;
      }
      const text = r.lines.map((l) => `${l}\n`).join('');
      if (check) {
        // Compare d1 only: the dom0 of the enhanced cases is just there to satisfy Xen.
        const old = readFileSync(dtbGoldenFile(c), 'utf8').split('\n');
        const same = Buffer.compare(Buffer.from(blobFromTranscript(old)), Buffer.from(blobFromTranscript(r.lines))) === 0;
        process.stdout.write(`${name}: ${same ? 'same' : 'DIFFERENT'}\n`);
        if (!same) failures++;
      } else {
        writeFileSync(dtbGoldenFile(c), text);
        process.stdout.write(`${name}: ${r.lines.length} lines, ${blobFromTranscript(r.lines).length}-byte blob\n`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return failures === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
