// `xenvm-emu --version`: the project's version and the CPU engine's, as loaded. Loading the
// engine here (rather than printing what set-up fetched) checks what a run would use.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.ts';
import { loadUnicorn } from '../unicorn/binding.ts';

export async function versionMain(): Promise<number> {
  const pkg = JSON.parse(readFileSync(join(packageRoot(import.meta.url), 'package.json'), 'utf8')) as { version: string };
  process.stdout.write(`xenvm-emu ${pkg.version}\n`);
  const r = loadUnicorn();
  if (!r.ok) {
    process.stderr.write(`xenvm-emu: ${r.error}\n`);
    return 1;
  }
  const v = r.engine.version;
  process.stdout.write(`Unicorn ${v.major}.${v.minor}.${v.patch} (${r.engine.source}: ${r.engine.path})\n`);
  return 0;
}
