// Where the Unicorn engine comes from, for set-up (fetching it) and for the binding (loading it).
//
// xenvm-emu needs Unicorn 2.1 or later: 2.0.x checks memory permissions on the virtual address
// before the guest's MMU translates it (Unicorn issue 1718, fixed in 2.1), so no guest with the
// MMU on can run, and its store slow path halves the interdomain ping-pong (README, Speed). Debian
// bookworm ships 2.0.1 (`libunicorn2`); trixie ships 2.1.1 (`libunicorn2t64`), which needs only
// libc6 >= 2.34 and so loads on bookworm. Set-up fetches trixie's package into .cache/engine with
// a private apt directory (scripts/debian-fetch.mjs) and the binding loads it by path.
//
// Where the binding looks, first match wins:
//   1. $XENVM_EMU_UNICORN: a path to a libunicorn.so.2 of the user's choice (then nothing else);
//   2. .cache/engine/ in the package root (what `npm run setup` fetched in a checkout);
//   3. ~/.cache/xenvm-emu/engine/ (what `xenvm-emu fetch-engine` fetched for an installed package);
//   4. the system's libunicorn.so.2 (a trixie or later machine with libunicorn2t64 installed),
//      looked up only when neither cache has one (ldconfig costs a few ms at every start).
// The binding checks the version of whatever it loads (uc_version) and refuses 2.0.x.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchDebianPackage, fetchedPackage } from './debian-fetch.mjs';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ENGINE_PACKAGE = 'libunicorn2t64';
export const ENGINE_SUITE = 'trixie';
/** The oldest engine that can run guests with the MMU on. */
export const ENGINE_MIN = { major: 2, minor: 1 };
export const ENGINE_LIB = 'libunicorn.so.2';

export function engineCacheDir(root = PACKAGE_ROOT) {
  return join(root, '.cache', 'engine');
}

/** The per-user cache an installed package fetches into (XDG base directory layout). */
export function userCacheRoot() {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'xenvm-emu');
}

/** The first libunicorn.so.2 below `dir` (the unpacked package keeps it in usr/lib/<triplet>/). */
function findLibBelow(dir, depth = 0) {
  if (depth > 5 || !existsSync(dir)) return undefined;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name === ENGINE_LIB && (e.isFile() || e.isSymbolicLink())) return p;
    if (e.isDirectory()) {
      const found = findLibBelow(p, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** The system's libunicorn.so.2, as the dynamic loader would find it, or undefined. */
function systemLib() {
  const r = spawnSync('sh', ['-c', `ldconfig -p 2>/dev/null | sed -n 's/.*${ENGINE_LIB.replace(/\./g, '\\.')} .*=> //p' | head -n 1`], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p && existsSync(p) ? p : undefined;
}

/**
 * The libraries to try, in order: [{ path, source }]. `source` says where it came from, for
 * messages (`env`, `cache`, `system`).
 */
export function engineCandidates(root = PACKAGE_ROOT) {
  const out = [];
  // An engine the user names is the only one tried: falling back would hide their mistake.
  const env = process.env.XENVM_EMU_UNICORN;
  if (env) return [{ path: env, source: 'XENVM_EMU_UNICORN' }];
  const cached = findLibBelow(engineCacheDir(root));
  if (cached) out.push({ path: cached, source: 'cache' });
  const user = findLibBelow(join(userCacheRoot(), 'engine'));
  if (user) out.push({ path: user, source: 'user cache' });
  if (out.length > 0) return out;
  const sys = systemLib();
  if (sys) out.push({ path: sys, source: 'system' });
  return out;
}

/** Version of an installed Debian package, or undefined. */
function dpkgVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.startsWith('install ok installed')) return undefined;
  return r.stdout.split(' ').pop();
}

/**
 * What set-up must do about the engine: nothing when $XENVM_EMU_UNICORN is set, when the cache
 * holds trixie's package, or when the system has libunicorn2t64 (2.1+) installed; otherwise
 * fetch it. Returns { ok, path, version, source } or { ok: false, error }.
 */
export function ensureEngine({ root = PACKAGE_ROOT, cacheRoot = join(root, '.cache'), fetch = true } = {}) {
  if (process.env.XENVM_EMU_UNICORN) {
    if (!existsSync(process.env.XENVM_EMU_UNICORN)) {
      return { ok: false, error: `XENVM_EMU_UNICORN names ${process.env.XENVM_EMU_UNICORN}, which does not exist` };
    }
    return { ok: true, path: process.env.XENVM_EMU_UNICORN, version: 'as given', source: 'env' };
  }
  const dir = join(cacheRoot, 'engine');
  const cached = findLibBelow(dir);
  if (cached) return { ok: true, path: cached, version: fetchedPackage(dir)?.version ?? 'unknown', source: 'cache' };
  const sysVersion = dpkgVersion(ENGINE_PACKAGE);
  const sys = systemLib();
  if (sysVersion && sys) return { ok: true, path: sys, version: sysVersion, source: 'system' };
  const how =
    `fetch it with: npm run setup in a checkout, or xenvm-emu fetch-engine for an installed package (apt-get with a private sources list and state under ${join(cacheRoot, 'apt')}: ` +
    `apt-get download ${ENGINE_PACKAGE} from Debian ${ENGINE_SUITE}, then dpkg-deb -x into ${dir})`;
  if (!fetch) return { ok: false, error: `the Unicorn ${ENGINE_MIN.major}.${ENGINE_MIN.minor} engine is not there; ${how}` };
  const r = fetchDebianPackage({ pkg: ENGINE_PACKAGE, suite: ENGINE_SUITE, cacheDir: join(cacheRoot, 'apt'), destDir: dir });
  if (!r.ok) {
    return {
      ok: false,
      error:
        `cannot fetch Unicorn ${ENGINE_MIN.major}.${ENGINE_MIN.minor} (${ENGINE_PACKAGE} from Debian ${ENGINE_SUITE}): ${r.error}\n` +
        `Alternatives: install ${ENGINE_PACKAGE} on a Debian trixie (or later) machine, or point XENVM_EMU_UNICORN at a libunicorn.so.2 of version 2.1 or later.`,
    };
  }
  const lib = findLibBelow(dir);
  if (!lib) return { ok: false, error: `${ENGINE_PACKAGE} ${r.version} holds no ${ENGINE_LIB}` };
  return { ok: true, path: lib, version: r.version, source: 'cache', fetched: true };
}

