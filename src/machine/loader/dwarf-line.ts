/**
 * Source lines from an ELF's DWARF line table (`.debug_line`), for reports that name the line a
 * guest instruction came from ("lib/zephyr/events.c:240"), without external tools at run time.
 *
 * Read from the DWARF 5 standard (dwarfstd.org, section 6.2 "Line Number Information"), which
 * also covers version 4 headers (6.2.4; the v4 file table is the older list of strings):
 * each unit is a header (opcode parameters, directory and file tables) followed by a line
 * number program, a byte code for a state machine whose rows map addresses to (file, line).
 * Only what a lookup needs is kept: rows (address, file, line) and the end of each sequence.
 */
import { type Result, ok, err } from '../result.ts';
import { Cursor, DW_FORM, cstr, formValue, type FormUnit } from './dwarf-form.ts';
import { readInlineSites, type InlineSite } from './dwarf-inline.ts';

/** One row of the line table: from `addr` on (until the next row), code of `file`:`line`. */
interface Row {
  addr: number;
  file: string;
  line: number;
  /** An end_sequence row: the address just past a sequence, covering nothing. */
  end: boolean;
}

export class LineTable {
  constructor(
    private readonly rows: readonly Row[],
    /** Inlined calls, for the line of the outermost call around a PC. */
    private readonly sites: readonly InlineSite[] = [],
  ) {}

  get size(): number {
    return this.rows.length;
  }

  /** "file:line" of the instruction at `pc`, or undefined when no sequence covers it. */
  lookup(pc: number | bigint): string | undefined {
    const a = typeof pc === 'bigint' ? (pc > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(pc)) : pc;
    if (a < 0) return undefined;
    // The outermost inlined call covering a: its call site is in the function's own code.
    let outer: InlineSite | undefined;
    for (const site of this.sites) if (a >= site.lo && a < site.hi && (!outer || site.depth < outer.depth)) outer = site;
    if (outer) return `${outer.file}:${outer.line}`;
    let lo = 0;
    let hi = this.rows.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rows[mid].addr <= a) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    const r = this.rows[best];
    return r.end || r.line === 0 ? undefined : `${r.file}:${r.line}`;
  }
}

// ---- ELF sections by name (ELF-64 little-endian: the section header table and .shstrtab)

export function sections(bytes: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (bytes.length < 64 || bytes[4] !== 2 || bytes[5] !== 1) return out;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  if (shoff === 0 || shentsize !== 64 || shoff + shnum * 64 > bytes.length || shstrndx >= shnum) return out;
  const hdr = (i: number) => {
    const o = shoff + i * 64;
    return { name: dv.getUint32(o, true), type: dv.getUint32(o + 4, true), offset: Number(dv.getBigUint64(o + 24, true)), size: Number(dv.getBigUint64(o + 32, true)) };
  };
  const strs = hdr(shstrndx);
  if (strs.offset + strs.size > bytes.length) return out;
  const names = bytes.subarray(strs.offset, strs.offset + strs.size);
  for (let i = 1; i < shnum; i++) {
    const h = hdr(i);
    // SHT_NOBITS (8) has no bytes in the file.
    if (h.type === 8 || h.offset + h.size > bytes.length || h.name >= names.length) continue;
    out.set(cstr(names, h.name), bytes.subarray(h.offset, h.offset + h.size));
  }
  return out;
}

// DWARF 5, 6.2.4.1: line-number content types.
const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;

type Entry = { path: string; dir: number };

/**
 * One attribute value of a v5 directory or file entry: a string or a number. Strings by offset
 * resolve in their section ('' without it); what has no number (blocks, data16, such as an MD5) is 0.
 */
function readForm(c: Cursor, form: number, u: FormUnit, strs: { str?: Uint8Array; lineStr?: Uint8Array }): string | number {
  if (form === DW_FORM.string) return c.str();
  const v = formValue(c, form, u) ?? 0;
  if (form === DW_FORM.line_strp) return strs.lineStr ? cstr(strs.lineStr, v) : '';
  if (form === DW_FORM.strp) return strs.str ? cstr(strs.str, v) : '';
  return v;
}

function entries(c: Cursor, u: FormUnit, strs: { str?: Uint8Array; lineStr?: Uint8Array }): Entry[] {
  const formats: [number, number][] = [];
  const nFormats = c.u8();
  for (let i = 0; i < nFormats; i++) formats.push([c.uleb(), c.uleb()]);
  const n = c.uleb();
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const e: Entry = { path: '', dir: 0 };
    for (const [type, form] of formats) {
      const v = readForm(c, form, u, strs);
      if (type === DW_LNCT_path && typeof v === 'string') e.path = v;
      else if (type === DW_LNCT_directory_index && typeof v === 'number') e.dir = v;
    }
    out.push(e);
  }
  return out;
}

/** A file's name as reports show it: relative to the compilation directory when it is there. */
function fileName(files: Entry[], dirs: string[], i: number): string {
  const f = files[i];
  if (!f) return `file${i}`;
  if (f.path.startsWith('/') || f.dir === 0 || !dirs[f.dir]) return f.path;
  return `${dirs[f.dir]}/${f.path}`;
}

