/**
 * The project's own board files (firmware/boards/*.dts) through describeBoard: the
 * machine must read from them exactly what the guest firmware assumes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeBoard } from '../../src/machine/fdt/board.ts';
import { haveDtc } from './dtc.ts';

const BOARDS = join(import.meta.dirname, '../../firmware/boards');
const present = haveDtc && existsSync(join(BOARDS, 'xenvm-gicv2.dts'));

function compileBoard(name: string): Uint8Array {
  const r = spawnSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-i', BOARDS, join(BOARDS, `${name}.dts`)]);
  if (r.status !== 0) throw new Error(`dtc ${name}: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

describe.skipIf(!present)('firmware board devicetrees', () => {
  const common = {
    memory: [{ base: 0x40000000, size: 0x4000000 }],
    uart: { base: 0x22000000, compatible: 'arm,sbsa-uart' },
    cpus: 1,
  };

  it('xenvm-gicv2', () => {
    expect(describeBoard(compileBoard('xenvm-gicv2'))).toEqual({
      ok: true,
      value: {
        ...common,
        gic: { version: 2, distBase: 0x3001000, cpuBase: 0x3002000 },
        xenEventIrq: { intid: 31, type: 'level', cpuMask: 0xf, raw: [1, 15, 0xf08] },
        hypervisorNode: true,
        timer: { ppis: [29, 30, 27] },
      },
    });
  });

  it('xenvm-gicv3', () => {
    expect(describeBoard(compileBoard('xenvm-gicv3'))).toEqual({
      ok: true,
      value: {
        ...common,
        gic: { version: 3, distBase: 0x3001000, redistBase: 0x3020000, redistSize: 0x1000000 },
        xenEventIrq: { intid: 31, type: 'level', cpuMask: 0xf, raw: [1, 15, 0xf08] },
        hypervisorNode: true,
        timer: { ppis: [29, 30, 27] },
      },
    });
  });

  it('xenvm-gicv3-ppi14 moves the event interrupt to INTID 30', () => {
    const r = describeBoard(compileBoard('xenvm-gicv3-ppi14'));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.xenEventIrq).toEqual({ intid: 30, type: 'level', cpuMask: 0xf, raw: [1, 14, 0xf08] });
    expect(r.value.timer).toEqual({ ppis: [29, 28, 27] });
  });
});
