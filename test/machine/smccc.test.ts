// SMCCC/PSCI as the machine answers HVC #0 and SMC #0, checked two ways: the function on its
// own (Arm DEN0028 / DEN0022 details), and firmware/apps/smccc-probe end to end against what the
// same binary printed under the real Xen 4.17 (test/golden/smccc-probe.gicv2|3.txt).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PSCI, SMCCC, smcccCall, vaffinityToVcpuid, type SmcccDomain } from '../../src/machine/smccc.ts';
import { runImages, REPO_ROOT } from '../../src/machine/run.ts';
import { golden, image } from '../helpers/firmware.ts';
import { describeLiveGolden } from '../helpers/oracle-live.ts';

const ONE: SmcccDomain = { nrVcpus: 1, affinityOf: (v) => BigInt(v), online: () => true };
const call = (x0: bigint | number, x1: bigint | number = 0, x2: bigint | number = 0, x3: bigint | number = 0) =>
  smcccCall({ x: [BigInt(x0), BigInt(x1), BigInt(x2), BigInt(x3)] }, ONE);
const x0 = (v: number) => ({ kind: 'return', regs: [BigInt.asUintN(64, BigInt(v))] });

describe('smcccCall', () => {
  it('reports PSCI 1.1 and SMCCC 1.1, whatever the upper half of x0 holds', () => {
    expect(call(PSCI.VERSION)).toEqual(x0(0x10001));
    expect(call(0xdeadbeef_00000000n | 0x84000000n)).toEqual(x0(0x10001));
    expect(call(SMCCC.VERSION)).toEqual(x0(0x10001));
    expect(call(0xffffffff_00000000n | 0x80000000n)).toEqual(x0(0x10001));
  });
  it('powers off and resets the domain; CPU_OFF takes the vCPU down; CPU_SUSPEND waits', () => {
    expect(call(PSCI.SYSTEM_OFF)).toEqual({ kind: 'shutdown', reason: 'poweroff' });
    expect(call(PSCI.SYSTEM_RESET)).toEqual({ kind: 'shutdown', reason: 'reboot' });
    expect(call(PSCI.CPU_OFF)).toEqual({ kind: 'cpu-off' });
    expect(call(1)).toEqual({ kind: 'cpu-off' }); // PSCI 0.1 CPU_OFF
    expect(call(PSCI.CPU_SUSPEND64, 0x10000, 0x40000000)).toEqual({ kind: 'suspend' });
  });
  it('answers NOT_SUPPORTED (-1) to what Xen does not handle, and says so', () => {
    for (const fid of [0x84000050, 0x8600ff01, 0xc4000000, 0x84000012, 0x80000002]) {
      expect(call(fid)).toEqual({ ...x0(-1), unhandled: fid });
    }
  });
  it('ARCH_FEATURES: workarounds 1 and 2 available, 3 not', () => {
    expect(call(SMCCC.ARCH_FEATURES, SMCCC.ARCH_WORKAROUND_1)).toEqual(x0(0));
    expect(call(SMCCC.ARCH_FEATURES, SMCCC.ARCH_WORKAROUND_2)).toEqual(x0(0));
    expect(call(SMCCC.ARCH_FEATURES, SMCCC.ARCH_WORKAROUND_3)).toEqual(x0(-1));
    expect(call(SMCCC.ARCH_FEATURES, 0x80000002)).toEqual(x0(-1));
  });
  it('CPU_ON and AFFINITY_INFO on a one-vCPU domain', () => {
    expect(call(PSCI.CPU_ON64, 1, 0x40000000)).toEqual(x0(-2));
    expect(call(PSCI.CPU_ON64, 0, 0x40000000)).toEqual(x0(-4));
    expect(call(PSCI.CPU_ON64, 0, 0x40000001)).toEqual(x0(-9));
    expect(call(PSCI.AFFINITY_INFO64, 0, 0)).toEqual(x0(0));
    expect(call(PSCI.AFFINITY_INFO64, 1, 0)).toEqual(x0(1));
    expect(call(PSCI.AFFINITY_INFO64, 0x105, 2)).toEqual(x0(0)); // level 2 ignores Aff1 and Aff0
    expect(call(PSCI.AFFINITY_INFO64, 0, 4)).toEqual(x0(-2));
  });
});

