// The Linux boot test's assets: Debian's cloud kernel (fetched once into .cache/linux with a
// private apt; these cases are skipped only when it cannot be had) and the initramfs, built
// here from test/linux/init/init.c.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildInitramfs } from '../../src/linux/initramfs.ts';
import { ensureCloudKernel, imagePackageFromDepends } from '../../src/linux/kernel.ts';
import { NEWC_HEADER_SIZE } from '../../src/linux/cpio.ts';

describe('resolving and fetching the kernel package', () => {
  it('takes the versioned image package from the metapackage Depends', () => {
    expect(imagePackageFromDepends('linux-image-6.1.0-57-cloud-arm64 (= 6.1.192-3)')).toBe('linux-image-6.1.0-57-cloud-arm64');
    expect(imagePackageFromDepends('foo, linux-image-6.1.0-9-cloud-arm64-unsigned (= 1) | linux-image-6.1.0-9-cloud-arm64')).toBe(
      'linux-image-6.1.0-9-cloud-arm64-unsigned',
    );
    expect(imagePackageFromDepends('linux-image-cloud-arm64 (= 1)')).toBeUndefined();
    expect(imagePackageFromDepends('')).toBeUndefined();
  });

  it('says so plainly when there is no kernel and fetching is not allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'linux-cache-'));
    try {
      const r = await ensureCloudKernel({ fetch: false, cacheDir: dir });
      expect(r).toEqual({ ok: false, error: `no cloud kernel in ${join(dir, 'kernel')} (fetching was not allowed)` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('building the initramfs without a cross compiler', () => {
  it('names the Debian package to install', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'linux-cache-'));
    try {
      const r = await buildInitramfs({ cacheDir: dir, crossCompile: 'no-such-target-' });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/no-such-target-gcc not found: install Debian's gcc-aarch64-linux-gnu/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const kernel = await ensureCloudKernel({ fetch: true });
const noKernel = kernel.ok ? '' : ` [skipped: ${kernel.error.split('\n')[0]}]`;

describe('the cloud kernel', () => {
  it.skipIf(!kernel.ok)(`is an uncompressed arm64 Image from the versioned package${noKernel}`, () => {
    if (!kernel.ok) return;
    expect(kernel.pkg).toMatch(/^linux-image-6\.1\.0-\d+-cloud-arm64$/);
    expect(kernel.pkg).toBe(`linux-image-${kernel.release}`);
    const img = readFileSync(kernel.image);
    expect(img.readUInt32LE(56)).toBe(0x644d5241); // "ARM\x64"
    expect(img.readUInt32LE(0) & 0xffff).toBe(0x5a4d); // "MZ": EFI stub header, still an Image
    // image_size in the header (bytes 16..23) covers at least the file.
    expect(Number(img.readBigUInt64LE(16))).toBeGreaterThanOrEqual(img.length);
  });
});

describe('the initramfs', () => {
  it('holds /dev, /dev/console as char 5,1 and a static AArch64 /init', async () => {
    const r = await buildInitramfs();
    if (!r.ok) throw new Error(r.error);
    const cpio = gunzipSync(readFileSync(r.path));
    const dec = new TextDecoder();
    const names: string[] = [];
    let at = 0;
    let initBytes: Buffer | undefined;
    while (at < cpio.length) {
      const h = dec.decode(cpio.subarray(at, at + NEWC_HEADER_SIZE));
      const f = (i: number) => parseInt(h.slice(6 + 8 * i, 14 + 8 * i), 16);
      const name = dec.decode(cpio.subarray(at + NEWC_HEADER_SIZE, at + NEWC_HEADER_SIZE + f(11) - 1));
      names.push(name);
      if (name === 'dev/console') expect([f(1) & 0o170000, f(9), f(10)]).toEqual([0o020000, 5, 1]);
      const dataAt = Math.ceil((at + NEWC_HEADER_SIZE + f(11)) / 4) * 4;
      if (name === 'init') initBytes = cpio.subarray(dataAt, dataAt + f(6));
      at = Math.ceil((dataAt + f(6)) / 4) * 4;
    }
    expect(names).toEqual(['dev', 'dev/console', 'init', 'TRAILER!!!']);
    const elf = initBytes!;
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect([elf[4], elf[5]]).toEqual([2, 1]); // ELFCLASS64, little-endian
    expect(elf.readUInt16LE(16)).toBe(2); // ET_EXEC: static, not position-independent
    expect(elf.readUInt16LE(18)).toBe(183); // EM_AARCH64
    // No PT_INTERP: nothing for the kernel to load besides the program itself.
    const phoff = Number(elf.readBigUInt64LE(32));
    const types = Array.from({ length: elf.readUInt16LE(56) }, (_, i) => elf.readUInt32LE(phoff + i * elf.readUInt16LE(54)));
    expect(types).not.toContain(3);
    expect(readFileSync(r.init).equals(elf)).toBe(true);
    // Built once: a second call finds the cached file.
    expect(await buildInitramfs()).toEqual(r);
  });
});
