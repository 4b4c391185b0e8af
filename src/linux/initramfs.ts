// The Linux boot test's initramfs, built from source and cached under .cache/linux/:
//   /dev/           directory
//   /dev/console    character device 5,1: the kernel opens it as init's stdin/stdout/stderr
//                   (without it init runs with no console and prints nothing)
//   /init           test/linux/init/init.c, a static freestanding AArch64 program
// as a newc cpio compressed with gzip (the cloud kernel has CONFIG_RD_GZIP=y).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '../oracle/prereqs.ts';
import { writeNewc, type CpioEntry } from './cpio.ts';
import { LINUX_CACHE_DIR } from './kernel.ts';

export const INIT_SOURCE = join(REPO_ROOT, 'test', 'linux', 'init', 'init.c');

/**
 * Freestanding and static: no C library, no startup files, no position independence
 * (the kernel's ELF loader maps an ET_EXEC at its link address), no build-id (same bytes
 * for the same source), symbols stripped.
 */
export const INIT_CFLAGS = [
  '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-pie', '-no-pie',
  '-O2', '-mgeneral-regs-only', '-Wall', '-Werror', '-s', '-Wl,--build-id=none', '-e', '_start',
];

/** What the archive holds besides /init; changing it changes the cache key. */
export function initramfsEntries(init: Uint8Array): CpioEntry[] {
  return [
    { kind: 'dir', path: 'dev', mode: 0o755 },
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { kind: 'file', path: 'init', data: init, mode: 0o755 },
  ];
}

/** The one-line recipe recorded with the golden files. */
export const INITRAMFS_RECIPE =
  'newc cpio { dev/ 0755, dev/console c 5,1 0600, init 0755 = test/linux/init/init.c built with ' +
  '`aarch64-linux-gnu-gcc ' + INIT_CFLAGS.join(' ') + '` }, gzip -9';

export type InitramfsResult = { ok: true; path: string; init: string } | { ok: false; error: string };

function compile(cc: string, src: string, out: string): Promise<{ ok: true } | { ok: false; error: string }> {
  return new Promise((done) => {
    execFile(cc, [...INIT_CFLAGS, '-o', out, src], (err, _o, stderr) => {
      if (!err) done({ ok: true });
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        done({ ok: false, error: `${cc} not found: install Debian's gcc-aarch64-linux-gnu (apt-get install gcc-aarch64-linux-gnu) or set CROSS_COMPILE` });
      } else done({ ok: false, error: `${cc} could not build ${src}: ${String(stderr || err.message).trim()}` });
    });
  });
}

/** Builds (or finds in the cache) the initramfs; returns the .cpio.gz path. */
export async function buildInitramfs(opts: { cacheDir?: string; crossCompile?: string } = {}): Promise<InitramfsResult> {
  const cacheDir = opts.cacheDir ?? LINUX_CACHE_DIR;
  const cc = `${opts.crossCompile ?? process.env.CROSS_COMPILE ?? 'aarch64-linux-gnu-'}gcc`;
  if (!existsSync(INIT_SOURCE)) return { ok: false, error: `init source missing: ${INIT_SOURCE}` };
  const source = readFileSync(INIT_SOURCE);
  const key = createHash('sha256').update(source).update(INITRAMFS_RECIPE).update(cc).digest('hex').slice(0, 12);
  const path = join(cacheDir, `initramfs-${key}.cpio.gz`);
  const initPath = join(cacheDir, `init-${key}`);
  if (existsSync(path) && existsSync(initPath)) return { ok: true, path, init: initPath };

  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'initramfs-'));
  try {
    const built = await compile(cc, INIT_SOURCE, join(work, 'init'));
    if (!built.ok) return built;
    const init = new Uint8Array(readFileSync(join(work, 'init')));
    const cpio = writeNewc(initramfsEntries(init));
    if (!cpio.ok) return cpio;
    writeFileSync(join(work, 'initramfs.cpio.gz'), gzipSync(cpio.bytes, { level: 9 }));
    // Renames are atomic: a racing builder either finds both files or writes its own.
    renameSync(join(work, 'init'), initPath);
    renameSync(join(work, 'initramfs.cpio.gz'), path);
    return { ok: true, path, init: initPath };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
