// Paths of the firmware images the tests boot. `npm test` builds them first (pretest).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf64 } from '../../src/machine/loader/elf.ts';
import { REPO_ROOT } from '../../src/machine/run.ts';

export const FIRMWARE_BUILD = join(REPO_ROOT, 'firmware', 'build');

export type BoardName = 'xenvm-gicv2' | 'xenvm-gicv3' | 'xenvm-gicv3-ppi14';

export function image(board: BoardName, app: string, kind: 'img' | 'elf' = 'img'): string {
  const p = join(FIRMWARE_BUILD, board, `${app}.${kind}`);
  if (!existsSync(p)) throw new Error(`${p} is not built: run 'make -C firmware' (npm test does it in pretest)`);
  return p;
}

/** A golden file's whole text (test/golden/<name>), e.g. for compareLinuxBoot. */
export function goldenText(name: string): string {
  return readFileSync(join(REPO_ROOT, 'test', 'golden', name), 'utf8');
}

/** A golden transcript (what the real Xen printed), as lines. */
export function golden(name: string): string[] {
  return goldenText(name).split('\n').filter((l) => l !== '');
}

/** The address of a symbol in a firmware ELF (e.g. `image(board, app, 'elf')`); throws if absent. */
export function elfSymbol(elfPath: string, name: string): number {
  const elf = parseElf64(new Uint8Array(readFileSync(elfPath)));
  if (!elf.ok) throw new Error(elf.error);
  const s = elf.value.symbols.find((x) => x.name === name);
  if (!s) throw new Error(`no symbol ${name} in ${elfPath}`);
  return s.addr;
}
