// Where Xen 4.17 puts a domain's devicetree and initrd (src/machine/loader/place-modules.ts).
// The 256 MiB case is what the real Xen did for a Debian kernel: DTB 0x48000000, initrd
// 0x48200000 with its exact size.
import { describe, expect, it } from 'vitest';
import { placeBootModules } from '../../src/machine/loader/place-modules.ts';

const MiB = 1024 * 1024;
const ramBase = 0x40000000;
const dtbSize = 0x5ca; // a board DTB with /chosen filled in
const initrdSize = 3_000_000; // footprint: 4 MiB
const kernelSize = 0x2000; // a small Image at text_offset 0

describe('placeBootModules', () => {
  it.each([
    // RAM, DTB, initrd: below 128 MiB + modules the modules go to the top of RAM ...
    [64, 0x43a00000, 0x43c00000],
    [128, 0x47a00000, 0x47c00000],
    // ... above it at RAM base + 128 MiB.
    [256, 0x48000000, 0x48200000],
    [1024, 0x48000000, 0x48200000],
    [3072, 0x48000000, 0x48200000],
  ])('%i MiB: DTB at %s, initrd right after its 2 MiB footprint, exact size', (ram, dtb, initrd) => {
    expect(placeBootModules({ ramBase, ramSize: ram * MiB, kernelSize, dtbSize, initrdSize })).toEqual({
      ok: true,
      value: {
        kernel: { start: ramBase, end: ramBase + kernelSize },
        dtb: { start: dtb, end: dtb + dtbSize },
        initrd: { start: initrd, end: initrd + initrdSize },
      },
    });
  });

  it('without an initrd only the DTB is placed', () => {
    const r = placeBootModules({ ramBase, ramSize: 64 * MiB, kernelSize, dtbSize, initrdSize: 0 });
    expect(r).toEqual({ ok: true, value: { kernel: { start: ramBase, end: ramBase + kernelSize }, dtb: { start: 0x43e00000, end: 0x43e00000 + dtbSize } } });
  });

  it('a kernel reaching past 128 MiB (its BSS counts) pushes the modules to the top of RAM', () => {
    const r = placeBootModules({ ramBase, ramSize: 256 * MiB, kernelSize: 130 * MiB, dtbSize, initrdSize });
    expect(r.ok && r.value.dtb.start).toBe(0x50000000 - 6 * MiB);
    expect(r.ok && r.value.initrd?.start).toBe(0x50000000 - 4 * MiB);
  });

  it('honours text_offset: the kernel starts there, and the modules may go below it', () => {
    // 16 MiB of RAM, the kernel fills its upper half: no room above it, room below.
    const r = placeBootModules({ ramBase, ramSize: 16 * MiB, kernelStart: ramBase + 8 * MiB, kernelSize: 8 * MiB, dtbSize });
    expect(r).toEqual({
      ok: true,
      value: { kernel: { start: 0x40800000, end: 0x41000000 }, dtb: { start: 0x40600000, end: 0x40600000 + dtbSize } },
    });
  });

  it('refuses a RAM too small for kernel + DTB + initrd, saying what to change', () => {
    expect(placeBootModules({ ramBase, ramSize: 4 * MiB, kernelSize: 2 * MiB, dtbSize, initrdSize })).toEqual({
      ok: false,
      error: 'not enough guest RAM (4 MiB) for the kernel (2 MiB rounded to 2 MiB) and the devicetree and initrd (6 MiB rounded to 2 MiB); raise --memory',
    });
  });

  it('refuses when the modules fit in size but in no gap (Xen panics there too)', () => {
    expect(placeBootModules({ ramBase, ramSize: 16 * MiB, kernelStart: 0x40100000, kernelSize: 0xc00000, dtbSize })).toEqual({
      ok: false,
      error:
        'no room for the devicetree (2 MiB rounded to 2 MiB) in guest RAM [0x40000000,0x41000000) around the kernel [0x40100000,0x40d00000); raise --memory',
    });
  });

  it('refuses a kernel outside RAM and an empty DTB', () => {
    expect(placeBootModules({ ramBase, ramSize: 16 * MiB, kernelStart: ramBase + 15 * MiB, kernelSize: 2 * MiB, dtbSize }).ok).toBe(false);
    expect(placeBootModules({ ramBase, ramSize: 16 * MiB, kernelSize, dtbSize: 0 })).toEqual({ ok: false, error: 'boot modules: the devicetree blob is empty' });
  });
});
