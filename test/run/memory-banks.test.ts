// Memory banks from a user's devicetree (issue 14, item 1): one larger than a domain can have
// is a clear error (exit 2), not a RangeError; a small bank above 4 GiB simply works.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';

const dir = mkdtempSync(join(tmpdir(), 'memory-banks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function board(name: string, memory: string): string {
  const dts = join(dir, `${name}.dts`);
  writeFileSync(
    dts,
    `/dts-v1/;
/ {
  #address-cells = <2>; #size-cells = <2>;
  cpus { #address-cells = <1>; #size-cells = <0>; cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a57"; reg = <0>; }; };
  ${memory}
  gic: interrupt-controller@3001000 { compatible = "arm,gic-400"; #interrupt-cells = <3>; interrupt-controller;
    reg = <0 0x3001000 0 0x1000 0 0x3002000 0 0x2000>; };
};
`,
  );
  const dtb = join(dir, `${name}.dtb`);
  execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', dtb, dts]);
  return dtb;
}

it('a bank of 8 GiB is refused in one line naming the bank and the limit', async () => {
  const dtb = board('big', 'memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0x2 0x0>; };');
  const r = await runImages({ images: [image('xenvm-gicv2', 'hello')], dtb });
  expect(r.exitCode).toBe(2);
  expect(r.message).toBe(
    `d1: devicetree ${dtb}: memory@40000000: a bank of 8589934592 bytes (0x200000000) is larger than the 3072 MiB a domain can have (Xen's GUEST_RAM0_SIZE)`,
  );
});

it('a 64 MiB bank at 32 GiB runs a guest', async () => {
  const dtb = board('high', 'memory@800000000 { device_type = "memory"; reg = <0x8 0x0 0x0 0x4000000>; };');
  const r = await runImages({ images: [image('xenvm-gicv2', 'hello')], dtb });
  expect(r.lines.at(-1)).toBe('d1: Test result: SUCCESS');
  expect(r.exitCode).toBe(0);
});
