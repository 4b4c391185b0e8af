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
import { Cursor, DW_FORM } from './dwarf-line.ts';

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
/** Forms beyond those the line table uses (dwarf-line.ts DW_FORM). */
const F = {
  addr: 0x01, block1: 0x0a, block2: 0x03, block4: 0x04, flag: 0x0c, sdata: 0x0d, ref_addr: 0x10, ref1: 0x11, ref2: 0x12, ref4: 0x13, ref8: 0x14,
  ref_udata: 0x15, indirect: 0x16, sec_offset: 0x17, exprloc: 0x18, flag_present: 0x19, addrx: 0x1b, ref_sup4: 0x1c, strp_sup: 0x1d,
  ref_sig8: 0x20, implicit_const: 0x21, loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx3: 0x27, addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
} as const;

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
      attrs.push(form === F.implicit_const ? { at, form, implicit: c.sleb() } : { at, form });
    }
    out.set(code, { tag, children, attrs });
  }
}

interface Unit {
  version: number;
  addrSize: number;
  offset64: boolean;
}

/** Reads one attribute value: a number for constants, addresses, offsets and indexes; undefined for the rest. */
function value(c: Cursor, form: number, u: Unit, implicit?: number): number | undefined {
  const off = () => (u.offset64 ? c.u64() : c.u32());
  switch (form) {
    case F.addr:
      return u.addrSize === 8 ? c.u64() : c.u32();
    case DW_FORM.data1:
    case F.ref1:
    case F.flag:
    case DW_FORM.strx1:
    case F.addrx1:
      return c.u8();
    case DW_FORM.data2:
    case F.ref2:
    case DW_FORM.strx2:
    case F.addrx2:
      return c.u16();
    case F.strx3:
    case F.addrx3: {
      const v = c.u16();
      return v + c.u8() * 0x10000;
    }
    case DW_FORM.data4:
    case F.ref4:
    case F.ref_sup4:
    case DW_FORM.strx4:
    case F.addrx4:
      return c.u32();
    case DW_FORM.data8:
    case F.ref8:
    case F.ref_sig8:
    case F.ref_sup8:
      return c.u64();
    case DW_FORM.data16:
      c.pos += 16;
      return undefined;
    case DW_FORM.string:
      c.str();
      return undefined;
    case DW_FORM.block:
    case F.exprloc:
      c.skip(c.uleb());
      return undefined;
    case F.block1:
      c.skip(c.u8());
      return undefined;
    case F.block2:
      c.skip(c.u16());
      return undefined;
    case F.block4:
      c.skip(c.u32());
      return undefined;
    case F.sdata:
      return c.sleb();
    case DW_FORM.udata:
    case F.ref_udata:
    case DW_FORM.strx:
    case F.addrx:
    case F.loclistx:
    case F.rnglistx:
      return c.uleb();
    case DW_FORM.strp:
    case DW_FORM.line_strp:
    case F.sec_offset:
    case F.strp_sup:
      return off();
    case F.ref_addr:
      return u.version <= 2 ? (u.addrSize === 8 ? c.u64() : c.u32()) : off();
    case F.flag_present:
      return 1;
    case F.implicit_const:
      return implicit;
    case F.indirect:
      return value(c, c.uleb(), u);
    default:
      throw new RangeError(`DWARF form 0x${form.toString(16)}`);
  }
}

const isAddrx = (form: number) => form === F.addrx || (form >= F.addrx1 && form <= F.addrx4);

/** Address ranges of DW_AT_ranges: DWARF 5 .debug_rnglists (2.17.3) or DWARF 4 .debug_ranges. */
function ranges(sec: Map<string, Uint8Array>, u: Unit, at: number, base: number, addr: (i: number) => number | undefined): [number, number][] {
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
    const u: Unit = { version, addrSize, offset64 };
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
    const ref = (x: { v: number | undefined; form: number } | undefined) => (x?.v === undefined ? undefined : x.form === F.ref_addr ? x.v : unitStart + x.v);
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
      for (const { at, form, implicit } of a.attrs) vals.set(at, { v: value(c, form, u, implicit), form });
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
            const hi = high.form === F.addr || isAddrx(high.form) ? (isAddrx(high.form) ? addr(high.v) : high.v) : lo !== undefined ? lo + high.v : undefined;
            if (lo !== undefined && hi !== undefined) site(lo, hi);
          } else if (rng?.v !== undefined) {
            let at: number | undefined = rng.v;
            if (rng.form === F.rnglistx) {
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
