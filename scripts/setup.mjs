#!/usr/bin/env node
// xenvm-emu set-up: makes a fresh Debian machine ready for `npm run demo` and `npm test`.
//
// - Debian packages: installed with apt-get when missing and running as root; otherwise the
//   exact command to run is printed and the step fails.
// - npm dependencies: `npm install` when node_modules is missing or older than package-lock.json.
//   (Not `npm ci`: npm 11 writes lock files without the other platforms' optional packages of
//   rollup, and then its own `npm ci` refuses them as out of sync.)
// - The native instruction counter (native/xenvm-count.c) is built with the host C compiler.
//
// Plain Node (no dependencies), so it can run before `npm ci`. Options: --quiet (print only
// what it does), --check (report, install nothing).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const checkOnly = process.argv.includes('--check');
const say = (s) => process.stderr.write(`setup: ${s}\n`);

/** What the project needs from Debian, and how to tell it is there. */
const PACKAGES = [
  { pkg: 'libunicorn2', why: 'the CPU engine', present: () => libraryPresent('libunicorn.so.2') },
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

function libraryPresent(name) {
  const r = spawnSync('sh', ['-c', `ldconfig -p 2>/dev/null | grep -q '${name}' || ls /usr/lib/*/${name} /usr/lib/${name} >/dev/null 2>&1`]);
  return r.status === 0;
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
    say('npm dependencies are not installed: run npm install');
    return false;
  }
  say('installing npm dependencies (npm install)');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  return r.status === 0;
}

async function ensureCounter() {
  const { buildCounter } = await import('./native.mjs');
  const r = buildCounter();
  if (!r.ok) say(r.error);
  return r.ok;
}

const ok = ensurePackages() && ensureNodeModules() && (checkOnly || (await ensureCounter()));
if (!ok) {
  say('set-up is incomplete (see above)');
  process.exit(1);
}
if (!quiet) {
  const v = (() => {
    try {
      return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libunicorn2'], { encoding: 'utf8' });
    } catch {
      return 'unknown version';
    }
  })();
  say(`ready (libunicorn2 ${v})`);
}
