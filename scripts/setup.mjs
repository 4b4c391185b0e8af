#!/usr/bin/env node
// xenvm-emu set-up: makes a fresh Debian machine ready for `npm run demo` and `npm test`.
//
// - Debian packages: installed with apt-get when missing and running as root; otherwise the
//   exact command to run is printed and the step fails.
// - The CPU engine: Unicorn 2.1 (scripts/engine.mjs). Debian bookworm has only 2.0.1, which cannot
//   run guests with the MMU on, so trixie's libunicorn2t64 is fetched into .cache/engine with a
//   private apt directory; the machine's apt configuration is left alone. Works without root.
// - npm dependencies: `npm ci` when node_modules is missing or older than package-lock.json, so
//   the committed lock file is used as it is and never rewritten.
// - The native instruction counter (native/xenvm-count.c) is built with the host C compiler,
//   linked against that engine.
//
// Plain Node (no dependencies), so it can run before `npm ci`. Options: --quiet (print only
// what it does), --check (report, install nothing).
import { spawnSync } from 'node:child_process';
import { ensureEngine, ENGINE_PACKAGE, ENGINE_SUITE } from './engine.mjs';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const checkOnly = process.argv.includes('--check');
const say = (s) => process.stderr.write(`setup: ${s}\n`);

/**
 * Node itself is the one thing set-up cannot install (it runs on it). Bookworm's own nodejs is
 * 18, too old: the tests use import.meta.dirname (Node 20.11), the package says node >= 20.
 */
function nodeIsNewEnough() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 20 || (major === 20 && minor >= 11)) return true;
  say(`Node ${process.versions.node} is too old: the project needs Node 20.11 or later (Debian bookworm's nodejs is 18; trixie's is 20)`);
  return false;
}

/** What the project needs from Debian, and how to tell it is there. */
const PACKAGES = [
  // dpkg-deb and apt-get come with every Debian system; they fetch the engine (see ensureEngine).
  { pkg: 'gcc-aarch64-linux-gnu', why: 'builds the guest firmware', present: () => onPath(process.env.CROSS_COMPILE ? `${process.env.CROSS_COMPILE}gcc` : 'aarch64-linux-gnu-gcc') },
  { pkg: 'binutils-aarch64-linux-gnu', why: 'links the guest firmware', present: () => onPath(process.env.CROSS_COMPILE ? `${process.env.CROSS_COMPILE}objcopy` : 'aarch64-linux-gnu-objcopy') },
  { pkg: 'device-tree-compiler', why: 'compiles the board devicetrees', present: () => onPath('dtc') && onPath('fdtget') },
  { pkg: 'make', why: 'builds the guest firmware', present: () => onPath('make') },
  { pkg: 'gcc', why: 'builds the native instruction counter', present: () => onPath(process.env.HOST_CC || 'cc') },
  // gcc only recommends the C library headers; the counter includes <stdint.h>.
  { pkg: 'libc6-dev', why: 'C headers for the native instruction counter', present: () => existsSync('/usr/include/stdint.h') },
  { pkg: 'qemu-system-arm', why: 'runs the real Xen as the reference (xenvm-emu reference/diff, live tests)', present: () => onPath('qemu-system-aarch64'), optional: true },
  { pkg: 'gdb-multiarch', why: 'drives the --gdb stub in its end-to-end test', present: () => onPath('gdb-multiarch'), optional: true },
];

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function aptInstall(pkgs) {
  say(`installing ${pkgs.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: quiet ? 'ignore' : 'inherit', env });
  if (update.status !== 0) say('apt-get update failed; trying the install anyway');
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', env });
  return r.status === 0;
}

function ensurePackages() {
  const missing = PACKAGES.filter((p) => !p.present());
  if (missing.length === 0) return true;
  const names = missing.map((p) => p.pkg);
  if (checkOnly || !isRoot()) {
    for (const p of missing) say(`missing ${p.pkg}: ${p.why}${p.optional ? ' (optional)' : ''}`);
    say(`install them with:  sudo apt-get install --no-install-recommends ${names.join(' ')}`);
    return missing.every((p) => p.optional);
  }
  if (!aptInstall(names)) {
    say(`apt-get could not install: ${names.join(' ')}`);
    return false;
  }
  const still = PACKAGES.filter((p) => !p.present() && !p.optional);
  if (still.length) {
    say(`still missing after install: ${still.map((p) => p.pkg).join(' ')}`);
    return false;
  }
  return true;
}

function ensureNodeModules() {
  const nm = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(nm) && statSync(nm).mtimeMs >= statSync(lock).mtimeMs) return true;
  if (checkOnly) {
    say('npm dependencies are not installed: run npm ci (it keeps package-lock.json as committed)');
    return false;
  }
  say('installing npm dependencies (npm ci)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  return r.status === 0;
}

let engine;
function ensureEngineReady() {
  engine = ensureEngine({ root, fetch: !checkOnly });
  if (!engine.ok) {
    say(engine.error);
    return false;
  }
  if (engine.fetched) say(`fetched Unicorn ${engine.version} (Debian ${ENGINE_SUITE} ${ENGINE_PACKAGE}) into ${engine.path}`);
  return true;
}

async function ensureCounter() {
  const { buildCounter } = await import('./native.mjs');
  const r = buildCounter(engine.path);
  if (!r.ok) say(r.error);
  return r.ok;
}

const ok = nodeIsNewEnough() && ensurePackages() && ensureEngineReady() && ensureNodeModules() && (checkOnly || (await ensureCounter()));
if (!ok) {
  say('set-up is incomplete (see above)');
  process.exit(1);
}
if (!quiet) say(`ready (Unicorn ${engine.version} from ${engine.source}: ${engine.path})`);
