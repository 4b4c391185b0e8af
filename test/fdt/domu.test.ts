// Our generated domU devicetree against the one the real Xen 4.17 built for the same domain
// configuration (test/golden/dtb-domu.*.txt, recorded by scripts/golden-dtb.ts with
// firmware/apps/dtb-dump). Node by node first, so a failure names the node and property;
// then byte for byte, since both are laid out by libfdt's sequential-write rules.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DTB_CASES, blobFromTranscript, dtbGoldenFile, type DtbCase } from '../../scripts/golden-dtb.ts';
import {
  buildDomUDeviceTree,
  checkDomUSpec,
  DOMU_DTB_SIZE,
  tryBuildDomUDeviceTree,
  domUDeviceTree,
  domUExtendedRegions,
  memoryBanks,
  vcpuAffinity,
  type DomUDeviceTreeSpec,
} from '../../src/machine/fdt/domu.ts';
import { firstDifference, formatTree } from '../../src/machine/fdt/dump.ts';
import { parseFdt } from '../../src/machine/fdt/fdt.ts';
import { treeFromBlob } from '../../src/machine/fdt/writer.ts';

/**
 * Where Xen put the initrd in the recorded runs. Placement is the loader's business (Xen's
 * place_modules: DTB and initrd, each rounded up to 2 MiB, at the top of a bank smaller than
 * 128 MiB + their size, the initrd right after the DTB): 64 MiB ends at 0x44000000, minus
 * 2 MiB + 2 MiB puts the DTB at 0x43c00000 and the initrd at 0x43e00000.
 */
const INITRD_START_64M = 0x43e0_0000n;

function specFor(c: DtbCase): DomUDeviceTreeSpec {
  return {
    memory: memoryBanks(BigInt(c.memoryMiB) << 20n),
    vcpus: c.cpus,
    gic: c.gic,
    vpl011: true,
    bootargs: c.bootargs,
    initrd:
      c.ramdiskBytes !== undefined ? { start: INITRD_START_64M, end: INITRD_START_64M + BigInt(c.ramdiskBytes) } : undefined,
    hypervisor: c.enhanced ? {} : undefined,
  };
}