describe('smcccCall on a domain with several vCPUs', () => {
  // 20 vCPUs, Xen's virtual affinity (Aff0 = n % 16, Aff1 = n / 16); 0 and 17 are up.
  const up = new Set([0, 17]);
  const MANY: SmcccDomain = { nrVcpus: 20, affinityOf: (v) => BigInt((v & 15) | ((v >> 4) << 8)), online: (v) => up.has(v) };
  const on = (...x: (bigint | number)[]) => smcccCall({ x: [BigInt(x[0]), BigInt(x[1] ?? 0), BigInt(x[2] ?? 0), BigInt(x[3] ?? 0)] }, MANY, 0);
  it('decodes the target as Xen does: Aff0 | Aff1 << 4, Aff2/Aff3 ignored', () => {
    expect(vaffinityToVcpuid(0x102n)).toBe(18);
    expect(vaffinityToVcpuid(0x1_0000_0003n)).toBe(3);
    expect(vaffinityToVcpuid(0x10000n)).toBe(0);
    expect(vaffinityToVcpuid(0x11n)).toBe(17); // Aff0 past 15 is not refused
  });
  it('CPU_ON starts a vCPU that is down, with its context id; errors in Xen\'s order', () => {
    expect(on(PSCI.CPU_ON64, 0x102, 0x40001000, 0xabc)).toEqual({ kind: 'cpu-on', vcpu: 18, entry: 0x40001000n, contextId: 0xabcn });
    expect(on(PSCI.CPU_ON, 0x101, 0x40001000, 7)).toEqual(x0(-4)); // vCPU 17 is up
    expect(on(PSCI.CPU_ON64, 0x104, 0x40001001)).toEqual(x0(-2)); // vCPU 20 does not exist, before the Thumb check
    expect(on(PSCI.CPU_ON64, 0x102, 0x40001001)).toEqual(x0(-9));
    expect(on(PSCI.CPU_ON64, 0x10000, 0x40001000)).toEqual(x0(-4)); // Aff2 ignored: vCPU 0
    // PSCI 0.1 CPU_ON: no context id; ALREADY_ON becomes INVALID_PARAMETERS.
    expect(on(2, 1, 0x40001000, 0xabc)).toEqual({ kind: 'cpu-on', vcpu: 1, entry: 0x40001000n, contextId: 0n });
    expect(on(2, 0x11, 0x40001000)).toEqual(x0(-2));
  });
  it('AFFINITY_INFO looks at every vCPU in the named affinity group', () => {
    expect(on(PSCI.AFFINITY_INFO64, 0x101, 0)).toEqual(x0(0));
    expect(on(PSCI.AFFINITY_INFO64, 0x102, 0)).toEqual(x0(1));
    expect(on(PSCI.AFFINITY_INFO64, 0x1ff, 1)).toEqual(x0(0)); // Aff1 = 1 holds vCPU 17
    expect(on(PSCI.AFFINITY_INFO64, 0x005, 1)).toEqual(x0(0)); // Aff1 = 0 holds vCPU 0
  });
});

describe('smccc-probe: emulator transcript equals the real Xen 4.17 golden file', () => {
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', join(REPO_ROOT, 'firmware'), 'build/xenvm-gicv2/smccc-probe.img', 'build/xenvm-gicv3/smccc-probe.img'], { stdio: 'inherit' });
  });
  for (const gic of [2, 3] as const) {
    it(`GICv${gic}: every answer, the SMC #1 undefined instruction, CPU_SUSPEND, SYSTEM_OFF`, async () => {
      const status: string[] = [];
      const r = await runImages({ images: [image(gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3', 'smccc-probe')], gic, timeoutMs: 20_000, onStatus: (t) => status.push(t) });
      expect(r.exitCode, r.message).toBe(0);
      expect(r.lines).toEqual(golden(`smccc-probe.gicv${gic}.txt`));
      // Xen's log of the same run names these, in this order ("d1v0 Unhandled SMC/HVC: 0x...").
      expect(status.filter((s) => s.includes('Unhandled SMC/HVC')).map((s) => s.split(': ')[1])).toEqual([
        '0x80000002', '0x8600ff00', '0x8600ff01', '0x8600ff03', '0x8200ff01', '0x8300ff01', '0xbf00ff01', '0x84000050',
        '0x84000051', '0xc4000000', '0x84000007', '0x3', '0x84000012', '0xc400000e', '0x8400000b', '0x84000050',
      ]);
      expect(status.some((s) => /d1 shut down \(poweroff\)/.test(s))).toBe(true);
    });
  }
});

describeLiveGolden({ app: 'smccc-probe', image: () => image('xenvm-gicv3', 'smccc-probe'), gic: 3, golden: () => golden('smccc-probe.gicv3.txt') });
