/**
 * The DWARF encodings both readers share: the line table (dwarf-line.ts) and the walk over
 * inlined calls (dwarf-inline.ts). A little-endian cursor with LEB128 (DWARF 5 standard,
 * dwarfstd.org, 7.6) and one reader of attribute values by form (7.5.5, 7.5.6), so a form is
 * decoded the same way in a line table header as in a debugging information entry.
 */

const latin1 = new TextDecoder('latin1');

/** The NUL-terminated string at `at` (to the end of `b` when it has no NUL). */
export function cstr(b: Uint8Array, at: number): string {
  const nul = b.indexOf(0, at);
  return latin1.decode(b.subarray(at, nul < 0 ? b.length : nul));
}

/** A cursor over one section. */
export class Cursor {
  pos: number;
  private readonly dv: DataView;
  constructor(
    readonly b: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  u8(): number {
    if (this.pos >= this.b.length) throw new RangeError('past the end of .debug_line');
    return this.b[this.pos++];
  }
  i8(): number {
    const v = this.u8();
    return v >= 0x80 ? v - 0x100 : v;
  }
  u16(): number {
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return Number(v);
  }
  uleb(): number {
    return this.leb(false);
  }
  sleb(): number {
    return this.leb(true);
  }
  /** LEB128 (7.6): 7 bits a byte, low bits first; a signed value extends bit 6 of its last byte. */
  private leb(signed: boolean): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) return signed && b & 0x40 ? v - scale : v;
    }
  }
  /** Steps over `n` bytes (a length read first: `c.pos += c.uleb()` would lose the length's own bytes). */
  skip(n: number): void {
    this.pos += n;
  }
  str(): string {
    const s = cstr(this.b, this.pos);
    this.pos += s.length + 1;
    return s;
  }
}

/** DWARF 5, 7.5.6: attribute forms. */
export const DW_FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, block: 0x09, block1: 0x0a, data1: 0x0b, flag: 0x0c,
  sdata: 0x0d, strp: 0x0e, udata: 0x0f, ref_addr: 0x10, ref1: 0x11, ref2: 0x12, ref4: 0x13, ref8: 0x14, ref_udata: 0x15, indirect: 0x16,
  sec_offset: 0x17, exprloc: 0x18, flag_present: 0x19, strx: 0x1a, addrx: 0x1b, ref_sup4: 0x1c, strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f,
  ref_sig8: 0x20, implicit_const: 0x21, loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25, strx2: 0x26, strx3: 0x27, strx4: 0x28,
  addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
} as const;

/** What decoding a form depends on: the unit's version, address size and 32/64-bit DWARF format. */
export interface FormUnit {
  version: number;
  addrSize: number;
  offset64: boolean;
}

/**
 * Reads one attribute value of `form` at the cursor: a number for constants, addresses,
 * section offsets (strp and line_strp too: the caller picks the string section) and indexes;
 * undefined for what has no number (inline strings, blocks, data16), which is stepped over.
 * `implicit` is the value DW_FORM_implicit_const keeps in the abbreviation.
 */
export function formValue(c: Cursor, form: number, u: FormUnit, implicit?: number): number | undefined {
  const off = () => (u.offset64 ? c.u64() : c.u32());
  switch (form) {
    case DW_FORM.addr:
      return u.addrSize === 8 ? c.u64() : c.u32();
    case DW_FORM.data1:
    case DW_FORM.ref1:
    case DW_FORM.flag:
    case DW_FORM.strx1:
    case DW_FORM.addrx1:
      return c.u8();
    case DW_FORM.data2:
    case DW_FORM.ref2:
    case DW_FORM.strx2:
    case DW_FORM.addrx2:
      return c.u16();
    case DW_FORM.strx3:
    case DW_FORM.addrx3: {
      const v = c.u16();
      return v + c.u8() * 0x10000;
    }
    case DW_FORM.data4:
    case DW_FORM.ref4:
    case DW_FORM.ref_sup4:
    case DW_FORM.strx4:
    case DW_FORM.addrx4:
      return c.u32();
    case DW_FORM.data8:
    case DW_FORM.ref8:
    case DW_FORM.ref_sig8:
    case DW_FORM.ref_sup8:
      return c.u64();
    case DW_FORM.data16:
      c.pos += 16;
      return undefined;
    case DW_FORM.string:
      c.str();
      return undefined;
    case DW_FORM.block:
    case DW_FORM.exprloc:
      c.skip(c.uleb());
      return undefined;
    case DW_FORM.block1:
      c.skip(c.u8());
      return undefined;
    case DW_FORM.block2:
      c.skip(c.u16());
      return undefined;
    case DW_FORM.block4:
      c.skip(c.u32());
      return undefined;
    case DW_FORM.sdata:
      return c.sleb();
    case DW_FORM.udata:
    case DW_FORM.ref_udata:
    case DW_FORM.strx:
    case DW_FORM.addrx:
    case DW_FORM.loclistx:
    case DW_FORM.rnglistx:
      return c.uleb();
    case DW_FORM.strp:
    case DW_FORM.line_strp:
    case DW_FORM.sec_offset:
    case DW_FORM.strp_sup:
      return off();
    case DW_FORM.ref_addr:
      return u.version <= 2 ? (u.addrSize === 8 ? c.u64() : c.u32()) : off();
    case DW_FORM.flag_present:
      return 1;
    case DW_FORM.implicit_const:
      return implicit;
    case DW_FORM.indirect:
      return formValue(c, c.uleb(), u);
    default:
      throw new RangeError(`DWARF form 0x${form.toString(16)}`);
  }
}
