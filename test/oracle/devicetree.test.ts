import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MODULE_BASE,
  checkArm64Image,
  chosenFragment,
  layoutModules,
  xenBootargs,
} from '../../src/oracle/devicetree.ts';

const hasDtc = ['/usr/bin/dtc', '/bin/dtc', '/usr/local/bin/dtc'].some(existsSync);

describe('layoutModules', () => {
  it('places modules from MODULE_BASE on 2 MiB boundaries', () => {
    const r = layoutModules([0x3008, 0x200000, 5]);
    expect(r).toEqual({
      ok: true,
      modules: [
        { addr: MODULE_BASE, size: 0x3008 },
        { addr: MODULE_BASE + 0x200000, size: 0x200000 },
        { addr: MODULE_BASE + 0x400000, size: 5 },
      ],
    });
  });

  it('refuses modules that would run into the top of RAM', () => {
    expect(layoutModules([0x3000_0000]).ok).toBe(false);
  });
});

describe('xenBootargs', () => {
  it('names the console, the XSM policy and full logging', () => {
    expect(xenBootargs({ xsm: 'silo' })).toBe(
      'console=dtuart dtuart=/pl011@9000000 xsm=silo loglvl=all guest_loglvl=all',
    );
    expect(xenBootargs({ xsm: 'dummy', dom0MemMiB: 64 })).toMatch(/xsm=dummy .* dom0_mem=64M$/);
  });
});

describe('chosenFragment', () => {
  const spec = {
    bootargs: 'console=dtuart xsm=dummy',
    domUs: [
      { memoryMiB: 64, cpus: 1, kernel: { addr: 0x5000_0000, size: 0x3008 } },
      { memoryMiB: 32, cpus: 1, kernel: { addr: 0x5020_0000, size: 0x100 } },
    ],
  };

  it('describes one xen,domain per image, in order, with memory in KiB', () => {
    const f = chosenFragment(spec);
    expect(f).toContain('xen,xen-bootargs = "console=dtuart xsm=dummy";');
    expect(f.indexOf('domU1 {')).toBeLessThan(f.indexOf('domU2 {'));
    expect(f).toContain('memory = <0x0 0x10000>;');
    expect(f).toContain('memory = <0x0 0x8000>;');
    expect(f).toContain('reg = <0x0 0x50000000 0x0 0x3008>;');
    expect(f).toContain('reg = <0x0 0x50200000 0x0 0x100>;');
    expect(f.match(/vpl011;/g)).toHaveLength(2);
    expect(f.match(/compatible = "multiboot,kernel", "multiboot,module";/g)).toHaveLength(2);
  });

  it('adds bootargs, an initrd module and xen,enhanced when asked', () => {
    const f = chosenFragment({
      ...spec,
      domUs: [{ ...spec.domUs[0], bootargs: 'console=ttyAMA0', ramdisk: { addr: 0x5040_0000, size: 0x1388 }, enhanced: true }],
    });
    expect(f).toContain('xen,enhanced = "enabled";');
    expect(f).toMatch(/module@50000000 \{\n\t+compatible = "multiboot,kernel", "multiboot,module";\n.*\n\t+bootargs = "console=ttyAMA0";/);
    expect(f).toMatch(/module@50400000 \{\n\t+compatible = "multiboot,ramdisk", "multiboot,module";\n\t+reg = <0x0 0x50400000 0x0 0x1388>;/);
    expect(chosenFragment(spec)).not.toMatch(/enhanced|\tbootargs = |ramdisk/);
  });

  it('puts a dom0 kernel directly under /chosen', () => {
    const f = chosenFragment({ ...spec, domUs: [], dom0: { kernel: { addr: 0x5000_0000, size: 0x10 } } });
    expect(f).not.toContain('xen,domain');
    expect(f).toMatch(/chosen \{[\s\S]*module@50000000 \{/);
  });

  it('gives a domU a bootargs on its kernel module and a multiboot,ramdisk module', () => {
    const f = chosenFragment({
      bootargs: 'x',
      domUs: [
        {
          memoryMiB: 256,
          cpus: 1,
          kernel: { addr: 0x5000_0000, size: 0x1a0_0000 },
          bootargs: 'console=ttyAMA0 quote="a"',
          ramdisk: { addr: 0x51a0_0000, size: 0x3e0 },
        },
      ],
    });
    expect(f).toMatch(
      /module@50000000 \{\n\t*compatible = "multiboot,kernel", "multiboot,module";\n.*\n\t*bootargs = "console=ttyAMA0 quote=\\"a\\"";/,
    );
    expect(f).toMatch(/module@51a00000 \{\n\t*compatible = "multiboot,ramdisk", "multiboot,module";\n\t*reg = <0x0 0x51a00000 0x0 0x3e0>;/);
    expect(f).toContain('memory = <0x0 0x40000>;');
    // Not an enhanced domain: no xen,enhanced (Xen would then add a hypervisor node).
    expect(f).not.toContain('enhanced');
  });

  it.skipIf(!hasDtc)('merges into a base tree under dtc', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oracle-dt-'));
    try {
      const base = '/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\tchosen {\n\t\tstdout-path = "/pl011@9000000";\n\t};\n};\n';
      writeFileSync(join(dir, 'x.dts'), base + chosenFragment(spec));
      execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', join(dir, 'x.dtb'), join(dir, 'x.dts')]);
      const get = (node: string, prop: string) =>
        execFileSync('fdtget', ['-t', 'x', join(dir, 'x.dtb'), node, prop]).toString().trim();
      expect(get('/chosen/domU2', 'memory')).toBe('0 8000');
      expect(get('/chosen/domU1/module@50000000', 'reg')).toBe('0 50000000 0 3008');
      expect(execFileSync('fdtget', [join(dir, 'x.dtb'), '/chosen', 'stdout-path']).toString().trim()).toBe('/pl011@9000000');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checkArm64Image', () => {
  it('wants the ARM\\x64 magic at byte 56', () => {
    const img = new Uint8Array(64);
    expect(checkArm64Image(img, 'x').ok).toBe(false);
    img.set([0x41, 0x52, 0x4d, 0x64], 56);
    expect(checkArm64Image(img, 'x')).toEqual({ ok: true });
    expect(checkArm64Image(new Uint8Array(10), 'x').ok).toBe(false);
  });
});
