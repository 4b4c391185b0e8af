/**
 * Builds small ELF64 files for tests: header, program headers, segment bytes, and an
 * optional .symtab/.strtab (plus a .bss NOBITS section whose size has no file bytes).
 */
export interface TestSegment {
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  memsz?: number;
  type?: number; // default PT_LOAD
}

export interface TestSymbol {
  name: string;
  addr: number;
  size: number;
  /** STT_*: 0 NOTYPE, 1 OBJECT, 2 FUNC, 3 SECTION; default FUNC. */
  kind?: number;
  shndx?: number; // default 1 (some defined section)
}

export interface ElfSpec {
  entry: number;
  segments: TestSegment[];
  symbols?: TestSymbol[];
  eiClass?: number;
  eiData?: number;
  type?: number;
  machine?: number;
}

export function buildElf(spec: ElfSpec): Uint8Array {
  const phoff = 64;
  const phnum = spec.segments.length;
  let off = phoff + phnum * 56;
  const segOffsets = spec.segments.map((s) => {
    const o = off;
    off += s.data.length;
    return o;
  });

  // Symbol/string tables.
  const withSyms = spec.symbols !== undefined;
  const strtab: number[] = [0];
  const symtab: number[] = new Array(24).fill(0); // index 0 is the null symbol
  const shstr = '\0.symtab\0.strtab\0.shstrtab\0.bss\0';
  const le = (v: bigint, n: number) => Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  if (withSyms) {
    for (const s of spec.symbols!) {
      const nameOff = strtab.length;
      for (const c of s.name) strtab.push(c.charCodeAt(0));
      strtab.push(0);
      symtab.push(...le(BigInt(nameOff), 4), (1 << 4) | (s.kind ?? 2), 0, ...le(BigInt(s.shndx ?? 1), 2));
      symtab.push(...le(BigInt(s.addr), 8), ...le(BigInt(s.size), 8));
    }
  }
  const symOff = off;
  const strOff = symOff + (withSyms ? symtab.length : 0);
  const shstrOff = strOff + (withSyms ? strtab.length : 0);
  const shoffRaw = shstrOff + (withSyms ? shstr.length : 0);
  const shoff = withSyms ? (shoffRaw + 7) & ~7 : 0;
  const shnum = withSyms ? 5 : 0;
  const total = withSyms ? shoff + shnum * 64 : shoffRaw;

  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, spec.eiClass ?? 2, spec.eiData ?? 1, 1, 0]);
  dv.setUint16(16, spec.type ?? 2, true);
  dv.setUint16(18, spec.machine ?? 183, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(spec.entry), true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, phnum, true);
  dv.setUint16(58, 64, true);
  dv.setUint16(60, shnum, true);
  dv.setUint16(62, withSyms ? 3 : 0, true);

  spec.segments.forEach((s, i) => {
    const o = phoff + i * 56;
    dv.setUint32(o, s.type ?? 1, true);
    dv.setUint32(o + 4, 5, true);
    dv.setBigUint64(o + 8, BigInt(segOffsets[i]), true);
    dv.setBigUint64(o + 16, BigInt(s.vaddr ?? s.paddr), true);
    dv.setBigUint64(o + 24, BigInt(s.paddr), true);
    dv.setBigUint64(o + 32, BigInt(s.data.length), true);
    dv.setBigUint64(o + 40, BigInt(s.memsz ?? s.data.length), true);
    dv.setBigUint64(o + 48, 0x10000n, true);
    b.set(s.data, segOffsets[i]);
  });

  if (withSyms) {
    b.set(symtab, symOff);
    b.set(strtab, strOff);
    b.set(Array.from(shstr, (c) => c.charCodeAt(0)), shstrOff);
    const sh = (i: number, name: number, type: number, offset: number, size: number, link: number, entsize: number) => {
      const o = shoff + i * 64;
      dv.setUint32(o, name, true);
      dv.setUint32(o + 4, type, true);
      dv.setBigUint64(o + 24, BigInt(offset), true);
      dv.setBigUint64(o + 32, BigInt(size), true);
      dv.setUint32(o + 40, link, true);
      dv.setBigUint64(o + 56, BigInt(entsize), true);
    };
    // A .bss (SHT_NOBITS) whose sh_offset+sh_size runs past the file, as real ones may; it
    // comes before .symtab so a loader that bounds-checks every section would trip on it.
    sh(1, 27, 8, total - 4, 0x100000, 0, 0);
    sh(2, 1, 2, symOff, symtab.length, 3, 24);
    sh(3, 9, 3, strOff, strtab.length, 0, 0);
    sh(4, 17, 3, shstrOff, shstr.length, 0, 0);
  }
  return b;
}

/** arm64 Image: 64-byte header then `body`. */
export function buildArm64Image(opts: { textOffset: number; imageSize: number; flags?: number; body?: Uint8Array }): Uint8Array {
  const body = opts.body ?? new Uint8Array(0);
  const b = new Uint8Array(64 + body.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x14000010, true); // b +0x40: jump over the header
  dv.setBigUint64(8, BigInt(opts.textOffset), true);
  dv.setBigUint64(16, BigInt(opts.imageSize), true);
  dv.setBigUint64(24, BigInt(opts.flags ?? 0xa), true);
  dv.setUint32(56, 0x644d5241, true);
  b.set(body, 64);
  return b;
}
