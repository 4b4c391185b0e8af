// `xenvm-emu fetch-engine`: fetches the Unicorn 2.1 engine for an installed package into the
// user's cache (~/.cache/xenvm-emu/engine), the way `npm run setup` does for a checkout:
// Debian trixie's libunicorn2t64 through a private apt directory (scripts/engine.mjs).
// @ts-ignore -- plain ESM shared with scripts/setup.mjs
import { ensureEngine, userCacheRoot } from '../../scripts/engine.mjs';

export const FETCH_ENGINE_USAGE = `usage: xenvm-emu fetch-engine

Fetches Debian trixie's libunicorn2t64 (Unicorn 2.1) into ${'$'}XDG_CACHE_HOME/xenvm-emu/engine
(default ~/.cache/xenvm-emu/engine) with apt-get and a private sources list, lists and cache;
the system's apt configuration is not changed and no root is needed. Nothing to do when an
engine is already there, when XENVM_EMU_UNICORN names one, or when the system has libunicorn2t64.`;

export async function fetchEngineMain(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(FETCH_ENGINE_USAGE + '\n');
    return 0;
  }
  if (argv.length > 0) {
    process.stderr.write(`xenvm-emu: fetch-engine takes no arguments\n\n${FETCH_ENGINE_USAGE}\n`);
    return 2;
  }
  const r = ensureEngine({ cacheRoot: userCacheRoot() }) as { ok: true; path: string; version: string; source: string } | { ok: false; error: string };
  if (!r.ok) {
    process.stderr.write(`xenvm-emu: ${r.error}\n`);
    return 1;
  }
  process.stdout.write(`Unicorn ${r.version} (${r.source}): ${r.path}\n`);
  return 0;
}
