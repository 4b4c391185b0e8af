/**
 * Inlined calls from an ELF's `.debug_info` (DWARF 4 and 5): for each DW_TAG_inlined_subroutine,
 * the addresses it covers and where it was called from (DW_AT_call_file / DW_AT_call_line), so a
 * PC in inlined code can be reported at the line of its caller: a driver's `sys_clear_bit(...)`
 * in events.c rather than the one-line helper it expands to. From the DWARF 5 standard
 * (dwarfstd.org): 7.5 (unit headers, abbreviations, forms), 2.17 (code addresses and ranges),
 * 3.3.8.2 (inlined subroutine entries).
 *
 * Only a walk: every entry's attributes are read (to step over them) and only those of inlined
 * subroutines and unit entries are kept.
 */
import { Cursor, DW_FORM, formValue, type FormUnit } from './dwarf-form.ts';

export interface InlineSite {
  lo: number;
  hi: number;
  /** Nesting depth of the entry (an inlined call inside another is deeper). */
  depth: number;
  file: string;
  line: number;
}

const DW_TAG_compile_unit = 0x11;
const DW_TAG_inlined_subroutine = 0x1d;
const DW_TAG_subprogram = 0x2e;
const DW_AT = { abstract_origin: 0x31, stmt_list: 0x10, low_pc: 0x11, high_pc: 0x12, ranges: 0x55, call_file: 0x58, call_line: 0x59, addr_base: 0x73, rnglists_base: 0x74 } as const;

type Abbrev = { tag: number; children: boolean; attrs: { at: number; form: number; implicit?: number }[] };

function abbrevTable(b: Uint8Array, offset: number): Map<number, Abbrev> {
  const c = new Cursor(b, offset);
  const out = new Map<number, Abbrev>();
  for (;;) {
    const code = c.uleb();
    if (code === 0) return out;
    const tag = c.uleb();
    const children = c.u8() !== 0;
    const attrs: Abbrev['attrs'] = [];
    for (;;) {
      const at = c.uleb();
      const form = c.uleb();
      if (at === 0 && form === 0) break;
      attrs.push(form === DW_FORM.implicit_const ? { at, form, implicit: c.sleb() } : { at, form });
    }
    out.set(code, { tag, children, attrs });
  }
}

const isAddrx = (form: number) => form === DW_FORM.addrx || (form >= DW_FORM.addrx1 && form <= DW_FORM.addrx4);

/** Address ranges of DW_AT_ranges: DWARF 5 .debug_rnglists (2.17.3) or DWARF 4 .debug_ranges. */
function ranges(sec: Map<string, Uint8Array>, u: FormUnit, at: number, base: number, addr: (i: number) => number | undefined): [number, number][] {
  const out: [number, number][] = [];
  const readAddr = (c: Cursor) => (u.addrSize === 8 ? c.u64() : c.u32());
  if (u.version >= 5) {
    const b = sec.get('.debug_rnglists');
    if (!b) return out;
    const c = new Cursor(b, at);
    for (;;) {
      const kind = c.u8();
      if (kind === 0) return out; // end_of_list
      if (kind === 1) base = addr(c.uleb()) ?? base; // base_addressx
      else if (kind === 2) {
        const s = addr(c.uleb());
        const e = addr(c.uleb());
        if (s !== undefined && e !== undefined) out.push([s, e]);
      } else if (kind === 3) {
        const s = addr(c.uleb());
        const n = c.uleb();
        if (s !== undefined) out.push([s, s + n]);
      } else if (kind === 4) {
        const s = c.uleb();
        const e = c.uleb();
        out.push([base + s, base + e]);
      } else if (kind === 5) base = readAddr(c);
      else if (kind === 6) out.push([readAddr(c), readAddr(c)]);
      else if (kind === 7) {
        const s = readAddr(c);
        out.push([s, s + c.uleb()]);
      } else return out;
    }
  }
  const b = sec.get('.debug_ranges');
  if (!b) return out;
  const c = new Cursor(b, at);
  const top = u.addrSize === 8 ? 2 ** 64 - 1 : 0xffffffff;
  for (;;) {
    const s = readAddr(c);
    const e = readAddr(c);
    if (s === 0 && e === 0) return out;
    if (s >= top) base = e;
    else out.push([base + s, base + e]);
  }
}

/** The innermost function around the current entry, if any. */
function enclosingFn(fnAt: readonly (number | undefined)[]): number | undefined {
  for (let i = fnAt.length - 1; i >= 0; i--) if (fnAt[i] !== undefined) return fnAt[i];
  return undefined;
}

