import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeBoard } from '../../src/machine/fdt/board.ts';
import { compileDts, haveDtc } from './dtc.ts';

/** A QEMU-virt-like board; `gic` and `xen` are spliced in. */
function board(opts: { gic: string; xen?: string; extra?: string }): string {
  return `/dts-v1/;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  interrupt-parent = <&gic>;
  cpus {
    #address-cells = <1>;
    #size-cells = <0>;
    cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a57"; reg = <0>; };
    cpu@1 { device_type = "cpu"; compatible = "arm,cortex-a57"; reg = <1>; };
  };
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x4000000>; };
  ${opts.gic}
  timer {
    compatible = "arm,armv8-timer";
    interrupts = <1 13 0xf08>, <1 14 0xf08>, <1 11 0xf08>, <1 10 0xf08>;
  };
  pl011@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x0 0x9000000 0x0 0x1000>; interrupts = <0 1 4>; };
  chosen { stdout-path = "/pl011@9000000"; };
  ${opts.xen ?? ''}
  ${opts.extra ?? ''}
};
`;
}

const GICV2 = `gic: intc@8000000 {
    compatible = "arm,cortex-a15-gic";
    #interrupt-cells = <3>;
    interrupt-controller;
    reg = <0x0 0x8000000 0x0 0x10000>, <0x0 0x8010000 0x0 0x10000>;
  };`;

const GICV3 = `gic: intc@8000000 {
    compatible = "arm,gic-v3";
    #interrupt-cells = <3>;
    interrupt-controller;
    #redistributor-regions = <1>;
    reg = <0x0 0x8000000 0x0 0x10000>, <0x0 0x80a0000 0x0 0xf60000>;
  };`;

const xenNode = (spec: string) => `hypervisor {
    compatible = "xen,xen-4.17", "xen,xen";
    reg = <0x0 0x38000000 0x0 0x1000000>;
    interrupts = <${spec}>;
  };`;

describe.skipIf(!haveDtc)('describeBoard', () => {
  it('describes a GICv2 board with the default Xen PPI (INTID 31)', () => {
    const r = describeBoard(compileDts(board({ gic: GICV2, xen: xenNode('1 15 0xf08') })));
    expect(r).toEqual({
      ok: true,
      value: {
        memory: [{ base: 0x40000000, size: 0x4000000 }],
        gic: { version: 2, distBase: 0x8000000, cpuBase: 0x8010000 },
        xenEventIrq: { intid: 31, type: 'level', cpuMask: 0xf, raw: [1, 15, 0xf08] },
        hypervisorNode: true,
        uart: { base: 0x9000000, compatible: 'arm,pl011' },
        timer: { ppis: [29, 30, 27, 26] },
        cpus: 2,
      },
    });
  });

  it('describes a GICv3 board', () => {
    const r = describeBoard(compileDts(board({ gic: GICV3, xen: xenNode('1 15 0xf08') })));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.gic).toEqual({ version: 3, distBase: 0x8000000, redistBase: 0x80a0000, redistSize: 0xf60000 });
    expect(r.value.xenEventIrq.intid).toBe(31);
  });

  it('takes the Xen PPI from the devicetree: PPI 14 is INTID 30, edge-triggered', () => {
    const r = describeBoard(compileDts(board({ gic: GICV2, xen: xenNode('1 14 0x101') })));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.xenEventIrq).toEqual({ intid: 30, type: 'edge', cpuMask: 1, raw: [1, 14, 0x101] });
  });

  it('maps an SPI to INTID n+32', () => {
    const r = describeBoard(compileDts(board({ gic: GICV3, xen: xenNode('0 5 4') })));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.xenEventIrq).toEqual({ intid: 37, type: 'level', cpuMask: 0, raw: [0, 5, 4] });
  });

  it('a board without a xen,xen node (a plain domU) gets the event PPI Xen uses anyway', () => {
    const r = describeBoard(compileDts(board({ gic: GICV2 })));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.hypervisorNode).toBe(false);
    expect(r.value.xenEventIrq).toEqual({ intid: 31, type: 'level', cpuMask: 0xf, raw: [1, 15, 0xf08] });
  });

  it('reports a board without a GIC', () => {
    const noGic = `gic: intc@8000000 { compatible = "acme,pic"; #interrupt-cells = <3>; interrupt-controller; reg = <0 0 0 0>; };`;
    expect(describeBoard(compileDts(board({ gic: noGic, xen: xenNode('1 15 0xf08') })))).toEqual({
      ok: false,
      error:
        'devicetree has no GIC: no enabled node compatible with arm,gic-v3, arm,gic-400, arm,cortex-a15-gic, arm,cortex-a9-gic, arm,cortex-a7-gic',
    });
  });

  it('reports an unsupported interrupt type, an out-of-range PPI and missing trigger bits', () => {
    expect(describeBoard(compileDts(board({ gic: GICV2, xen: xenNode('2 15 0xf08') })))).toEqual({
      ok: false,
      error: '/hypervisor (xen,xen): unsupported GIC interrupt type 2 (expected 0 = SPI or 1 = PPI)',
    });
    expect(describeBoard(compileDts(board({ gic: GICV2, xen: xenNode('1 16 0xf08') })))).toEqual({
      ok: false,
      error: '/hypervisor (xen,xen): PPI 16 out of range (0-15)',
    });
    expect(describeBoard(compileDts(board({ gic: GICV2, xen: xenNode('1 15 0xf00') })))).toEqual({
      ok: false,
      error: '/hypervisor (xen,xen): interrupt flags 0xf00 have trigger bits 0x0, expected 1/2 (edge) or 4/8 (level)',
    });
  });

  it('reports a xen,xen node without interrupts, and one routed to another controller', () => {
    const bare = `hypervisor { compatible = "xen,xen"; };`;
    expect(describeBoard(compileDts(board({ gic: GICV2, xen: bare })))).toEqual({
      ok: false,
      error: "/hypervisor (xen,xen): no 'interrupts' property (the event-channel interrupt)",
    });
    const other = `pic: pic { interrupt-controller; #interrupt-cells = <3>; };
      hypervisor { compatible = "xen,xen"; interrupt-parent = <&pic>; interrupts = <1 15 0xf08>; };`;
    expect(describeBoard(compileDts(board({ gic: GICV2, xen: other })))).toEqual({
      ok: false,
      error: '/hypervisor (xen,xen): interrupt goes to /pic, not to the GIC /intc@8000000',
    });
  });

  it('reports a board without memory', () => {
    const src = board({ gic: GICV2, xen: xenNode('1 15 0xf08') }).replace(/memory@40000000 \{[^}]*\};/, '');
    expect(describeBoard(compileDts(src))).toEqual({
      ok: false,
      error: 'devicetree has no memory: no node under / with device_type = "memory" and a non-empty reg',
    });
  });

  it('passes parse errors through', () => {
    expect(describeBoard(new Uint8Array(64))).toEqual({
      ok: false,
      error: 'fdt: bad magic 0x0 at offset 0x0 (expected 0xd00dfeed)',
    });
  });
});

