// Builds native/xenvm-count.c into .cache/native/ with the host C compiler when it is missing or
// older than its source. Used by scripts/setup.mjs and, lazily, by src/unicorn/counter.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const COUNTER_SRC = join(root, 'native', 'xenvm-count.c');
export const COUNTER_LIB = join(root, '.cache', 'native', 'libxenvm-count.so');

/** Returns the library path, or an error naming what to install. */
export function buildCounter() {
  if (existsSync(COUNTER_LIB) && statSync(COUNTER_LIB).mtimeMs >= statSync(COUNTER_SRC).mtimeMs) {
    return { ok: true, path: COUNTER_LIB };
  }
  mkdirSync(dirname(COUNTER_LIB), { recursive: true });
  const cc = process.env.HOST_CC || 'cc';
  try {
    execFileSync(cc, ['-O2', '-shared', '-fPIC', '-o', COUNTER_LIB, COUNTER_SRC, '-l:libunicorn.so.2'], { stdio: 'pipe' });
  } catch (e) {
    const msg = e.code === 'ENOENT' ? `no host C compiler '${cc}' (install gcc)` : String(e.stderr || e.message).trim();
    return { ok: false, error: `cannot build the instruction counter (${COUNTER_SRC}): ${msg}` };
  }
  return { ok: true, path: COUNTER_LIB };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = buildCounter();
  if (!r.ok) {
    console.error(r.error);
    process.exit(1);
  }
}
