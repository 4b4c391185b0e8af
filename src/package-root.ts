/**
 * The package's own directory (where package.json, firmware/boards and .cache live), found by
 * walking up from a module's URL. A fixed number of '..' would differ between the sources
 * (src/DIR/FILE.ts) and the bundled build (dist/CHUNK.js), so it looks for the package.json
 * named xenvm-emu instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(moduleUrl: string): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; ) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'xenvm-emu') return dir;
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return join(start, '..', '..');
    dir = up;
  }
}
