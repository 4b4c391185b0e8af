/**
 * Symbol lookup for traces and crash reports: address -> "name+0xoff".
 */
import { hex } from '../result.ts';

export interface ElfSymbol {
  name: string;
  addr: number;
  /** st_size; 0 for assembler labels, which then extend to the next symbol. */
  size: number;
}

/** Sorts by address (then by name, so the order is deterministic). */
export function sortSymbols(symbols: ElfSymbol[]): ElfSymbol[] {
  return [...symbols].sort((a, b) => a.addr - b.addr || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * `name+0xoff` for the symbol that covers `addr`, or the bare hex address when none does.
 * A sized symbol covers [addr, addr+size); a zero-sized one covers up to the next symbol.
 * `symbols` must be sorted by address (as `LoadedImage.symbols` is).
 */
export function symbolize(symbols: readonly ElfSymbol[], addr: number): string {
  // Last symbol with sym.addr <= addr (binary search).
  let lo = 0;
  let hi = symbols.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (symbols[mid].addr <= addr) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Among symbols at or below addr, prefer the nearest one that actually covers it: a sized
  // function may be followed by a zero-sized local label inside it.
  for (let i = best; i >= 0 && i > best - 8; i--) {
    const s = symbols[i];
    let end = Infinity;
    if (s.size > 0) end = s.addr + s.size;
    else for (let j = i + 1; j < symbols.length; j++) if (symbols[j].addr > s.addr) { end = symbols[j].addr; break; }
    if (addr < end) return `${s.name}+${hex(addr - s.addr)}`;
  }
  return hex(addr);
}
