// Issue 15: Debian's cloud kernel as an *enhanced* dom0less domU (xen,enhanced: a hypervisor
// node, grant tables, xenstore parameters) brings up its Xen support, and prints the same
// lines as under the real Xen 4.17 (test/golden/linux-cloud-enhanced.gicv{2,3}.txt, recorded
// with `reference --enhanced --dom0 idle.img --dom0-idle`): "Xen 4.17 support found", the grant
// table lines, the event-channel ABI, "Xen: initializing cpu0", the balloon driver, then /init
// and a clean power-off. Linux chooses the FIFO ABI, as under the real Xen.
import { describe, expect, it } from 'vitest';
import { compareLinuxBoot, describeLinuxBootComparison } from '../../src/linux/boot-compare.ts';
import { linuxBootOptions, prepareLinuxBoot } from '../../src/linux/boot-case.ts';
import { runReference } from '../../src/oracle/reference.ts';
import { runImages } from '../../src/machine/run.ts';
import { linuxLiveSkip } from '../helpers/oracle-live.ts';
import { goldenText, image } from '../helpers/firmware.ts';

const assets = await prepareLinuxBoot();
const noAssets = assets.ok ? '' : ` [skipped: ${assets.error.split('\n')[0]}]`;
const golden = (gic: 2 | 3, cpus = 1) => goldenText(`linux-cloud-enhanced.gicv${gic}${cpus > 1 ? `.${cpus}cpu` : ''}.txt`);

describe.each([2, 3] as const)('Linux cloud kernel as an enhanced domU, GICv%i', (gic) => {
  it.skipIf(!assets.ok)(`brings up its Xen support beside an idle dom0, like under the real Xen${noAssets}`, async () => {
    if (!assets.ok) return;
    const r = await runImages({
      ...linuxBootOptions(assets),
      dom0: image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'idle'),
      domainOptions: ['d1,enhanced=yes'],
      gic,
      timeoutMs: 120_000,
    });
    // Linux takes the FIFO ABI when Xen offers it, as under the real Xen.
    expect(r.lines.some((l) => l.includes('xen:events: Using FIFO-based ABI'))).toBe(true);
    const c = compareLinuxBoot(golden(gic), r.lines, { xen: true });
    expect(c.ok, `${describeLinuxBootComparison(c)}\nstatus: ${r.status.join('\n')}`).toBe(true);
    expect(c.compared).toBeGreaterThan(20);
    expect(r.status).toContain('d1 shut down (poweroff)');
    // The idle dom0 waits forever with interrupts masked: the run ends as a deadlock naming it alone.
    expect(r.exitCode).toBe(4);
    expect(r.message).toMatch(/d0: WFI/);
    expect(r.message).not.toMatch(/d1:/);
  }, 150_000);

  it.skipIf(!assets.ok)(`boots without a dom0 too (later Xen's no-xenstore mode; Xen 4.17 panics)${noAssets}`, async () => {
    if (!assets.ok) return;
    const r = await runImages({
      ...linuxBootOptions(assets),
      enhanced: true,
      gic,
      timeoutMs: 120_000,
    });
    const c = compareLinuxBoot(golden(gic), r.lines, { xen: true });
    expect(c.ok, describeLinuxBootComparison(c)).toBe(true);
    expect(r.exitCode).toBe(0);
  }, 150_000);
});

// With two vCPUs (golden recorded with `reference --cpus 2 --enhanced --dom0 idle.img
// --dom0-idle`): vCPU 1 comes up through PSCI CPU_ON, registers its vcpu_info and FIFO control
// block, and Linux prints "Xen: initializing cpu1" and "smp: Brought up 1 node, 2 CPUs".
describe.each([2, 3] as const)('Linux cloud kernel as an enhanced domU with 2 vCPUs, GICv%i', (gic) => {
  it.skipIf(!assets.ok)(`brings up Xen support on both CPUs beside an idle dom0, like under the real Xen${noAssets}`, async () => {
    if (!assets.ok) return;
    const r = await runImages({
      ...linuxBootOptions(assets),
      dom0: image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'idle'),
      domainOptions: ['d1,enhanced=yes,cpus=2'],
      gic,
      timeoutMs: 120_000,
    });
    const c = compareLinuxBoot(golden(gic, 2), r.lines, { xen: true });
    expect(c.ok, `${describeLinuxBootComparison(c)}\nstatus: ${r.status.join('\n')}`).toBe(true);
    for (const want of ['Xen: initializing cpu1', 'smp: Brought up 1 node, 2 CPUs', 'xen:events: Using FIFO-based ABI']) {
      expect(r.lines.some((l) => l.includes(want)), want).toBe(true);
    }
    expect(r.status).toContain('d1 shut down (poweroff)');
    expect(r.exitCode).toBe(4);
    expect(r.message).toMatch(/d0: WFI/);
  }, 150_000);
});

const liveSkip = linuxLiveSkip('takes ~10 s per GIC in QEMU', noAssets);

describe.each([
  [2, 1],
  [3, 1],
  [2, 2],
  [3, 2],
] as const)('Linux cloud kernel as an enhanced domU under the live real Xen, GICv%i, %i vCPU(s)', (gic, cpus) => {
  it.skipIf(liveSkip !== '')(`still prints what the golden file says${liveSkip}`, async () => {
    if (!assets.ok) return;
    const r = await runReference({
      ...linuxBootOptions(assets),
      dom0: image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'idle'),
      dom0Idle: true,
      enhanced: true,
      cpus: cpus > 1 ? cpus : undefined,
      gic,
      xsm: 'dummy',
      timeoutMs: 600_000,
    });
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    const c = compareLinuxBoot(golden(gic, cpus), r.lines, { xen: true });
    expect(c.ok, describeLinuxBootComparison(c)).toBe(true);
  }, 650_000);
});
