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

  it('reads the domU configuration options', () => {
    const r = parseReferenceArgs(['--cpus', '2', '--bootargs', 'console=ttyAMA0', '--ramdisk', 'i.bin', '--enhanced', 'a.img']);
    expect(r.ok && !r.help && r.opts).toEqual({
      images: ['a.img'],
      gic: 2,
      xsm: 'dummy',
      cpus: 2,
      bootargs: 'console=ttyAMA0',
      ramdisk: 'i.bin',
      enhanced: true,
    });
    expect(parseReferenceArgs(['--cpus', '0', 'a.img']).ok).toBe(false);
    expect(parseReferenceArgs(['--ramdisk']).ok).toBe(false);
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
