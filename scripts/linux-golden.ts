// Boots Debian's arm64 cloud kernel with the test initramfs under the real Xen 4.17 (QEMU),
// for GICv2 and GICv3, several times each; prints the wall time from QEMU's start to /init's
// last line, checks that the runs agree on the lines that matter, lists the whole lines
// that differ between runs, and with --write records test/golden/linux-cloud.gicvN.txt.
//
//   npx tsx scripts/linux-golden.ts [--runs N] [--gic 2|3] [--write]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareLinuxBoot, describeLinuxBootComparison, kernelText, linuxProblems } from '../src/linux/boot-compare.ts';
import { linuxBootOptions, prepareLinuxBoot } from '../src/linux/boot-case.ts';
import { INITRAMFS_RECIPE } from '../src/linux/initramfs.ts';
import { REPO_ROOT } from '../src/oracle/prereqs.ts';
import { runReference } from '../src/oracle/reference.ts';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 3) || 3;
const gics: (2 | 3)[] = argv.includes('--gic') ? [Number(argv[argv.indexOf('--gic') + 1]) as 2 | 3] : [2, 3];
const write = argv.includes('--write');

const assets = await prepareLinuxBoot();
if (!assets.ok) {
  console.error(`linux-golden: ${assets.error}`);
  process.exit(1);
}
console.log(`kernel:    ${assets.kernel.pkg} ${assets.kernel.version} (${assets.kernel.image})`);
console.log(`initramfs: ${assets.initrd}\n           ${INITRAMFS_RECIPE}`);
console.log(`cmdline:   ${assets.cmdline}; memory ${assets.memoryMiB} MiB; ${new Date().toISOString()}\n`);

let failed = false;
for (const gic of gics) {
  const all: string[][] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runReference({
      ...linuxBootOptions(assets),
      gic,
      xsm: 'dummy',
      timeoutMs: 300_000,
    });
    if (!r.ok) {
      console.error(`GICv${gic} run ${i + 1}: ${r.error}`);
      failed = true;
      break;
    }
    const lastInit = r.lines.map((l) => kernelText(l)).lastIndexOf('init: powering off');
    const at = lastInit >= 0 ? r.timing?.lineAtMs[lastInit] : undefined;
    console.log(
      `GICv${gic} run ${i + 1}: ${r.lines.length} lines, /init's last line at ${at ?? '?'} ms, ` +
        `run over at ${r.timing?.totalMs} ms (${r.ended})`,
    );
    const problems = linuxProblems(r.lines);
    if (problems.length > 0) console.log(`  problems: ${problems.join(' | ')}`);
    all.push(r.lines);
  }
  if (all.length === 0) continue;
  for (let i = 1; i < all.length; i++) {
    const c = compareLinuxBoot(all[0], all[i]);
    if (!c.ok) {
      failed = true;
      console.log(`GICv${gic} run ${i + 1} differs from run 1:\n${describeLinuxBootComparison(c)}`);
    }
    const a = all[0].map(kernelText);
    const b = all[i].map(kernelText);
    const onlyA = a.filter((l) => !b.includes(l));
    const onlyB = b.filter((l) => !a.includes(l));
    const moved = a.filter((l, k) => b[k] !== l).length;
    console.log(`GICv${gic} run ${i + 1} vs run 1 (timestamps stripped): ${onlyA.length} lines only in run 1, ${onlyB.length} only in run ${i + 1}, ${moved} positions differ`);
    for (const l of onlyA) console.log(`  - ${l}`);
    for (const l of onlyB) console.log(`  + ${l}`);
  }
  if (write) {
    const file = join(REPO_ROOT, 'test', 'golden', `linux-cloud.gicv${gic}.txt`);
    writeFileSync(file, all[0].join('\n') + '\n');
    console.log(`wrote ${file}`);
  }
}
process.exit(failed ? 1 : 0);