/** QEMU's own virt DTB plus a xen,xen node, the board the real-Xen oracle runs on. */
function qemuVirtDtb(gicVersion: 2 | 3): Uint8Array | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-dtb-'));
  try {
    const f = join(dir, 'virt.dtb');
    const q = spawnSync(
      'qemu-system-aarch64',
      ['-machine', `virt,virtualization=on,gic-version=${gicVersion},dumpdtb=${f}`, '-cpu', 'cortex-a57', '-smp', '2', '-m', '256M', '-nographic', '-nic', 'none'],
      { timeout: 10000 },
    );
    if (q.status !== 0) return undefined;
    const dts = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', '-q', f], { encoding: 'utf8' }).stdout;
    // dtc merges a second root block into the first; the node inherits the root's interrupt-parent.
    return compileDts(dts + '\n/ { hypervisor { compatible = "xen,xen-4.17", "xen,xen"; interrupts = <1 15 0xf08>; }; };\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const haveQemu = haveDtc && spawnSync('qemu-system-aarch64', ['--version']).status === 0;

describe.skipIf(!haveQemu)('describeBoard on QEMU virt devicetrees', () => {
  it.each([2, 3] as const)('GICv%d', (v) => {
    const dtb = qemuVirtDtb(v);
    expect(dtb).toBeDefined();
    const r = describeBoard(dtb!);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.memory).toEqual([{ base: 0x40000000, size: 256 << 20 }]);
    expect(r.value.gic).toEqual(
      v === 2
        ? { version: 2, distBase: 0x8000000, cpuBase: 0x8010000 }
        : { version: 3, distBase: 0x8000000, redistBase: 0x80a0000, redistSize: 0xf60000 },
    );
    expect(r.value.xenEventIrq.intid).toBe(31);
    expect(r.value.uart).toEqual({ base: 0x9000000, compatible: 'arm,pl011' });
    expect(r.value.timer).toEqual({ ppis: [29, 30, 27, 26] });
    expect(r.value.cpus).toBe(2);
  });
});
