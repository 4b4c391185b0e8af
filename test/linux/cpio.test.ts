import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NEWC_HEADER_SIZE, S_IFCHR, S_IFDIR, S_IFREG, writeNewc } from '../../src/linux/cpio.ts';

/** A reader written from the format description, to check the writer from the other side. */
function readNewc(b: Uint8Array) {
  const dec = new TextDecoder();
  const out: { name: string; mode: number; nlink: number; rmajor: number; rminor: number; data: Uint8Array; at: number }[] = [];
  let at = 0;
  for (;;) {
    const h = dec.decode(b.subarray(at, at + NEWC_HEADER_SIZE));
    expect(h.slice(0, 6)).toBe('070701');
    const f = (i: number) => parseInt(h.slice(6 + 8 * i, 14 + 8 * i), 16);
    const namesize = f(11);
    const name = dec.decode(b.subarray(at + NEWC_HEADER_SIZE, at + NEWC_HEADER_SIZE + namesize - 1));
    expect(b[at + NEWC_HEADER_SIZE + namesize - 1]).toBe(0);
    const dataAt = Math.ceil((at + NEWC_HEADER_SIZE + namesize) / 4) * 4;
    const data = b.subarray(dataAt, dataAt + f(6));
    out.push({ name, mode: f(1), nlink: f(4), rmajor: f(9), rminor: f(10), data, at });
    at = Math.ceil((dataAt + f(6)) / 4) * 4;
    if (name === 'TRAILER!!!') break;
  }
  expect(at).toBe(b.length);
  return out;
}

const init = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]);
const entries = [
  { kind: 'dir' as const, path: 'dev' },
  { kind: 'chardev' as const, path: 'dev/console', major: 5, minor: 1 },
  { kind: 'file' as const, path: 'init', data: init, mode: 0o755 },
];

describe('writeNewc', () => {
  it('writes headers, names and data 4-byte aligned, ending with the trailer', () => {
    const r = writeNewc(entries);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const got = readNewc(r.bytes);
    expect(got.map((e) => e.name)).toEqual(['dev', 'dev/console', 'init', 'TRAILER!!!']);
    expect(got.every((e) => e.at % 4 === 0)).toBe(true);
    expect(got[0].mode).toBe(S_IFDIR | 0o755);
    expect(got[0].nlink).toBe(2);
    expect(got[1]).toMatchObject({ mode: S_IFCHR | 0o600, rmajor: 5, rminor: 1 });
    expect(got[2].mode).toBe(S_IFREG | 0o755);
    expect([...got[2].data]).toEqual([...init]);
  });

  it('is deterministic and begins with the exact first header', () => {
    const a = writeNewc(entries);
    const b = writeNewc(entries);
    expect(a.ok && b.ok && Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    if (!a.ok) return;
    // ino 1, mode 040755, uid 0, gid 0, nlink 2, mtime 0, size 0, dev 0:0, rdev 0:0, namesize 4, check 0
    expect(new TextDecoder().decode(a.bytes.subarray(0, 114))).toBe(
      '070701' + '00000001' + '000041ed' + '00000000'.repeat(2) + '00000002' + '00000000'.repeat(6) + '00000004' + '00000000' + 'dev\0',
    );
  });

  it('refuses absolute, empty, ".." and duplicate paths', () => {
    for (const path of ['/init', '', 'a/../b', 'a//b']) {
      expect(writeNewc([{ kind: 'dir', path }]).ok).toBe(false);
    }
    expect(writeNewc([{ kind: 'dir', path: 'a' }, { kind: 'dir', path: 'a' }]).ok).toBe(false);
  });

  const cpio = ['/usr/bin/cpio', '/bin/cpio'].find(existsSync);
  it.skipIf(!cpio)('is read back by GNU cpio (when installed)', () => {
    const r = writeNewc(entries);
    if (!r.ok) throw new Error(r.error);
    const dir = mkdtempSync(join(tmpdir(), 'cpio-'));
    try {
      writeFileSync(join(dir, 'a.cpio'), r.bytes);
      const list = execFileSync(cpio!, ['-t', '-F', join(dir, 'a.cpio')], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      expect(list.trim().split('\n')).toEqual(['dev', 'dev/console', 'init']);
      execFileSync(cpio!, ['-i', '-d', '--quiet', '-F', join(dir, 'a.cpio'), 'init'], { cwd: dir });
      expect([...readFileSync(join(dir, 'init'))]).toEqual([...init]);
      expect(statSync(join(dir, 'init')).mode & 0o777).toBe(0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
