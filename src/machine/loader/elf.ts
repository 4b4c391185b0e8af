/**
 * ELF64 little-endian AArch64 executables: header, PT_LOAD segments, and the symbol table.
 *
 * Field offsets are those of the System V ABI "ELF-64 Object File Format" (Elf64_Ehdr
 * 64 bytes, Elf64_Phdr 56, Elf64_Shdr 64, Elf64_Sym 24) and EM_AARCH64 = 183 from the
 * Arm "ELF for the Arm 64-bit Architecture" (IHI0056). Parsing here is pure: nothing is
 * written to guest memory until every check has passed (see load.ts).
 */
import { type Result, ok, err, hex } from '../result.ts';
import { type ElfSymbol, sortSymbols } from './symbols.ts';

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const; // "\x7fELF"
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
export const EM_AARCH64 = 183;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_ABS = 0xfff1;
const STT_NOTYPE = 0;
const STT_OBJECT = 1;
const STT_FUNC = 2;

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;

const ET_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'ET_REL', 2: 'ET_EXEC', 3: 'ET_DYN', 4: 'ET_CORE' };
const EM_NAMES: Record<number, string> = { 3: 'EM_386', 8: 'EM_MIPS', 40: 'EM_ARM', 62: 'EM_X86_64', 183: 'EM_AARCH64', 243: 'EM_RISCV' };

export interface ElfSegment {
  /** Index in the program header table. */
  index: number;
  /** Physical load address (p_paddr). */
  paddr: number;
  vaddr: number;
  fileOffset: number;
  fileSize: number;
  memSize: number;
  flags: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  symbols: ElfSymbol[];
  /** Non-fatal problems (a damaged symbol table does not stop the guest from running). */
  warnings: string[];
}

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ELF_MAGIC.every((m, i) => bytes[i] === m);
}

