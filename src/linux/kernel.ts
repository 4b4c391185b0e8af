// Debian bookworm's arm64 cloud kernel, kept under .cache/linux/kernel/. The metapackage
// `linux-image-cloud-arm64` names the versioned image package in its Depends
// (e.g. linux-image-6.1.0-57-cloud-arm64); that package's /boot/vmlinuz-<release> is an
// uncompressed arm64 Image (64-byte header, "ARM\x64" at byte 56), which is what Xen's
// dom0less loader and our `run` both take. Only Debian's archive is ever asked, through a
// private apt directory for the system's own suite (its main, -updates and -security suites,
// as scripts/debian-fetch.mjs maps the system's sources), so the machine's apt configuration
// never changes.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../oracle/prereqs.ts';
import { checkArm64Image } from '../oracle/devicetree.ts';
// @ts-ignore -- plain ESM shared with scripts/setup.mjs
import { fetchDebianPackage, privateApt, showPackage, systemCodename } from '../../scripts/debian-fetch.mjs';

export const LINUX_CACHE_DIR = join(REPO_ROOT, '.cache', 'linux');
export const KERNEL_METAPACKAGE = 'linux-image-cloud-arm64';
/** The private apt state shared with the oracle's Xen fetch (scripts/debian-fetch.mjs). */
const APT_CACHE_DIR = join(REPO_ROOT, '.cache', 'apt');

export interface CloudKernel {
  /** Path of the arm64 Image. */
  image: string;
  /** The versioned package it came from, and its Debian version. */
  pkg: string;
  version: string;
  /** `uname -r` of this kernel, e.g. 6.1.0-57-cloud-arm64. */
  release: string;
  /** The Debian suite it came from (the system's own, e.g. bookworm). */
  suite?: string;
}

export type KernelResult = ({ ok: true } & CloudKernel) | { ok: false; error: string };

/** The versioned image package a metapackage's Depends names ("pkg (= ver), ..." with "|" alternatives). */
export function imagePackageFromDepends(depends: string): string | undefined {
  for (const alt of depends.split(/[,|]/)) {
    const name = alt.trim().split(/\s/)[0];
    if (/^linux-image-\d+\.\d+\.\d+-\d+-.+$/.test(name)) return name;
  }
  return undefined;
}

function readCached(dir: string): CloudKernel | undefined {
  const meta = join(dir, 'kernel.json');
  if (!existsSync(meta)) return undefined;
  const k = JSON.parse(readFileSync(meta, 'utf8')) as Omit<CloudKernel, 'image'> & { image: string };
  const image = join(dir, k.image);
  return existsSync(image) ? { ...k, image } : undefined;
}

/**
 * The cached kernel, or (with `fetch`) fetch it: resolve the metapackage's Depends, download
 * that package with a private apt, keep only /boot/vmlinuz-* and /boot/config-*.
 */
export async function ensureCloudKernel(opts: { fetch: boolean; cacheDir?: string } = { fetch: true }): Promise<KernelResult> {
  const cacheDir = opts.cacheDir ?? LINUX_CACHE_DIR;
  const dest = join(cacheDir, 'kernel');
  const cached = readCached(dest);
  if (cached) return { ok: true, ...cached };
  if (!opts.fetch) return { ok: false, error: `no cloud kernel in ${dest} (fetching was not allowed)` };

  mkdirSync(cacheDir, { recursive: true });
  // Test files start in parallel; on a fresh machine they would all run apt on the same private
  // lists at once. One fetches, the others wait for its kernel.
  const lock = join(cacheDir, 'kernel.lock');
  const held = await takeLock(lock);
  if (!held) return { ok: false, error: `another fetch of the kernel held ${lock} for too long` };
  try {
    const again = readCached(dest);
    if (again) return { ok: true, ...again };
    return await fetchInto(cacheDir, dest);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

const LOCK_STALE_MS = 10 * 60_000;

/** mkdir is atomic: whoever creates the directory holds the lock. A lock older than LOCK_STALE_MS is taken over. */
async function takeLock(lock: string): Promise<boolean> {
  const until = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      return true;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // Gone between the two calls: try again at once.
      }
    }
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function fetchInto(cacheDir: string, dest: string): Promise<KernelResult> {
  // Everything happens in a private work directory that is renamed into place at the end,
  // so two runs racing on a fresh cache never see half a kernel.
  const work = mkdtempSync(join(cacheDir, 'fetch-'));
  try {
    // The metapackage itself first: that brings the private package lists up to date, so
    // its Depends can be read from them.
    const meta = fetchDebianPackage({ pkg: KERNEL_METAPACKAGE, arch: 'arm64', cacheDir: APT_CACHE_DIR, destDir: join(work, 'meta') });
    if (!meta.ok) return { ok: false, error: `cannot fetch ${KERNEL_METAPACKAGE}:arm64 from Debian: ${meta.error}` };
    const suite = systemCodename();
    const apt = privateApt({ root: join(APT_CACHE_DIR, `${suite}-arm64`), suite, arch: 'arm64' });
    if (!apt.ok) return apt;
    const shown = showPackage(apt.options, KERNEL_METAPACKAGE);
    if (!shown.ok) return { ok: false, error: `cannot read ${KERNEL_METAPACKAGE}'s Depends: ${shown.error}` };
    const pkg = imagePackageFromDepends(shown.depends);
    if (!pkg) return { ok: false, error: `${KERNEL_METAPACKAGE} names no versioned image package in Depends: "${shown.depends}"` };
    const got = fetchDebianPackage({ pkg, arch: 'arm64', cacheDir: APT_CACHE_DIR, destDir: join(work, 'image') });
    if (!got.ok) return { ok: false, error: `cannot fetch ${pkg}:arm64 from Debian: ${got.error}` };
    const bootDir = join(got.dir, 'boot');
    const vmlinuz = existsSync(bootDir) ? readdirSync(bootDir).find((f) => f.startsWith('vmlinuz-')) : undefined;
    if (!vmlinuz) return { ok: false, error: `${pkg} has no /boot/vmlinuz-*` };
    const check = checkArm64Image(new Uint8Array(readFileSync(join(bootDir, vmlinuz))), `${pkg}:/boot/${vmlinuz}`);
    if (!check.ok) return check;
    const release = vmlinuz.slice('vmlinuz-'.length);
    // Keep the Image and its config; the modules (~80 MB) are of no use to a ramdisk boot.
    const keep = join(work, 'kernel');
    mkdirSync(keep);
    copyFileSync(join(bootDir, vmlinuz), join(keep, vmlinuz));
    if (existsSync(join(bootDir, `config-${release}`))) copyFileSync(join(bootDir, `config-${release}`), join(keep, `config-${release}`));
    const info = { image: vmlinuz, pkg, version: got.version ?? '', release, suite };
    writeFileSync(join(keep, 'kernel.json'), JSON.stringify(info, null, 2) + '\n');
    if (!readCached(dest)) {
      rmSync(dest, { recursive: true, force: true });
      renameSync(keep, dest);
    }
    const k = readCached(dest);
    return k ? { ok: true, ...k } : { ok: false, error: `kernel vanished from ${dest}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
