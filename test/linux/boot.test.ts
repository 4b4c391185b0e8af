// Issue 12: Debian's unmodified arm64 cloud kernel boots as a plain dom0less domU with the
// test initramfs, and its console says the same as under the real Xen 4.17
// (test/golden/linux-cloud.gicv{2,3}.txt), compared on the lines that matter
// (src/linux/boot-compare.ts).
//
// Which cases run:
//   - the emulator case always (a few seconds per GIC), in-process, without --dtb;
//   - the live real-Xen case takes about 5 s per GIC in QEMU; it runs with XENVM_LINUX_LIVE=1
//     when QEMU, dtc and Debian's Xen are present (a re-check of the goldens, not a
//     speed test: timing is in scripts/linux-golden.ts);
//   - everything is skipped when the kernel cannot be fetched (the reason is in the name).
import { describe, expect, it } from 'vitest';
import { compareLinuxBoot, describeLinuxBootComparison } from '../../src/linux/boot-compare.ts';
import { linuxBootOptions, prepareLinuxBoot } from '../../src/linux/boot-case.ts';
import { runReference } from '../../src/oracle/reference.ts';
import { runImages } from '../../src/machine/run.ts';
import { linuxLiveSkip } from '../helpers/oracle-live.ts';
import { goldenText } from '../helpers/firmware.ts';

const assets = await prepareLinuxBoot();
const noAssets = assets.ok ? '' : ` [skipped: ${assets.error.split('\n')[0]}]`;
/** The real Xen's transcript: one vCPU (issue 12), or two (`cpus = <2>`, issue 15). */
const golden = (gic: 2 | 3, cpus = 1) => goldenText(`linux-cloud.gicv${gic}${cpus > 1 ? `.${cpus}cpu` : ''}.txt`);

describe.each([
  [2, 1],
  [3, 1],
  [2, 2],
  [3, 2],
] as const)('Linux cloud kernel, GICv%i, %i vCPU(s)', (gic, cpus) => {
  it.skipIf(!assets.ok)(`boots under the emulator to /init and powers off, like under the real Xen${noAssets}`, async () => {
    if (!assets.ok) return;
    // No --dtb: the domU gets the devicetree Xen 4.17 builds for it (no hypervisor node).
    const r = await runImages({
      ...linuxBootOptions(assets),
      gic,
      cpus,
      timeoutMs: 120_000,
    });
    const c = compareLinuxBoot(golden(gic, cpus), r.lines);
    expect(c.ok, `${describeLinuxBootComparison(c)}\nstatus: ${r.status.join('\n')}`).toBe(true);
    expect(r.lines.some((l) => l.endsWith(`smp: Brought up 1 node, ${cpus} CPU${cpus > 1 ? 's' : ''}`))).toBe(true);
    expect(r.status).toContain('d1 shut down (poweroff)');
    expect(r.exitCode).toBe(0);
  }, 150_000);
});

const liveSkip = linuxLiveSkip('takes ~5 s in QEMU', noAssets);

describe.each([
  [2, 1],
  [3, 1],
  [2, 2],
  [3, 2],
] as const)('Linux cloud kernel under the live real Xen, GICv%i, %i vCPU(s)', (gic, cpus) => {
  it.skipIf(liveSkip !== '')(`still prints what the golden file says${liveSkip}`, async () => {
    if (!assets.ok) return;
    const r = await runReference({
      ...linuxBootOptions(assets),
      gic,
      cpus,
      xsm: 'dummy',
      timeoutMs: 120_000,
    });
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    const c = compareLinuxBoot(golden(gic, cpus), r.lines);
    expect(c.ok, describeLinuxBootComparison(c)).toBe(true);
  }, 150_000);
});