/**
 * One unit at `c.pos`: its rows are appended to `rows`, its file names (as reports show them,
 * by the index DW_AT_call_file uses) go to `unitFiles` under the unit's offset; returns the
 * offset of the next unit.
 */
function readUnit(c: Cursor, rows: Row[], strs: { str?: Uint8Array; lineStr?: Uint8Array }, unitFiles: Map<number, string[]>): number {
  const unitOffset = c.pos;
  let length = c.u32();
  let offset64 = false;
  if (length === 0xffffffff) {
    length = c.u64();
    offset64 = true;
  }
  const end = c.pos + length;
  const version = c.u16();
  if (version < 2 || version > 5) return end;
  let addrSize = 8;
  if (version >= 5) {
    addrSize = c.u8();
    c.u8(); // segment_selector_size
  }
  const headerLength = offset64 ? c.u64() : c.u32();
  const program = c.pos + headerLength;
  const minInsn = c.u8();
  if (version >= 4) c.u8(); // maximum_operations_per_instruction (VLIW only; 1 here)
  const defaultIsStmt = c.u8() !== 0;
  const lineBase = c.i8();
  const lineRange = c.u8();
  const opcodeBase = c.u8();
  const opLengths = [0];
  for (let i = 1; i < opcodeBase; i++) opLengths.push(c.u8());
  let dirs: string[];
  let files: Entry[];
  if (version >= 5) {
    const u: FormUnit = { version, addrSize, offset64 };
    dirs = entries(c, u, strs).map((e) => e.path);
    files = entries(c, u, strs);
  } else {
    // v2-4: directories 1.. as strings, then files 1.. as (name, dir, mtime, length); index 0 is the unit's own.
    dirs = [''];
    for (let s = c.str(); s !== ''; s = c.str()) dirs.push(s);
    files = [{ path: '', dir: 0 }];
    for (let s = c.str(); s !== ''; s = c.str()) {
      const dir = c.uleb();
      c.uleb();
      c.uleb();
      files.push({ path: s, dir });
    }
  }
  const all = files.map((_, i) => fileName(files, dirs, i));
  unitFiles.set(unitOffset, all);
  const name = (i: number) => all[i] ?? `file${i}`;
  c.pos = program;
  // The state machine (6.2.2); is_stmt and the rest do not change which line an address has.
  let addr = 0;
  let file = 1;
  let line = 1;
  void defaultIsStmt;
  const emit = (endSeq: boolean) => rows.push({ addr, file: name(file), line, end: endSeq });
  while (c.pos < end) {
    const op = c.u8();
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      addr += Math.floor(adj / lineRange) * minInsn;
      line += lineBase + (adj % lineRange);
      emit(false);
      continue;
    }
    switch (op) {
      case 0: {
        const len = c.uleb();
        const next = c.pos + len;
        const sub = len > 0 ? c.u8() : 0;
        if (sub === 1) {
          emit(true);
          addr = 0;
          file = 1;
          line = 1;
        } else if (sub === 2) {
          addr = addrSize === 8 ? c.u64() : c.u32();
        }
        c.pos = next;
        break;
      }
      case 1: // DW_LNS_copy
        emit(false);
        break;
      case 2: // advance_pc
        addr += c.uleb() * minInsn;
        break;
      case 3: // advance_line
        line += c.sleb();
        break;
      case 4: // set_file
        file = c.uleb();
        break;
      case 8: // const_add_pc: the address advance of special opcode 255
        addr += Math.floor((255 - opcodeBase) / lineRange) * minInsn;
        break;
      case 9: // fixed_advance_pc
        addr += c.u16();
        break;
      default:
        // set_column, negate_stmt, basic_block, prologue_end, epilogue_begin, set_isa, and any
        // opcode of a later standard: skip its ULEB operands, as the header says how many.
        for (let i = 0; i < (opLengths[op] ?? 0); i++) c.uleb();
    }
  }
  return end;
}

/**
 * The line table of an ELF, from `.debug_line` (and `.debug_line_str`, `.debug_str` for DWARF 5).
 * With `.debug_info`, a PC inside inlined code resolves to the line of the outermost call
 * (dwarf-inline.ts): the function's own source, as `addr2line -i` prints it last.
 */
export function readLineTable(elf: Uint8Array): Result<LineTable> {
  const s = sections(elf);
  const lines = s.get('.debug_line');
  if (!lines) return err('no .debug_line section (build with -g)');
  const strs = { str: s.get('.debug_str'), lineStr: s.get('.debug_line_str') };
  const rows: Row[] = [];
  const unitFiles = new Map<number, string[]>();
  const c = new Cursor(lines);
  try {
    while (c.pos + 4 <= lines.length) c.pos = readUnit(c, rows, strs, unitFiles);
  } catch (e) {
    return err(`.debug_line: ${(e as Error).message}`);
  }
  // Sequences may come in any order: sort by address, an end row before a start at the same address.
  const order = rows.map((r, i) => ({ r, i }));
  order.sort((a, b) => a.r.addr - b.r.addr || (a.r.end === b.r.end ? a.i - b.i : a.r.end ? -1 : 1));
  let sites: InlineSite[] = [];
  try {
    sites = readInlineSites(s, unitFiles);
  } catch {
    // No inline call sites: lines are still right, only inlined code shows the callee's line.
  }
  return ok(new LineTable(order.map((o) => o.r), sites));
}