function must<T>(r: { ok: true; tree: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.tree;
}

function golden(c: DtbCase): { lines: string[]; blob: Uint8Array } {
  const lines = readFileSync(dtbGoldenFile(c), 'utf8').split('\n');
  return { lines, blob: blobFromTranscript(lines) };
}

describe('domU devicetree vs the real Xen 4.17', () => {
  for (const c of DTB_CASES) {
    describe(`dtb-domu.${c.name}`, () => {
      const g = golden(c);

      it('the golden holds the whole blob dtb-dump saw', () => {
        const size = g.lines.find((l) => l.startsWith('d1: dtb_size: '));
        expect(Number(size?.slice('d1: dtb_size: '.length))).toBe(g.blob.length);
        expect(parseFdt(g.blob).ok).toBe(true);
      });

      it('has the same nodes and properties, in the same order, with the same values', () => {
        const real = treeFromBlob(g.blob);
        const ours = treeFromBlob(buildDomUDeviceTree(specFor(c)));
        if (!real.ok) throw new Error(real.error);
        if (!ours.ok) throw new Error(ours.error);
        expect(firstDifference(ours.tree.root, real.tree.root)).toBeUndefined();
      });

      it('is byte-identical', () => {
        expect(Buffer.from(buildDomUDeviceTree(specFor(c))).equals(Buffer.from(g.blob))).toBe(true);
      });
    });
  }

  it('names the first differing node and property', () => {
    const real = treeFromBlob(golden(DTB_CASES[0]).blob);
    if (!real.ok) throw new Error(real.error);
    const other = domUDeviceTree({ ...specFor(DTB_CASES[0]), memory: memoryBanks(128n << 20n) });
    expect(firstDifference(other, real.tree.root)).toBe(
      '/memory@40000000: property #1: ours has reg = <0x0 0x40000000 0x0 0x8000000>, ' +
        'real has reg = <0x0 0x40000000 0x0 0x4000000>',
    );
    const noUart = domUDeviceTree({ ...specFor(DTB_CASES[0]), vpl011: false });
    expect(firstDifference(noUart, real.tree.root)).toMatch(/^\/: children differ/);
  });
});

describe('domU devicetree from the configuration', () => {
  const base: DomUDeviceTreeSpec = { memory: memoryBanks(64n << 20n), vcpus: 1, gic: 2, vpl011: false };
  const text = (spec: DomUDeviceTreeSpec) => formatTree(domUDeviceTree(spec));

  it('puts memory beyond GUEST_RAM0 (3 GiB) in GUEST_RAM1, in one memory node', () => {
    expect(memoryBanks(4n << 30n)).toEqual([
      { base: 0x4000_0000n, size: 0xc000_0000n },
      { base: 0x2_0000_0000n, size: 0x4000_0000n },
    ]);
    const mem = text({ ...base, memory: memoryBanks(4n << 30n) }).find((n) => n.path.startsWith('/memory'));
    expect(mem?.path).toBe('/memory@40000000');
    expect(mem?.props[1]).toBe('reg = <0x0 0x40000000 0x0 0xc0000000 0x2 0x0 0x0 0x40000000>');
  });

  it('computes the extended regions as Xen does for a domU', () => {
    // What the real Xen printed for a 64 MiB domU: 0x44000000->0x100000000, 0x200000000->0x10000000000.
    expect(domUExtendedRegions(memoryBanks(64n << 20n))).toEqual([
      { base: 0x4400_0000n, size: 0xbc00_0000n },
      { base: 0x2_0000_0000n, size: 0xfe_0000_0000n },
    ]);
    // RAM0 full: nothing left there; RAM1 starts after the domain's part, 2 MiB aligned.
    expect(domUExtendedRegions(memoryBanks(0xc000_0000n + 0x10_0000n))).toEqual([
      { base: 0x2_0020_0000n, size: 0xfe_0000_0000n - 0x20_0000n },
    ]);
    // A smaller IPA space cuts RAM1's region (39 bits end at 0x7f_ffff_ffff).
    expect(domUExtendedRegions(memoryBanks(64n << 20n), 39)[1]).toEqual({ base: 0x2_0000_0000n, size: 0x7e_0000_0000n });
  });

  it('gives vCPU n the affinity Aff1 = n / 16, Aff0 = n % 16', () => {
    expect([0, 1, 15, 16, 17, 33].map(vcpuAffinity)).toEqual([0, 1, 15, 0x100, 0x101, 0x201]);
  });

  it('writes no bootargs for an empty command line, and the host CPU compatible and clocks when given', () => {
    const t = text({ ...base, bootargs: '', cpuCompatible: ['arm,cortex-a53', 'arm,armv8'], cpuClockFrequency: 1000, timerClockFrequency: 62500000 });
    expect(t.find((n) => n.path === '/chosen')?.props).toEqual(['linux,initrd-start = <0x0 0x0>', 'linux,initrd-end = <0x0 0x0>']);
    expect(t.find((n) => n.path === '/cpus/cpu@0')?.props).toEqual([
      'compatible = "arm,cortex-a53", "arm,armv8"',
      'device_type = "cpu"',
      'reg = <0x0>',
      'clock-frequency = <0x3e8>',
      'enable-method = "psci"',
    ]);
    expect(t.find((n) => n.path === '/timer')?.props.at(-1)).toBe('clock-frequency = <0x3b9aca0>');
  });

  it('fits Xen 4.17\'s 4096-byte buffer as Xen does', () => {
    const v3: DomUDeviceTreeSpec = { ...base, gic: 3, vpl011: true };
    const uart = (dtb: Uint8Array) => formatTree(must(treeFromBlob(dtb)).root).find((n) => n.path === '/sbsa-uart@22000000');
    // 31 vCPUs: 4028 bytes, everything in.
    const r31 = tryBuildDomUDeviceTree({ ...v3, vcpus: 31 });
    expect(r31.ok && r31.dtb.length).toBe(4028);
    // 32 vCPUs: 4124 bytes with current-speed; Xen ignores that one failure (golden gicv3.32cpu).
    const r32 = tryBuildDomUDeviceTree({ ...v3, vcpus: 32 });
    expect(r32.ok && r32.dtb.length).toBe(4094);
    expect(r32.ok && uart(r32.dtb)?.props.some((p) => p.startsWith('current-speed'))).toBe(false);
    // 31 vCPUs and 51 characters of bootargs: 4101 bytes, current-speed still fits but the
    // closing tokens do not; the real Xen panicked ("Device tree generation failed (-3)").
    const r51 = tryBuildDomUDeviceTree({ ...v3, vcpus: 31, bootargs: 'x'.repeat(51) });
    expect(r51.ok).toBe(false);
    if (!r51.ok) expect(r51.error).toContain(`${DOMU_DTB_SIZE}`);
    expect(tryBuildDomUDeviceTree({ ...v3, vcpus: 40 }).ok).toBe(false);
    // Without a vpl011 there is nothing Xen may leave out.
    expect(tryBuildDomUDeviceTree({ ...v3, vpl011: false, vcpus: 36 }).ok).toBe(false);
  });

  it('rejects what Xen would not build', () => {
    expect(checkDomUSpec({ ...base, memory: [] }).ok).toBe(false);
    expect(checkDomUSpec({ ...base, vcpus: 0 }).ok).toBe(false);
    expect(checkDomUSpec({ ...base, gic: 2, vcpus: 9 }).ok).toBe(false);
    expect(checkDomUSpec({ ...base, gic: 3, vcpus: 9 }).ok).toBe(true);
    expect(() => buildDomUDeviceTree({ ...base, memory: [] })).toThrow(/memory bank/);
  });
});
