// runReference's checks of --initrd happen before anything is started (no QEMU needed).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runReference } from '../../src/oracle/reference.ts';

const dir = mkdtempSync(join(tmpdir(), 'oracle-initrd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const image = join(dir, 'Image');
const header = new Uint8Array(64);
header.set([0x41, 0x52, 0x4d, 0x64], 56); // "ARM\x64"
writeFileSync(image, header);

describe('runReference --initrd', () => {
  it('refuses a missing or empty ramdisk before starting anything', async () => {
    const missing = await runReference({ images: [image], gic: 2, xsm: 'dummy', initrd: join(dir, 'nope.cpio.gz') });
    expect(missing).toMatchObject({ ok: false, error: `initrd not found: ${join(dir, 'nope.cpio.gz')}` });
    writeFileSync(join(dir, 'empty'), '');
    const empty = await runReference({ images: [image], gic: 2, xsm: 'dummy', initrd: join(dir, 'empty') });
    expect(empty).toMatchObject({ ok: false, error: `initrd is empty: ${join(dir, 'empty')}` });
  });
});
