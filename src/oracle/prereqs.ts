// Finds (and, as root, installs) what the real-Xen oracle needs: Debian's Xen 4.17 arm64
// hypervisor binary, qemu-system-aarch64 and dtc. Everything comes from Debian's packages.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
// @ts-ignore -- plain ESM shared with scripts/setup.mjs
import { fetchDebianPackage } from '../../scripts/debian-fetch.mjs';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../package-root.ts';

export const XEN_PACKAGE = 'xen-hypervisor-4.17-arm64';
/** Path of the hypervisor inside the package. */
export const XEN_IN_PACKAGE = 'boot/xen-4.17-arm64';

export const REPO_ROOT = packageRoot(import.meta.url);
export const DEFAULT_CACHE_DIR = join(REPO_ROOT, '.cache', 'oracle');

export type PrereqResult = { ok: true; xen: string; qemu: string } | { ok: false; error: string };

/** Seams for tests: who we are, where programs are, how commands run. */
export interface PrereqDeps {
  getuid: () => number;
  which: (program: string) => string | undefined;
  run: (cmd: string, args: string[], cwd?: string) => Promise<{ ok: true } | { ok: false; error: string }>;
  /** Downloads and unpacks a Debian package of the system's suite (scripts/debian-fetch.mjs). */
  fetchPackage: (p: { pkg: string; arch: string; destDir: string }) => { ok: true } | { ok: false; error: string };
  cacheDir: string;
}

function whichOnPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, program);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function runCommand(cmd: string, args: string[], cwd?: string): Promise<{ ok: true } | { ok: false; error: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 << 20 }, (err, _stdout, stderr) => {
      if (err) done({ ok: false, error: `${cmd} ${args.join(' ')} failed: ${String(stderr || err.message).trim()}` });
      else done({ ok: true });
    });
  });
}

export function defaultDeps(cacheDir = DEFAULT_CACHE_DIR): PrereqDeps {
  return {
    getuid: () => (typeof process.getuid === 'function' ? process.getuid() : -1),
    which: whichOnPath,
    run: runCommand,
    fetchPackage: (p) => fetchDebianPackage({ ...p, cacheDir: join(REPO_ROOT, '.cache', 'apt') }),
    cacheDir,
  };
}

/** Where the extracted hypervisor lives in the cache. */
export function cachedXenPath(cacheDir: string): string {
  return join(cacheDir, 'xen', XEN_IN_PACKAGE);
}

/** The commands that install what is missing; quoted when we may not run them. */
export function installCommands(cacheDir: string, missing: { xen: boolean; qemu: boolean; dtc: boolean }): string[] {
  const cmds: string[] = [];
  const pkgs = [missing.qemu ? 'qemu-system-arm' : '', missing.dtc ? 'device-tree-compiler' : ''].filter(Boolean);
  if (missing.xen) cmds.push(`npm run setup   (fetches ${XEN_PACKAGE}:arm64 into ${join(cacheDir, 'xen')} with a private apt directory; no root needed)`);
  if (pkgs.length > 0) cmds.push('apt-get update', `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`);
  return cmds;
}

/**
 * The hypervisor is an arm64 package on an amd64 machine: it comes through a private apt
 * directory for the system's own Debian suite with the arm64 architecture
 * (scripts/debian-fetch.mjs), so the machine's apt configuration (its architectures included)
 * is never changed. Needs no root.
 */
function fetchXen(deps: PrereqDeps): { ok: true } | { ok: false; error: string } {
  const r = deps.fetchPackage({ pkg: XEN_PACKAGE, arch: 'arm64', destDir: join(deps.cacheDir, 'xen') });
  if (!r.ok) return { ok: false, error: `cannot fetch ${XEN_PACKAGE}:arm64 from Debian: ${r.error}` };
  if (!existsSync(cachedXenPath(deps.cacheDir))) return { ok: false, error: `${XEN_PACKAGE} does not contain ${XEN_IN_PACKAGE}` };
  return { ok: true };
}

export async function ensureOraclePrereqs(
  opts: { install: boolean },
  deps: PrereqDeps = defaultDeps(),
): Promise<PrereqResult> {
  const xenPath = cachedXenPath(deps.cacheDir);
  const missing = {
    xen: !existsSync(xenPath),
    qemu: deps.which('qemu-system-aarch64') === undefined,
    dtc: deps.which('dtc') === undefined,
  };
  if (missing.xen || missing.qemu || missing.dtc) {
    const what = [missing.xen && XEN_PACKAGE, missing.qemu && 'qemu-system-aarch64', missing.dtc && 'dtc']
      .filter(Boolean)
      .join(', ');
    const howTo = installCommands(deps.cacheDir, missing).map((c) => `  ${c}`).join('\n');
    if (!opts.install) return { ok: false, error: `oracle prerequisites missing: ${what}. Install them with:\n${howTo}` };
    // The hypervisor needs no root (a private apt directory); system packages do.
    if (missing.xen) {
      const r = fetchXen(deps);
      if (!r.ok) return r;
    }
    const pkgs = [missing.qemu && 'qemu-system-arm', missing.dtc && 'device-tree-compiler'].filter(
      (p): p is string => typeof p === 'string',
    );
    if (pkgs.length > 0) {
      if (deps.getuid() !== 0) {
        const sys = installCommands(deps.cacheDir, { xen: false, qemu: missing.qemu, dtc: missing.dtc }).map((c) => `  ${c}`).join('\n');
        return { ok: false, error: `oracle prerequisites missing: ${pkgs.join(', ')}; installing needs root. Run as root:\n${sys}` };
      }
      const u = await deps.run('apt-get', ['update']);
      if (!u.ok) return u;
      const r = await deps.run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs]);
      if (!r.ok) return r;
    }
  }
  const qemu = deps.which('qemu-system-aarch64');
  if (!existsSync(xenPath) || qemu === undefined || deps.which('dtc') === undefined) {
    return { ok: false, error: 'oracle prerequisites still missing after installation' };
  }
  return { ok: true, xen: xenPath, qemu };
}