/** Every inlined call of the ELF's `.debug_info`, with its caller's file (from the unit's line table) and line. */
export function readInlineSites(sec: Map<string, Uint8Array>, unitFiles: Map<number, string[]>): InlineSite[] {
  const info = sec.get('.debug_info');
  const abbrevs = sec.get('.debug_abbrev');
  if (!info || !abbrevs) return [];
  const debugAddr = sec.get('.debug_addr');
  const out: InlineSite[] = [];
  const c = new Cursor(info);
  while (c.pos + 11 <= info.length) {
    const unitStart = c.pos;
    let length = c.u32();
    const offset64 = length === 0xffffffff;
    if (offset64) length = c.u64();
    const end = c.pos + length;
    const version = c.u16();
    let addrSize: number;
    let abbrevOff: number;
    if (version >= 5) {
      const unitType = c.u8();
      addrSize = c.u8();
      abbrevOff = offset64 ? c.u64() : c.u32();
      // Skeleton/split and type units carry an id (and a type offset) after the header.
      if (unitType === 4 || unitType === 5) c.pos += 8;
      else if (unitType === 2 || unitType === 6) c.pos += 8 + (offset64 ? 8 : 4);
    } else {
      abbrevOff = offset64 ? c.u64() : c.u32();
      addrSize = c.u8();
    }
    if (version < 2 || version > 5) {
      c.pos = end;
      continue;
    }
    const u: FormUnit = { version, addrSize, offset64 };
    const table = abbrevTable(abbrevs, abbrevOff);
    let files: string[] = [];
    let base = 0;
    let addrBase = 8;
    let rnglistsBase = 12;
    const addr = (i: number): number | undefined => {
      if (!debugAddr) return undefined;
      const o = addrBase + i * addrSize;
      if (o + addrSize > debugAddr.length) return undefined;
      const ac = new Cursor(debugAddr, o);
      return addrSize === 8 ? ac.u64() : ac.u32();
    };
    let depth = 0;
    /**
     * Entries with children open around the current one: for a function, what function it is
     * (its abstract origin, or itself), else undefined.
     */
    const fnAt: (number | undefined)[] = [];
    // A reference attribute as a .debug_info offset (unit-relative forms from the unit's start).
    const ref = (x: { v: number | undefined; form: number } | undefined) => (x?.v === undefined ? undefined : x.form === DW_FORM.ref_addr ? x.v : unitStart + x.v);
    while (c.pos < end) {
      const dieOffset = c.pos;
      const code = c.uleb();
      if (code === 0) {
        depth--;
        fnAt.length = Math.max(0, depth);
        continue;
      }
      const a = table.get(code);
      if (!a) break; // damaged: leave this unit
      const vals = new Map<number, { v: number | undefined; form: number }>();
      for (const { at, form, implicit } of a.attrs) vals.set(at, { v: formValue(c, form, u, implicit), form });
      if (a.tag === DW_TAG_compile_unit || depth === 0) {
        const stmt = vals.get(DW_AT.stmt_list)?.v;
        if (stmt !== undefined) files = unitFiles.get(stmt) ?? [];
        base = vals.get(DW_AT.low_pc)?.v ?? 0;
        addrBase = vals.get(DW_AT.addr_base)?.v ?? addrBase;
        rnglistsBase = vals.get(DW_AT.rnglists_base)?.v ?? rnglistsBase;
      } else if (a.tag === DW_TAG_inlined_subroutine && enclosingFn(fnAt) !== undefined && ref(vals.get(DW_AT.abstract_origin)) !== enclosingFn(fnAt)) {
        // Only calls inlined into another function: GCC may also describe the body of a
        // function's out-of-line copy as an inlined call of itself, whose "call site" is its
        // own first line.
        const file = vals.get(DW_AT.call_file)?.v;
        const line = vals.get(DW_AT.call_line)?.v;
        if (file !== undefined && line !== undefined && files[file] !== undefined) {
          const site = (lo: number, hi: number) => out.push({ lo, hi, depth, file: files[file], line });
          const low = vals.get(DW_AT.low_pc);
          const high = vals.get(DW_AT.high_pc);
          const rng = vals.get(DW_AT.ranges);
          if (low?.v !== undefined && high?.v !== undefined) {
            const lo = isAddrx(low.form) ? addr(low.v) : low.v;
            // DW_AT_high_pc: an address (class address) or the length (class constant).
            const hi = high.form === DW_FORM.addr || isAddrx(high.form) ? (isAddrx(high.form) ? addr(high.v) : high.v) : lo !== undefined ? lo + high.v : undefined;
            if (lo !== undefined && hi !== undefined) site(lo, hi);
          } else if (rng?.v !== undefined) {
            let at: number | undefined = rng.v;
            if (rng.form === DW_FORM.rnglistx) {
              // An index into the unit's offset table at DW_AT_rnglists_base.
              const rl = sec.get('.debug_rnglists');
              const oc = rl && new Cursor(rl, rnglistsBase + rng.v * (offset64 ? 8 : 4));
              at = oc ? rnglistsBase + (offset64 ? oc.u64() : oc.u32()) : undefined;
            }
            if (at !== undefined) for (const [lo, hi] of ranges(sec, u, at, base, addr)) site(lo, hi);
          }
        }
      }
      if (a.children) {
        fnAt[depth] = a.tag === DW_TAG_subprogram ? (ref(vals.get(DW_AT.abstract_origin)) ?? dieOffset) : undefined;
        depth++;
      }
    }
    c.pos = end;
  }
  return out;
}
