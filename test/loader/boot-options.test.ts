// The boot options of `run`: --initrd, --cmdline, --memory bounds, and the per-domain
// initrd= / cmdline= keys (src/cli/run.ts, src/machine/domain-options.ts).
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../src/cli/run.ts';
import { MAX_MEMORY_MIB, parseDomainOption } from '../../src/machine/domain-options.ts';

const CMDLINE = 'console=ttyAMA0 earlycon=pl011,0x22000000';

describe('run options', () => {
  it('--initrd and --cmdline apply to every domain', () => {
    const p = parseRunArgs(['--memory', '256', '--initrd', 'initramfs.cpio.gz', '--cmdline', CMDLINE, 'vmlinuz']);
    expect(p.ok && p.opts).toMatchObject({ memoryMiB: 256, initrd: 'initramfs.cpio.gz', cmdline: CMDLINE, images: ['vmlinuz'] });
    const q = parseRunArgs([`--cmdline=${CMDLINE}`, 'vmlinuz']);
    expect(q.ok && q.opts.cmdline).toBe(CMDLINE);
  });

  it('--initrd needs a file and is given once', () => {
    expect(parseRunArgs(['--initrd=', 'x.img'])).toEqual({ ok: false, error: '--initrd needs a file name' });
    expect(parseRunArgs(['--initrd', 'a', '--initrd', 'b', 'x.img'])).toEqual({ ok: false, error: '--initrd given twice' });
  });

  it('--memory takes 1 to 3072 MiB (Xen guest RAM bank 0)', () => {
    expect(MAX_MEMORY_MIB).toBe(3072);
    const p = parseRunArgs(['--memory', '3072', 'x.img']);
    expect(p.ok && p.opts.memoryMiB).toBe(3072);
    for (const bad of ['0', '-1', '1.5', '3073', 'lots', '']) {
      expect(parseRunArgs([`--memory=${bad}`, 'x.img'])).toEqual({ ok: false, error: `--memory takes a whole number from 1 to 3072, not '${bad}'` });
    }
  });
});

describe('--domain initrd= and cmdline=', () => {
  it('cmdline takes the rest of the value, commas included', () => {
    expect(parseDomainOption(`d1,memory=256,initrd=rd.cpio,cmdline=${CMDLINE}`)).toEqual({
      ok: true,
      value: { domid: 1, overrides: { memoryMiB: 256, initrd: 'rd.cpio', cmdline: CMDLINE } },
    });
    // Keys after cmdline= are part of the command line.
    expect(parseDomainOption('d2,cmdline=a,name=b')).toEqual({ ok: true, value: { domid: 2, overrides: { cmdline: 'a,name=b' } } });
    expect(parseDomainOption('d2,cmdline=')).toEqual({ ok: true, value: { domid: 2, overrides: { cmdline: '' } } });
  });

  it.each([
    ['d1,initrd=', /initrd is empty/],
    ['d1,memory=3073', /memory takes a whole number of MiB from 1 to 3072, not '3073'/],
    ['d1,ramdisk=x', /unknown key 'ramdisk'.*initrd \(file\), cmdline/],
  ])('%s is refused', (text, error) => {
    const r = parseDomainOption(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});