export function parseElf64(bytes: Uint8Array): Result<ElfImage> {
  const fileLen = bytes.length;
  if (!isElf(bytes)) return err(`not an ELF file (magic ${magicHex(bytes)}, expected 7f 45 4c 46)`);
  if (fileLen < EHDR_SIZE) return err(`ELF truncated: file is ${fileLen} bytes, the ELF64 header needs ${EHDR_SIZE}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const cls = bytes[4];
  if (cls !== ELFCLASS64) {
    return err(`ELF class ${cls}${cls === 1 ? ' (ELFCLASS32)' : ''} is not ELFCLASS64: only 64-bit AArch64 executables are supported`);
  }
  const data = bytes[5];
  if (data !== ELFDATA2LSB) {
    return err(`ELF data encoding ${data}${data === 2 ? ' (ELFDATA2MSB, big-endian)' : ''} is not ELFDATA2LSB: only little-endian AArch64 is supported`);
  }
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_AARCH64) {
    return err(`ELF machine ${machine}${EM_NAMES[machine] ? ` (${EM_NAMES[machine]})` : ''} is not EM_AARCH64 (183)`);
  }
  if (type !== ET_EXEC) {
    return err(`ELF type ${type}${ET_NAMES[type] ? ` (${ET_NAMES[type]})` : ''} is not ET_EXEC: only statically linked executables are loaded`);
  }

  const entry = u64(dv, 24, 'e_entry');
  if (!entry.ok) return entry;
  const phoff = u64(dv, 32, 'e_phoff');
  if (!phoff.ok) return phoff;
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phnum === 0) return err(`ELF has no program headers (e_phnum 0): nothing to load`);
  if (phentsize !== PHDR_SIZE) return err(`ELF e_phentsize ${phentsize} is not ${PHDR_SIZE} (Elf64_Phdr)`);
  const phEnd = phoff.value + phnum * PHDR_SIZE;
  if (phEnd > fileLen) {
    return err(
      `ELF truncated: program header table [${hex(phoff.value)},${hex(phEnd)}) extends past end of file (${fileLen} bytes)`,
    );
  }

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff.value + i * PHDR_SIZE;
    if (dv.getUint32(o, true) !== PT_LOAD) continue;
    const fields = readPhdr(dv, o, i);
    if (!fields.ok) return fields;
    const { offset, vaddr, paddr, filesz, memsz } = fields.value;
    if (filesz > memsz) {
      return err(`ELF segment ${i}: p_filesz ${hex(filesz)} is larger than p_memsz ${hex(memsz)}`);
    }
    if (offset + filesz > fileLen) {
      return err(
        `ELF truncated: segment ${i} file bytes [${hex(offset)},${hex(offset + filesz)}) extend past end of file (${fileLen} bytes)`,
      );
    }
    if (memsz === 0) continue;
    segments.push({
      index: i,
      paddr,
      vaddr,
      fileOffset: offset,
      fileSize: filesz,
      memSize: memsz,
      flags: dv.getUint32(o + 4, true),
    });
  }
  if (segments.length === 0) return err(`ELF has no non-empty PT_LOAD segment: nothing to load`);

  const warnings: string[] = [];
  const syms = parseSymbols(bytes, dv);
  if (!syms.ok) warnings.push(`symbol table ignored: ${syms.error}`);
  return ok({ entry: entry.value, segments, symbols: syms.ok ? syms.value : [], warnings });
}

function readPhdr(
  dv: DataView,
  o: number,
  i: number,
): Result<{ offset: number; vaddr: number; paddr: number; filesz: number; memsz: number }> {
  const names = ['p_offset', 'p_vaddr', 'p_paddr', 'p_filesz', 'p_memsz'] as const;
  const v: number[] = [];
  for (let k = 0; k < names.length; k++) {
    const r = u64(dv, o + 8 + 8 * k, `segment ${i} ${names[k]}`);
    if (!r.ok) return r;
    v.push(r.value);
  }
  return ok({ offset: v[0], vaddr: v[1], paddr: v[2], filesz: v[3], memsz: v[4] });
}

/** A u64 field as a JavaScript number; larger values cannot be guest-physical addresses here. */
function u64(dv: DataView, off: number, what: string): Result<number> {
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return err(`ELF ${what} ${hex(v)} is too large (above 2^53)`);
  return ok(Number(v));
}

function magicHex(b: Uint8Array): string {
  return Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

interface SectionHeader {
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

/** `.symtab` and its string table (found through sh_link, not by name). */
function parseSymbols(bytes: Uint8Array, dv: DataView): Result<ElfSymbol[]> {
  const shoff = u64(dv, 40, 'e_shoff');
  if (!shoff.ok) return shoff;
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  if (shoff.value === 0 || shnum === 0) return ok([]); // stripped, or no section table
  if (shentsize !== SHDR_SIZE) return err(`e_shentsize ${shentsize} is not ${SHDR_SIZE}`);
  if (shoff.value + shnum * SHDR_SIZE > bytes.length) {
    return err(`section header table [${hex(shoff.value)},${hex(shoff.value + shnum * SHDR_SIZE)}) extends past end of file`);
  }
  const section = (i: number): Result<SectionHeader> => {
    const o = shoff.value + i * SHDR_SIZE;
    const offset = u64(dv, o + 24, `section ${i} sh_offset`);
    if (!offset.ok) return offset;
    const size = u64(dv, o + 32, `section ${i} sh_size`);
    if (!size.ok) return size;
    const entsize = u64(dv, o + 56, `section ${i} sh_entsize`);
    if (!entsize.ok) return entsize;
    // Bounds are checked only for the sections read below: SHT_NOBITS (.bss) legitimately
    // has an sh_size with no bytes in the file.
    return ok({
      type: dv.getUint32(o + 4, true),
      offset: offset.value,
      size: size.value,
      link: dv.getUint32(o + 40, true),
      entsize: entsize.value,
    });
  };

  let symtab: SectionHeader | undefined;
  for (let i = 0; i < shnum && !symtab; i++) {
    const s = section(i);
    if (!s.ok) return s;
    if (s.value.type === SHT_SYMTAB) symtab = s.value;
  }
  if (!symtab) return ok([]);
  if (symtab.offset + symtab.size > bytes.length) return err(`.symtab extends past end of file`);
  if (symtab.entsize !== SYM_SIZE) return err(`.symtab sh_entsize ${symtab.entsize} is not ${SYM_SIZE}`);
  if (symtab.link >= shnum) return err(`.symtab sh_link ${symtab.link} is not a section index`);
  const strtab = section(symtab.link);
  if (!strtab.ok) return strtab;
  if (strtab.value.offset + strtab.value.size > bytes.length) return err(`.strtab extends past end of file`);
  const str = bytes.subarray(strtab.value.offset, strtab.value.offset + strtab.value.size);
  const latin1 = new TextDecoder('latin1');

  const out: ElfSymbol[] = [];
  for (let o = symtab.offset; o + SYM_SIZE <= symtab.offset + symtab.size; o += SYM_SIZE) {
    const nameOff = dv.getUint32(o, true);
    const kind = bytes[o + 4] & 0xf;
    const shndx = dv.getUint16(o + 6, true);
    if (kind !== STT_FUNC && kind !== STT_OBJECT && kind !== STT_NOTYPE) continue;
    // Undefined and special-section symbols have no address in the image (absolute ones are kept).
    if (shndx === SHN_UNDEF || (shndx >= SHN_LORESERVE && shndx !== SHN_ABS)) continue;
    if (nameOff >= str.length) continue;
    const nul = str.indexOf(0, nameOff);
    const name = latin1.decode(str.subarray(nameOff, nul < 0 ? str.length : nul));
    // "$x", "$d" are AArch64 mapping symbols (code/data markers), not names (IHI0056 §5.5.4).
    if (name === '' || name.startsWith('$')) continue;
    const addr = dv.getBigUint64(o + 8, true);
    const size = dv.getBigUint64(o + 16, true);
    if (addr > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    out.push({ name, addr: Number(addr), size: Number(size) });
  }
  return ok(sortSymbols(out));
}
