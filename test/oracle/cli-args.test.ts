import { describe, expect, it } from 'vitest';
import { parseReferenceArgs } from '../../src/cli/reference.ts';

describe('parseReferenceArgs', () => {
  it('reads every option', () => {
    expect(
      parseReferenceArgs(['--gic', '3', '--xsm', 'silo', '--dom0', 'z.img', '--timeout', '2.5', '--memory', '32', 'a.img', 'b.img']),
    ).toEqual({
      ok: true,
      help: false,
      raw: false,
      opts: { images: ['a.img', 'b.img'], gic: 3, xsm: 'silo', dom0: 'z.img', timeoutMs: 2500, memoryMiB: 32 },
    });
  });

  it('takes a ramdisk and a kernel command line for the domUs', () => {
    const r = parseReferenceArgs(['--initrd', 'rd.cpio.gz', '--cmdline', 'console=ttyAMA0 earlycon=pl011,0x22000000', '--memory', '256', 'Image']);
    expect(r.ok && !r.help && r.opts).toEqual({
      images: ['Image'],
      gic: 2,
      xsm: 'dummy',
      initrd: 'rd.cpio.gz',
      cmdline: 'console=ttyAMA0 earlycon=pl011,0x22000000',
      memoryMiB: 256,
    });
    expect(parseReferenceArgs(['Image', '--initrd']).ok).toBe(false);
    expect(parseReferenceArgs(['Image', '--cmdline']).ok).toBe(false);
  });

  it('reads the domU configuration options', () => {
    const r = parseReferenceArgs(['--cpus', '2', '--enhanced', 'a.img']);
    expect(r.ok && !r.help && r.opts).toEqual({
      images: ['a.img'],
      gic: 2,
      xsm: 'dummy',
      cpus: 2,
      enhanced: true,
    });
    expect(parseReferenceArgs(['--cpus', '0', 'a.img']).ok).toBe(false);
  });

  it('defaults to GICv2 and the dummy policy', () => {
    const r = parseReferenceArgs(['a.img']);
    expect(r.ok && !r.help && [r.opts.gic, r.opts.xsm]).toEqual([2, 'dummy']);
  });

  it('rejects bad values and missing images', () => {
    expect(parseReferenceArgs(['--gic', '4', 'a.img']).ok).toBe(false);
    expect(parseReferenceArgs(['--xsm', 'flask', 'a.img']).ok).toBe(false);
    expect(parseReferenceArgs(['--bogus', 'a.img']).ok).toBe(false);
    expect(parseReferenceArgs([]).ok).toBe(false);
    expect(parseReferenceArgs(['--help'])).toEqual({ ok: true, help: true });
  });
});
