// Finds (and, as root, installs) what the real-Xen oracle needs: Debian's Xen 4.17 arm64
// hypervisor binary, qemu-system-aarch64 and dtc. Everything comes from apt and nothing else.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
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
    cacheDir,
  };
}

/** Where the extracted hypervisor lives in the cache. */
export function cachedXenPath(cacheDir: string): string {
  return join(cacheDir, 'xen', XEN_IN_PACKAGE);
}

/** The exact commands a root user would run; quoted in the not-root error. */
export function installCommands(cacheDir: string, missing: { xen: boolean; qemu: boolean; dtc: boolean }): string[] {
  const cmds: string[] = [];
  const pkgs = [missing.qemu ? 'qemu-system-arm' : '', missing.dtc ? 'device-tree-compiler' : ''].filter(Boolean);
  if (missing.xen) {
    cmds.push(
      'dpkg --add-architecture arm64',
      'apt-get update',
      `mkdir -p ${cacheDir}/deb && cd ${cacheDir}/deb && apt-get download ${XEN_PACKAGE}:arm64`,
      `dpkg-deb -x ${cacheDir}/deb/${XEN_PACKAGE}_*_arm64.deb ${cacheDir}/xen`,
    );
  } else if (pkgs.length > 0) {
    cmds.push('apt-get update');
  }
  if (pkgs.length > 0) cmds.push(`apt-get install -y --no-install-recommends ${pkgs.join(' ')}`);
  return cmds;
}

async function fetchXen(deps: PrereqDeps): Promise<{ ok: true } | { ok: false; error: string }> {
  const r1 = await deps.run('dpkg', ['--add-architecture', 'arm64']);
  if (!r1.ok) return r1;
  const r2 = await deps.run('apt-get', ['update']);
  if (!r2.ok) return r2;
  await mkdir(deps.cacheDir, { recursive: true });
  // Download and extract in a private directory, then rename into place, so that two
  // runs racing on a fresh cache never see a half-extracted tree.
  const work = await mkdtemp(join(deps.cacheDir, 'fetch-'));
  try {
    // apt-get download warns that the _apt user cannot write to the directory and
    // falls back to downloading as root; that warning is harmless.
    const r3 = await deps.run('apt-get', ['download', `${XEN_PACKAGE}:arm64`], work);
    if (!r3.ok) return r3;
    const deb = (await readdir(work)).find((f) => f.startsWith(XEN_PACKAGE) && f.endsWith('.deb'));
    if (!deb) return { ok: false, error: `apt-get download produced no ${XEN_PACKAGE} .deb` };
    const r4 = await deps.run('dpkg-deb', ['-x', join(work, deb), join(work, 'xen')]);
    if (!r4.ok) return r4;
    if (!existsSync(join(work, 'xen', XEN_IN_PACKAGE))) {
      return { ok: false, error: `${deb} does not contain ${XEN_IN_PACKAGE}` };
    }
    const dest = join(deps.cacheDir, 'xen');
    if (!existsSync(cachedXenPath(deps.cacheDir))) {
      await rm(dest, { recursive: true, force: true });
      await rename(join(work, 'xen'), dest);
    }
    return { ok: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
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
    if (deps.getuid() !== 0) {
      return { ok: false, error: `oracle prerequisites missing: ${what}; installing needs root. Run as root:\n${howTo}` };
    }
    if (missing.xen) {
      const r = await fetchXen(deps);
      if (!r.ok) return r;
    }
    const pkgs = [missing.qemu && 'qemu-system-arm', missing.dtc && 'device-tree-compiler'].filter(
      (p): p is string => typeof p === 'string',
    );
    if (pkgs.length > 0) {
      if (!missing.xen) {
        const u = await deps.run('apt-get', ['update']);
        if (!u.ok) return u;
      }
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
