// Builds native/xenvm-count.c into .cache/native/ with the host C compiler when it is missing,
// older than its source, or built against another engine. Used by scripts/setup.mjs and,
// lazily, by src/unicorn/counter.ts.
//
// The helper calls into libunicorn, so it is linked against the very library the binding
// loads (by path, with an rpath to its directory): the engine set-up fetches into .cache/engine
// is not on the dynamic loader's search path, and a system libunicorn.so.2 may be another version.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const COUNTER_SRC = join(root, 'native', 'xenvm-count.c');
export const COUNTER_LIB = join(root, '.cache', 'native', 'libxenvm-count.so');
/** Which engine the helper was linked against. */
const COUNTER_STAMP = `${COUNTER_LIB}.engine`;

/** Returns the library path, or an error naming what to install. `enginePath`: the libunicorn.so.2 to link. */
export function buildCounter(enginePath) {
  const stamp = existsSync(COUNTER_STAMP) ? readFileSync(COUNTER_STAMP, 'utf8') : '';
  if (existsSync(COUNTER_LIB) && statSync(COUNTER_LIB).mtimeMs >= statSync(COUNTER_SRC).mtimeMs && stamp === enginePath) {
    return { ok: true, path: COUNTER_LIB };
  }
  mkdirSync(dirname(COUNTER_LIB), { recursive: true });
  const cc = process.env.HOST_CC || 'cc';
  const dir = dirname(enginePath);
  try {
    execFileSync(cc, ['-O2', '-shared', '-fPIC', '-o', COUNTER_LIB, COUNTER_SRC, `-L${dir}`, `-l:${basename(enginePath)}`, `-Wl,-rpath,${dir}`], { stdio: 'pipe' });
  } catch (e) {
    const msg = e.code === 'ENOENT' ? `no host C compiler '${cc}' (install gcc)` : String(e.stderr || e.message).trim();
    return { ok: false, error: `cannot build the instruction counter (${COUNTER_SRC}): ${msg}` };
  }
  writeFileSync(COUNTER_STAMP, enginePath);
  return { ok: true, path: COUNTER_LIB };
}
