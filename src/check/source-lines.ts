/**
 * "file:line" for a report's PC, from the DWARF line table of the domain's ELF: the image
 * itself when it is an ELF, else NAME.elf beside NAME.img when its entry is the image's load
 * address (as for symbols, src/machine/run.ts). Read once per domain, at its first report, so
 * a run without reports never opens the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { MachineDomain } from '../machine/domain.ts';
import { readLineTable, type LineTable } from '../machine/loader/dwarf-line.ts';
import { isElf, parseElf64 } from '../machine/loader/elf.ts';

const tables = new WeakMap<MachineDomain, LineTable | null>();

function elfOf(d: MachineDomain): Uint8Array | undefined {
  const path = d.imagePath;
  try {
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      if (isElf(bytes)) return bytes;
    }
    if (!path.endsWith('.img')) return undefined;
    const elfPath = path.slice(0, -4) + '.elf';
    if (!existsSync(elfPath)) return undefined;
    const bytes = readFileSync(elfPath);
    const elf = parseElf64(bytes);
    return elf.ok && elf.value.entry === d.image.entry ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** The source line of `pc` in domain `d`'s image, when it has DWARF line information. */
export function sourceLine(d: MachineDomain, pc: bigint): string | undefined {
  let t = tables.get(d);
  if (t === undefined) {
    const elf = elfOf(d);
    const r = elf ? readLineTable(elf) : undefined;
    t = r?.ok ? r.value : null;
    tables.set(d, t);
  }
  return t?.lookup(pc);
}
